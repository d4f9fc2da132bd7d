//! `keel baseline`: a verified first migration for an existing database.

use keel::ExitStatus;
use keel::{Error, Settings};

pub async fn run(settings: &Settings, name: &str, json: bool) -> Result<ExitStatus, Error> {
    let r = keel::baseline(settings, name).await?;
    if json {
        out!(
            "{}",
            serde_json::json!({"migration": r.name, "path": r.path, "tables": r.tables, "shadow": r.shadow})
        );
    } else {
        out!(
            "wrote {} ({} tables), verified in {}, recorded as applied",
            r.path.display(),
            r.tables,
            r.shadow
        );
    }
    Ok(ExitStatus::Success)
}
