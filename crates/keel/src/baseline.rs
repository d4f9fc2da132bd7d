//! `keel baseline [NAME]`: a first migration that captures an existing database, verified in
//! a shadow and recorded as applied without running it (issue #4, item 2; Prisma's
//! "baselining", done by hand there).

use crate::project::Project;
use crate::shadow::Shadow;
use crate::{Error, ResolveAction, Settings};
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff;
use keel_core::schema::summary::summarize;
use keel_core::schema::Schema;
use std::path::PathBuf;

/// What `baseline` wrote and recorded.
#[derive(Debug, Clone)]
pub struct BaselineReport {
    /// The migration's name.
    pub name: String,
    /// Its `migration.sql`.
    pub path: PathBuf,
    /// Tables it captures.
    pub tables: usize,
    /// The shadow database the verification used.
    pub shadow: String,
}

/// What `baseline` recorded for a migrations directory that already holds a history
/// ([`baseline_history`]).
#[derive(Debug, Clone)]
pub struct HistoryBaseline {
    /// The migrations recorded as applied (the longest prefix of the history whose replay
    /// equals the live schema), in order.
    pub recorded: Vec<String>,
    /// The migrations after it, left pending for `keel deploy`.
    pub pending: Vec<String>,
    /// The shadow database the replay used.
    pub shadow: String,
    /// How many times the shadow's schema was read and compared with the live one.
    pub compared: usize,
}

/// Introspects the target, writes `<migrations>/<version>_<name>/migration.sql` recreating it,
/// replays that file in a shadow and checks the result equals the live schema, then records
/// it as applied. Refuses when the ledger already has rows or the migrations directory is
/// not empty.
///
/// # Errors
/// [`Error::BaselineRefused`] (K4030), [`Error::BaselineMismatch`] (K4031), K3014 and K3006
/// from the shadow, [`Error::Render`], [`Error::Write`], driver errors.
pub async fn baseline(settings: &Settings, name: &str) -> Result<BaselineReport, Error> {
    let mut project = Project::open_allow_missing(settings).await?;
    let checked = async {
        let rows = project.rows().await?;
        if !rows.is_empty() {
            return Err(Error::BaselineRefused {
                reason: format!(
                    "the ledger `{}` already has {} row(s); a baseline only starts a history",
                    project.ledger_table,
                    rows.len()
                ),
            });
        }
        if !project.dir.migrations.is_empty() {
            return Err(Error::BaselineRefused {
                reason: format!(
                    "`{}` already holds migrations: `keel baseline` (without a name) records how much of that history the database already has",
                    project.dir.root.display(),
                ),
            });
        }
        Ok(project.driver.introspect().await?)
    }
    .await;
    let dialect = project.driver.dialect();
    project.close().await;
    let live: Schema = checked?;
    if live.is_empty() {
        return Err(Error::BaselineRefused {
            reason: "the database is empty: there is nothing to capture".into(),
        });
    }
    let script = live.creation_script(dialect)?;
    let path = crate::init::new_migration(settings, name)?;
    let folder_name = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = format!(
        "-- Baseline of an existing database, written by `keel baseline` and recorded as applied.\n{script}"
    );
    let migration =
        Migration::from_bytes(&folder_name, path.clone(), None, text.clone().into_bytes())?;
    // Verify before anything is recorded: the file must recreate the live schema exactly.
    let allowed = crate::shadow::temp_schema_allowed(&[&migration]);
    let verified = async {
        let mut shadow = Shadow::open_for(settings, dialect, allowed).await?;
        let strategy = shadow.strategy.clone();
        let r = async {
            shadow.replay(&[&migration]).await?;
            shadow.introspect().await
        }
        .await;
        shadow.close().await;
        let replayed = r?;
        let rest = diff(dialect, &replayed, &live);
        if rest.is_empty() {
            Ok(strategy)
        } else {
            Err(Error::BaselineMismatch {
                differences: summarize(&rest),
            })
        }
    }
    .await;
    let shadow = match verified {
        Ok(s) => s,
        Err(e) => {
            // Leave nothing half-made behind: the folder goes when the check fails.
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
    };
    std::fs::write(&path, text).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    crate::resolve(settings, &ResolveAction::Applied(folder_name.clone())).await?;
    Ok(BaselineReport {
        name: folder_name,
        path,
        tables: live.tables.len(),
        shadow,
    })
}

/// Baselines a database built from (part of) an existing history by another tool or by hand,
/// with no ledger rows: finds the longest prefix of the migrations whose replay equals the live
/// schema, and records exactly that prefix as applied, in one transaction under the deploy
/// lock; the rest stays pending. The search: one replay of the whole history in a shadow
/// database, the schema read and compared after the last migration first (a database built
/// from the whole history: one comparison), then, when that differs, after every migration
/// (the last equal state wins, so a migration that adds and a later one that drops the same
/// object still finds the right point). Rows the history inserts do not matter: only schemas
/// are compared.
///
/// # Errors
/// [`Error::BaselineRefused`] (K4030) when the ledger has rows, the directory holds no
/// migrations or the database is empty; [`Error::BaselineMismatch`] (K4031) when no prefix
/// equals the live schema (the differences from the closest one are listed); K3014 and K3006
/// from the shadow; K1002 when the deploy lock is held; driver errors.
pub async fn baseline_history(settings: &Settings) -> Result<HistoryBaseline, Error> {
    let mut project = Project::open(settings).await?;
    let r = baseline_history_in(&mut project, settings).await;
    project.close().await;
    r
}

async fn baseline_history_in(
    project: &mut Project,
    settings: &Settings,
) -> Result<HistoryBaseline, Error> {
    let dialect = project.driver.dialect();
    let rows = project.rows().await?;
    if !rows.is_empty() {
        return Err(Error::BaselineRefused {
            reason: format!(
                "the ledger `{}` already has {} row(s): the history is recorded; `keel status` shows it",
                project.ledger_table,
                rows.len()
            ),
        });
    }
    if project.dir.migrations.is_empty() {
        return Err(Error::BaselineRefused {
            reason: "the migrations directory holds no migration: `keel baseline NAME` writes one that captures the database".into(),
        });
    }
    let live = project.driver.introspect().await?;
    if live.is_empty() {
        return Err(Error::BaselineRefused {
            reason: "the database is empty: `keel deploy` applies the whole history".into(),
        });
    }
    let all: Vec<&Migration> = project.dir.migrations.iter().collect();
    let allowed = || crate::shadow::temp_schema_allowed(&all);
    // The whole history first: a database another tool built from all of it is found with
    // one comparison.
    let mut shadow = Shadow::open_for(settings, dialect, allowed()).await?;
    let strategy = shadow.strategy.clone();
    let end = async {
        shadow.replay(&all).await?;
        shadow.introspect().await
    }
    .await;
    shadow.close().await;
    let at_end = diff(dialect, &end?, &live);
    let mut compared = 1;
    let k = if at_end.is_empty() {
        all.len()
    } else {
        // After every migration; the last equal state wins. `closest`: fewest differences.
        let mut shadow = Shadow::open_for(settings, dialect, allowed()).await?;
        let mut closest = (at_end.changes.len(), all.len(), summarize(&at_end));
        let scanned = async {
            let mut found = 0;
            for (k, m) in all.iter().enumerate() {
                shadow.replay(&[m]).await?;
                let state = shadow.introspect().await?;
                compared += 1;
                let rest = diff(dialect, &state, &live);
                if rest.is_empty() {
                    found = k + 1;
                } else if rest.changes.len() < closest.0 {
                    closest = (rest.changes.len(), k + 1, summarize(&rest));
                }
            }
            Ok::<_, Error>(found)
        }
        .await;
        shadow.close().await;
        let found = scanned?;
        if found == 0 {
            let (_, k, mut differences) = closest;
            differences.insert(
                0,
                format!(
                    "no prefix of the history equals the live schema; the closest is the first {k} migration(s), through `{}`, from which the database differs by",
                    all[k - 1].name
                ),
            );
            return Err(Error::BaselineMismatch { differences });
        }
        found
    };
    let prefix: Vec<Migration> = all[..k].iter().map(|m| (*m).clone()).collect();
    let pending: Vec<String> = all[k..].iter().map(|m| m.name.clone()).collect();
    project.driver.lock(settings.deploy_lock_timeout).await?;
    let recorded = async {
        // Under the lock: nobody recorded anything meanwhile.
        if !project.rows().await?.is_empty() {
            return Err(Error::BaselineRefused {
                reason: "another session recorded migrations meanwhile: `keel status` shows them"
                    .into(),
            });
        }
        project.ensure_ledger().await?;
        let now = chrono::Utc::now();
        let table = project.ledger_table.clone();
        project.driver.begin().await?;
        for m in &prefix {
            if let Err(e) =
                crate::run::record_applied(project.driver.as_mut(), &table, &[], m, 0, now).await
            {
                let _ = project.driver.rollback().await;
                return Err(e.into());
            }
        }
        project.driver.commit().await?;
        Ok(())
    }
    .await;
    let _ = project.driver.unlock().await;
    recorded?;
    Ok(HistoryBaseline {
        recorded: prefix.into_iter().map(|m| m.name).collect(),
        pending,
        shadow: strategy,
        compared,
    })
}
