//! Applying one migration: in one transaction with its ledger row where the database allows,
//! else step by step with `applied_steps_count` written after each step (issue #2, item 6).

use crate::events::{Event, StepFailure};
use crate::Settings;
use keel_core::ledger::LedgerRow;
use keel_core::migrations::Migration;
use keel_core::splitter::{self, Step};
use keel_core::Dialect;
use keel_driver::{Driver, DriverError};
use rand::Rng;
use std::time::Duration;

/// How a migration's steps wait for locks: the lock and statement timeouts (settings, then
/// the migration's `-- keel:lock-timeout=` / `-- keel:statement-timeout=`), and how many
/// times a step that timed out waiting for a lock is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockPolicy {
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub attempts: u32,
}

/// The first wait before a retry; it doubles on each attempt (at most [`MAX_BACKOFF`]), with
/// jitter (50–100 % of it) so that concurrent deploys do not retry in step.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl LockPolicy {
    pub fn new(settings: &Settings, m: &Migration) -> LockPolicy {
        LockPolicy {
            lock_timeout: m.directives.lock_timeout.unwrap_or(settings.lock_timeout),
            statement_timeout: m
                .directives
                .statement_timeout
                .or(settings.statement_timeout),
            attempts: settings.lock_attempts.max(1),
        }
    }

    /// The wait after failed attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let full = BASE_BACKOFF
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
            .min(MAX_BACKOFF);
        full.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }
}

/// Whether a server error code says a statement gave up waiting for a lock: PostgreSQL 55P03
/// (lock_not_available), MySQL/MariaDB 1205 (lock wait timeout) and 1213 (deadlock, the
/// statement was rolled back), SQLite 5/6 (busy, locked).
pub(crate) fn is_lock_wait(code: Option<&str>) -> bool {
    matches!(code, Some("55P03" | "1205" | "1213" | "5" | "6"))
}

/// How a migration will run.
#[derive(Debug, Clone)]
pub(crate) struct ApplyPlan {
    pub steps: Vec<Step>,
    /// `None` = one transaction; `Some(reason)` = step by step, and why.
    pub step_by_step: Option<String>,
    /// SQLite: `PRAGMA foreign_keys=OFF` found, so it is set before `BEGIN` and restored after
    /// `COMMIT` (inside a transaction the pragma is a no-op; Prisma's table redefinitions
    /// rely on it).
    pub sqlite_fk_off: bool,
}

impl ApplyPlan {
    pub fn new(m: &Migration, dialect: Dialect) -> ApplyPlan {
        let steps = splitter::split(&m.script, dialect);
        let mut step_by_step = None;
        let mut sqlite_fk_off = false;
        if dialect == Dialect::Mysql {
            step_by_step = Some("MySQL/MariaDB commits DDL implicitly".to_string());
        } else if m.directives.no_transaction {
            step_by_step = Some("-- keel:no-transaction".to_string());
        }
        for s in &steps {
            let kind = splitter::classify(s.sql(&m.script), dialect);
            if step_by_step.is_none() {
                if let Some(reason) = kind.non_transactional {
                    step_by_step = Some(format!("line {}: {reason}", s.line));
                } else if kind.transaction_control {
                    step_by_step = Some(format!(
                        "line {}: the migration manages its own transaction",
                        s.line
                    ));
                }
            }
            if kind.sqlite_pragma_foreign_keys == Some(false) {
                sqlite_fk_off = true;
            }
        }
        ApplyPlan {
            steps,
            step_by_step,
            sqlite_fk_off: sqlite_fk_off && dialect == Dialect::Sqlite,
        }
    }

    pub fn transactional(&self) -> bool {
        self.step_by_step.is_none()
    }
}

/// Why a migration did not finish.
pub(crate) enum ApplyError {
    /// A step failed; the ledger row records it (when it could be written).
    Step(StepFailure),
    /// The connection broke, or the ledger write failed.
    Driver(DriverError),
    /// Every attempt timed out waiting for a lock and nothing of the migration took effect;
    /// the ledger row records the last attempt as failed and rolled back, so the next deploy
    /// tries again.
    LockGaveUp {
        /// The step that waited, with the server's error.
        failure: StepFailure,
        /// How many times it was tried.
        attempts: u32,
        /// The sessions holding locks on the step's tables, one line each.
        holders: Vec<String>,
    },
}

pub(crate) fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or("").trim();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}

fn failure(
    plan: &ApplyPlan,
    m: &Migration,
    index: usize,
    e: DriverError,
) -> Result<StepFailure, DriverError> {
    let (server_code, message) = match e {
        DriverError::Server { code, message } => (code, message),
        other => return Err(other),
    };
    let step = &plan.steps[index];
    Ok(StepFailure {
        step: index + 1,
        steps: plan.steps.len(),
        line: step.line,
        first_line: first_line(step.sql(&m.script)),
        server_code,
        message,
    })
}

/// The text stored in the ledger's `logs` for a failed attempt.
pub(crate) fn logs_text(name: &str, f: &StepFailure) -> String {
    format!(
        "Migration `{name}` failed at step {} of {} (line {}: {})\n\nDatabase error code: {}\n\nDatabase error:\n{}\n",
        f.step,
        f.steps,
        f.line,
        f.first_line,
        f.server_code.as_deref().unwrap_or("none"),
        f.message
    )
}

pub(crate) fn new_row(m: &Migration) -> LedgerRow {
    LedgerRow {
        id: uuid_v4(),
        checksum: m.checksum.clone(),
        finished_at: None,
        migration_name: m.name.clone(),
        logs: None,
        rolled_back_at: None,
        started_at: chrono::Utc::now(),
        applied_steps_count: 0,
    }
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Applies `m` according to `plan`, recording it in `table`, under `policy` (`session`: the
/// timeouts the session has now, updated): each wait for a
/// lock is bounded by its lock timeout, and a step (a transactional migration: the whole
/// migration) that timed out is tried again after a backoff, up to `policy.attempts` times,
/// reporting each wait as [`Event::LockWait`] with the sessions holding the locks.
pub(crate) async fn apply(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
    policy: LockPolicy,
    session: &mut Option<LockPolicy>,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), ApplyError> {
    // The session keeps its timeouts: set them only when they change (one round trip less
    // per migration). A migration may change them itself (`SET lock_timeout`), so after one
    // that mentions them they are set again.
    if *session != Some(policy) {
        driver
            .set_timeouts(policy.lock_timeout, policy.statement_timeout)
            .await
            .map_err(ApplyError::Driver)?;
    }
    let lower = m.script.to_ascii_lowercase();
    *session = (!lower.contains("timeout")).then_some(policy);
    if plan.transactional() {
        apply_transactional(driver, table, m, plan, policy, on_event).await
    } else {
        apply_step_by_step(driver, table, m, plan, policy, on_event).await
    }
}

/// The tables a step names (after `TABLE`, `ON`, `INTO`, `UPDATE`, `FROM`, `REFERENCES`,
/// `JOIN`), as written: whose locks it may wait for.
pub(crate) fn tables_named(sql: &str) -> Vec<String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let skip = [
        "IF",
        "NOT",
        "EXISTS",
        "ONLY",
        "CONCURRENTLY",
        "UNIQUE",
        "TABLE",
        "INDEX",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].to_ascii_uppercase();
        if matches!(
            w.as_str(),
            "TABLE" | "ON" | "INTO" | "UPDATE" | "FROM" | "REFERENCES" | "JOIN"
        ) {
            let mut j = i + 1;
            while j < words.len() && skip.contains(&words[j].to_ascii_uppercase().as_str()) {
                j += 1;
            }
            if let Some(name) = words.get(j) {
                let first = name.chars().next().unwrap_or(' ');
                if (first.is_alphabetic() || first == '"' || first == '`' || first == '_')
                    && !out.iter().any(|o| o == name)
                {
                    out.push((*name).to_string());
                }
            }
            i = j;
        }
        i += 1;
    }
    out
}

/// Reports a lock wait and sleeps before the next attempt.
async fn wait_before_retry(
    driver: &mut dyn Driver,
    m: &Migration,
    f: &StepFailure,
    sql: &str,
    policy: LockPolicy,
    attempt: u32,
    on_event: &mut (dyn FnMut(&Event) + Send),
) {
    let holders = crate::probe::lock_holders(driver, &tables_named(sql)).await;
    let retry_in = policy.backoff(attempt);
    on_event(&Event::LockWait {
        name: m.name.clone(),
        step: f.step,
        attempt,
        attempts: policy.attempts,
        lock_timeout_ms: u64::try_from(policy.lock_timeout.as_millis()).unwrap_or(u64::MAX),
        retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
        holders,
    });
    tokio::time::sleep(retry_in).await;
}

/// After the last attempt of a step that waited for a lock: the sessions holding locks on
/// its tables, and the ledger's `logs` text saying what happened.
async fn gave_up(
    driver: &mut dyn Driver,
    m: &Migration,
    f: &StepFailure,
    sql: &str,
    policy: LockPolicy,
    nothing_took_effect: bool,
) -> (Vec<String>, String) {
    let holders = crate::probe::lock_holders(driver, &tables_named(sql)).await;
    let logs = format!(
        "{}\nGave up after {} attempt{} (lock_timeout {} ms each){}.\nLocks held by: {}\n",
        logs_text(&m.name, f),
        policy.attempts,
        if policy.attempts == 1 { "" } else { "s" },
        policy.lock_timeout.as_millis(),
        if nothing_took_effect {
            "; nothing of the migration took effect"
        } else {
            ""
        },
        if holders.is_empty() {
            "unknown".to_string()
        } else {
            holders.join("; ")
        }
    );
    (holders, logs)
}

async fn apply_transactional(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
    policy: LockPolicy,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), ApplyError> {
    let mut attempt = 1;
    loop {
        let mut row = new_row(m);
        if plan.sqlite_fk_off {
            driver
                .execute("PRAGMA foreign_keys=OFF")
                .await
                .map_err(ApplyError::Driver)?;
        }
        let result = run_in_transaction(driver, table, m, plan, &mut row).await;
        if plan.sqlite_fk_off {
            // Restore the connection's setting whatever happened (sqlx opens SQLite with it ON).
            let _ = driver.execute("PRAGMA foreign_keys=ON").await;
        }
        let f = match result {
            Ok(()) => return Ok(()),
            Err(ApplyError::Step(f)) => f,
            Err(e) => return Err(e),
        };
        row.finished_at = None;
        row.applied_steps_count = 0;
        let step_sql = plan.steps[f.step - 1].sql(&m.script);
        if is_lock_wait(f.server_code.as_deref()) {
            // The transaction was rolled back: nothing took effect, a retry is safe.
            if attempt < policy.attempts {
                wait_before_retry(driver, m, &f, step_sql, policy, attempt, on_event).await;
                attempt += 1;
                continue;
            }
            let (holders, logs) = gave_up(driver, m, &f, step_sql, policy, true).await;
            row.logs = Some(logs);
            row.rolled_back_at = Some(chrono::Utc::now());
            driver
                .insert_row(table, &row)
                .await
                .map_err(ApplyError::Driver)?;
            return Err(ApplyError::LockGaveUp {
                failure: f,
                attempts: policy.attempts,
                holders,
            });
        }
        row.logs = Some(logs_text(&m.name, &f));
        driver
            .insert_row(table, &row)
            .await
            .map_err(ApplyError::Driver)?;
        return Err(ApplyError::Step(f));
    }
}

async fn run_in_transaction(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
    row: &mut LedgerRow,
) -> Result<(), ApplyError> {
    // The steps that run inside the transaction (hoisted pragmas excluded), sent with BEGIN
    // as one simple query: one round trip for the whole script, as Prisma and psql send it.
    let inside: Vec<(usize, &str)> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.sql(&m.script)))
        .filter(|(_, sql)| {
            !(plan.sqlite_fk_off
                && splitter::classify(sql, Dialect::Sqlite)
                    .sqlite_pragma_foreign_keys
                    .is_some())
        })
        .collect();
    if driver.dialect() == Dialect::Sqlite {
        // SQLite runs in-process: no round trips to save, and SQLite copies the rest of a
        // multi-statement string for every statement it prepares (quadratic on a large
        // script: 50 MB took 9 minutes). So: BEGIN, each step, and the step that fails is
        // known without a replay.
        driver.begin().await.map_err(ApplyError::Driver)?;
        for (i, sql) in &inside {
            if let Err(e) = driver.execute(sql).await {
                let _ = driver.rollback().await;
                row.applied_steps_count = 0;
                return Err(
                    failure(plan, m, *i, e).map_or_else(ApplyError::Driver, ApplyError::Step)
                );
            }
        }
        return finish_transaction(driver, table, m, plan, row).await;
    }
    let mut batch = String::from("BEGIN;\n");
    for (_, sql) in &inside {
        batch.push_str(sql);
        batch.push_str(";\n");
    }
    // Without a check to run between the steps and COMMIT, the ledger row and COMMIT go in
    // the same query: one round trip per migration.
    let one_query = !plan.sqlite_fk_off;
    if one_query {
        row.applied_steps_count = u32::try_from(plan.steps.len()).unwrap_or(u32::MAX);
        batch.push_str(&keel_driver::ledger_insert_finished_sql(
            driver.dialect(),
            table,
            row,
        ));
        batch.push_str(";\nCOMMIT;\n");
    }
    if let Err(e) = driver.execute(&batch).await {
        let _ = driver.rollback().await;
        let e = match e {
            DriverError::Server { .. } => e,
            other => return Err(ApplyError::Driver(other)),
        };
        // Which step failed? Replay them one by one in a transaction that is rolled back
        // (nothing of a transactional migration survives either way). When none fails, the
        // error came at COMMIT (a deferred constraint): it is the last step's.
        let failed_at = find_failing_step(driver, &inside).await;
        let _ = driver.rollback().await;
        let (index, e) = failed_at.unwrap_or_else(|| {
            let e = match e {
                DriverError::Server { code, message } => DriverError::Server {
                    code,
                    message: format!("at COMMIT: {message}"),
                },
                other => other,
            };
            (plan.steps.len().saturating_sub(1), e)
        });
        row.applied_steps_count = 0;
        return Err(failure(plan, m, index, e).map_or_else(ApplyError::Driver, ApplyError::Step));
    }
    if one_query {
        return Ok(());
    }
    finish_transaction(driver, table, m, plan, row).await
}

/// After the steps ran in the open transaction: SQLite's foreign-key check (when the
/// migration ran with foreign keys off), the ledger row, COMMIT.
async fn finish_transaction(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
    row: &mut LedgerRow,
) -> Result<(), ApplyError> {
    if plan.sqlite_fk_off && !plan.steps.is_empty() {
        let violations = driver
            .foreign_key_violations()
            .await
            .map_err(ApplyError::Driver)?;
        if !violations.is_empty() {
            let _ = driver.rollback().await;
            let last = plan.steps.len() - 1;
            let message = format!(
                "foreign key check after the migration (run with foreign keys off) failed: {}",
                violations.join("; ")
            );
            return Err(failure(
                plan,
                m,
                last,
                DriverError::Server {
                    code: Some("FOREIGN KEY".into()),
                    message,
                },
            )
            .map_or_else(ApplyError::Driver, ApplyError::Step));
        }
    }
    row.finished_at = Some(chrono::Utc::now());
    row.applied_steps_count = u32::try_from(plan.steps.len()).unwrap_or(u32::MAX);
    if let Err(e) = driver.insert_row(table, row).await {
        let _ = driver.rollback().await;
        return Err(ApplyError::Driver(e));
    }
    if let Err(e) = driver.commit().await {
        // A deferred constraint fails at COMMIT: report it as the last step's failure.
        let _ = driver.rollback().await;
        return Err(match e {
            DriverError::Server { code, message } if !plan.steps.is_empty() => {
                let last = plan.steps.len() - 1;
                match failure(
                    plan,
                    m,
                    last,
                    DriverError::Server {
                        code,
                        message: format!("at COMMIT: {message}"),
                    },
                ) {
                    Ok(f) => ApplyError::Step(f),
                    Err(e) => ApplyError::Driver(e),
                }
            }
            other => ApplyError::Driver(other),
        });
    }
    Ok(())
}

/// Runs `steps` one by one inside a transaction (left open for the caller to roll back) and
/// returns the first that fails, with its error. `None` when none fails this time.
async fn find_failing_step(
    driver: &mut dyn Driver,
    steps: &[(usize, &str)],
) -> Option<(usize, DriverError)> {
    driver.begin().await.ok()?;
    for (i, sql) in steps {
        if let Err(e) = driver.execute(sql).await {
            return Some((*i, e));
        }
    }
    None
}

async fn apply_step_by_step(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
    policy: LockPolicy,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<(), ApplyError> {
    let mut row = new_row(m);
    driver
        .insert_row(table, &row)
        .await
        .map_err(ApplyError::Driver)?;
    // While the migration's own BEGIN … COMMIT is open, its steps are not durable: the
    // ledger count stays at what was committed before it, and a failed statement (which
    // aborts that transaction) is followed by a ROLLBACK before the ledger is written.
    let mut open_transaction = false;
    let mut i = 0;
    let mut attempt = 1;
    while i < plan.steps.len() {
        let sql = plan.steps[i].sql(&m.script);
        if let Err(e) = driver.execute(sql).await {
            if open_transaction {
                let _ = driver.rollback().await;
            }
            let f = failure(plan, m, i, e).map_err(ApplyError::Driver)?;
            // A statement that timed out waiting for a lock did nothing (the server rolls
            // the statement back): outside the migration's own transaction it is retried.
            let lock_wait = is_lock_wait(f.server_code.as_deref()) && !open_transaction;
            if lock_wait && attempt < policy.attempts {
                wait_before_retry(driver, m, &f, sql, policy, attempt, on_event).await;
                attempt += 1;
                continue;
            }
            if lock_wait {
                let nothing = row.applied_steps_count == 0;
                let (holders, logs) = gave_up(driver, m, &f, sql, policy, nothing).await;
                row.logs = Some(logs);
                if nothing {
                    row.rolled_back_at = Some(chrono::Utc::now());
                    driver
                        .update_row(table, &row)
                        .await
                        .map_err(ApplyError::Driver)?;
                    return Err(ApplyError::LockGaveUp {
                        failure: f,
                        attempts: policy.attempts,
                        holders,
                    });
                }
            } else {
                row.logs = Some(logs_text(&m.name, &f));
            }
            driver
                .update_row(table, &row)
                .await
                .map_err(ApplyError::Driver)?;
            return Err(ApplyError::Step(f));
        }
        attempt = 1;
        match transaction_keyword(sql) {
            Some(true) => open_transaction = true,
            Some(false) => open_transaction = false,
            None => {}
        }
        if !open_transaction {
            row.applied_steps_count = u32::try_from(i + 1).unwrap_or(u32::MAX);
            driver
                .update_row(table, &row)
                .await
                .map_err(ApplyError::Driver)?;
        }
        i += 1;
    }
    row.finished_at = Some(chrono::Utc::now());
    row.applied_steps_count = u32::try_from(plan.steps.len()).unwrap_or(u32::MAX);
    driver
        .update_row(table, &row)
        .await
        .map_err(ApplyError::Driver)?;
    Ok(())
}

/// `Some(true)` for a step that opens a transaction (`BEGIN`, `START TRANSACTION`),
/// `Some(false)` for one that ends it (`COMMIT`, `END`, `ROLLBACK`), else `None`.
/// Steps start at their first keyword (the splitter trims comments and whitespace).
fn transaction_keyword(sql: &str) -> Option<bool> {
    let word: String = sql
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    let rest = sql[word.len()..].trim_start().to_ascii_uppercase();
    match word.as_str() {
        "BEGIN" if !rest.starts_with("ATOMIC") => Some(true),
        "START" if rest.starts_with("TRANSACTION") => Some(true),
        "COMMIT" | "END" | "ROLLBACK" if !rest.starts_with("TO") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_named_by_a_step() {
        assert_eq!(tables_named("ALTER TABLE t ADD COLUMN w INT"), vec!["t"]);
        assert_eq!(
            tables_named(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON \"public\".\"T\" (a)"
            ),
            vec!["\"public\".\"T\""]
        );
        assert_eq!(
            tables_named("ALTER TABLE IF EXISTS ONLY o ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users(id)"),
            vec!["o", "users"]
        );
        assert_eq!(
            tables_named("INSERT INTO a SELECT * FROM b JOIN c USING (id)"),
            vec!["a", "b", "c"]
        );
        assert!(tables_named("SELECT 1").is_empty());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let p = LockPolicy {
            lock_timeout: Duration::from_secs(2),
            statement_timeout: None,
            attempts: 5,
        };
        for attempt in 1..=40 {
            let full = BASE_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            let d = p.backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn lock_wait_codes() {
        for c in ["55P03", "1205", "1213", "5", "6"] {
            assert!(is_lock_wait(Some(c)));
        }
        assert!(!is_lock_wait(Some("23505")));
        assert!(!is_lock_wait(None));
    }
}
