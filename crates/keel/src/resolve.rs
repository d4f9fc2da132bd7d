//! `keel resolve --applied NAME` / `--rolled-back NAME`: edits the ledger only, never the
//! schema (Prisma's `migrate resolve`).

use crate::error::Error;
use crate::project::Project;
use crate::run::{mark_failed_rolled_back, record_applied};
use crate::settings::Settings;
use keel_core::ledger::State;

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
/// [`Error::NotFailed`] (K3012), [`Error::ResolveTookEffect`] (K3013), driver errors.
pub async fn resolve(settings: &Settings, action: &ResolveAction) -> Result<State, Error> {
    resolve_with(settings, action, false).await
}

/// [`resolve`]; with `force`, a failed migration whose ledger row says steps took effect is
/// marked rolled back all the same (the operator undid them by hand).
///
/// # Errors
/// As [`resolve`], but no K3013 with `force`.
pub async fn resolve_with(
    settings: &Settings,
    action: &ResolveAction,
    force: bool,
) -> Result<State, Error> {
    let mut project = Project::open(settings).await?;
    let result = resolve_locked(&mut project, settings, action, force).await;
    project.close().await;
    result
}

async fn resolve_locked(
    project: &mut Project,
    settings: &Settings,
    action: &ResolveAction,
    force: bool,
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
            // The newest unfinished attempt: what its steps did is still in the schema.
            let took_effect = rows
                .iter()
                .filter(|r| {
                    r.migration_name == *name
                        && r.finished_at.is_none()
                        && r.rolled_back_at.is_none()
                })
                .max_by_key(|r| r.started_at)
                .map_or(0, |r| r.applied_steps_count);
            if took_effect > 0 && !force {
                return Err(Error::ResolveTookEffect {
                    name: name.clone(),
                    steps: took_effect,
                });
            }
            mark_failed_rolled_back(
                project.driver.as_mut(),
                &project.ledger_table,
                &rows,
                name,
                now,
            )
            .await?;
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
            record_applied(
                project.driver.as_mut(),
                &project.ledger_table,
                &rows,
                &file,
                0,
                now,
            )
            .await?;
            Ok(State::Applied)
        }
    }
}
