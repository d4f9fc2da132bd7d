//! `keel reset` (issue #5, item 6): empties a development database. Refused unless the target
//! is the database keel.toml's own `database_url` names and keel.toml marks it disposable
//! (`[database] disposable = true`), or it is a SQLite file inside the project directory (the
//! directory of keel.toml; symlinks resolved); shows what it drops (tables, row counts) and
//! needs confirmation. With PostgreSQL's `?schema=`, only that schema is emptied.

use crate::error::Error;
use crate::measure::{measure, Count, Needs, TableRef, TIMEOUT};
use crate::settings::Settings;
use keel_driver::{parse_url, quote_ident, DatabaseUrl};
use std::path::Path;

/// What a reset drops.
#[derive(Debug, Clone)]
pub struct ResetPlan {
    /// The database URL, redacted.
    pub database: String,
    /// The name to type to confirm: the database name, or the SQLite file name.
    pub name: String,
    /// Every user table with its rows (`None` when they could not be counted).
    pub tables: Vec<(String, Option<i64>)>,
}

/// Empties the target after `confirm` (return `false` to stop) accepted the plan.
///
/// # Errors
/// [`Error::ResetRefused`] (K4071) when the target is not disposable,
/// [`Error::ResetNotConfirmed`] (K4072), driver errors.
pub async fn reset(
    settings: &Settings,
    _project: &Path,
    confirm: &mut (dyn FnMut(&ResetPlan) -> bool + Send),
) -> Result<ResetPlan, Error> {
    let url = settings.url()?;
    // The mark binds to the database keel.toml's own `database_url` names (issue #13, item 2):
    // a DATABASE_URL pointing elsewhere is never disposable because of it.
    let marked = settings.disposable
        && settings
            .disposable_url
            .as_deref()
            .and_then(|u| parse_url(u).ok())
            .is_some_and(|m| m.dialect() == url.dialect() && m.identity() == url.identity());
    let not_marked = || {
        if !settings.disposable {
            "keel.toml does not mark this database disposable ([database] disposable = true)"
                .to_string()
        } else if settings.disposable_url.is_none() {
            "keel.toml marks a database disposable but names none: put the development database's `database_url` beside `[database] disposable = true`".to_string()
        } else {
            format!(
                "keel.toml marks {} disposable, not this database ({}, from {})",
                settings
                    .disposable_url
                    .as_deref()
                    .map(keel_core::redact::redact_url)
                    .unwrap_or_default(),
                url.redacted(),
                settings.database_url_source
            )
        }
    };
    let name = match &url {
        DatabaseUrl::Sqlite { path, .. } => {
            let inside = match (path, &settings.config_dir) {
                (Some(p), Some(dir)) => inside_project(p, dir),
                _ => false,
            };
            if !inside && !marked {
                return Err(Error::ResetRefused {
                    reason: if settings.config_dir.is_none() {
                        "there is no keel.toml here, so there is no project the SQLite file could belong to".into()
                    } else {
                        format!("the SQLite file is outside the project directory (where keel.toml is), and {}", not_marked())
                    },
                });
            }
            path.as_ref()
                .and_then(|p| p.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| ":memory:".into())
        }
        DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => {
            if !marked {
                return Err(Error::ResetRefused {
                    reason: not_marked(),
                });
            }
            url::Url::parse(u)
                .ok()
                .map(|p| p.path().trim_start_matches('/').to_string())
                .unwrap_or_default()
        }
    };
    let mut driver = keel_driver::connect_to(url).await?;
    let r = async {
        let d = driver.dialect();
        let refs: Vec<TableRef> = driver
            .user_tables()
            .await?
            .into_iter()
            .map(|t| TableRef {
                quoted: quote_ident(d, &t),
                name: t,
            })
            .collect();
        let mut needs = Needs::default();
        for t in &refs {
            needs.count(Count::Rows(t.clone()));
        }
        let facts = measure(driver.as_mut(), &needs, None, TIMEOUT).await;
        let tables = refs
            .into_iter()
            .map(|t| {
                let n = facts.get(&Count::Rows(t.clone()));
                (t.name, n)
            })
            .collect();
        let plan = ResetPlan {
            database: url.redacted(),
            name,
            tables,
        };
        if !confirm(&plan) {
            return Err(Error::ResetNotConfirmed);
        }
        driver.reset().await?;
        Ok(plan)
    }
    .await;
    driver.close().await;
    r
}

/// Whether the SQLite file `path` (relative to the working directory) is inside `project`,
/// judged on canonical paths with symlinks resolved: a link inside the project to a file
/// elsewhere is outside.
fn inside_project(path: &Path, project: &Path) -> bool {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let real = match abs.canonicalize() {
        Ok(p) => p,
        // Not there yet: judge its directory.
        Err(_) => match (
            abs.parent().and_then(|d| d.canonicalize().ok()),
            abs.file_name(),
        ) {
            (Some(d), Some(f)) => d.join(f),
            _ => return false,
        },
    };
    project
        .canonicalize()
        .is_ok_and(|proj| real.starts_with(&proj))
}
