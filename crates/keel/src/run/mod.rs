//! The executor: the one loop that sends a script's SQL to a database (issue #12, item 1).
//!
//! Deploy, repair, rollback and the shadow's replay all run their SQL here, and differ only in
//! what they record ([`Progress`]): deploy writes Prisma's ledger row (one transaction with the
//! migration where the database allows, else `applied_steps_count` after each step), repair and
//! rollback verify the schema by introspection before they commit and record, and a shadow
//! replay records nothing. The executor owns what must be the same for all of them: whether a
//! script runs in a transaction ([`Script::mode`]), SQLite's `PRAGMA foreign_keys` hoisted
//! around the transaction and its `foreign_key_check` before `COMMIT`, one round trip per
//! transactional script on remote servers, the search for the step that failed, and the
//! lock-wait retries with backoff ([`LockPolicy`]).

mod progress;
mod retry;
mod script;

pub(crate) use progress::{
    mark_failed_rolled_back, record_applied, Ledger, Progress, Scratch, Then, Verified,
};
pub(crate) use retry::{is_lock_wait, logs_text, tables_named, LockPolicy};
pub(crate) use script::{first_line, strip_concurrently, Mode, Script};

use crate::events::{Event, StepFailure};
use keel_core::Dialect;
use keel_driver::{Driver, DriverError};

/// Why a script did not finish.
#[derive(Debug)]
pub(crate) enum RunError {
    /// A step failed (or SQLite's foreign-key check, or `COMMIT`, reported as the last step's
    /// failure); the progress recorded it.
    Step(StepFailure),
    /// Every attempt timed out waiting for a lock and nothing of the script took effect; the
    /// progress recorded the last attempt as failed and rolled back.
    LockGaveUp {
        /// The step that waited, with the server's error.
        failure: StepFailure,
        /// How many times it was tried.
        attempts: u32,
        /// The sessions holding locks on the step's tables, one line each.
        holders: Vec<String>,
    },
    /// The schema after the script is not the one it must reach ([`Verified`]); in a
    /// transaction nothing was committed. One summary line per difference (target → live).
    Differs(Vec<String>),
    /// The connection broke, or a record (ledger) write failed.
    Driver(DriverError),
}

impl From<DriverError> for RunError {
    fn from(e: DriverError) -> RunError {
        RunError::Driver(e)
    }
}

/// Runs scripts on one connection, reporting lock waits as [`Event::LockWait`].
pub(crate) struct Executor<'a> {
    /// The connection.
    pub driver: &'a mut dyn Driver,
    /// Where lock waits are reported.
    pub on_event: &'a mut (dyn FnMut(&Event) + Send),
    /// The timeouts the session has now: they are set only when they change (one round trip
    /// less per migration).
    session: Option<LockPolicy>,
    /// Set when the locks-first request failed for another reason than a lock wait (a name
    /// it took for a table is something `LOCK TABLE` refuses): scripts run without it since.
    lock_first_off: bool,
}

/// The statements that open, end and undo the unit a transactional script runs in.
struct Unit {
    open: &'static str,
    end: &'static str,
    undo: &'static str,
}

impl<'a> Executor<'a> {
    /// An executor on `driver`.
    pub fn new(driver: &'a mut dyn Driver, on_event: &'a mut (dyn FnMut(&Event) + Send)) -> Self {
        Executor {
            driver,
            on_event,
            session: None,
            lock_first_off: false,
        }
    }

    /// Runs `script` in `mode`, recording through `progress`. With a `policy`, each wait for a
    /// lock is bounded by its lock timeout, and a step (a transactional script: the whole
    /// script, rolled back meanwhile) that timed out is tried again after a backoff, up to
    /// `policy.attempts` times; without one the session's timeouts stay and nothing is retried.
    ///
    /// # Errors
    /// [`RunError`]: a step failed, the lock waits gave up, the verification found
    /// differences, or the connection or a record write failed.
    pub async fn run(
        &mut self,
        script: &Script,
        mode: &Mode,
        policy: Option<LockPolicy>,
        progress: &mut dyn Progress,
    ) -> Result<(), RunError> {
        if let Some(p) = policy {
            if self.session != Some(p) {
                self.driver
                    .set_timeouts(p.lock_timeout, p.statement_timeout)
                    .await?;
            }
            // A script may change the timeouts itself (`SET lock_timeout`): then they are
            // set again before the next one.
            let mentions = script
                .steps
                .iter()
                .any(|s| s.sql.to_ascii_lowercase().contains("timeout"));
            self.session = (!mentions).then_some(p);
        }
        match mode {
            Mode::Transaction {
                sqlite_fk_off,
                savepoint,
            } => {
                let unit = if *savepoint {
                    Unit {
                        open: "SAVEPOINT keel_run",
                        end: "RELEASE SAVEPOINT keel_run",
                        undo: "ROLLBACK TO SAVEPOINT keel_run",
                    }
                } else {
                    Unit {
                        open: "BEGIN",
                        end: "COMMIT",
                        undo: "ROLLBACK",
                    }
                };
                self.transactional(script, &unit, *sqlite_fk_off, policy, progress)
                    .await
            }
            Mode::StepByStep { .. } => self.step_by_step(script, policy, progress).await,
        }
    }

    async fn transactional(
        &mut self,
        script: &Script,
        unit: &Unit,
        fk_off: bool,
        policy: Option<LockPolicy>,
        progress: &mut dyn Progress,
    ) -> Result<(), RunError> {
        let attempts = policy.map_or(1, |p| p.attempts);
        let mut attempt = 1;
        loop {
            if fk_off {
                self.driver.execute("PRAGMA foreign_keys=OFF").await?;
            }
            let result = self
                .in_transaction(script, unit, fk_off, policy, progress)
                .await;
            if fk_off {
                // Restore the connection's setting whatever happened (sqlx opens SQLite with
                // it ON).
                let _ = self.driver.execute("PRAGMA foreign_keys=ON").await;
            }
            let f = match result {
                Ok(()) => return Ok(()),
                Err(RunError::Step(f)) => f,
                Err(e) => return Err(e),
            };
            // The locks taken first failed: the holders of any of the script's tables.
            let all_steps;
            let sql = if f.message.starts_with(LOCK_FIRST_FAILED) {
                all_steps = script
                    .steps
                    .iter()
                    .map(|s| s.sql.as_str())
                    .collect::<Vec<_>>()
                    .join(";\n");
                all_steps.as_str()
            } else {
                script
                    .steps
                    .get(f.step.saturating_sub(1))
                    .map_or("", |s| s.sql.as_str())
            };
            if let (true, Some(policy)) = (is_lock_wait(f.server_code.as_deref()), policy) {
                // The transaction was rolled back: nothing took effect, a retry is safe.
                match self
                    .after_lock_wait(script, &f, sql, policy, attempt, true)
                    .await
                {
                    None => {
                        attempt += 1;
                        continue;
                    }
                    Some((holders, logs)) => {
                        progress.failed(self.driver, logs, true).await?;
                        return Err(RunError::LockGaveUp {
                            failure: f,
                            attempts,
                            holders,
                        });
                    }
                }
            }
            progress
                .failed(self.driver, logs_text(&script.label, &f), false)
                .await?;
            return Err(RunError::Step(f));
        }
    }

    async fn in_transaction(
        &mut self,
        script: &Script,
        unit: &Unit,
        fk_off: bool,
        policy: Option<LockPolicy>,
        progress: &mut dyn Progress,
    ) -> Result<(), RunError> {
        // The steps that run inside the transaction (hoisted pragmas excluded).
        let inside: Vec<(usize, &str)> = script
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !(fk_off && s.fk_pragma.is_some()))
            .map(|(i, s)| (i, s.sql.as_str()))
            .collect();
        let n = script.steps.len();
        let dialect = self.driver.dialect();
        if dialect == Dialect::Sqlite {
            // SQLite runs in-process: no round trips to save, and SQLite copies the rest of a
            // multi-statement string for every statement it prepares (quadratic on a large
            // script: 50 MB took 9 minutes). So: BEGIN, each step, and the step that fails is
            // known without a replay.
            self.driver.execute(unit.open).await?;
            for (i, sql) in &inside {
                if let Err(e) = self.driver.execute(sql).await {
                    let _ = self.driver.execute(unit.undo).await;
                    return Err(step_failure(script, *i, e));
                }
            }
            return self.finish(script, unit, fk_off, progress).await;
        }
        // Sent with BEGIN as one simple query: one round trip for the whole script, as Prisma
        // and psql send it. Without a check to run between the steps and COMMIT, the record
        // and COMMIT go in the same query.
        let mut batch = format!("{};\n", unit.open);
        let first = policy
            .filter(|_| !self.lock_first_off)
            .and_then(|p| lock_first(script, p));
        if let Some(locks) = &first {
            batch.push_str(locks);
        }
        for (_, sql) in &inside {
            batch.push_str(sql);
            batch.push_str(";\n");
        }
        let one_query = progress.commit_sql(dialect, n);
        if let Some(record) = &one_query {
            if !record.is_empty() {
                batch.push_str(record);
                batch.push_str(";\n");
            }
            batch.push_str(unit.end);
            batch.push_str(";\n");
        }
        if let Err(e) = self.driver.execute(&batch).await {
            let _ = self.driver.execute(unit.undo).await;
            let DriverError::Server { code, message } = e else {
                return Err(RunError::Driver(e));
            };
            // Which step failed? Replay them one by one in a transaction that is rolled back
            // (nothing of a transactional script survives either way). When none fails, the
            // error came at COMMIT (a deferred constraint): it is the last step's.
            let failed_at = self
                .find_failing_step(unit, first.as_deref(), &inside)
                .await;
            let _ = self.driver.execute(unit.undo).await;
            let kind = keel_driver::DbErrorKind::of(code.as_deref());
            // The request itself failed (not a lock wait) and no step does: run again without.
            let request_refused = first.is_some() && self.lock_first_off;
            let (index, e) = failed_at.unwrap_or_else(|| {
                if kind.waited_for_lock()
                    || request_refused
                    || (first.is_some() && kind == keel_driver::DbErrorKind::StatementTimeout)
                {
                    // A lock wait that the search no longer meets (the holder has gone since,
                    // or the locks taken first timed out as a whole): the first step's lock
                    // wait, retried.
                    if first.is_none() {
                        return (0, DriverError::Server { code, message });
                    }
                    return (
                        0,
                        DriverError::Server {
                            code: Some("55P03".into()),
                            message: format!(
                                "{LOCK_FIRST_FAILED} within the lock timeout ({message})"
                            ),
                        },
                    );
                }
                (
                    n.saturating_sub(1),
                    DriverError::Server {
                        code,
                        message: format!("at COMMIT: {message}"),
                    },
                )
            });
            return Err(step_failure(script, index, e));
        }
        if one_query.is_some() {
            return Ok(());
        }
        self.finish(script, unit, fk_off, progress).await
    }

    /// After the steps ran in the open transaction: SQLite's foreign-key check (when the
    /// script ran with foreign keys off), the record, COMMIT.
    async fn finish(
        &mut self,
        script: &Script,
        unit: &Unit,
        fk_off: bool,
        progress: &mut dyn Progress,
    ) -> Result<(), RunError> {
        let n = script.steps.len();
        if fk_off && n > 0 {
            let violations = self.driver.foreign_key_violations().await?;
            if !violations.is_empty() {
                let _ = self.driver.execute(unit.undo).await;
                let message = format!(
                    "foreign key check after the migration (run with foreign keys off) failed: {}",
                    violations.join("; ")
                );
                return Err(step_failure(
                    script,
                    n - 1,
                    DriverError::Server {
                        code: Some("FOREIGN KEY".into()),
                        message,
                    },
                ));
            }
        }
        if let Err(e) = progress.finish(self.driver, n, true).await {
            let _ = self.driver.execute(unit.undo).await;
            return Err(e);
        }
        if let Err(e) = self.driver.execute(unit.end).await {
            // A deferred constraint fails at COMMIT: report it as the last step's failure.
            let _ = self.driver.execute(unit.undo).await;
            return Err(match e {
                DriverError::Server { code, message } if n > 0 => step_failure(
                    script,
                    n - 1,
                    DriverError::Server {
                        code,
                        message: format!("at COMMIT: {message}"),
                    },
                ),
                other => RunError::Driver(other),
            });
        }
        Ok(())
    }

    /// After attempt `attempt` of a step timed out waiting for a lock: before the last
    /// attempt, reports the wait, sleeps its backoff and returns `None` (try again); after it,
    /// the sessions holding the locks and the ledger's `logs` text.
    async fn after_lock_wait(
        &mut self,
        script: &Script,
        f: &StepFailure,
        sql: &str,
        policy: LockPolicy,
        attempt: u32,
        nothing_took_effect: bool,
    ) -> Option<(Vec<String>, String)> {
        if attempt < policy.attempts {
            retry::wait_before_retry(
                self.driver,
                &script.label,
                f,
                sql,
                policy,
                attempt,
                self.on_event,
            )
            .await;
            return None;
        }
        Some(
            retry::gave_up(
                self.driver,
                &script.label,
                f,
                sql,
                policy,
                nothing_took_effect,
            )
            .await,
        )
    }

    /// Runs `steps` one by one inside a unit (left open for the caller to undo) and returns
    /// the first that fails, with its error. `None` when none fails this time.
    async fn find_failing_step(
        &mut self,
        unit: &Unit,
        lock_first: Option<&str>,
        steps: &[(usize, &str)],
    ) -> Option<(usize, DriverError)> {
        self.driver.execute(unit.open).await.ok()?;
        if let Some(locks) = lock_first {
            if let Err(e) = self.driver.execute(locks).await {
                // The locks were not free within the lock timeout (each wait, or all of
                // them: the request's statement timeout): the first step's lock wait, retried.
                let kind = e.kind();
                if kind.waited_for_lock() || kind == keel_driver::DbErrorKind::StatementTimeout {
                    return Some((
                        0,
                        DriverError::Server {
                            code: Some("55P03".into()),
                            message: format!("{LOCK_FIRST_FAILED} within the lock timeout ({e})"),
                        },
                    ));
                }
                // Anything else is not the script's failure: it runs without the request
                // from now on (retried at once as a lock wait when no step fails).
                self.lock_first_off = true;
                let _ = self.driver.execute(unit.undo).await;
                self.driver.execute(unit.open).await.ok()?;
            }
        }
        for (i, sql) in steps {
            if let Err(e) = self.driver.execute(sql).await {
                return Some((*i, e));
            }
        }
        None
    }

    async fn step_by_step(
        &mut self,
        script: &Script,
        policy: Option<LockPolicy>,
        progress: &mut dyn Progress,
    ) -> Result<(), RunError> {
        progress.begin(self.driver).await?;
        let attempts = policy.map_or(1, |p| p.attempts);
        // While the script's own BEGIN … COMMIT is open, its steps are not durable: the
        // record stays at what was committed before it, and a failed statement (which
        // aborts that transaction) is followed by a ROLLBACK before the record is written.
        let mut open_transaction = false;
        let mut done = 0;
        let mut i = 0;
        let mut attempt = 1;
        while i < script.steps.len() {
            let sql = script.steps[i].sql.as_str();
            let index = script.steps[i].concurrent_index.as_ref();
            // An INVALID index of the same name (a killed or cancelled earlier attempt) would
            // make `IF NOT EXISTS` skip the step, or make it fail "already exists".
            let before = match index {
                Some(ix) => self.drop_invalid_index(ix).await.map(|_| ()),
                None => Ok(()),
            };
            let ran = match before {
                Ok(()) => self.driver.execute(sql).await,
                Err(e) => Err(e),
            };
            let ran = match ran {
                Ok(()) => match index {
                    // `IF NOT EXISTS` met an INVALID index another session left meanwhile.
                    Some(ix)
                        if self
                            .driver
                            .index_is_invalid(ix.schema.as_deref(), &ix.name)
                            .await? =>
                    {
                        Err(DriverError::Server {
                            code: None,
                            message: format!(
                                "index {} exists but is INVALID, so the step did not build it",
                                index_sql(ix)
                            ),
                        })
                    }
                    _ => Ok(()),
                },
                Err(e) => Err(e),
            };
            if let Err(e) = ran {
                if open_transaction {
                    let _ = self.driver.rollback().await;
                }
                let mut f = match step_failure(script, i, e) {
                    RunError::Step(f) => f,
                    other => return Err(other),
                };
                if let Some(ix) = index {
                    // A CONCURRENTLY build that failed or timed out leaves its index INVALID
                    // (unused by queries, still updated by every write; a unique one still
                    // rejects duplicates): dropped before a retry or the failure is recorded.
                    match self.drop_invalid_index(ix).await {
                        Ok(true) => f.message.push_str(&format!(
                            " (the INVALID index {} it left was dropped)",
                            index_sql(ix)
                        )),
                        Ok(false) => {}
                        Err(e) => {
                            f.left_behind = Some(format!(
                                "the INVALID index {0}, which keel could not drop ({e}); the next `keel deploy` drops it before it builds the index again, or run `DROP INDEX CONCURRENTLY IF EXISTS {0};` once the old transactions end",
                                index_sql(ix)
                            ));
                        }
                    }
                }
                // A statement that timed out waiting for a lock did nothing (the server rolls
                // the statement back): outside the script's own transaction it is retried.
                let lock_wait = is_lock_wait(f.server_code.as_deref()) && !open_transaction;
                let logs = match policy {
                    Some(policy) if lock_wait => {
                        let nothing = done == 0;
                        match self
                            .after_lock_wait(script, &f, sql, policy, attempt, nothing)
                            .await
                        {
                            None => {
                                attempt += 1;
                                continue;
                            }
                            Some((holders, logs)) if nothing => {
                                progress.failed(self.driver, logs, true).await?;
                                return Err(RunError::LockGaveUp {
                                    failure: f,
                                    attempts,
                                    holders,
                                });
                            }
                            Some((_, logs)) => logs,
                        }
                    }
                    _ => logs_text(&script.label, &f),
                };
                progress.failed(self.driver, logs, false).await?;
                return Err(RunError::Step(f));
            }
            attempt = 1;
            match script.steps[i].transaction {
                Some(true) => open_transaction = true,
                Some(false) => open_transaction = false,
                None => {}
            }
            if !open_transaction {
                done = i + 1;
                progress
                    .took_effect(self.driver, done, script.steps.len())
                    .await?;
            }
            i += 1;
        }
        progress
            .finish(self.driver, script.steps.len(), false)
            .await
    }
}

/// How the error of [`lock_first`]'s request begins.
const LOCK_FIRST_FAILED: &str = "keel: the tables this migration locks were not all free";

/// PostgreSQL: for a transactional script whose statements take table locks more than once,
/// the statements (ending in `;\n`) that take every one of them before the first step, in
/// one request bounded as a whole by the lock timeout (`statement_timeout` for that request
/// alone). Without it the script holds the first table while it waits for the next, and the
/// application's queries on the first queue behind it past the lock timeout; a lock wait in
/// the failing-step search would double that. A table named twice with different modes is
/// locked ACCESS EXCLUSIVE (it covers every later request). Tables an earlier step of the
/// script creates are left out (no other session sees them before COMMIT), and no request is
/// made when one table remains whose first lock covers the later ones. Other names that are
/// no relation yet are skipped at run time (`to_regclass`: a catalog query per table instead
/// cost about as much again as the migrations' own statements on trigger.dev's history), and a
/// name `LOCK TABLE` refuses (a sequence) turns the request off for the rest of the run. One
/// plain `DO` block (no exception handler: a subtransaction per migration cost 1–2 ms each
/// on a long history); when it fails, the failing-step search sees it first and reports it as the first
/// step's lock wait (55P03, a message starting with [`LOCK_FIRST_FAILED`]), retried. `None`
/// elsewhere.
fn lock_first(script: &Script, policy: LockPolicy) -> Option<String> {
    use keel_core::splitter::{created_table, table_locks, LockMode, TableName};
    // Per table: a mode that covers every request for it, and whether its first request's
    // mode does.
    let mut locks: Vec<(TableName, LockMode, bool)> = Vec::new();
    let mut created: Vec<TableName> = Vec::new();
    for step in &script.steps {
        for (t, mode) in table_locks(&step.sql, Dialect::Postgres) {
            if created.contains(&t) {
                continue;
            }
            match locks.iter_mut().find(|(n, _, _)| *n == t) {
                Some((_, m, first_covers)) => {
                    *first_covers &= m.covers(mode);
                    if !m.covers(mode) {
                        *m = LockMode::AccessExclusive;
                    }
                }
                None => locks.push((t, mode, true)),
            }
        }
        created.extend(created_table(&step.sql, Dialect::Postgres));
    }
    // One table whose first request covers the rest never waits holding a lock: its one
    // wait is bounded by lock_timeout already.
    if locks.len() < 2 && locks.iter().all(|(_, _, first_covers)| *first_covers) {
        return None;
    }
    let mut body = String::new();
    for (t, mode, _) in &locks {
        let name = index_sql(t);
        body.push_str(&format!(
            "  IF to_regclass('{}') IS NOT NULL THEN LOCK TABLE {name} IN {} MODE; END IF;\n",
            name.replace('\'', "''"),
            mode.sql()
        ));
    }
    if body.contains("$keel_lock$") {
        return None;
    }
    let restore = match policy.statement_timeout {
        Some(d) => format!("'{}ms'", d.as_millis().max(1)),
        None => "DEFAULT".into(),
    };
    Some(format!(
        "SET LOCAL statement_timeout = '{}ms';\nDO $keel_lock$ BEGIN\n{body}END $keel_lock$;\nSET LOCAL statement_timeout = {restore};\n",
        policy.lock_timeout.as_millis().max(1),
    ))
}

impl Executor<'_> {
    /// Drops the index `ix` if it exists and is INVALID (`DROP INDEX CONCURRENTLY`: no lock
    /// that blocks the application's writes); whether it did.
    ///
    /// # Errors
    /// The server's error: the drop waits for the transactions that use the table, as the
    /// build did.
    async fn drop_invalid_index(
        &mut self,
        ix: &keel_core::splitter::TableName,
    ) -> Result<bool, DriverError> {
        if !self
            .driver
            .index_is_invalid(ix.schema.as_deref(), &ix.name)
            .await?
        {
            return Ok(false);
        }
        self.driver
            .execute(&format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}",
                index_sql(ix)
            ))
            .await?;
        Ok(true)
    }
}

/// The index or table `ix` as SQL names it (PostgreSQL quoting).
fn index_sql(ix: &keel_core::splitter::TableName) -> String {
    let q = |n: &str| keel_driver::quote_ident(Dialect::Postgres, n);
    match &ix.schema {
        Some(s) => format!("{}.{}", q(s), q(&ix.name)),
        None => q(&ix.name),
    }
}

/// The failure of step `index` (0-based) of `script` with the server's error; a connection
/// error stays one.
fn step_failure(script: &Script, index: usize, e: DriverError) -> RunError {
    let DriverError::Server { code, message } = e else {
        return RunError::Driver(e);
    };
    let (line, first) = script
        .steps
        .get(index)
        .map_or((0, String::new()), |s| (s.line, first_line(&s.sql)));
    RunError::Step(StepFailure {
        step: index + 1,
        steps: script.steps.len(),
        line,
        first_line: first,
        server_code: code,
        message,
        left_behind: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(sql: &str) -> Option<String> {
        let policy = LockPolicy {
            lock_timeout: std::time::Duration::from_millis(500),
            statement_timeout: None,
            attempts: 1,
        };
        lock_first(&Script::from_text("m", sql, Dialect::Postgres), policy)
    }

    #[test]
    fn two_existing_tables_are_locked_first() {
        let sql = request("ALTER TABLE t ADD COLUMN a int;\nALTER TABLE u ADD COLUMN b int;\n")
            .expect("a request");
        assert!(
            sql.contains("LOCK TABLE \"t\" IN ACCESS EXCLUSIVE MODE"),
            "{sql}"
        );
        assert!(
            sql.contains("LOCK TABLE \"u\" IN ACCESS EXCLUSIVE MODE"),
            "{sql}"
        );
        assert!(
            sql.starts_with("SET LOCAL statement_timeout = '500ms';"),
            "{sql}"
        );
    }

    #[test]
    fn one_table_whose_first_lock_covers_the_rest_needs_no_request() {
        assert_eq!(
            request("ALTER TABLE t ADD COLUMN a int;\nCREATE INDEX i ON t (a);\n"),
            None
        );
        // SHARE, then ACCESS EXCLUSIVE on the same table: the upgrade waits holding SHARE.
        let sql = request("CREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN b int;\n")
            .expect("a request");
        assert!(
            sql.contains("LOCK TABLE \"t\" IN ACCESS EXCLUSIVE MODE"),
            "{sql}"
        );
    }

    #[test]
    fn tables_the_script_creates_are_left_out() {
        // The new table `c` is the script's own; only `p` (referenced) remains.
        assert_eq!(
            request(
                "CREATE TABLE c (id int, p int);\nCREATE INDEX ci ON c (p);\n\
                 ALTER TABLE c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id);\n"
            ),
            None
        );
        // Altered before it is dropped and created again: it existed, and is locked.
        let sql = request(
            "ALTER TABLE t ADD COLUMN a int;\nDROP TABLE u;\nCREATE TABLE t2 (id int);\n\
             ALTER TABLE u2 ADD COLUMN a int;\n",
        )
        .expect("a request");
        assert!(sql.contains("\"u2\"") && sql.contains("\"t\""), "{sql}");
        assert!(!sql.contains("\"t2\""), "{sql}");
    }
}
