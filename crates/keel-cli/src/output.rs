//! How errors are shown: `error[K3009]: …` then `  fix: …`, or one JSON object with `--json`.
//! Every message passes through URL redaction before it is printed.
//!
//! Everything keel prints goes through [`out!`]/[`err!`] (issue #13, items 10 and 12):
//! terminal control characters from ledger rows, server errors or statements are escaped, and a
//! closed or failing stdout/stderr (`keel deploy | head -3`) is ignored instead of panicking, so
//! that what a command does to the database never depends on who reads its output.

use keel_core::redact::redact_in;
use std::borrow::Cow;
use std::io::Write;

/// Prints a line to stdout, escaped with [`escape_controls`]; write errors are ignored.
macro_rules! out {
    () => { $crate::output::write_text(false, "\n") };
    ($($t:tt)*) => { $crate::output::write_text(false, &format!("{}\n", format_args!($($t)*))) };
}

/// Prints a line to stderr, escaped with [`escape_controls`]; write errors are ignored.
macro_rules! err {
    () => { $crate::output::write_text(true, "\n") };
    ($($t:tt)*) => { $crate::output::write_text(true, &format!("{}\n", format_args!($($t)*))) };
}

/// [`out!`] without the newline (SQL scripts that end in their own).
macro_rules! out_part {
    ($($t:tt)*) => { $crate::output::write_text(false, &format!($($t)*)) };
}

/// [`err!`] without the newline (a prompt).
macro_rules! err_part {
    ($($t:tt)*) => { $crate::output::write_text(true, &format!($($t)*)) };
}

/// Writes `text` (escaped) to stderr when `to_stderr`, else stdout, and flushes; errors such as
/// a closed pipe (EPIPE) are ignored.
pub fn write_text(to_stderr: bool, text: &str) {
    let text = escape_controls(text);
    if to_stderr {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(text.as_bytes());
        let _ = e.flush();
    } else {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(text.as_bytes());
        let _ = o.flush();
    }
}

/// `text` with every control character but newline and tab shown as `\u{..}` (C0, DEL, C1,
/// and the Unicode bidirectional overrides), so that an `ESC[2J` or an OSC title in a ledger
/// row, a server message or a statement is shown, not obeyed.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut s = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            s.push_str(&c.escape_unicode().to_string());
        } else {
            s.push(c);
        }
    }
    Cow::Owned(s)
}

/// The line shown on stderr for a lock wait ([`keel::Event::LockWait`]): deploy, repair and
/// rollback retry a step that timed out waiting for a lock, and say so. `None` for any other
/// event.
pub fn lock_wait_text(e: &keel::Event) -> Option<String> {
    let keel::Event::LockWait {
        name,
        step,
        attempt,
        attempts,
        lock_timeout_ms,
        retry_in_ms,
        holders,
    } = e
    else {
        return None;
    };
    Some(format!(
        "{name}: step {step} waited {lock_timeout_ms} ms for a lock (attempt {attempt} of {attempts}); retrying in {retry_in_ms} ms{}",
        holders
            .iter()
            .map(|h| format!("\n  {h}"))
            .collect::<String>()
    ))
}

/// Prints `e` to stderr and returns the exit status for it: 3 when a failed migration needs
/// repair (K3009), else 1.
pub fn report_error(e: &keel::Error, url: &str, json: bool) -> keel::ExitStatus {
    let message = redact_in(&e.to_string(), url);
    let fix = redact_in(&e.fix(), url);
    if json {
        let v = serde_json::json!({"error": {"code": e.code(), "message": message, "fix": fix}});
        out!("{v}");
    } else {
        err!("error[{}]: {message}", e.code());
        err!("  fix: {fix}");
        err!("  more: keel explain {}", e.code());
    }
    match e {
        keel::Error::FailedMigrations { .. } => keel::ExitStatus::NeedsRepair,
        _ => keel::ExitStatus::Error,
    }
}

/// One line per INVALID index (`(table, index)`), with the fix: status, deploy and doctor say
/// it the same way.
pub(crate) fn invalid_index_lines(invalid: &[(String, String)]) -> Vec<String> {
    invalid
        .iter()
        .map(|(t, i)| {
            let q = keel_driver::quote_ident(keel_core::Dialect::Postgres, i);
            format!(
                "index {q} on {} is INVALID: a CREATE INDEX CONCURRENTLY that failed or was cancelled left it (queries do not use it; every write still maintains it); fix: `DROP INDEX CONCURRENTLY {q};` then create it again (`keel deploy` does for a failed migration)",
                keel_driver::quote_ident(keel_core::Dialect::Postgres, t)
            )
        })
        .collect()
}

/// How a plan's statements run, in words: `in_transaction` (`in one transaction`, `… with
/// the ledger write`), or `statement by statement: WHY`.
pub(crate) fn how_it_runs(step_by_step: Option<&str>, in_transaction: &str) -> String {
    match step_by_step {
        None => in_transaction.to_string(),
        Some(why) => format!("statement by statement: {why}"),
    }
}

/// A plan of statements as repair, execute and drift --revert print it: `header:`, the
/// statements, then what they drop.
pub(crate) fn print_statements(header: &str, statements: &[String], losses: &[keel::Loss]) {
    out!("{header}:");
    if statements.is_empty() {
        out!("  (no SQL)");
    }
    for s in statements {
        out!("{s};");
    }
    for l in losses {
        out!("  drops {l}");
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            escape_controls("a\u{1b}[2Jb\u{1b}]0;title\u{7}c\rd\u{202e}"),
            "a\\u{1b}[2Jb\\u{1b}]0;title\\u{7}c\\u{d}d\\u{202e}"
        );
    }
}
