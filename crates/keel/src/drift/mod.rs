//! `keel drift`: the live schema against the schema its applied migrations produce (replayed
//! in a shadow database). Read-only on the target. (Issue #4, item 1.)

mod reconcile;

pub use reconcile::{drift_record, drift_revert, RecordReport};

use crate::diagnose::Classification;
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
    /// What `revert_sql` drops, counted on the target (rows, or non-NULL values): the counts
    /// `keel drift --revert` refuses without `--allow-data-loss`.
    pub revert_losses: Vec<crate::measure::Loss>,
    /// SQL for a new migration that records the live state into the history.
    pub record_sql: Result<String, String>,
    /// The shadow databases used.
    pub shadows: Vec<String>,
    /// What the comparison stands on, said before the findings: a failed migration (K3009)
    /// is compared in the state `keel doctor` measured, not as absent.
    pub notes: Vec<String>,
    /// The failed migrations (compared in their diagnosed state).
    pub failed: Vec<String>,
    /// The migrations deploy would run (pending, rolled back, out of order): not part of the
    /// history compared.
    pub pending: Vec<String>,
}

impl DriftReport {
    /// Whether the database differs from its history.
    pub fn drifted(&self) -> bool {
        !self.plan.is_empty()
    }
}

/// Replays the applied migrations in a shadow, introspects the target and compares them. A
/// failed migration counts in the state its diagnosis measured (steps 1–k took effect: the
/// history with those steps), so that its objects are not called drift.
///
/// # Errors
/// [`Error::Missing`] (K4002) when an applied migration's folder is gone (its objects could
/// not be told from hand changes, and the SQL offered would drop them); driver,
/// migrations-directory and shadow errors (K3014, K3006).
pub async fn drift(settings: &Settings) -> Result<DriftReport, Error> {
    let dialect = settings.url()?.dialect();
    let status = crate::status(settings).await?;
    let missing: Vec<String> = status
        .reconciled
        .with_state(keel_core::ledger::State::Missing)
        .map(|e| e.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Missing {
            names: missing,
            dir: status.migrations_dir.clone(),
        });
    }
    let mut shadows = Vec::new();
    let mut notes = Vec::new();
    let failed: Vec<String> = status.failed().map(|e| e.name.clone()).collect();
    let pending: Vec<String> = {
        use keel_core::ledger::State;
        [State::Pending, State::RolledBack, State::OutOfOrder]
            .into_iter()
            .flat_map(|s| status.reconciled.with_state(s).map(|e| e.name.clone()))
            .collect()
    };
    let history = match failed.first() {
        Some(name) => {
            let d = crate::diagnose::diagnose(settings, Some(name))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| Error::FailedMigrations {
                    names: failed.clone(),
                })?;
            shadows.extend(d.shadows.iter().cloned());
            let (k, how) = match &d.classification {
                Classification::NotApplied => (0, "none of its steps took effect".to_string()),
                Classification::FullyApplied => (d.steps.len(), "all its steps took effect".to_string()),
                Classification::PartWay { applied } => (
                    *applied,
                    format!("{} took effect", crate::events::steps_range(1, *applied)),
                ),
                Classification::Diverged { closest, .. } => (
                    *closest,
                    format!("it matches none of its states; compared with the closest, after {} of its steps", closest),
                ),
            };
            notes.push(format!(
                "K3009: migration `{name}` is failed ({how}, as `keel doctor` measures): compared in that state; `keel doctor` names the repair"
            ));
            let Some(state) = d.states.get(k).cloned() else {
                return Err(Error::FailedMigrations {
                    names: failed.clone(),
                });
            };
            state
        }
        None => read_source(settings, dialect, &Source::Ledger, &mut shadows).await?,
    };
    // One session on the target: its schema, then what the way back would drop (measure
    // sends nothing when the plan drops nothing).
    let mut driver = keel_driver::connect_to(settings.url()?).await?;
    let live = match driver.introspect().await {
        Ok(live) => live,
        Err(e) => {
            driver.close().await;
            return Err(e.into());
        }
    };
    let mut history = history;
    // Prisma's external tables belong to their owner: what they changed is not drift.
    match crate::diff::leave_external(settings, &mut history, &live) {
        Ok(lines) if !lines.is_empty() => notes.push(format!(
            "not compared: external in prisma.config.ts (Prisma Migrate leaves them to their owner): {}",
            lines.join(", ")
        )),
        Ok(_) => {}
        Err(e) => {
            driver.close().await;
            return Err(e);
        }
    }
    let plan = diff_schemas(dialect, &history, &live);
    let back = diff_schemas(dialect, &live, &history);
    let revert_losses = crate::measure::losses(driver.as_mut(), &back).await;
    driver.close().await;
    let findings = findings(&plan);
    Ok(DriftReport {
        revert_sql: render_script(&back).map_err(|e| e.to_string()),
        revert_losses,
        record_sql: render_script(&plan).map_err(|e| e.to_string()),
        plan,
        findings,
        shadows,
        notes,
        failed,
        pending,
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
