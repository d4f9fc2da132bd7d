//! Database URLs: `keel_driver::parse_url` and, on success, `redacted`, `with_database`,
//! `identity`; and `keel_core::redact::redact_url` on every input.
//!
//! Redaction checks (both hold for any input; see docs/fuzzing.md for why they are stated this
//! way and not as "the output never contains the password"):
//!
//! * unparsed: a text with an `@` after its authority or a fragment shows as
//!   `scheme://host [rest not shown]` (or `scheme://… [rest not shown]`), with no `@`;
//! * structural: otherwise, when the `url` crate parses the text, the redacted text up to its query equals
//!   the parsed URL with only its password set to `***`, and every `password` / `pass` /
//!   `sslpassword` query parameter of the redacted text is `***`;
//! * literal: for `scheme://user:pw@…` with a scheme `parse_url` accepts, `pw` of at least six
//!   lowercase ASCII letters occurring (ignoring case) nowhere else in the text, and no `%`, tab
//!   or line break in the text (the `url` crate's percent-decoding of the query and removal of
//!   tabs/newlines could otherwise build the same letters elsewhere), the redacted text does
//!   not contain `pw`.
#![no_main]

use keel_core::redact::redact_url;
use keel_driver::parse_url;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let redacted = redact_url(input);
    check_redaction(input, &redacted);
    match parse_url(input) {
        Ok(url) => {
            let _ = url.dialect();
            let red = url.redacted();
            check_redaction(url.as_str(), &red);
            if let Some(pw) = literal_password(input.trim()) {
                if precondition(input.trim(), pw) {
                    assert!(!red.contains(pw), "password {pw:?} left in {red:?}");
                }
            }
            let _ = url.with_database("x");
            let _ = url.identity();
        }
        Err(e) => {
            // The error message holds the redacted URL only.
            let _ = e.to_string();
        }
    }
});

/// The text before a URL's query or fragment.
fn before_query(s: &str) -> &str {
    &s[..s.find(['?', '#']).unwrap_or(s.len())]
}

fn check_redaction(input: &str, redacted: &str) {
    if keel_core::redact::misplaced_at(input) {
        // An `@` after the authority or a fragment (a password with an unencoded `/ ? # @`):
        // never echoed, only the scheme and a host (issue #13, item 9).
        assert!(
            redacted.ends_with(" [rest not shown]") && !redacted.contains('@'),
            "a URL with a misplaced `@` or a fragment shown as {redacted:?}"
        );
    } else if let Ok(parsed) = url::Url::parse(input) {
        let mut masked = parsed.clone();
        if parsed.password().is_some() {
            masked
                .set_password(Some("***"))
                .expect("a URL with a password takes another");
        }
        assert_eq!(
            before_query(redacted),
            before_query(masked.as_str()),
            "redaction changed more than the password"
        );
        let after = &redacted[before_query(redacted).len()..];
        if let Some(query) = after.strip_prefix('?') {
            let query = &query[..query.find('#').unwrap_or(query.len())];
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                if matches!(
                    k.to_ascii_lowercase().as_str(),
                    "password" | "pass" | "sslpassword"
                ) {
                    assert_eq!(v, "***", "query parameter {k:?} not redacted");
                }
            }
        }
    }
    if let Some(pw) = literal_password(input) {
        if precondition(input, pw) {
            assert!(
                !redacted.contains(pw),
                "password {pw:?} left in {redacted:?}"
            );
        }
    }
}

/// `pw` of `scheme://user:pw@…` for a scheme `parse_url` accepts, a user of ASCII letters,
/// digits and `_`, and a `pw` of at least six lowercase ASCII letters.
fn literal_password(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if ![
        "postgres",
        "postgresql",
        "mysql",
        "mariadb",
        "sqlite",
        "file",
    ]
    .contains(&scheme.as_str())
    {
        return None;
    }
    let (user, rest) = rest.split_once(':')?;
    if !user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let pw = &rest[..rest.find('@')?];
    (pw.len() >= 6 && pw.bytes().all(|b| b.is_ascii_lowercase())).then_some(pw)
}

/// No `%`, tab or line break in `s`, and `pw` occurs in it once, ignoring ASCII case.
fn precondition(s: &str, pw: &str) -> bool {
    !s.contains(['%', '\t', '\n', '\r']) && s.to_ascii_lowercase().matches(pw).count() == 1
}
