//! `keel lint`: pending migrations against the rules, with counts from the target.

use crate::args::LintFormat;
use keel::ExitStatus;
use keel::{Error, Settings};

pub async fn run(
    settings: &Settings,
    names: &[String],
    format: LintFormat,
    json: bool,
) -> Result<ExitStatus, Error> {
    let r = keel::lint(settings, names).await?;
    let code = r.exit_code();
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = |name: &str| {
        r.paths
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.strip_prefix(&cwd).unwrap_or(p).display().to_string())
            .unwrap_or_else(|| name.to_string())
    };
    match if json { LintFormat::Json } else { format } {
        LintFormat::Json => out!("{}", serde_json::to_string(&r).unwrap_or_default()),
        LintFormat::Github => {
            for f in &r.findings {
                let level = match (f.severity, &f.allowed) {
                    (_, Some(_)) => "notice",
                    (keel::keel_lint::Severity::Error, None) => "error",
                    (keel::keel_lint::Severity::Warning, None) => "warning",
                };
                // Workflow commands: `%`, CR and LF escaped in the message.
                let msg = f
                    .message
                    .replace('%', "%25")
                    .replace('\r', "%0D")
                    .replace('\n', "%0A");
                out!(
                    "::{level} file={},line={},title=keel {}::{msg}",
                    path(&f.migration),
                    f.line,
                    f.id
                );
            }
        }
        LintFormat::Human => {
            if r.migrations.is_empty() {
                out!("nothing to lint: no pending migrations");
                return Ok(ExitStatus::Success);
            }
            for f in &r.findings {
                out!("{}[{}]: {}", f.severity, f.id, f.message);
                out!("  --> {}:{} (step {})", path(&f.migration), f.line, f.step);
                if let Some(reason) = &f.allowed {
                    out!(
                        "  = allowed by `-- keel:allow {}`{}",
                        f.id,
                        if reason.is_empty() {
                            String::new()
                        } else {
                            format!(": {reason}")
                        }
                    );
                }
                out!("  = more: keel explain {}", f.id);
            }
            let errors = r
                .findings
                .iter()
                .filter(|f| f.severity == keel::keel_lint::Severity::Error && f.allowed.is_none())
                .count();
            let warnings = r
                .findings
                .iter()
                .filter(|f| f.severity == keel::keel_lint::Severity::Warning && f.allowed.is_none())
                .count();
            let allowed = r.findings.iter().filter(|f| f.allowed.is_some()).count();
            out!(
                "{} migration(s) linted: {errors} error(s), {warnings} warning(s), {allowed} allowed",
                r.migrations.len()
            );
        }
    }
    Ok(code)
}
