//! `keel new NAME`: an empty migration.

use keel::ExitStatus;
use keel::{Error, Settings};

pub fn run(settings: &Settings, name: &str, json: bool) -> Result<ExitStatus, Error> {
    let path = keel::new_migration(settings, name)?;
    if json {
        out!("{}", serde_json::json!({"created": path}));
    } else {
        out!("created {}", path.display());
    }
    Ok(ExitStatus::Success)
}
