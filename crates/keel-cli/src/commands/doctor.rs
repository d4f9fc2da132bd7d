//! `keel doctor`: every check, each finding with its fix.

use keel::ExitStatus;
use keel::{Error, Settings, Severity};
use keel_core::redact::redact_in;

pub async fn run(settings: &Settings, json: bool) -> Result<ExitStatus, Error> {
    let r = keel::doctor(settings).await?;
    let url = &settings.database_url;
    let code = r.exit_code();
    if json {
        let v = serde_json::json!({
            "exit_code": code.code(),
            "findings": r.findings,
            "diagnoses": r.diagnoses,
        });
        out!("{}", redact_in(&v.to_string(), url));
        return Ok(code);
    }
    if r.findings.is_empty() {
        out!(
            "healthy: every migration is applied, the schema matches them, the deploy lock is free"
        );
        return Ok(ExitStatus::Success);
    }
    for f in &r.findings {
        let label = match f.severity {
            Severity::Repair => "repair",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        out!("{label}[{}]: {}", f.code, redact_in(&f.title, url));
        for d in &f.details {
            out!("  - {}", redact_in(d, url));
        }
        for (i, fix) in f.fixes.iter().enumerate() {
            let head = if i == 0 { "fix" } else { " or" };
            out!("  {head}: {}", redact_in(fix, url));
        }
        out!("  more: keel explain {}", f.code);
        out!();
    }
    Ok(code)
}
