//! `keel status`: every migration and its state. Read-only; takes no lock.

use crate::project::Project;
use crate::{Error, Settings};
use keel_core::ledger::{Reconciled, State};
use keel_core::Dialect;

/// The ledger reconciled with the migrations directory.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The database's dialect.
    pub dialect: Dialect,
    /// The database URL, redacted.
    pub url: String,
    /// The migrations directory.
    pub migrations_dir: std::path::PathBuf,
    /// The ledger table.
    pub ledger_table: String,
    /// Whether the ledger table exists.
    pub ledger_exists: bool,
    /// User tables when the ledger does not exist (a database that needs a baseline).
    pub unmanaged_tables: Vec<String>,
    /// Every migration, in apply order, with its state.
    pub reconciled: Reconciled,
}

impl StatusReport {
    /// Exit status per DESIGN.md with `--exit-code`: 3 when a migration is failed; 2 when
    /// anything is pending, rolled back, modified, missing or out of order, or the database
    /// has tables but no ledger (it needs a baseline); else 0.
    pub fn exit_code(&self) -> i32 {
        let r = &self.reconciled;
        if r.count(State::Failed) > 0 {
            3
        } else if r.entries.iter().any(|e| e.state != State::Applied)
            || !self.unmanaged_tables.is_empty()
        {
            2
        } else {
            0
        }
    }

    /// One line: `3 applied, 1 pending, 1 failed` (states with no migration left out).
    pub fn summary(&self) -> String {
        let order = [
            State::Applied,
            State::Pending,
            State::Failed,
            State::RolledBack,
            State::Modified,
            State::Missing,
            State::OutOfOrder,
        ];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|s| {
                let n = self.reconciled.count(*s);
                (n > 0).then(|| format!("{n} {s}"))
            })
            .collect();
        if parts.is_empty() {
            "no migrations".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Reads the migrations directory and the ledger and reconciles them.
///
/// # Errors
/// Driver and migrations-directory errors.
pub async fn status(settings: &Settings) -> Result<StatusReport, Error> {
    let project = Project::open(settings).await?;
    status_project(project).await
}

/// [`status`] on an opened project; closes it.
pub(crate) async fn status_project(mut project: Project) -> Result<StatusReport, Error> {
    let result = async {
        let (_, reconciled) = project.reconcile().await?;
        let unmanaged_tables = if project.ledger_exists {
            Vec::new()
        } else {
            project.driver.user_tables().await?
        };
        Ok(StatusReport {
            dialect: project.driver.dialect(),
            url: project.driver.redacted_url().to_string(),
            migrations_dir: project.dir.root.clone(),
            ledger_table: project.ledger_table.clone(),
            ledger_exists: project.ledger_exists,
            unmanaged_tables,
            reconciled,
        })
    }
    .await;
    project.close().await;
    result
}
