//! `keel reset`: empties a disposable development database, after confirmation.

use keel::ExitStatus;
use keel::{Error, Settings};
use std::path::Path;

pub async fn run(
    settings: &Settings,
    project: &Path,
    yes: bool,
    json: bool,
) -> Result<ExitStatus, Error> {
    let interactive = crate::prompt::interactive(json);
    let mut confirm = |plan: &keel::ResetPlan| -> bool {
        if !json {
            out!("keel reset will drop everything in {}:", plan.database);
            for (t, rows) in &plan.tables {
                out!(
                    "  table {t} ({})",
                    rows.map_or("rows not counted".to_string(), |n| format!("{n} rows"))
                );
            }
        }
        if yes {
            return true;
        }
        if !interactive {
            return false;
        }
        crate::prompt::typed(
            &format!("Type the database name ({}) to confirm:", plan.name),
            &plan.name,
        )
    };
    let r = keel::reset(settings, project, &mut confirm).await?;
    if json {
        out!("{}", serde_json::json!({"dropped_tables": r.tables.len()}));
    } else {
        out!("reset {}: {} table(s) dropped", r.database, r.tables.len());
        out!("next: `keel deploy` applies every migration to the empty database");
    }
    Ok(ExitStatus::Success)
}
