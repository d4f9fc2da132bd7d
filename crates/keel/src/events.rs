//! Progress events: what the engine reports while it works. The CLI turns them into progress
//! bars, plain lines or JSON lines (`--json`, one object per line).

use serde::Serialize;

/// Where and why a migration failed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StepFailure {
    /// 1-based number of the failed step.
    pub step: usize,
    /// Number of steps in the migration.
    pub steps: usize,
    /// 1-based line of the failed step in its script (`migration.sql`, `down.sql`); 0 for a
    /// statement keel rendered (a repair's plan).
    pub line: usize,
    /// The failed step's first line of SQL.
    pub first_line: String,
    /// The server's error code (SQLSTATE, MySQL error number), when given.
    pub server_code: Option<String>,
    /// The server's message.
    pub message: String,
    /// What the failed step left behind that keel could not remove, with the SQL that does
    /// (PostgreSQL: the INVALID index of a `CREATE INDEX CONCURRENTLY`, when the drop waits for
    /// the same old transaction the build waited for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_behind: Option<String>,
}

impl std::fmt::Display for StepFailure {
    /// `step 2 of 3 (line 4: `ALTER TABLE …`): <server message> (code 23505)`: the one shape of
    /// "step k of n failed" in deploy's, repair's, rollback's and replay's errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {} of {} (", self.step, self.steps)?;
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        write!(f, "`{}`): {}", self.first_line, self.message)?;
        if let Some(c) = &self.server_code {
            write!(f, " (code {c})")?;
        }
        if let Some(left) = &self.left_behind {
            write!(f, "; it left {left}")?;
        }
        Ok(())
    }
}

/// Steps `first` to `last` as every message spells them: `step 3`, `steps 1–2` (one spelling
/// for deploy, doctor and repair).
pub(crate) fn steps_range(first: usize, last: usize) -> String {
    if first == last {
        format!("step {first}")
    } else {
        format!("steps {first}–{last}")
    }
}

/// One thing that happened during a command.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Deploy knows what it will do.
    Plan {
        /// Migrations to apply, in order.
        pending: Vec<String>,
        /// The ledger table in use.
        ledger_table: String,
        /// What a flag accepted that deploy would otherwise refuse (`out of order: NAME
        /// (applied anyway, accepted by --allow-out-of-order)`), said before anything runs.
        accepted: Vec<String>,
    },
    /// Waiting for the deploy lock.
    WaitingForLock,
    /// The ledger table was created.
    LedgerCreated {
        /// Its name.
        table: String,
    },
    /// A migration started.
    MigrationStarted {
        /// 1-based position among the migrations being applied.
        index: usize,
        /// How many are being applied.
        total: usize,
        /// The migration's name.
        name: String,
        /// Whether it runs in one transaction with its ledger row.
        transactional: bool,
        /// Number of steps.
        steps: usize,
    },
    /// A migration finished.
    MigrationApplied {
        /// 1-based position.
        index: usize,
        /// How many are being applied.
        total: usize,
        /// The migration's name.
        name: String,
        /// Run time in milliseconds.
        duration_ms: u64,
        /// Steps run.
        steps: usize,
    },
    /// A step timed out waiting for a lock (`lock_timeout`); it is tried again after
    /// `retry_in_ms` (a transactional migration: the whole migration, rolled back meanwhile).
    LockWait {
        /// The migration.
        name: String,
        /// 1-based number of the step that waited.
        step: usize,
        /// 1-based number of the attempt that timed out.
        attempt: u32,
        /// How many attempts are allowed.
        attempts: u32,
        /// The lock timeout of each attempt, in milliseconds.
        lock_timeout_ms: u64,
        /// The wait before the next attempt, in milliseconds.
        retry_in_ms: u64,
        /// The sessions holding locks on the step's tables (pid or connection id,
        /// application, state, transaction age, query), one line each.
        holders: Vec<String>,
    },
    /// A migration failed.
    MigrationFailed {
        /// The migration's name.
        name: String,
        /// Where and why.
        failure: StepFailure,
    },
}
