//! `keel deploy`: applies pending migrations in order under the deploy lock.

use crate::error::Error;
use crate::events::Event;
use crate::project::Project;
use crate::run::{Executor, Ledger, LockPolicy, Mode, RunError, Script};
use crate::settings::Settings;
use keel_core::ledger::{Reconciled, State};
use keel_core::migrations::{compare_names, Migration};
use keel_core::Dialect;
use std::time::Instant;

/// What `deploy` may accept and how far it goes.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Print the SQL instead of running it ([`DeployReport::dry_run_sql`]).
    pub dry_run: bool,
    /// Apply up to and including the migration with this version (or name).
    pub to: Option<String>,
    /// Accept applied migrations whose file changed (checksum mismatch).
    pub allow_modified: bool,
    /// Accept applied migrations whose folder is gone.
    pub allow_missing: bool,
    /// Apply pending migrations that sort before the newest applied one.
    pub allow_out_of_order: bool,
    /// Apply migrations that drop tables or columns holding data, or narrow types (the
    /// data-loss lint rules; see `docs/rules/`).
    pub allow_data_loss: bool,
}

/// What `deploy` did.
#[derive(Debug, Clone, Default)]
pub struct DeployReport {
    /// The ledger table used.
    pub ledger_table: String,
    /// Migrations applied (or, in a dry run, that would be), in order.
    pub applied: Vec<String>,
    /// Findings accepted by an `--allow-*` flag, one line each.
    pub accepted: Vec<String>,
    /// PostgreSQL: the INVALID indexes of the schema after the deploy, as `(table, index)`
    /// (none of them built by this deploy: a step that leaves one fails).
    pub invalid_indexes: Vec<(String, String)>,
    /// The SQL a dry run would execute, in order, with the ledger writes.
    pub dry_run_sql: Option<String>,
    /// Data-loss findings of the pending migrations (with row counts), shown by a dry run or
    /// accepted by `allow_data_loss`.
    pub data_loss: Vec<String>,
}

/// Applies every pending migration in order (DESIGN.md, `keel deploy`).
///
/// Takes the deploy lock (waiting up to `settings.deploy_lock_timeout`), creates the ledger when the
/// database is empty, and refuses, before touching anything, when a migration is failed
/// (K3009), modified (K4001), missing (K4002) or out of order (K4003) unless accepted by an
/// option, when the database has tables but no ledger (K3005), or when a pending migration
/// would drop data (K4070) unless `allow_data_loss`.
///
/// # Errors
/// The refusals above; [`Error::MigrationFailed`] (K3018) when a migration fails (its ledger
/// row then records the error); driver and migrations-directory errors.
pub async fn deploy(
    settings: &Settings,
    options: &DeployOptions,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<DeployReport, Error> {
    let project = Project::open(settings).await?;
    deploy_project(project, settings, options, on_event).await
}

/// [`deploy`] on an opened project; closes it.
pub(crate) async fn deploy_project(
    mut project: Project,
    settings: &Settings,
    options: &DeployOptions,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<DeployReport, Error> {
    let result = deploy_locked(&mut project, settings, options, on_event).await;
    project.close().await;
    result
}

async fn deploy_locked(
    project: &mut Project,
    settings: &Settings,
    options: &DeployOptions,
    on_event: &mut (dyn FnMut(&Event) + Send),
) -> Result<DeployReport, Error> {
    if !options.dry_run {
        on_event(&Event::WaitingForLock);
        project.driver.lock(settings.deploy_lock_timeout).await?;
        // Another deploy may have created the ledger while we waited.
        project.refresh().await?;
    }
    // A bad `--to` is refused before anything is written (the ledger included).
    if let Some(target) = &options.to {
        if !project
            .dir
            .migrations
            .iter()
            .any(|m| &m.name == target || m.version == *target)
        {
            return Err(Error::TargetNotFound {
                target: target.clone(),
                dir: project.dir.root.clone(),
            });
        }
    }
    let dialect = project.driver.dialect();
    let mut sql = String::new();
    // An empty database (no ledger, no tables) holds no data a migration could lose.
    let mut fresh = false;
    if !project.ledger_exists {
        fresh = true;
        let mut tables = project.driver.user_tables().await?;
        // Prisma's external tables (prisma.config.ts) belong to another owner: a database that
        // holds only those is empty for this history.
        if let crate::prisma_config::ExternalLists::Literal(e) =
            crate::prisma_config::external_lists(&settings.project)
        {
            let current = crate::diff::current_schema(settings);
            tables.retain(|t| !e.names_table(None, t, &current));
        }
        if !tables.is_empty() {
            return Err(Error::NonEmptyWithoutLedger {
                tables,
                ledger_table: project.ledger_table.clone(),
                first_migration: project.dir.migrations.first().map(|m| m.name.clone()),
            });
        }
        if options.dry_run {
            sql.push_str(&format!(
                "-- create the ledger\n{};\n\n",
                keel_driver::ledger_ddl(dialect, &project.ledger_table)
            ));
        } else {
            project.ensure_ledger().await?;
            on_event(&Event::LedgerCreated {
                table: project.ledger_table.clone(),
            });
        }
    }
    let (_, reconciled) = project.reconcile().await?;
    let accepted = check_refusals(&reconciled, project, options)?;

    let mut to_apply: Vec<&Migration> = reconciled
        .to_apply()
        .filter_map(|e| e.file.map(|i| &project.dir.migrations[i]))
        .collect();
    if let Some(target) = &options.to {
        let Some(last) = project
            .dir
            .migrations
            .iter()
            .rfind(|m| &m.name == target || m.version == *target)
        else {
            return Err(Error::TargetNotFound {
                target: target.clone(),
                dir: project.dir.root.clone(),
            });
        };
        to_apply.retain(|m| compare_names(&m.name, &last.name).is_le());
    }
    // The deploy gate: data-loss findings refuse the deploy unless accepted. Only migrations
    // whose text may lose data are replayed in a shadow for it; with the loss accepted (or no
    // shadow to be had) their statements' own targets are counted instead, so that deploy
    // never needs a shadow database.
    let names: Vec<String> = to_apply.iter().map(|m| m.name.clone()).collect();
    let mut data_loss = Vec::new();
    if !fresh && crate::lint::may_lose_data(&to_apply, dialect) {
        let replay = !options.allow_data_loss || options.dry_run;
        let findings = crate::lint::data_loss(project, settings, &names, replay).await?;
        let at_stake: Vec<String> = findings
            .iter()
            .filter(|f| f.rows != Some(0))
            .map(|f| {
                format!(
                    "{} (step {}, line {}): {}",
                    f.migration, f.step, f.line, f.message
                )
            })
            .collect();
        if !at_stake.is_empty() && !options.allow_data_loss && !options.dry_run {
            return Err(Error::DataLoss { findings: at_stake });
        }
        data_loss = at_stake;
    }
    let to_apply: Vec<&Migration> = names.iter().filter_map(|n| project.dir.get(n)).collect();
    // A migration that rolls back its own transaction would be recorded as applied with
    // nothing of it in the schema (issue #14, item 4): refused before anything runs.
    let scripts: Vec<Script> = to_apply
        .iter()
        .map(|m| Script::from_migration(m, dialect))
        .collect();
    for (m, script) in to_apply.iter().zip(&scripts) {
        if let Some(s) = script.steps.iter().find(|s| s.rolls_back()) {
            return Err(Error::RollsBackItself {
                name: m.name.clone(),
                line: s.line,
                statement: crate::run::first_line(&s.sql),
            });
        }
    }
    if dialect == keel_core::Dialect::Mysql {
        // `USE other_db` would land the rest of the migration, and the ledger write, in
        // another database (issue #13, item 16): refused before anything runs.
        for (m, script) in to_apply.iter().zip(&scripts) {
            for s in &script.steps {
                let first = s.sql.split_whitespace().next().unwrap_or("");
                if first.eq_ignore_ascii_case("USE") || first.eq_ignore_ascii_case("USE;") {
                    return Err(Error::SwitchesDatabase {
                        name: m.name.clone(),
                        line: s.line,
                    });
                }
            }
        }
    }
    on_event(&Event::Plan {
        pending: to_apply.iter().map(|m| m.name.clone()).collect(),
        ledger_table: project.ledger_table.clone(),
        accepted: accepted.clone(),
    });
    let mut report = DeployReport {
        ledger_table: project.ledger_table.clone(),
        applied: Vec::new(),
        accepted,
        dry_run_sql: None,
        data_loss,
        invalid_indexes: Vec::new(),
    };
    let total = to_apply.len();
    let table = project.ledger_table.clone();
    let mut ex = Executor::new(project.driver.as_mut(), on_event);
    for (k, (m, script)) in to_apply.into_iter().zip(scripts).enumerate() {
        let mode = script.mode(dialect);
        if options.dry_run {
            sql.push_str(&dry_run_text(dialect, &table, m, &script, &mode));
            report.applied.push(m.name.clone());
            continue;
        }
        (ex.on_event)(&Event::MigrationStarted {
            index: k + 1,
            total,
            name: m.name.clone(),
            transactional: mode.transactional(),
            steps: script.steps.len(),
        });
        // Still the session that holds the deploy lock (a pooler may hand it around), and
        // still holding it: a migration may have released it (`pg_advisory_unlock_all()`,
        // `RELEASE_ALL_LOCKS()`), and another deploy could now run beside this one.
        let holds = if k == 0 {
            ex.driver.verify_session().await?;
            true
        } else {
            ex.driver.session_holds_lock().await?
        };
        if !holds {
            return Err(Error::LockLost {
                after: report.applied.last().cloned().unwrap_or_default(),
                applied: report.applied,
            });
        }
        let started = Instant::now();
        let policy = LockPolicy::new(settings, Some(m));
        let mut ledger = Ledger::new(&table, m);
        match ex.run(&script, &mode, Some(policy), &mut ledger).await {
            Ok(()) => {
                (ex.on_event)(&Event::MigrationApplied {
                    index: k + 1,
                    total,
                    name: m.name.clone(),
                    duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    steps: script.steps.len(),
                });
                report.applied.push(m.name.clone());
            }
            Err(RunError::Step(failure)) => {
                (ex.on_event)(&Event::MigrationFailed {
                    name: m.name.clone(),
                    failure: failure.clone(),
                });
                return Err(Error::MigrationFailed {
                    name: m.name.clone(),
                    failure: Box::new(failure),
                    transactional: mode.transactional(),
                    applied_before: report.applied,
                });
            }
            Err(RunError::LockGaveUp {
                failure,
                attempts,
                holders,
            }) => {
                return Err(Error::LockWaitGaveUp {
                    name: m.name.clone(),
                    failure: Box::new(failure),
                    attempts,
                    lock_timeout: policy.lock_timeout,
                    holders,
                })
            }
            Err(RunError::Driver(source)) => {
                return Err(Error::Interrupted {
                    name: m.name.clone(),
                    transactional: mode.transactional(),
                    source,
                })
            }
            // The ledger progress verifies nothing; kept total all the same.
            Err(RunError::Differs(d)) => {
                return Err(Error::Interrupted {
                    name: m.name.clone(),
                    transactional: mode.transactional(),
                    source: keel_driver::DriverError::Server {
                        code: None,
                        message: d.join("; "),
                    },
                })
            }
        }
    }
    if options.dry_run {
        report.dry_run_sql = Some(sql);
    } else {
        // None that this deploy built (a step that leaves one fails); one left by another
        // tool or an older keel is said all the same.
        report.invalid_indexes = ex.driver.invalid_indexes().await?;
    }
    Ok(report)
}

/// Refuses on failed, modified, missing and out-of-order migrations; returns the findings the
/// options accepted.
fn check_refusals(
    r: &Reconciled,
    project: &Project,
    options: &DeployOptions,
) -> Result<Vec<String>, Error> {
    let names = |s: State| -> Vec<String> { r.with_state(s).map(|e| e.name.clone()).collect() };
    let failed = names(State::Failed);
    if !failed.is_empty() {
        return Err(Error::FailedMigrations { names: failed });
    }
    let mut accepted = Vec::new();
    let modified = names(State::Modified);
    if !modified.is_empty() {
        if !options.allow_modified {
            return Err(Error::Modified { names: modified });
        }
        accepted.extend(
            modified.iter().map(|n| {
                format!("modified after it was applied: {n} (accepted by --allow-modified)")
            }),
        );
    }
    let missing = names(State::Missing);
    if !missing.is_empty() {
        if !options.allow_missing {
            return Err(Error::Missing {
                names: missing,
                dir: project.dir.root.clone(),
            });
        }
        accepted.extend(
            missing
                .iter()
                .map(|n| format!("applied but not on disk: {n} (accepted by --allow-missing)")),
        );
    }
    let out_of_order = names(State::OutOfOrder);
    if !out_of_order.is_empty() {
        if !options.allow_out_of_order {
            return Err(Error::OutOfOrder {
                names: out_of_order,
            });
        }
        accepted.extend(out_of_order.iter().map(|n| {
            format!("out of order: {n} (applied anyway, accepted by --allow-out-of-order)")
        }));
    }
    Ok(accepted)
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn dry_run_text(
    dialect: Dialect,
    table: &str,
    m: &Migration,
    script: &Script,
    mode: &Mode,
) -> String {
    let t = keel_driver::quote_ident(dialect, table);
    let now = match dialect {
        Dialect::Postgres => "now()",
        Dialect::Mysql => "CURRENT_TIMESTAMP(3)",
        Dialect::Sqlite => "<epoch ms>",
    };
    let mut out = format!("-- migration {}", m.name);
    let n = script.steps.len();
    let insert = |finished: &str, count: usize| {
        format!(
            "INSERT INTO {t} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES ('<uuid>', {}, {finished}, {}, NULL, NULL, {now}, {count});\n",
            sql_literal(&m.checksum),
            sql_literal(&m.name)
        )
    };
    match mode.reason() {
        None => {
            out.push_str(" (one transaction)\n");
            if mode.sqlite_fk_off() {
                out.push_str("PRAGMA foreign_keys=OFF;\n");
            }
            out.push_str("BEGIN;\n");
            for s in &script.steps {
                out.push_str(&s.sql);
                out.push_str(";\n");
            }
            out.push_str(&insert(now, n));
            out.push_str("COMMIT;\n");
            if mode.sqlite_fk_off() {
                out.push_str("PRAGMA foreign_keys=ON;\n");
            }
        }
        Some(reason) => {
            out.push_str(&format!(" (step by step: {reason})\n"));
            out.push_str(&insert("NULL", 0));
            for (i, s) in script.steps.iter().enumerate() {
                out.push_str(&s.sql);
                out.push_str(";\n");
                out.push_str(&format!(
                    "UPDATE {t} SET applied_steps_count = {} WHERE id = '<uuid>';\n",
                    i + 1
                ));
            }
            out.push_str(&format!(
                "UPDATE {t} SET finished_at = {now} WHERE id = '<uuid>';\n"
            ));
        }
    }
    out.push('\n');
    out
}
