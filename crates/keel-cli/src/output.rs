//! How errors are shown: `error[K3009]: …` then `  fix: …`, or one JSON object with `--json`.
//! Every message passes through URL redaction before it is printed.

use keel_core::redact::redact_in;

/// Prints `e` to stderr and returns the exit status for it: 3 when a failed migration needs
/// repair (K3009), else 1.
pub fn report_error(e: &keel::Error, url: &str, json: bool) -> u8 {
    let message = redact_in(&e.to_string(), url);
    let fix = redact_in(&e.fix(), url);
    if json {
        let v = serde_json::json!({"error": {"code": e.code(), "message": message, "fix": fix}});
        println!("{v}");
    } else {
        eprintln!("error[{}]: {message}", e.code());
        eprintln!("  fix: {fix}");
        eprintln!("  docs: docs/errors.md#{}", e.code().to_ascii_lowercase());
    }
    match e {
        keel::Error::FailedMigrations { .. } => 3,
        _ => 1,
    }
}
