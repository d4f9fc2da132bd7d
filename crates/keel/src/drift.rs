//! `keel drift`: the live schema against the schema its applied migrations produce (replayed
//! in a shadow database). Read-only on the target. (Issue #4, item 1.)

use crate::diff::{read_source, Source};
use crate::error::Error;
use crate::settings::Settings;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::render::render_script;

/// What drifted and both ways to reconcile it.
#[derive(Debug, Clone)]
pub struct DriftReport {
    /// From the history (applied migrations) to the live database.
    pub plan: Plan,
    /// One line per difference, worded from the history's point of view.
    pub findings: Vec<String>,
    /// SQL that brings the database back to its history (may drop what was added by hand).
    pub revert_sql: Result<String, String>,
    /// SQL for a new migration that records the live state into the history.
    pub record_sql: Result<String, String>,
    /// The shadow databases used.
    pub shadows: Vec<String>,
}

impl DriftReport {
    /// Whether the database differs from its history.
    pub fn drifted(&self) -> bool {
        !self.plan.is_empty()
    }
}

/// Replays the applied migrations in a shadow, introspects the target and compares them.
///
/// # Errors
/// Driver, migrations-directory and shadow errors (K3014, K3006).
pub async fn drift(settings: &Settings) -> Result<DriftReport, Error> {
    let dialect = settings.url()?.dialect();
    let mut shadows = Vec::new();
    let history = read_source(settings, dialect, &Source::Ledger, &mut shadows).await?;
    let live = read_source(
        settings,
        dialect,
        &Source::Url(settings.database_url.clone()),
        &mut shadows,
    )
    .await?;
    let plan = diff_schemas(dialect, &history, &live);
    let back = diff_schemas(dialect, &live, &history);
    let findings = findings(&plan);
    Ok(DriftReport {
        revert_sql: render_script(&back).map_err(|e| e.to_string()),
        record_sql: render_script(&plan).map_err(|e| e.to_string()),
        plan,
        findings,
        shadows,
    })
}

/// Words each change of history → live as a drift finding.
fn findings(plan: &Plan) -> Vec<String> {
    let generic = keel_core::schema::summary::summarize(plan);
    let (h, l) = (&plan.from, &plan.to);
    plan.changes
        .iter()
        .zip(generic)
        .map(|(c, fallback)| match c {
            Change::AddColumn { column } => {
                let col = l.column(*column);
                format!(
                    "column `{}.{}` exists in the database but in no migration",
                    l.table_name(col.table),
                    col.name
                )
            }
            Change::DropColumn { column } => {
                let col = h.column(*column);
                format!(
                    "column `{}.{}` is in the migrations but not in the database",
                    h.table_name(col.table),
                    col.name
                )
            }
            Change::CreateTable { table } => format!(
                "table `{}` exists in the database but in no migration",
                l.table_name(*table)
            ),
            Change::DropTable { table } => format!(
                "table `{}` is in the migrations but not in the database",
                h.table_name(*table)
            ),
            // An INVALID index: the summary says what it is and how to fix it.
            Change::CreateIndex { to } if l.indexes[*to].invalid => {
                format!("the database differs from its migrations: {fallback}")
            }
            Change::CreateIndex { to } => format!(
                "index `{}` exists in the database but in no migration",
                l.indexes[*to].name
            ),
            Change::DropIndex { from } => format!(
                "index `{}` is in the migrations but not in the database",
                h.indexes[*from].name
            ),
            _ => format!("the database differs from its migrations: {fallback}"),
        })
        .collect()
}
