//! `keel doctor` (issue #4, item 3): what is wrong with a database and its migrations, and the
//! exact command that fixes each finding. Read-only on the target (the deploy lock is taken
//! for an instant to see whether someone holds it).

use crate::diagnose::{diagnose_in, Diagnosis};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::project::Project;
use crate::settings::Settings;
use keel_core::codes::ErrorCode;
use keel_core::ledger::State;
use keel_driver::DriverError;
use serde::Serialize;
use std::time::Duration;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A failed migration: deploy refuses until it is repaired (exit 3).
    Repair,
    /// Deploy refuses, or the database differs from its history (exit 2).
    Warning,
    /// Work to do, nothing wrong (exit 2): pending migrations.
    Info,
}

/// One thing doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code, listed in docs/errors.md (the code of the error deploy would give).
    pub code: ErrorCode,
    /// How bad.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// What keel measured, one sentence each.
    pub details: Vec<String>,
    /// The commands that fix it, best first.
    pub fixes: Vec<String>,
}

/// Everything doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// The database URL, redacted.
    pub url: String,
    /// The ledger table.
    pub ledger_table: String,
    /// Findings, most urgent first.
    pub findings: Vec<Finding>,
    /// The diagnosis of each failed migration.
    pub diagnoses: Vec<Diagnosis>,
}

impl DoctorReport {
    /// 0 healthy, 3 when a failed migration needs repair, 2 for any other finding.
    pub fn exit_code(&self) -> ExitStatus {
        if self.findings.iter().any(|f| f.severity == Severity::Repair) {
            ExitStatus::NeedsRepair
        } else if self.findings.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::Findings
        }
    }
}

/// Runs every check.
///
/// # Errors
/// Connection and migrations-directory errors. A check that cannot run (no shadow database for
/// the drift check or a diagnosis) becomes a finding instead.
pub async fn doctor(settings: &Settings) -> Result<DoctorReport, Error> {
    let mut project = Project::open(settings).await?;
    let result = checks(&mut project, settings).await;
    project.close().await;
    let mut report = result?;
    let no_failed = report.diagnoses.is_empty()
        && !report
            .findings
            .iter()
            .any(|f| f.severity == Severity::Repair);
    let ledger_ok = !report.findings.iter().any(|f| f.code == ErrorCode::K3005);
    if no_failed && ledger_ok {
        match crate::drift::drift(settings).await {
            Ok(d) if d.drifted() => report.findings.push(Finding {
                code: ErrorCode::K4040,
                severity: Severity::Warning,
                title: format!(
                    "drift: the schema differs from its applied migrations ({} difference{})",
                    d.findings.len(),
                    if d.findings.len() == 1 { "" } else { "s" }
                ),
                details: d.findings.clone(),
                fixes: vec![
                    "record the change in a new migration: `keel drift` prints its SQL (save it with `keel new NAME`, then `keel resolve --applied NAME`)".into(),
                    "undo it: `keel drift` prints the SQL that brings the database back to its history".into(),
                ],
            }),
            Ok(_) => {}
            Err(e) => report.findings.push(unchecked("drift", &e)),
        }
    }
    report.findings.sort_by_key(|f| match f.severity {
        Severity::Repair => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    });
    Ok(report)
}

fn unchecked(what: &str, e: &Error) -> Finding {
    Finding {
        code: e.code(),
        severity: Severity::Warning,
        title: format!("{what} not checked: {e}"),
        details: Vec::new(),
        fixes: vec![e.fix()],
    }
}

async fn checks(project: &mut Project, settings: &Settings) -> Result<DoctorReport, Error> {
    let mut findings = Vec::new();
    let mut diagnoses = Vec::new();
    let url = project.driver.redacted_url().to_string();
    let table = project.ledger_table.clone();

    // The deploy lock: taken and released at once when free.
    let mut lock_held = false;
    match project.driver.lock(Duration::ZERO).await {
        Ok(()) => {
            let _ = project.driver.unlock().await;
        }
        Err(DriverError::LockTimeout { holder, .. }) => {
            lock_held = true;
            findings.push(Finding {
                code: ErrorCode::K1002,
                severity: Severity::Warning,
                title: format!(
                    "the deploy lock is held{}",
                    holder
                        .as_ref()
                        .map(|h| format!(" by {h}"))
                        .unwrap_or_default()
                ),
                details: vec![
                    "a deploy (keel or Prisma) is running, or a session that took the lock is stuck; deploy waits for it".into(),
                ],
                fixes: vec![
                    "wait for that deploy to finish; if the holder is stuck, end its session (`SELECT pg_terminate_backend(pid)` / `KILL id`)".into(),
                ],
            });
        }
        Err(e) => return Err(e.into()),
    }

    if !project.ledger_exists {
        let tables = project.driver.user_tables().await?;
        if !tables.is_empty() {
            let shown: Vec<&str> = tables.iter().take(10).map(String::as_str).collect();
            findings.push(Finding {
                code: ErrorCode::K3005,
                severity: Severity::Warning,
                title: format!(
                    "the database has {} table{} but no ledger `{table}`",
                    tables.len(),
                    if tables.len() == 1 { "" } else { "s" }
                ),
                details: vec![format!(
                    "tables: {}{}",
                    shown.join(", "),
                    if tables.len() > 10 { ", …" } else { "" }
                )],
                fixes: if project.dir.migrations.is_empty() {
                    vec!["capture it as a first migration: `keel baseline`".into()]
                } else {
                    vec!["`keel baseline` records how much of the history the database already has (found by replaying it in a shadow database); then `keel deploy` applies the rest".into()]
                },
            });
        }
    }

    let (rows, reconciled) = project.reconcile().await?;
    findings.extend(ledger_inconsistencies(
        &rows,
        &table,
        &keel_driver::quote_ident(project.driver.dialect(), &table),
    ));
    for e in reconciled.with_state(State::Failed) {
        let name = e.name.clone();
        match diagnose_in(project, settings, &rows, &reconciled, &name).await {
            Ok(d) => {
                let mut details = Vec::new();
                if lock_held {
                    details.push("the deploy lock is held: this may be a migration that is running now, not a failed one".into());
                }
                if let Some(log) = &d.logs {
                    if let Some(first) = log.lines().next() {
                        details.push(format!("ledger: {first}"));
                    }
                }
                details.push(format!(
                    "ledger: applied_steps_count = {} of {} steps",
                    d.ledger_applied_steps,
                    d.steps.len()
                ));
                if d.matching_states.len() > 1 {
                    details.push(format!(
                        "the schema matches the states {} alike: the steps between them change data only",
                        d.matching_states
                            .iter()
                            .map(|k| crate::diagnose::state_name(*k, d.steps.len()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if let crate::Classification::Diverged {
                    to_pre, to_post, ..
                } = &d.classification
                {
                    for line in to_pre {
                        details.push(format!("compared with before the migration: {line}"));
                    }
                    for line in to_post {
                        details.push(format!("compared with after the migration: {line}"));
                    }
                }
                if let (Some(k), None) = (d.failed_step, &d.logs) {
                    if let Some(s) = d.steps.get(k - 1) {
                        details.push(format!(
                            "failed step {k}: line {}: {}",
                            s.line, s.first_line
                        ));
                    }
                }
                details.extend(d.causes.iter().map(|c| format!("cause: {c}")));
                findings.push(Finding {
                    code: ErrorCode::K3009,
                    severity: Severity::Repair,
                    title: format!("migration `{name}` failed: {}", d.headline()),
                    details,
                    fixes: d.fixes.clone(),
                });
                diagnoses.push(d);
            }
            Err(err) => {
                let mut f = unchecked(&format!("failed migration `{name}`"), &err);
                f.code = ErrorCode::K3009;
                f.severity = Severity::Repair;
                f.fixes.push(format!("then `keel doctor` again; or find out by hand and `keel resolve --rolled-back {name}` / `--applied {name}`"));
                findings.push(f);
            }
        }
    }

    let list = |state: State| -> Vec<String> {
        reconciled
            .with_state(state)
            .map(|e| e.name.clone())
            .collect()
    };
    let modified = list(State::Modified);
    if !modified.is_empty() {
        findings.push(Finding {
            code: ErrorCode::K4001,
            severity: Severity::Warning,
            title: format!("{} applied migration(s) changed on disk since they were applied", modified.len()),
            details: modified.iter().map(|n| format!("modified: {n}")).collect(),
            fixes: vec!["restore the files as applied (`git checkout`), and put the change in a new migration (`keel new NAME`); or accept with `keel deploy --allow-modified`".into()],
        });
    }
    let missing = list(State::Missing);
    if !missing.is_empty() {
        findings.push(Finding {
            code: ErrorCode::K4002,
            severity: Severity::Warning,
            title: format!("{} applied migration(s) have no folder on disk", missing.len()),
            details: missing.iter().map(|n| format!("missing: {n}")).collect(),
            fixes: vec!["restore the folders (e.g. from version control); or accept with `keel deploy --allow-missing`".into()],
        });
    }
    let out_of_order = list(State::OutOfOrder);
    if !out_of_order.is_empty() {
        findings.push(Finding {
            code: ErrorCode::K4003,
            severity: Severity::Warning,
            title: format!("{} pending migration(s) sort before the newest applied one", out_of_order.len()),
            details: out_of_order.iter().map(|n| format!("out of order: {n}")).collect(),
            fixes: vec!["give them a newer version (rename the folders); or apply them with `keel deploy --allow-out-of-order`".into()],
        });
    }
    let pending: Vec<String> = reconciled
        .entries
        .iter()
        .filter(|e| matches!(e.state, State::Pending | State::RolledBack))
        .map(|e| e.name.clone())
        .collect();
    if !pending.is_empty() {
        findings.push(Finding {
            code: ErrorCode::K4041,
            severity: Severity::Info,
            title: format!("{} migration(s) pending", pending.len()),
            details: pending.iter().map(|n| format!("pending: {n}")).collect(),
            fixes: vec!["`keel deploy`".into()],
        });
    }
    // After the failed migrations: an INVALID index a failed migration left goes with its
    // repair, which comes first.
    for (t, i) in project.driver.invalid_indexes().await? {
        let q = |n: &str| keel_driver::quote_ident(keel_core::Dialect::Postgres, n);
        findings.push(Finding {
            code: ErrorCode::K4090,
            severity: Severity::Repair,
            title: format!("index {} on {} is INVALID", q(&i), q(&t)),
            details: vec![
                "a CREATE INDEX CONCURRENTLY that failed, was cancelled or was killed left it: queries do not use it, every write still maintains it, and `IF NOT EXISTS` skips it".into(),
            ],
            fixes: vec![
                format!("`DROP INDEX CONCURRENTLY {};`, then create it again (keel deploy does when its migration is pending, keel repair --finish when it is failed)", q(&i)),
            ],
        });
    }

    Ok(DoctorReport {
        url,
        ledger_table: table,
        findings,
        diagnoses,
    })
}

/// Rows of the ledger that contradict each other or lack what every row has: a migration
/// recorded as finished more than once (two tools, or a resolve beside a deploy), a row
/// without a checksum. Each is a K1010 finding naming the rows, the same on every database.
fn ledger_inconsistencies(
    rows: &[keel_core::ledger::LedgerRow],
    table: &str,
    quoted: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = rows.iter().map(|r| r.migration_name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let finished: Vec<&keel_core::ledger::LedgerRow> = rows
            .iter()
            .filter(|r| {
                r.migration_name == name && r.finished_at.is_some() && r.rolled_back_at.is_none()
            })
            .collect();
        if finished.len() > 1 {
            let mut sums: Vec<&str> = finished.iter().map(|r| r.checksum.as_str()).collect();
            sums.dedup();
            out.push(Finding {
                code: ErrorCode::K1010,
                severity: Severity::Warning,
                title: format!(
                    "the ledger `{table}` records `{name}` as applied {} times",
                    finished.len()
                ),
                details: vec![format!(
                    "rows {}{}",
                    finished.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", "),
                    if sums.len() > 1 {
                        " with different checksums: the migration was applied twice, in two versions"
                    } else {
                        ""
                    }
                )],
                fixes: vec![format!(
                    "check which version the schema has (`keel drift`), then delete the other row: `DELETE FROM {quoted} WHERE id = '…'`"
                )],
            });
        }
    }
    for r in rows.iter().filter(|r| r.checksum.is_empty()) {
        out.push(Finding {
            code: ErrorCode::K1010,
            severity: Severity::Warning,
            title: format!(
                "the ledger row {} of `{}` has no checksum",
                r.id, r.migration_name
            ),
            details: vec![
                "the ledger was altered by hand; the migration reads as modified".into(),
            ],
            fixes: vec![
                "restore its checksum (the SHA-256 of migration.sql), or delete the row if the migration is recorded by another".into(),
            ],
        });
    }
    out
}
