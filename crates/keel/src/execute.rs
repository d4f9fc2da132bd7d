//! `keel execute FILE` (Prisma's `db execute`, with keel's safety): a SQL script run on the
//! target under the deploy lock, through the same executor, lock-timeout retries, data-loss
//! counts and confirmation as a repair. Also the runner behind `keel drift --revert`, which
//! adds a verification of the schema it must reach. Nothing is recorded in the ledger.

use crate::error::Error;
use crate::events::Event;
use crate::measure::{losses, Loss};
use crate::run::{Executor, LockPolicy, Progress, RunError, Scratch, Script, Then, Verified};
use crate::settings::Settings;
use keel_core::schema::Schema;
use keel_driver::Driver;
use serde::Serialize;
use std::path::Path;

/// How to run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecuteOptions {
    /// Run even when the statements drop a table or column holding data.
    pub allow_data_loss: bool,
    /// Compute and return the plan (statements and data-loss counts); change nothing.
    pub dry_run: bool,
}

/// What will run.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutePlan {
    /// The command, as its errors name it (`keel execute fix.sql`, `keel drift --revert`).
    pub command: String,
    /// Where the statements come from.
    pub source: String,
    /// The statements, in order, without their `;`.
    pub statements: Vec<String>,
    /// Whether they run in one transaction (PostgreSQL, SQLite; not MySQL/MariaDB DDL or
    /// `CONCURRENTLY`).
    pub transactional: bool,
    /// Why they run statement by statement when they do.
    pub step_by_step: Option<String>,
    /// Data the statements drop, counted on the target (rows, or non-NULL values).
    pub losses: Vec<Loss>,
    /// What the schema is checked against after they ran (`None`: a script of the user's
    /// own, which keel cannot check).
    pub verified_against: Option<String>,
}

impl ExecutePlan {
    /// Whether anything at stake holds data (or could not be counted).
    pub fn loses_data(&self) -> bool {
        self.losses.iter().any(|l| l.rows.is_none_or(|n| n > 0))
    }
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ExecuteReport {
    /// What ran (or, with `dry_run` or nothing to run, would run).
    pub plan: ExecutePlan,
    /// Whether the statements ran.
    pub executed: bool,
    /// Whether the schema was verified afterwards (only when the plan names a target).
    pub verified: bool,
}

/// Runs the SQL script `file` on the target under the deploy lock: counts the data its
/// `DROP TABLE`, `DROP COLUMN` and type changes destroy (refused without
/// `allow_data_loss`), calls `confirm` with the plan (return `false` to stop), then runs it
/// in one transaction where the database allows (else statement by statement), retrying lock
/// waits as deploy does (`--lock-timeout`, `--lock-attempts`), reported as
/// [`Event::LockWait`]. Nothing is written to the ledger.
///
/// # Errors
/// K4017 for a NUL byte, K4007 for a script that rolls back its own transaction, a read
/// error; [`Error::ExecuteWouldLoseData`] (K4100), [`Error::ExecuteNotConfirmed`] (K4101),
/// [`Error::ExecuteStepFailed`] (K4102); lock (K1002) and driver errors.
pub async fn execute(
    settings: &Settings,
    file: &Path,
    options: ExecuteOptions,
    confirm: &mut (dyn FnMut(&ExecutePlan) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<ExecuteReport, Error> {
    let text = read_script(file)?;
    let url = settings.url()?;
    let dialect = url.dialect();
    let script = Script::from_text(&file.display().to_string(), &text, dialect);
    if let Some(s) = script.steps.iter().find(|s| s.rolls_back()) {
        return Err(Error::RollsBackItself {
            name: file.display().to_string(),
            line: s.line,
            statement: crate::run::first_line(&s.sql),
        });
    }
    let mut driver = keel_driver::connect_to(url).await?;
    let result = async {
        driver.lock(settings.deploy_lock_timeout).await?;
        let live = driver.introspect().await?;
        let at_stake = crate::lint::statement_plan_of(dialect, &live, &text);
        let work = Work {
            command: format!("keel execute {}", file.display()),
            source: file.display().to_string(),
            script,
            losses: losses(driver.as_mut(), &at_stake).await,
            target: None,
        };
        run_planned(driver.as_mut(), settings, work, options, confirm, on_event).await
    }
    .await;
    let _ = driver.unlock().await;
    driver.close().await;
    result
}

/// A SQL file's text.
///
/// # Errors
/// The read error, K4017 for a NUL byte, not UTF-8 text.
fn read_script(file: &Path) -> Result<String, Error> {
    use keel_core::migrations::{check_nul, MigrationsError};
    let bytes = std::fs::read(file).map_err(|source| {
        Error::Migrations(MigrationsError::Io {
            path: file.to_path_buf(),
            source,
        })
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Migrations(MigrationsError::NotUtf8 {
            path: file.to_path_buf(),
        })
    })?;
    check_nul(file, &text)?;
    Ok(text)
}

/// What [`run_planned`] runs: the command and where its statements come from (for the plan
/// and the errors), the script, the data it drops, and the schema it must reach with what
/// that schema is called (`None`: a script of the user's own, not checked).
pub(crate) struct Work<'a> {
    pub command: String,
    pub source: String,
    pub script: Script,
    pub losses: Vec<Loss>,
    pub target: Option<(&'a Schema, &'a str)>,
}

/// Makes the plan of `work` (its statements, and how they run on this database), refuses data
/// loss without `options.allow_data_loss`, asks `confirm`, runs the statements with the deploy
/// lock already held, and when `work.target` is given checks by introspection that the schema
/// is that target before it commits.
///
/// # Errors
/// K4100, K4101, K4102 as [`execute`]; [`Error::DriftNotReconciled`] (K4103) when the
/// schema is not `target` afterwards; driver errors.
pub(crate) async fn run_planned(
    driver: &mut dyn Driver,
    settings: &Settings,
    work: Work<'_>,
    options: ExecuteOptions,
    confirm: &mut (dyn FnMut(&ExecutePlan) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<ExecuteReport, Error> {
    let Work {
        command,
        source,
        script,
        losses,
        target,
    } = work;
    let dialect = driver.dialect();
    let mode = script.mode(dialect);
    let plan = ExecutePlan {
        command,
        source,
        statements: script.steps.iter().map(|s| s.sql.clone()).collect(),
        transactional: mode.transactional(),
        step_by_step: mode.reason().map(str::to_string),
        losses,
        verified_against: target.map(|(_, what)| what.to_string()),
    };
    if options.dry_run || plan.statements.is_empty() {
        return Ok(ExecuteReport {
            plan,
            executed: false,
            verified: false,
        });
    }
    if plan.loses_data() && !options.allow_data_loss {
        return Err(Error::ExecuteWouldLoseData {
            command: plan.command.clone(),
            losses: plan.losses.iter().map(ToString::to_string).collect(),
        });
    }
    if !confirm(&plan) {
        return Err(Error::ExecuteNotConfirmed {
            command: plan.command.clone(),
        });
    }
    let policy = LockPolicy::new(settings, None);
    let mut scratch = Scratch;
    let mut verified;
    let progress: &mut dyn Progress = match target {
        Some((schema, _)) => {
            verified = Verified {
                target: schema,
                table: "",
                then: Then::Nothing,
            };
            &mut verified
        }
        None => &mut scratch,
    };
    let mut ex = Executor::new(driver, on_event);
    match ex.run(&script, &mode, Some(policy), progress).await {
        Ok(()) => {}
        Err(RunError::Step(failure) | RunError::LockGaveUp { failure, .. }) => {
            return Err(Error::ExecuteStepFailed {
                command: plan.command.clone(),
                failure: Box::new(failure),
                transactional: mode.transactional(),
            })
        }
        Err(RunError::Differs(differences)) => {
            return Err(Error::DriftNotReconciled {
                command: plan.command.clone(),
                target: target.map(|(_, what)| what.to_string()).unwrap_or_default(),
                kept: !mode.transactional(),
                differences,
            })
        }
        Err(RunError::Driver(e)) => return Err(e.into()),
    }
    Ok(ExecuteReport {
        verified: target.is_some(),
        plan,
        executed: true,
    })
}
