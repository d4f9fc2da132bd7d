//! Directives: `-- keel:...` comments at the top of `migration.sql` (DESIGN.md, "On disk").

use std::time::Duration;

/// What a migration's directives ask for. Directives are read from the leading comment lines
/// of the script only (before the first statement).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- keel:no-transaction`: run step by step outside a transaction.
    pub no_transaction: bool,
    /// `-- keel:lock-timeout=5s`.
    pub lock_timeout: Option<Duration>,
    /// `-- keel:statement-timeout=10min`.
    pub statement_timeout: Option<Duration>,
}

/// A directive that could not be understood. Unknown `keel:` directives are errors so that a
/// typo (`keel:no-transction`) does not silently run a migration in a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DirectiveError {
    /// 1-based line of the directive.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Reads the directives of `script`.
///
/// # Errors
/// [`DirectiveError`] for an unknown `keel:` directive or an unreadable duration.
pub fn parse(script: &str) -> Result<Directives, DirectiveError> {
    let mut d = Directives::default();
    for (i, raw) in script.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break; // the first statement ends the directive header
        };
        let Some(body) = comment.trim().strip_prefix("keel:") else {
            continue;
        };
        let body = body.trim();
        // `keel:allow <rule-id> reason="…"` belongs to lint (keel-lint reads it).
        if body == "allow" || body.starts_with("allow ") {
            continue;
        }
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (body, None),
        };
        let err = |message: String| DirectiveError {
            line: i + 1,
            message,
        };
        match (key, value) {
            ("no-transaction", None) => d.no_transaction = true,
            ("lock-timeout", Some(v)) => {
                d.lock_timeout = Some(parse_duration(v).map_err(err)?);
            }
            ("statement-timeout", Some(v)) => {
                d.statement_timeout = Some(parse_duration(v).map_err(err)?);
            }
            _ => {
                return Err(err(format!(
                    "unknown directive `keel:{body}` (known: keel:no-transaction, keel:lock-timeout=<duration>, keel:statement-timeout=<duration>)"
                )))
            }
        }
    }
    Ok(d)
}

/// Parses a duration such as `500ms`, `5s`, `10min`, `2m`, `1h`. A bare number is seconds.
///
/// # Errors
/// A message naming the value when it has no number or an unknown unit.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let v = value.trim().trim_matches('"');
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{value}` is not a duration (examples: 500ms, 5s, 10min)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" | "sec" | "secs" => n,
        "m" | "min" | "mins" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "`{value}`: unknown unit `{other}` (use ms, s, min or h)"
            ))
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{value}` is not a duration"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{value}` is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_directives() {
        let d = parse("-- keel:no-transaction\n-- keel:lock-timeout=5s\n-- keel:statement-timeout=10min\nCREATE INDEX CONCURRENTLY i ON t(a);").unwrap();
        assert!(d.no_transaction);
        assert_eq!(d.lock_timeout, Some(Duration::from_secs(5)));
        assert_eq!(d.statement_timeout, Some(Duration::from_secs(600)));
    }

    #[test]
    fn ignores_directives_after_the_first_statement() {
        let d = parse("SELECT 1;\n-- keel:no-transaction\n").unwrap();
        assert!(!d.no_transaction);
    }

    #[test]
    fn rejects_unknown_directive_and_bad_duration() {
        let e = parse("-- keel:no-transction\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(parse("-- keel:lock-timeout=fast\n").is_err());
        assert!(parse("-- keel:lock-timeout=5 weeks\n").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn too_long_durations_are_errors_not_panics() {
        // Found by fuzzing (fuzz/fuzz_targets/directives.rs): more seconds than a `Duration`
        // holds made `Duration::from_secs_f64` panic.
        assert!(parse_duration("66666666666666666666").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse("-- keel:lock-timeout=66666666666666666666\n").is_err());
        assert_eq!(
            parse_duration("10000000000000000000"),
            Ok(Duration::from_secs(10_000_000_000_000_000_000))
        );
    }
}
