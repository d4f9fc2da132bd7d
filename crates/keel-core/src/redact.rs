//! Passwords never appear in output: every URL shown to a user goes through [`redact_url`].

/// Returns `url` with its password replaced by `***` (and any `password=` query parameter too).
///
/// A URL that does not parse cleanly is never echoed: only its scheme and, when it can be found
/// safely, its host are shown (`postgres://host [rest not shown]`). "Cleanly" excludes a URL where an
/// `@` follows the authority (an unencoded `/`, `?` or `#` in a password moves the rest of the
/// password into the path or query) and any fragment; a string without `://` (a libpq
/// `host=… password=…` string) shows as `<not a URL>`.
pub fn redact_url(url: &str) -> String {
    if misplaced_at(url) {
        return redact_unparsed(url);
    }
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

/// Whether an `@` appears after the end of the authority (the first `/`, `?` or `#` after
/// `://`), or there is a fragment: the sign of a user name or password with an unencoded
/// `/ ? # @`, where a URL parser would read part of the password as the path, query or host.
pub fn misplaced_at(url: &str) -> bool {
    let Some(scheme_end) = url.find("://") else {
        return false;
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[authority_end..].contains('@') || rest.contains('#')
}

/// The label's words are all shorter than six letters, so that it can never spell a password
/// (a fuzzer find: the word "unparsed" was taken for one).
fn redact_unparsed(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "<not a URL>".into();
    };
    let scheme: String = url[..scheme_end]
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        .take(20)
        .collect();
    let rest = &url[scheme_end + 3..];
    // The host follows the last `@` (a password cannot hold what comes after it).
    let host = match rest.rfind('@') {
        Some(at) => {
            let after = &rest[at + 1..];
            let end = after.find(['/', '?', '#', ':']).unwrap_or(after.len());
            after[..end].to_string()
        }
        None => String::new(),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if host_ok {
        format!("{scheme}://{host} [rest not shown]")
    } else {
        format!("{scheme}://… [rest not shown]")
    }
}

/// Replaces every occurrence of `url`'s password in `text` by `***`. Used on server error
/// messages and logs, which may echo a connection string back.
pub fn redact_in(text: &str, url: &str) -> String {
    if url.trim().len() < 3 {
        return text.to_string();
    }
    let mut out = text.replace(url, &redact_url(url));
    if let Ok(u) = url::Url::parse(url) {
        if let Some(p) = u.password() {
            for p in [p.to_string(), percent_decode(p)] {
                if p.len() >= 3 {
                    out = out.replace(&p, "***");
                }
            }
        }
    }
    out
}

/// `s` with its `%XX` escapes decoded (a `+` stays a `+`, as in a URL's path and userinfo).
pub fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
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
    fn unencoded_separators_in_a_password_never_show() {
        for (url, shown) in [
            (
                "postgres://u:Zq9rt/secret@host/db",
                "postgres://host [rest not shown]",
            ),
            (
                "postgres://u:123/secret@host/db",
                "postgres://host [rest not shown]",
            ),
            ("mysql://u:1234#secret@h/db", "mysql://h [rest not shown]"),
            ("mysql://u:12?secret@h/db", "mysql://h [rest not shown]"),
            ("host=db password=secret dbname=x", "<not a URL>"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    /// Fuzzer finds (docs/fuzzing.md): a fragment after a password is never shown; a URL
    /// without `://` keeps its opaque path as the parser gives it (removing its fragment would
    /// also strip the path's trailing spaces).
    #[test]
    fn fuzzer_finds() {
        let r = redact_url("POSTGRES://:onlypassword@host/db#frag");
        assert_eq!(r, "POSTGRES://host [rest not shown]");
        let odd = "postgres:s\0 #uH\0rotgr";
        assert_eq!(
            Some(redact_url(odd)),
            url::Url::parse(odd).ok().map(|u| u.to_string())
        );
    }

    #[test]
    fn redacts_inside_text() {
        let url = "postgres://app:s3cret@db/prod";
        let r = redact_in(
            "could not connect to postgres://app:s3cret@db/prod (s3cret)",
            url,
        );
        assert!(!r.contains("s3cret"), "{r}");
        let url = "postgres://app:a%2Fb%40cdef@db/prod";
        let r = redact_in("password a/b@cdef was refused", url);
        assert!(!r.contains("a/b@cdef"), "{r}");
    }

    proptest::proptest! {
        /// No 6-character piece of a password shows in the redaction of any URL built from it,
        /// encoded or not (issue #13, item 9).
        #[test]
        fn no_piece_of_a_password_shows(
            pw in "[A-Za-z0-9/?#@:%&=+ !$]{6,24}",
            scheme in proptest::sample::select(vec!["postgres", "postgresql", "mysql", "mariadb"]),
            encode in proptest::bool::ANY,
        ) {
            let p = if encode {
                url::form_urlencoded::byte_serialize(pw.as_bytes()).collect::<String>()
            } else {
                pw.clone()
            };
            let url = format!("{scheme}://app:{p}@db.example.com:5432/prod");
            let shown = redact_url(&url);
            for i in 0..=pw.len() - 6 {
                let piece = &pw[i..i + 6];
                proptest::prop_assert!(!shown.contains(piece), "{url} -> {shown}");
            }
        }
    }
}
