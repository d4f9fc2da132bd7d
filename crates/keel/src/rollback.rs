//! `keel rollback [--steps N | --to VERSION]` (issue #6, item 4): runs the `down.sql` of the
//! latest applied migrations, newest first, each in a transaction with its ledger write where
//! the database allows, verifies each against the schema before that migration (replayed in a
//! shadow), and marks it rolled back (Prisma's `rolled_back_at`).

use crate::error::Error;
use crate::events::Event;
use crate::measure::{losses, Loss};
use crate::project::Project;
use crate::run::{Executor, LockPolicy, RunError, Script, Then, Verified};
use crate::settings::Settings;
use crate::shadow::Shadow;
use keel_core::ledger::State;
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::Schema;
use serde::Serialize;

/// Which migrations to roll back.
#[derive(Debug, Clone, Default)]
pub struct RollbackOptions {
    /// How many of the latest applied migrations (default 1).
    pub steps: Option<usize>,
    /// Roll back every applied migration after this version or name (it stays applied).
    pub to: Option<String>,
    /// Run even when a down script drops tables or columns holding data.
    pub allow_data_loss: bool,
    /// Compute and return the plan; change nothing.
    pub dry_run: bool,
}

/// One migration to roll back.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackItem {
    /// The migration.
    pub name: String,
    /// Its down script.
    pub down: String,
    /// What the down script drops, with the rows at stake on the target.
    pub losses: Vec<Loss>,
    /// Whether it runs in one transaction with the ledger write.
    pub transactional: bool,
}

/// What was (or would be) rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// Newest first.
    pub items: Vec<RollbackItem>,
    /// Whether the down scripts ran.
    pub executed: bool,
}

/// Rolls back under the deploy lock; `confirm` sees the plan first (return `false` to stop).
///
/// # Errors
/// [`Error::FailedMigrations`] (K3009: repair first), [`Error::TargetNotFound`] (K4004),
/// [`Error::NoDownScript`] (K4063), [`Error::RollbackWouldLoseData`] (K4064),
/// [`Error::RollbackNotConfirmed`] (K4065), [`Error::RollbackFailed`] (K4066), lock, shadow
/// and driver errors.
pub async fn rollback(
    settings: &Settings,
    options: &RollbackOptions,
    confirm: &mut (dyn FnMut(&RollbackReport) -> bool + Send),
) -> Result<RollbackReport, Error> {
    rollback_with_events(settings, options, confirm, &mut |_| {}).await
}

/// [`rollback`], reporting each wait for a lock of a down script as [`Event::LockWait`] (it is
/// retried like a deploy's step: `--lock-timeout`, `--lock-attempts`).
///
/// # Errors
/// As [`rollback`].
pub async fn rollback_with_events(
    settings: &Settings,
    options: &RollbackOptions,
    confirm: &mut (dyn FnMut(&RollbackReport) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<RollbackReport, Error> {
    let mut project = Project::open(settings).await?;
    let r = locked(&mut project, settings, options, confirm, on_event).await;
    project.close().await;
    r
}

async fn locked(
    project: &mut Project,
    settings: &Settings,
    options: &RollbackOptions,
    confirm: &mut (dyn FnMut(&RollbackReport) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<RollbackReport, Error> {
    project.driver.lock(settings.deploy_lock_timeout).await?;
    project.refresh().await?;
    let (_, reconciled) = project.reconcile().await?;
    let failed: Vec<String> = reconciled
        .with_state(State::Failed)
        .map(|e| e.name.clone())
        .collect();
    if !failed.is_empty() {
        return Err(Error::FailedMigrations { names: failed });
    }
    let applied: Vec<(String, Option<usize>)> = reconciled
        .entries
        .iter()
        .filter(|e| matches!(e.state, State::Applied | State::Modified | State::Missing))
        .map(|e| (e.name.clone(), e.file))
        .collect();
    let count = match &options.to {
        Some(v) => {
            let pos = applied
                .iter()
                .position(|(n, _)| n == v || n.split('_').next() == Some(v.as_str()))
                .ok_or_else(|| Error::TargetNotFound {
                    target: v.clone(),
                    dir: project.dir.root.clone(),
                })?;
            applied.len() - pos - 1
        }
        None => options.steps.unwrap_or(1).min(applied.len()),
    };
    let chosen = &applied[applied.len() - count..];
    let dialect = project.driver.dialect();
    let mut files: Vec<Migration> = Vec::new();
    for (name, file) in chosen {
        let Some(m) = file.map(|i| project.dir.migrations[i].clone()) else {
            return Err(Error::NoDownScript { name: name.clone() });
        };
        if m.down_path.is_none() {
            return Err(Error::NoDownScript { name: name.clone() });
        }
        files.push(m);
    }
    let downs: Vec<String> = files
        .iter()
        .map(|m| {
            let p = m
                .down_path
                .as_ref()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&p).map_err(|source| {
                Error::Migrations(keel_core::migrations::MigrationsError::Io {
                    path: p.clone(),
                    source,
                })
            })?;
            keel_core::migrations::check_nul(&p, &text)?;
            Ok::<_, Error>(text)
        })
        .collect::<Result<_, _>>()?;

    // The schema before each chosen migration, and what its down drops: replay in a shadow.
    let keep: Vec<&Migration> = applied[..applied.len() - count]
        .iter()
        .filter_map(|(_, f)| f.map(|i| &project.dir.migrations[i]))
        .collect();
    let mut shadow = Shadow::open(settings, dialect).await?;
    let chosen_files: Vec<&Migration> = files.iter().collect();
    let states = shadow
        .states_around(&keep, &chosen_files, false, &|_| true)
        .await;
    shadow.close().await;
    // states[i] = the schema before and after files[i].
    let states: Vec<(Schema, Schema)> = states?;
    let mut items = Vec::new();
    for (i, m) in files.iter().enumerate().rev() {
        let p = diff_schemas(dialect, &states[i].1, &states[i].0);
        // A rename reads as a drop and an add in a schema diff; the down script says which.
        let renamed = renamed_names(&downs[i]);
        let l: Vec<Loss> = losses(project.driver.as_mut(), &p)
            .await
            .into_iter()
            .filter(|l| {
                let obj = l.object.replace(['"', '`'], "");
                !renamed
                    .iter()
                    .any(|n| obj.ends_with(&format!(".{n}")) || obj == format!("table {n}"))
            })
            .collect();
        let transactional = Script::from_text(&m.name, &downs[i], dialect)
            .mode(dialect)
            .transactional();
        items.push(RollbackItem {
            name: m.name.clone(),
            down: downs[i].clone(),
            losses: l,
            transactional,
        });
    }
    let mut report = RollbackReport {
        items,
        executed: false,
    };
    if options.dry_run || report.items.is_empty() {
        return Ok(report);
    }
    let at_stake: Vec<String> = report
        .items
        .iter()
        .flat_map(|it| it.losses.iter())
        .filter(|l| l.rows.is_none_or(|n| n > 0))
        .map(ToString::to_string)
        .collect();
    if !at_stake.is_empty() && !options.allow_data_loss {
        return Err(Error::RollbackWouldLoseData { losses: at_stake });
    }
    if !confirm(&report) {
        return Err(Error::RollbackNotConfirmed);
    }
    for (k, item) in report.items.iter().enumerate() {
        let i = files.len() - 1 - k;
        run_down(project, settings, item, &files[i], &states[i].0, on_event).await?;
    }
    report.executed = true;
    Ok(report)
}

/// Runs `item`'s down script through the executor: verified against `target` (the schema
/// before the migration) before it commits, then the migration is marked rolled back.
async fn run_down(
    project: &mut Project,
    settings: &Settings,
    item: &RollbackItem,
    m: &Migration,
    target: &Schema,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), Error> {
    let dialect = project.driver.dialect();
    let script = Script::from_text(&item.name, &item.down, dialect);
    let mode = script.mode(dialect);
    let table = project.ledger_table.clone();
    let mut verified = Verified {
        target,
        table: &table,
        then: Then::MarkRolledBack { name: &item.name },
    };
    let policy = LockPolicy::new(settings, Some(m));
    let mut ex = Executor::new(project.driver.as_mut(), on_event);
    match ex.run(&script, &mode, Some(policy), &mut verified).await {
        Ok(()) => Ok(()),
        Err(RunError::Step(failure) | RunError::LockGaveUp { failure, .. }) => {
            Err(Error::RollbackStepFailed {
                name: item.name.clone(),
                failure: Box::new(failure),
                transactional: mode.transactional(),
            })
        }
        Err(RunError::Differs(d)) => Err(Error::RollbackFailed {
            name: item.name.clone(),
            message: format!(
                "down.sql does not restore the schema before the migration ({}){}",
                d.join("; "),
                if mode.transactional() {
                    "; it ran in a transaction: nothing changed"
                } else {
                    "; the ledger still records it as applied"
                }
            ),
        }),
        Err(RunError::Driver(e)) => Err(e.into()),
    }
}

/// Names a script renames away (`RENAME COLUMN a TO b`, `RENAME TO b`, `RENAME TABLE a TO b`):
/// the old names, unquoted.
fn renamed_names(script: &str) -> Vec<String> {
    let words: Vec<String> = script
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(|c| c == '"' || c == '`').to_string())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if !w.eq_ignore_ascii_case("rename") {
            continue;
        }
        match words.get(i + 1).map(|x| x.to_ascii_uppercase()).as_deref() {
            Some("COLUMN" | "TABLE") => {
                if let Some(old) = words.get(i + 2) {
                    out.push(old.clone());
                }
            }
            Some("TO") if i >= 1 => {
                // ALTER TABLE old RENAME TO new: the table named before RENAME.
                out.push(words[i - 1].rsplit('.').next().unwrap_or("").to_string());
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renamed_names;

    #[test]
    fn finds_renamed_names() {
        assert_eq!(
            renamed_names("ALTER TABLE \"users\" RENAME COLUMN \"full_name\" TO \"name\";\nALTER TABLE \"p\" RENAME TO \"q\";\nRENAME TABLE `a` TO `b`;"),
            vec!["full_name", "p", "a"]
        );
    }
}
