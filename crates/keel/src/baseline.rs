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
        if let Some(first) = project.dir.migrations.first() {
            return Err(Error::BaselineRefused {
                reason: format!(
                    "`{}` already holds migrations; if the first one describes this database, record it with `keel resolve --applied {}`",
                    project.dir.root.display(),
                    first.name
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
