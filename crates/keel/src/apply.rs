//! Applying one migration: in one transaction with its ledger row where the database allows,
//! else step by step with `applied_steps_count` written after each step (issue #2, item 6).

use crate::events::StepFailure;
use keel_core::ledger::LedgerRow;
use keel_core::migrations::Migration;
use keel_core::splitter::{self, Step};
use keel_core::Dialect;
use keel_driver::{Driver, DriverError};

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

/// Applies `m` according to `plan`, recording it in `table`.
pub(crate) async fn apply(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
) -> Result<(), ApplyError> {
    if plan.transactional() {
        apply_transactional(driver, table, m, plan).await
    } else {
        apply_step_by_step(driver, table, m, plan).await
    }
}

async fn apply_transactional(
    driver: &mut dyn Driver,
    table: &str,
    m: &Migration,
    plan: &ApplyPlan,
) -> Result<(), ApplyError> {
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
    match result {
        Ok(()) => Ok(()),
        Err(ApplyError::Step(f)) => {
            row.finished_at = None;
            row.applied_steps_count = 0;
            row.logs = Some(logs_text(&m.name, &f));
            driver
                .insert_row(table, &row)
                .await
                .map_err(ApplyError::Driver)?;
            Err(ApplyError::Step(f))
        }
        Err(e) => Err(e),
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
    for (i, step) in plan.steps.iter().enumerate() {
        let sql = step.sql(&m.script);
        if let Err(e) = driver.execute(sql).await {
            if open_transaction {
                let _ = driver.rollback().await;
            }
            let f = failure(plan, m, i, e).map_err(ApplyError::Driver)?;
            row.logs = Some(logs_text(&m.name, &f));
            driver
                .update_row(table, &row)
                .await
                .map_err(ApplyError::Driver)?;
            return Err(ApplyError::Step(f));
        }
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
