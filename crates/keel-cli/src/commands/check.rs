//! `keel check`: the migrations reproduce schema.sql and every down.sql undoes its migration.

use keel::ExitStatus;
use keel::{Error, Settings};
use keel_core::redact::redact_in;
use std::path::Path;

pub async fn run(
    settings: &Settings,
    schema: &Path,
    strict: bool,
    json: bool,
) -> Result<ExitStatus, Error> {
    let r = keel::check(settings, schema, strict).await?;
    let code = r.exit_code();
    if json {
        out!("{}", serde_json::to_string(&r).unwrap_or_default());
        return Ok(code);
    }
    match &r.schema_file {
        Some(f) if r.schema_differences.is_empty() => {
            out!("ok: the migrations reproduce {}", f.display())
        }
        Some(f) => {
            out!(
                "error: the migrations do not reproduce {} (run `keel plan NAME`):",
                f.display()
            );
            for d in &r.schema_differences {
                out!("  {d}");
            }
        }
        None => out!("skipped: no {} to compare with", schema.display()),
    }
    crate::commands::diff::print_kept(&r.kept, &r.external);
    let mut without = 0;
    for d in &r.downs {
        match &d.differences {
            None => without += 1,
            Some(v) if v.is_empty() => out!("ok: {}/down.sql undoes it", d.name),
            Some(v) => {
                out!("error: {}/down.sql does not undo it:", d.name);
                for l in v {
                    out!("  {l}");
                }
            }
        }
    }
    if without > 0 {
        out!("note: {without} migration(s) have no down.sql (they cannot be rolled back)");
    }
    match (&r.lint, &r.lint_skipped) {
        (Some(l), _) => {
            for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
                out!(
                    "{}[{}]: {} ({} step {})",
                    f.severity,
                    f.id,
                    f.message,
                    f.migration,
                    f.step
                );
            }
            if l.exit_code() != ExitStatus::Success {
                out!("error: pending migrations have lint errors (`keel lint` for details)");
            } else {
                out!(
                    "ok: {} pending migration(s) lint clean of errors",
                    l.migrations.len()
                );
            }
        }
        (None, Some(why)) => out!(
            "note: pending migrations not linted: {}",
            redact_in(why, &settings.database_url)
        ),
        (None, None) => {}
    }
    Ok(code)
}
