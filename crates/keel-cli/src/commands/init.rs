//! `keel init`: keel.toml, the migrations directory and schema.sql.

use keel::ExitStatus;
use keel::{Error, Settings};
use std::path::Path;

pub fn run(settings: &Settings, cwd: &Path, json: bool) -> Result<ExitStatus, Error> {
    let report = keel::init(settings, cwd)?;
    if json {
        out!(
            "{}",
            serde_json::json!({"created": report.created, "kept": report.kept})
        );
    } else {
        for p in &report.created {
            out!("created {}", p.strip_prefix(cwd).unwrap_or(p).display());
        }
        for p in &report.kept {
            out!(
                "kept    {} (already exists)",
                p.strip_prefix(cwd).unwrap_or(p).display()
            );
        }
        out!("next: `keel new NAME` to write a migration, `keel deploy` to apply it");
    }
    Ok(ExitStatus::Success)
}
