//! `keel repair NAME --finish` / `--revert` (issue #4, item 5): takes a failed migration to the
//! state after it or before it, from wherever the diagnosis found the database, verifies the
//! result by introspection, then records the ledger.

use crate::diagnose::{diagnose_in, Classification, Diagnosis};
use crate::error::Error;
use crate::events::Event;
use crate::measure::{losses, Loss};
use crate::project::Project;
use crate::run::{Executor, LockPolicy, RunError, Script, Then, Verified};
use crate::settings::Settings;
use keel_core::ledger::State;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::splitter;
use serde::Serialize;

/// Which way to take the failed migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairDirection {
    /// To the state after the migration; then recorded as applied.
    Finish,
    /// To the state before it; then recorded as rolled back (deploy runs it again).
    Revert,
}

impl RepairDirection {
    /// The command-line flag: `--finish` or `--revert`.
    pub fn flag(self) -> &'static str {
        match self {
            RepairDirection::Finish => "--finish",
            RepairDirection::Revert => "--revert",
        }
    }
}

/// How to repair.
#[derive(Debug, Clone, Copy)]
pub struct RepairOptions {
    /// Finish or revert.
    pub direction: RepairDirection,
    /// Run even when the SQL drops a table or column holding data.
    pub allow_data_loss: bool,
    /// Compute and return the plan; change nothing.
    pub dry_run: bool,
}

/// What a repair will do.
#[derive(Debug, Clone, Serialize)]
pub struct RepairPlan {
    /// The migration.
    pub name: String,
    /// Finish or revert.
    pub direction: RepairDirection,
    /// What keel measured.
    pub diagnosis: Diagnosis,
    /// Where the SQL comes from (`steps 3–5 of migration.sql`, `keel's plan from the live
    /// schema to the state before the migration`, `nothing to run`).
    pub source: String,
    /// The statements, in order.
    pub statements: Vec<String>,
    /// Whether they run in one transaction with the ledger write (PostgreSQL, SQLite).
    pub transactional: bool,
    /// Why they run statement by statement when they do (`MySQL/MariaDB commits DDL
    /// implicitly`, `line 0: CREATE INDEX CONCURRENTLY cannot run inside a transaction block`).
    pub step_by_step: Option<String>,
    /// Data the statements drop.
    pub losses: Vec<Loss>,
    /// What will be recorded in the ledger.
    pub ledger: String,
}

impl RepairPlan {
    /// Whether anything at stake holds data.
    pub fn loses_data(&self) -> bool {
        self.losses.iter().any(|l| l.rows.is_none_or(|n| n > 0))
    }
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// What was (or, with `dry_run`, would be) done.
    pub plan: RepairPlan,
    /// Whether the SQL ran and the ledger was written.
    pub executed: bool,
    /// The migration's state afterwards.
    pub state: State,
}

/// Repairs the failed migration `name` under the deploy lock: diagnoses it, computes the SQL,
/// calls `confirm` with the plan (return `false` to stop), runs the SQL (in a transaction with
/// the ledger write where the database allows), verifies by introspection that the target
/// state was reached, and records the migration as applied (`Finish`) or rolled back
/// (`Revert`).
///
/// # Errors
/// [`Error::NotFailed`] (K3012), [`Error::MigrationNotFound`] (K3017),
/// [`Error::RepairNeedsFixedFile`] (K4050), [`Error::RepairWouldLoseData`] (K4051),
/// [`Error::RepairNotConfirmed`] (K4052), [`Error::RepairStepFailed`] (K4053),
/// [`Error::RepairVerifyFailed`] (K4054), [`Error::Render`] (K4006), lock, shadow and driver
/// errors.
pub async fn repair(
    settings: &Settings,
    name: &str,
    options: RepairOptions,
    confirm: &mut (dyn FnMut(&RepairPlan) -> bool + Send),
) -> Result<RepairReport, Error> {
    repair_with_events(settings, name, options, confirm, &mut |_| {}).await
}

/// [`repair`], reporting each wait for a lock of the repair SQL as [`Event::LockWait`] (it is
/// retried like a deploy's step: `--lock-timeout`, `--lock-attempts`).
///
/// # Errors
/// As [`repair`].
pub async fn repair_with_events(
    settings: &Settings,
    name: &str,
    options: RepairOptions,
    confirm: &mut (dyn FnMut(&RepairPlan) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<RepairReport, Error> {
    let mut project = Project::open(settings).await?;
    let result = repair_locked(&mut project, settings, name, options, confirm, on_event).await;
    project.close().await;
    result
}

async fn repair_locked(
    project: &mut Project,
    settings: &Settings,
    name: &str,
    options: RepairOptions,
    confirm: &mut (dyn FnMut(&RepairPlan) -> bool + Send),
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<RepairReport, Error> {
    project.driver.lock(settings.deploy_lock_timeout).await?;
    project.refresh().await?;
    let (rows, reconciled) = project.reconcile().await?;
    let diagnosis = diagnose_in(project, settings, &rows, &reconciled, name).await?;
    let plan = plan_repair(project, diagnosis, options.direction).await?;
    if options.dry_run {
        return Ok(RepairReport {
            plan,
            executed: false,
            state: State::Failed,
        });
    }
    if plan.loses_data() && !options.allow_data_loss {
        return Err(Error::RepairWouldLoseData {
            name: name.to_string(),
            flag: options.direction.flag(),
            losses: plan.losses.iter().map(ToString::to_string).collect(),
        });
    }
    if !confirm(&plan) {
        return Err(Error::RepairNotConfirmed {
            name: name.to_string(),
            flag: options.direction.flag(),
        });
    }
    let dialect = project.driver.dialect();
    let target = match options.direction {
        RepairDirection::Finish => plan.diagnosis.post().cloned(),
        RepairDirection::Revert => Some(plan.diagnosis.pre().clone()),
    }
    .unwrap_or_default();
    let Some(file) = reconciled
        .get(name)
        .and_then(|e| e.file)
        .map(|i| project.dir.migrations[i].clone())
    else {
        return Err(Error::MigrationNotFound {
            name: name.to_string(),
            dir: project.dir.root.clone(),
        });
    };
    let steps = u32::try_from(plan.diagnosis.steps.len()).unwrap_or(u32::MAX);
    let direction = options.direction;
    let then = match direction {
        RepairDirection::Finish => Then::RecordApplied {
            rows: &rows,
            file: &file,
            steps,
        },
        RepairDirection::Revert => Then::MarkFailedRolledBack { rows: &rows, name },
    };
    let target_name = match direction {
        RepairDirection::Finish => "the state after the migration",
        RepairDirection::Revert => "the state before the migration",
    };
    let script = Script::from_statements(name, &plan.statements, dialect);
    let mode = script.mode(dialect);
    let table = project.ledger_table.clone();
    let mut verified = Verified {
        target: &target,
        table: &table,
        then,
    };
    let policy = LockPolicy::new(settings, Some(&file));
    let mut ex = Executor::new(project.driver.as_mut(), on_event);
    match ex.run(&script, &mode, Some(policy), &mut verified).await {
        Ok(()) => {}
        Err(RunError::Step(failure) | RunError::LockGaveUp { failure, .. }) => {
            return Err(Error::RepairStepFailed {
                name: name.to_string(),
                flag: direction.flag(),
                failure: Box::new(failure),
                transactional: mode.transactional(),
            })
        }
        Err(RunError::Differs(differences)) => {
            return Err(Error::RepairVerifyFailed {
                name: name.to_string(),
                target: target_name.to_string(),
                differences,
            })
        }
        Err(RunError::Driver(e)) => return Err(e.into()),
    }
    Ok(RepairReport {
        plan,
        executed: true,
        state: match direction {
            RepairDirection::Finish => State::Applied,
            RepairDirection::Revert => State::RolledBack,
        },
    })
}

/// The SQL from the diagnosed state to the requested one, and the data it would drop.
async fn plan_repair(
    project: &mut Project,
    diagnosis: Diagnosis,
    direction: RepairDirection,
) -> Result<RepairPlan, Error> {
    let dialect = project.driver.dialect();
    let name = diagnosis.name.clone();
    let n = diagnosis.steps.len();
    let file = project
        .dir
        .get(&name)
        .ok_or_else(|| Error::MigrationNotFound {
            name: name.clone(),
            dir: project.dir.root.clone(),
        })?
        .clone();
    let file_steps: Vec<String> = splitter::split(&file.script, dialect)
        .iter()
        .map(|s| s.sql(&file.script).to_string())
        .collect();
    let applied = match diagnosis.classification {
        Classification::NotApplied => Some(0),
        Classification::PartWay { applied } => Some(applied),
        Classification::FullyApplied => Some(n),
        Classification::Diverged { .. } => None,
    };
    let (source, statements, loss_plan) = match direction {
        RepairDirection::Finish => {
            let Some(post) = diagnosis.post() else {
                let (step, message) = diagnosis.shadow_failure.clone().unwrap_or_default();
                return Err(Error::RepairNeedsFixedFile {
                    name,
                    step,
                    message,
                });
            };
            match applied {
                Some(k) if k == n => (
                    "nothing to run: every step took effect".to_string(),
                    Vec::new(),
                    None,
                ),
                Some(k) => (
                    if k + 1 == n {
                        format!("step {n} of {name}/migration.sql")
                    } else {
                        format!("steps {}–{n} of {name}/migration.sql", k + 1)
                    },
                    file_steps[k..].to_vec(),
                    Some(diff_schemas(dialect, &diagnosis.states[k], post)),
                ),
                None => {
                    let p = diff_schemas(dialect, &diagnosis.live, post);
                    (
                        "keel's plan from the live schema to the state after the migration"
                            .to_string(),
                        keel_core::schema::render::render(&p)?,
                        Some(p),
                    )
                }
            }
        }
        RepairDirection::Revert => {
            if applied == Some(0) {
                (
                    "nothing to run: none of its steps took effect".to_string(),
                    Vec::new(),
                    None,
                )
            } else {
                let p = diff_schemas(dialect, &diagnosis.live, diagnosis.pre());
                (
                    "keel's plan from the live schema to the state before the migration"
                        .to_string(),
                    keel_core::schema::render::render(&p)?,
                    Some(p),
                )
            }
        }
    };
    let losses = match &loss_plan {
        Some(p) => losses(project.driver.as_mut(), p).await,
        None => Vec::new(),
    };
    let mode = Script::from_statements(&name, &statements, dialect).mode(dialect);
    let transactional = mode.transactional();
    let step_by_step = mode.reason().map(str::to_string);
    let ledger = match direction {
        RepairDirection::Finish => {
            format!("`{name}` recorded as applied (its failed attempt marked rolled back)")
        }
        RepairDirection::Revert => {
            format!("`{name}`'s failed attempt marked rolled back: `keel deploy` runs it again")
        }
    };
    Ok(RepairPlan {
        name,
        direction,
        diagnosis,
        source,
        statements,
        transactional,
        step_by_step,
        losses,
        ledger,
    })
}
