//! `keel status`: every migration and its state. Read-only; takes no lock.

use crate::error::Error;
use crate::project::Project;
use crate::settings::Settings;
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
    /// While another session holds the deploy lock: the unfinished migration it is running
    /// (the newest unfinished attempt, shown as `running`, not failed) and the holder.
    pub running: Option<Running>,
    /// With [`status_with_drift`]: the live schema against its applied migrations.
    pub drift: Option<crate::DriftReport>,
    /// PostgreSQL: the INVALID indexes of the schema, as `(table, index)` (see
    /// [`keel_driver::Driver::invalid_indexes`]).
    pub invalid_indexes: Vec<(String, String)>,
}

/// A migration another session is applying right now.
#[derive(Debug, Clone)]
pub struct Running {
    /// The migration's name.
    pub name: String,
    /// Who holds the deploy lock (PostgreSQL pid and query, MySQL connection, SQLite process).
    pub holder: String,
}

impl StatusReport {
    /// Exit status, as Prisma's `migrate status` since 4.3 (non-zero when migrations are
    /// pending, failed or diverged, or the ledger is missing) with keel's finer codes: 3 when a
    /// migration is failed (not one that is still running) or an index is INVALID; 2 when anything is pending,
    /// running, rolled back, modified, missing or out of order, or the database has tables but
    /// no ledger (it needs a baseline); else 0.
    pub fn exit_code(&self) -> crate::ExitStatus {
        let r = &self.reconciled;
        if self.failed().next().is_some() || !self.invalid_indexes.is_empty() {
            crate::ExitStatus::NeedsRepair
        } else if r.entries.iter().any(|e| e.state != State::Applied)
            || !self.unmanaged_tables.is_empty()
            || self.drift.as_ref().is_some_and(crate::DriftReport::drifted)
        {
            crate::ExitStatus::Findings
        } else {
            crate::ExitStatus::Success
        }
    }

    /// The failed migrations, without the one another session is applying now (shown as
    /// `running`).
    pub fn failed(&self) -> impl Iterator<Item = &keel_core::ledger::Entry> {
        self.reconciled
            .with_state(State::Failed)
            .filter(|e| self.running.as_ref().is_none_or(|run| run.name != e.name))
    }

    /// The state word shown for `e`: `running` for the migration another session is applying,
    /// else its [`State`].
    pub fn state_word(&self, e: &keel_core::ledger::Entry) -> &'static str {
        match &self.running {
            Some(r) if r.name == e.name && e.state == State::Failed => "running",
            _ => e.state.as_str(),
        }
    }

    /// One line: `3 applied, 1 pending, 1 failed` (states with no migration left out; a
    /// running migration counts as `running`).
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
                let mut n = self.reconciled.count(*s);
                if *s == State::Failed && self.running.is_some() {
                    n = n.saturating_sub(1);
                }
                (n > 0).then(|| format!("{n} {s}"))
            })
            .chain(self.running.as_ref().map(|_| "1 running".to_string()))
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

/// [`status`], then [`crate::drift`]: the report carries the drift, and a drifted database
/// exits 2 even when every migration is applied (`keel status --drift`).
///
/// # Errors
/// As [`status`] and [`crate::drift`] (a shadow database is needed: K3014), except that a
/// migration whose folder is gone (K4002) leaves the drift unmeasured (`drift: None`).
pub async fn status_with_drift(settings: &Settings) -> Result<StatusReport, Error> {
    let mut report = status(settings).await?;
    report.drift = match crate::drift(settings).await {
        Ok(d) => Some(d),
        // A migration's folder is gone: status lists it as missing (exit 2), and drift cannot
        // tell its objects from hand changes.
        Err(Error::Missing { .. }) => None,
        Err(e) => return Err(e),
    };
    Ok(report)
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
        // An unfinished attempt is failed only when no deploy is running: with the deploy lock
        // held elsewhere, the newest one is the migration being applied (issue #13, item 14).
        let newest_unfinished = reconciled
            .with_state(State::Failed)
            .filter_map(|e| e.row.as_ref().map(|r| (r.started_at, e.name.clone())))
            .max()
            .map(|(_, n)| n);
        let running = match newest_unfinished {
            Some(name) => project
                .driver
                .deploy_lock_holder()
                .await
                .map(|holder| Running { name, holder }),
            None => None,
        };
        let invalid_indexes = project.driver.invalid_indexes().await?;
        Ok(StatusReport {
            invalid_indexes,
            dialect: project.driver.dialect(),
            url: project.driver.redacted_url().to_string(),
            migrations_dir: project.dir.root.clone(),
            ledger_table: project.ledger_table.clone(),
            ledger_exists: project.ledger_exists,
            unmanaged_tables,
            reconciled,
            running,
            drift: None,
        })
    }
    .await;
    project.close().await;
    result
}
