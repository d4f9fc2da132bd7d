//! Passwords never appear in output: every URL shown to a user goes through [`redact_url`].

/// Returns `url` with its password replaced by `***` (and any `password=` query parameter too).
///
/// Input that does not parse as a URL is returned with everything between `://` and the last
/// `@` of the authority replaced, so that even a malformed URL does not leak a secret.
pub fn redact_url(url: &str) -> String {
    if let Ok(mut u) = url::Url::parse(url) {
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = matches!(
                    k.to_ascii_lowercase().as_str(),
                    "password" | "pass" | "sslpassword"
                );
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        if !pairs.is_empty() {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return u.to_string();
    }
    redact_unparsed(url)
}

fn redact_unparsed(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

/// Replaces every occurrence of `url`'s password in `text` by `***`. Used on server error
/// messages and logs, which may echo a connection string back.
pub fn redact_in(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &redact_url(url));
    if let Ok(u) = url::Url::parse(url) {
        if let Some(p) = u.password() {
            if p.len() >= 3 {
                out = out.replace(p, "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/prod?sslmode=require"),
            "postgres://app:***@db:5432/prod?sslmode=require"
        );
        assert_eq!(
            redact_url("mysql://root@localhost/test"),
            "mysql://root@localhost/test"
        );
        assert!(!redact_url("postgres://h/db?password=hunter2").contains("hunter2"));
    }

    #[test]
    fn redacts_malformed_url() {
        let r = redact_url("postgres://app:s3c ret@@db:bad port/x");
        assert!(!r.contains("s3c"), "{r}");
    }

    #[test]
    fn redacts_inside_text() {
        let url = "postgres://app:s3cret@db/prod";
        let r = redact_in(
            "could not connect to postgres://app:s3cret@db/prod (s3cret)",
            url,
        );
        assert!(!r.contains("s3cret"), "{r}");
    }
}
