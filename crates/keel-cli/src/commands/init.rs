//! `keel init` and `keel new`.

use keel::ExitStatus;
use keel::{Error, Settings};
use std::path::Path;

pub fn init(settings: &Settings, cwd: &Path, json: bool) -> Result<ExitStatus, Error> {
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

pub fn new(settings: &Settings, name: &str, json: bool) -> Result<ExitStatus, Error> {
    let path = keel::new_migration(settings, name)?;
    if json {
        out!("{}", serde_json::json!({"created": path}));
    } else {
        out!("created {}", path.display());
    }
    Ok(ExitStatus::Success)
}
