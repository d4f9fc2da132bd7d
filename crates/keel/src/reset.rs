//! `keel reset` (issue #5, item 6): empties a development database. Refused unless keel.toml
//! marks the target disposable (`[database] disposable = true`) or it is a SQLite file inside
//! the project directory; shows what it drops (tables, row counts) and needs confirmation.

use crate::probe::count;
use crate::{Error, Settings};
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
    project: &Path,
    confirm: &mut (dyn FnMut(&ResetPlan) -> bool + Send),
) -> Result<ResetPlan, Error> {
    let url = parse_url(&settings.database_url)?;
    let name = match &url {
        DatabaseUrl::Sqlite { path, .. } => {
            let inside = path.as_ref().is_some_and(|p| {
                let abs = if p.is_absolute() {
                    p.clone()
                } else {
                    std::env::current_dir().unwrap_or_default().join(p)
                };
                let dir = abs.parent().and_then(|d| d.canonicalize().ok());
                let proj = project.canonicalize().ok();
                matches!((dir, proj), (Some(d), Some(p)) if d.starts_with(&p))
            });
            if !inside && !settings.disposable {
                return Err(Error::ResetRefused {
                    reason: "the SQLite file is outside the project directory and keel.toml does not mark it disposable".into(),
                });
            }
            path.as_ref()
                .and_then(|p| p.file_name())
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| ":memory:".into())
        }
        DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => {
            if !settings.disposable {
                return Err(Error::ResetRefused {
                    reason: "keel.toml does not mark this database disposable ([database] disposable = true)".into(),
                });
            }
            url::Url::parse(u)
                .ok()
                .map(|p| p.path().trim_start_matches('/').to_string())
                .unwrap_or_default()
        }
    };
    let mut driver = keel_driver::connect(&settings.database_url).await?;
    let r = async {
        let d = driver.dialect();
        let mut tables = Vec::new();
        for t in driver.user_tables().await? {
            let n = count(
                driver.as_mut(),
                &format!("SELECT COUNT(*) FROM {}", quote_ident(d, &t)),
            )
            .await;
            tables.push((t, n));
        }
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
