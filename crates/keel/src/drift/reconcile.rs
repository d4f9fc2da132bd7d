//! The two ways out of drift, run by keel instead of pasted into psql: `keel drift --revert`
//! brings the database back to its history (through the executor, under the deploy lock, with
//! the data it drops counted and refused without `--allow-data-loss`, verified against the
//! history before it commits); `keel drift --record NAME` writes the migration that records
//! the change (and its `down.sql`), checks in a shadow that the history with it reproduces the
//! live schema, and records it as applied (Prisma's `migrate diff` + `migrate resolve
//! --applied`, in one verified step).

use super::{drift, DriftReport};
use crate::diff::{read_source, Source};
use crate::error::Error;
use crate::events::Event;
use crate::execute::{run_planned, ExecuteOptions, ExecutePlan, ExecuteReport, Work};
use crate::project::Project;
use crate::settings::Settings;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::render::render;
use serde::Serialize;
use std::path::PathBuf;

/// What the history's schema is called in messages.
const HISTORY: &str = "the schema its applied migrations produce";

/// Refuses a reconciliation while a migration is failed (its state is a repair's business,
/// K3009 first) and, for `--record`, while migrations are pending.
fn refuse(command: &str, report: &DriftReport, record: bool) -> Result<(), Error> {
    if let Some(name) = report.failed.first() {
        return Err(Error::DriftRefused {
            command: command.to_string(),
            reason: format!(
                "migration `{name}` is failed (K3009): repair it first (`keel doctor` measures it), so that its state is not mistaken for drift"
            ),
            first: "keel doctor",
        });
    }
    if record && !report.pending.is_empty() {
        return Err(Error::DriftRefused {
            command: command.to_string(),
            reason: format!(
                "{} migration(s) are pending ({}): the new migration would be recorded as applied before them",
                report.pending.len(),
                report.pending.join(", ")
            ),
            first: "keel deploy",
        });
    }
    Ok(())
}

/// `keel drift --revert`: compares as [`drift`] does, then, under the deploy lock, runs
/// keel's plan from the live schema (read again under the lock) back to the history's. The
/// data it drops is counted on the target first and refused without
/// `options.allow_data_loss`; `confirm` sees the plan (return `false` to stop); the schema is
/// checked against the history before COMMIT (PostgreSQL, SQLite: a mismatch rolls it all
/// back). Nothing is written to the ledger. Returns the comparison and what ran (`executed`
/// false when there was no drift, or with `dry_run`).
///
/// # Errors
/// As [`drift`]; [`Error::DriftRefused`] (K4104) while a migration is failed;
/// [`Error::ExecuteWouldLoseData`] (K4100), [`Error::ExecuteNotConfirmed`] (K4101),
/// [`Error::ExecuteStepFailed`] (K4102), [`Error::DriftNotReconciled`] (K4103),
/// [`Error::Render`] (K4006) for a change this database cannot express; lock and driver
/// errors.
pub async fn drift_revert(
    settings: &Settings,
    options: ExecuteOptions,
    confirm: &mut (dyn FnMut(&ExecutePlan) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<(DriftReport, ExecuteReport), Error> {
    const COMMAND: &str = "keel drift --revert";
    let report = drift(settings).await?;
    refuse(COMMAND, &report, false)?;
    let history = report.plan.from.clone();
    let mut project = Project::open(settings).await?;
    let result = async {
        project.driver.lock(settings.deploy_lock_timeout).await?;
        // The live schema as it is now, under the lock: what runs is planned from it.
        let live = project.driver.introspect().await?;
        let dialect = project.driver.dialect();
        let back = diff_schemas(dialect, &live, &history);
        let work = Work {
            command: COMMAND.to_string(),
            source:
                "keel's plan from the live schema back to the schema its applied migrations produce"
                    .into(),
            script: crate::run::Script::from_statements(COMMAND, &render(&back)?, dialect),
            losses: crate::measure::losses(project.driver.as_mut(), &back).await,
            target: Some((&history, HISTORY)),
        };
        run_planned(
            project.driver.as_mut(),
            settings,
            work,
            options,
            confirm,
            on_event,
        )
        .await
    }
    .await;
    project.close().await;
    Ok((report, result?))
}

/// What `keel drift --record NAME` did.
#[derive(Debug, Clone, Serialize)]
pub struct RecordReport {
    /// The new migration's folder; `None` when there was no drift.
    pub dir: Option<PathBuf>,
    /// Its `migration.sql`: the change from the history to the live schema.
    pub up: String,
    /// Its `down.sql`: back to the history.
    pub down: String,
    /// Whether it was recorded as applied (ran nothing: the database already has it).
    pub recorded: bool,
    /// The shadow databases used for the check.
    pub shadows: Vec<String>,
}

/// `keel drift --record NAME`: compares as [`drift`] does, writes a new migration `NAME`
/// whose `migration.sql` is keel's plan from the history to the live schema (and whose
/// `down.sql` goes back), replays the whole history with it in a shadow database and requires
/// the live schema, then records it as applied under the deploy lock (a finished ledger row
/// with 0 steps, as `keel resolve --applied` writes). When the replay differs the folder is
/// removed and nothing is recorded.
///
/// # Errors
/// As [`drift`]; [`Error::InvalidName`] (K4010); [`Error::DriftRefused`] (K4104) while a
/// migration is failed or pending; [`Error::Render`] (K4006); [`Error::Write`] (K4015);
/// [`Error::DriftNotReconciled`] (K4103) when the replay differs; shadow (K3014, K3006),
/// lock and driver errors.
pub async fn drift_record(
    settings: &Settings,
    name: &str,
    dry_run: bool,
) -> Result<(DriftReport, RecordReport), Error> {
    let command = format!("keel drift --record {name}");
    crate::init::check_name(name)?;
    let report = drift(settings).await?;
    refuse(&command, &report, true)?;
    let up = keel_core::schema::render::render_script(&report.plan)?;
    let back = diff_schemas(report.plan.dialect, &report.plan.to, &report.plan.from);
    let down = keel_core::schema::render::render_script(&back)?;
    let mut out = RecordReport {
        dir: None,
        up,
        down,
        recorded: false,
        shadows: Vec::new(),
    };
    if !report.drifted() || dry_run {
        return Ok((report, out));
    }
    let file = crate::init::new_migration(settings, name)?;
    let folder = file.parent().map(PathBuf::from).unwrap_or_default();
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|source| Error::Write { path, source })
    };
    let header = format!("-- {name}: recorded from drift by `{command}`\n");
    let result = match write(file.clone(), &(header + &out.up))
        .and_then(|()| write(folder.join("down.sql"), &out.down))
    {
        Ok(()) => verify_and_record(settings, &command, &report, &folder, &mut out).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        // Nothing half-done is left: a migration that does not reproduce the live schema
        // must not be deployed elsewhere.
        let _ = std::fs::remove_dir_all(&folder);
        return Err(e);
    }
    out.dir = Some(folder);
    out.recorded = true;
    Ok((report, out))
}

/// Replays the migrations directory (with the new migration) in a shadow, requires the live
/// schema of `report`, then records the new migration as applied under the deploy lock.
async fn verify_and_record(
    settings: &Settings,
    command: &str,
    report: &DriftReport,
    folder: &std::path::Path,
    out: &mut RecordReport,
) -> Result<(), Error> {
    let dialect = report.plan.dialect;
    let mut replayed = read_source(
        settings,
        dialect,
        &Source::Migrations(None),
        &mut out.shadows,
    )
    .await?;
    crate::diff::leave_external(settings, &mut replayed, &report.plan.to)?;
    let d = diff_schemas(dialect, &replayed, &report.plan.to);
    if !d.is_empty() {
        return Err(Error::DriftNotReconciled {
            command: command.to_string(),
            target: "the live schema when the history with the new migration is replayed".into(),
            kept: false,
            differences: keel_core::schema::summary::summarize(&d),
        });
    }
    let folder_name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut project = Project::open(settings).await?;
    let result = async {
        project.driver.lock(settings.deploy_lock_timeout).await?;
        let Some(file) = project.dir.get(&folder_name).cloned() else {
            return Err(Error::MigrationNotFound {
                name: folder_name.clone(),
                dir: project.dir.root.clone(),
            });
        };
        let table = project.ledger_table.clone();
        if !project.ledger_exists {
            project.driver.create_ledger(&table).await?;
        }
        let rows = project.driver.read_ledger(&table).await?;
        crate::run::record_applied(
            project.driver.as_mut(),
            &table,
            &rows,
            &file,
            0,
            chrono::Utc::now(),
        )
        .await?;
        Ok(())
    }
    .await;
    project.close().await;
    result
}
