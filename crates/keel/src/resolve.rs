//! `keel resolve --applied NAME` / `--rolled-back NAME`: edits the ledger only, never the
//! schema (Prisma's `migrate resolve`).

use crate::apply::new_row;
use crate::project::Project;
use crate::{Error, Settings};
use keel_core::ledger::{LedgerRow, State};
use keel_core::migrations::Migration;

/// What to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveAction {
    /// Record a pending or failed migration as applied without running it (failed attempts
    /// are marked rolled back first, as Prisma does). Creates the ledger when absent: this is
    /// how a baseline is recorded.
    Applied(String),
    /// Mark a failed migration as rolled back, so deploy runs it again.
    RolledBack(String),
}

/// Records `action` in the ledger under the deploy lock. Returns the migration's new state.
///
/// # Errors
/// [`Error::MigrationNotFound`] (K3017), [`Error::AlreadyApplied`] (K3008),
/// [`Error::NotFailed`] (K3012), driver errors.
pub async fn resolve(settings: &Settings, action: &ResolveAction) -> Result<State, Error> {
    let mut project = Project::open(settings).await?;
    let result = resolve_locked(&mut project, settings, action).await;
    project.close().await;
    result
}

async fn resolve_locked(
    project: &mut Project,
    settings: &Settings,
    action: &ResolveAction,
) -> Result<State, Error> {
    project.driver.lock(settings.deploy_lock_timeout).await?;
    project.refresh().await?;
    let (rows, reconciled) = project.reconcile().await?;
    let name = match action {
        ResolveAction::Applied(n) | ResolveAction::RolledBack(n) => n,
    };
    let Some(entry) = reconciled.get(name) else {
        return Err(Error::MigrationNotFound {
            name: name.clone(),
            dir: project.dir.root.clone(),
        });
    };
    let now = chrono::Utc::now();
    match action {
        ResolveAction::RolledBack(_) => {
            if entry.state != State::Failed {
                return Err(Error::NotFailed {
                    name: name.clone(),
                    state: entry.state,
                });
            }
            mark_failed_rolled_back(project, &rows, name, now).await?;
            Ok(State::RolledBack)
        }
        ResolveAction::Applied(_) => {
            match entry.state {
                State::Applied | State::Modified | State::Missing => {
                    return Err(Error::AlreadyApplied { name: name.clone() })
                }
                State::Pending | State::Failed | State::RolledBack | State::OutOfOrder => {}
            }
            let Some(file) = entry.file.map(|i| &project.dir.migrations[i]) else {
                return Err(Error::MigrationNotFound {
                    name: name.clone(),
                    dir: project.dir.root.clone(),
                });
            };
            let file = file.clone();
            project.ensure_ledger().await?;
            record_applied(project, &rows, &file, 0, now).await?;
            Ok(State::Applied)
        }
    }
}

/// Marks every failed attempt of `name` in `rows` as rolled back at `now`.
pub(crate) async fn mark_failed_rolled_back(
    project: &mut Project,
    rows: &[LedgerRow],
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    for r in rows
        .iter()
        .filter(|r| r.migration_name == name && r.is_failed())
    {
        let mut r = r.clone();
        r.rolled_back_at = Some(now);
        project.driver.update_row(&project.ledger_table, &r).await?;
    }
    Ok(())
}

/// Records `file` as applied at `now`: its failed attempts are marked rolled back and a
/// finished row is added with `applied_steps_count` = `steps` (as Prisma's `migrate resolve
/// --applied` does, with 0 steps: it ran none).
pub(crate) async fn record_applied(
    project: &mut Project,
    rows: &[LedgerRow],
    file: &Migration,
    steps: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    mark_failed_rolled_back(project, rows, &file.name, now).await?;
    let mut row = new_row(file);
    row.started_at = now;
    row.finished_at = Some(now);
    row.applied_steps_count = steps;
    project
        .driver
        .insert_row(&project.ledger_table, &row)
        .await?;
    Ok(())
}
