//! What the executor records as a script runs: the deploy's ledger row ([`Ledger`]), a
//! repair's or rollback's verification and ledger write ([`Verified`]), or nothing
//! ([`Scratch`], a shadow replay).

use super::RunError;
use async_trait::async_trait;
use keel_core::ledger::LedgerRow;
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::summary::summarize;
use keel_core::schema::Schema;
use keel_core::Dialect;
use keel_driver::{Driver, DriverError};

/// The executor's calls, in order: step by step, [`Progress::begin`], then
/// [`Progress::took_effect`] after each durable step; in a transaction, either
/// [`Progress::commit_sql`] (sent with the steps and `COMMIT` as one query) or, when that is
/// `None` or the database runs in-process, [`Progress::finish`] before `COMMIT`; on failure
/// [`Progress::failed`].
#[async_trait]
pub(crate) trait Progress: Send {
    /// In a transaction on a remote server: the SQL that records success, to send with the
    /// steps and `COMMIT` in one query (`Some("")`: nothing to record); `None` when
    /// [`Progress::finish`] must run between the steps and `COMMIT`.
    fn commit_sql(&mut self, dialect: Dialect, steps: usize) -> Option<String> {
        let _ = (dialect, steps);
        None
    }

    /// Step by step: before the first step.
    async fn begin(&mut self, driver: &mut dyn Driver) -> Result<(), DriverError> {
        let _ = driver;
        Ok(())
    }

    /// Step by step: the first `done` of the script's `of` steps have taken effect.
    async fn took_effect(
        &mut self,
        driver: &mut dyn Driver,
        done: usize,
        of: usize,
    ) -> Result<(), DriverError> {
        let _ = (driver, done, of);
        Ok(())
    }

    /// All `steps` ran: in a transaction (`in_transaction`), inside it before `COMMIT` (an
    /// error rolls it back); step by step, after the last one.
    async fn finish(
        &mut self,
        driver: &mut dyn Driver,
        steps: usize,
        in_transaction: bool,
    ) -> Result<(), RunError>;

    /// The script failed (a transaction was rolled back first); `logs` says how, for the
    /// ledger. `retry` when nothing of it took effect and the next deploy may simply try again
    /// (lock waits that gave up).
    async fn failed(
        &mut self,
        driver: &mut dyn Driver,
        logs: String,
        retry: bool,
    ) -> Result<(), DriverError> {
        let _ = (driver, logs, retry);
        Ok(())
    }
}

/// Deploy: the migration's row in the ledger, with Prisma's columns. In a transaction the
/// finished row is written with the migration; step by step, a row is inserted first and
/// `applied_steps_count` counts the steps that took effect; a failure writes `logs`, and a
/// lock wait that gave up with nothing applied is marked rolled back so that the next deploy
/// tries again.
pub(crate) struct Ledger<'a> {
    table: &'a str,
    row: LedgerRow,
    inserted: bool,
}

impl<'a> Ledger<'a> {
    /// A new (not yet written) row for `m` in `table`.
    pub fn new(table: &'a str, m: &Migration) -> Ledger<'a> {
        Ledger {
            table,
            row: new_row(m),
            inserted: false,
        }
    }
}

/// A fresh ledger row for `m`: a new id, started now, nothing applied.
pub(crate) fn new_row(m: &Migration) -> LedgerRow {
    LedgerRow {
        id: uuid::Uuid::new_v4().to_string(),
        checksum: m.checksum.clone(),
        finished_at: None,
        migration_name: m.name.clone(),
        logs: None,
        rolled_back_at: None,
        started_at: chrono::Utc::now(),
        applied_steps_count: 0,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl Progress for Ledger<'_> {
    fn commit_sql(&mut self, dialect: Dialect, steps: usize) -> Option<String> {
        self.row.applied_steps_count = count(steps);
        Some(keel_driver::ledger_insert_finished_sql(
            dialect, self.table, &self.row,
        ))
    }

    async fn begin(&mut self, driver: &mut dyn Driver) -> Result<(), DriverError> {
        driver
            .record_step_progress(self.table, &self.row, true)
            .await?;
        self.inserted = true;
        Ok(())
    }

    async fn took_effect(
        &mut self,
        driver: &mut dyn Driver,
        done: usize,
        of: usize,
    ) -> Result<(), DriverError> {
        self.row.applied_steps_count = count(done);
        if done == of {
            // `finish` writes the count with `finished_at`, in one durable write.
            return Ok(());
        }
        driver
            .record_step_progress(self.table, &self.row, false)
            .await
    }

    async fn finish(
        &mut self,
        driver: &mut dyn Driver,
        steps: usize,
        _in_transaction: bool,
    ) -> Result<(), RunError> {
        self.row.finished_at = Some(chrono::Utc::now());
        self.row.applied_steps_count = count(steps);
        if self.inserted {
            driver.update_row(self.table, &self.row).await?;
        } else {
            driver.insert_row(self.table, &self.row).await?;
        }
        Ok(())
    }

    async fn failed(
        &mut self,
        driver: &mut dyn Driver,
        logs: String,
        retry: bool,
    ) -> Result<(), DriverError> {
        self.row.finished_at = None;
        if !self.inserted {
            // The transaction took everything with it.
            self.row.applied_steps_count = 0;
        }
        self.row.logs = Some(logs);
        if retry {
            self.row.rolled_back_at = Some(chrono::Utc::now());
        }
        if self.inserted {
            driver.update_row(self.table, &self.row).await
        } else {
            driver.insert_row(self.table, &self.row).await
        }
    }
}

/// Repair and rollback: after the last step, the live schema is introspected and compared with
/// `target` (in a transaction: before `COMMIT`, so that a mismatch changes nothing), then the
/// ledger is written as `then` says.
pub(crate) struct Verified<'a> {
    /// The schema the script must reach.
    pub target: &'a Schema,
    /// The ledger table.
    pub table: &'a str,
    /// The ledger write once the schema is verified.
    pub then: Then<'a>,
}

/// The ledger write that ends a verified script.
pub(crate) enum Then<'a> {
    /// `repair --finish`: the failed attempts of `file` marked rolled back, and a finished row
    /// with `steps` applied.
    RecordApplied {
        /// The ledger rows read before.
        rows: &'a [LedgerRow],
        /// The migration.
        file: &'a Migration,
        /// Its step count.
        steps: u32,
    },
    /// `repair --revert`: the failed attempts of `name` marked rolled back.
    MarkFailedRolledBack {
        /// The ledger rows read before.
        rows: &'a [LedgerRow],
        /// The migration.
        name: &'a str,
    },
    /// `rollback`: the finished rows of `name` marked rolled back (read again inside the
    /// transaction).
    MarkRolledBack {
        /// The migration.
        name: &'a str,
    },
    /// `drift --revert`: nothing is recorded (the history is unchanged).
    Nothing,
}

#[async_trait]
impl Progress for Verified<'_> {
    async fn finish(
        &mut self,
        driver: &mut dyn Driver,
        _steps: usize,
        _in_transaction: bool,
    ) -> Result<(), RunError> {
        let dialect = driver.dialect();
        if dialect == Dialect::Postgres {
            // As the shadow's states were read: a fresh session's view (a step may have
            // changed search_path).
            let _ = driver.restore_search_path().await;
        }
        let live = driver.introspect().await?;
        let d = diff_schemas(dialect, self.target, &live);
        if !d.is_empty() {
            return Err(RunError::Differs(summarize(&d)));
        }
        let now = chrono::Utc::now();
        match &self.then {
            Then::RecordApplied { rows, file, steps } => {
                record_applied(driver, self.table, rows, file, *steps, now).await?;
            }
            Then::MarkFailedRolledBack { rows, name } => {
                mark_failed_rolled_back(driver, self.table, rows, name, now).await?;
            }
            Then::Nothing => {}
            Then::MarkRolledBack { name } => {
                let rows = driver.read_ledger(self.table).await?;
                for r in rows.iter().filter(|r| {
                    r.migration_name == *name
                        && r.finished_at.is_some()
                        && r.rolled_back_at.is_none()
                }) {
                    let mut r = r.clone();
                    r.rolled_back_at = Some(now);
                    driver.update_row(self.table, &r).await?;
                }
            }
        }
        Ok(())
    }
}

/// A shadow replay or `keel execute`: nothing is recorded, nothing is checked.
pub(crate) struct Scratch;

#[async_trait]
impl Progress for Scratch {
    fn commit_sql(&mut self, _dialect: Dialect, _steps: usize) -> Option<String> {
        Some(String::new())
    }

    async fn finish(
        &mut self,
        _driver: &mut dyn Driver,
        _steps: usize,
        _in_transaction: bool,
    ) -> Result<(), RunError> {
        Ok(())
    }
}

/// Marks every failed attempt of `name` in `rows` as rolled back at `now`.
///
/// # Errors
/// A server or connection error.
pub(crate) async fn mark_failed_rolled_back(
    driver: &mut dyn Driver,
    table: &str,
    rows: &[LedgerRow],
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DriverError> {
    for r in rows
        .iter()
        .filter(|r| r.migration_name == name && r.is_failed())
    {
        let mut r = r.clone();
        r.rolled_back_at = Some(now);
        driver.update_row(table, &r).await?;
    }
    Ok(())
}

/// Records `file` as applied at `now`: its failed attempts are marked rolled back and a
/// finished row is added with `applied_steps_count` = `steps` (as Prisma's `migrate resolve
/// --applied` does, with 0 steps: it ran none).
///
/// # Errors
/// A server or connection error.
pub(crate) async fn record_applied(
    driver: &mut dyn Driver,
    table: &str,
    rows: &[LedgerRow],
    file: &Migration,
    steps: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DriverError> {
    mark_failed_rolled_back(driver, table, rows, &file.name, now).await?;
    let mut row = new_row(file);
    row.started_at = now;
    row.finished_at = Some(now);
    row.applied_steps_count = steps;
    driver.insert_row(table, &row).await
}
