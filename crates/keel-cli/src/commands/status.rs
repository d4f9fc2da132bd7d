//! `keel status`.

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use keel::ExitStatus;
use keel::{Error, Settings};
use keel_core::ledger::State;

pub async fn run(
    settings: &Settings,
    exit_code: bool,
    with_drift: bool,
    json: bool,
) -> Result<ExitStatus, Error> {
    let report = if with_drift {
        keel::status_with_drift(settings).await?
    } else {
        keel::status(settings).await?
    };
    let drift = &report.drift;
    // Non-zero by default, as `prisma migrate status` since 4.3, so that CI scripts moved
    // from Prisma keep failing on pending or failed migrations; `--exit-code` is still
    // accepted and changes nothing (issue #13, item 15).
    let _ = exit_code;
    let code = report.exit_code();
    if json {
        let migrations: Vec<_> = report
            .reconciled
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "name": e.name,
                    "state": report.state_word(e).replace(' ', "_"),
                    "started_at": e.row.as_ref().map(|r| r.started_at),
                    "finished_at": e.row.as_ref().and_then(|r| r.finished_at),
                    "duration_ms": e.row.as_ref().and_then(|r| r.duration_ms()),
                    "applied_steps_count": e.row.as_ref().map(|r| r.applied_steps_count),
                    "attempts": e.attempts,
                    "logs": e.row.as_ref().and_then(|r| r.logs.clone()),
                })
            })
            .collect();
        out!(
            "{}",
            serde_json::json!({
                "database": report.url,
                "dialect": report.dialect.prisma_provider(),
                "ledger_table": report.ledger_table,
                "ledger_exists": report.ledger_exists,
                "unmanaged_tables": report.unmanaged_tables,
                "summary": report.summary(),
                "running": report.running.as_ref().map(|r| serde_json::json!({"name": r.name, "deploy_lock_holder": r.holder})),
                "migrations": migrations,
                "drift": drift.as_ref().map(|d| d.findings.clone()),
                "invalid_indexes": report.invalid_indexes.iter().map(|(t, i)| serde_json::json!({"table": t, "index": i})).collect::<Vec<_>>(),
            })
        );
        return Ok(code);
    }
    out!(
        "{} · ledger {}{} · {}",
        report.url,
        report.ledger_table,
        if report.ledger_exists {
            ""
        } else {
            " (not created yet)"
        },
        report.migrations_dir.display()
    );
    if !report.reconciled.entries.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_BORDERS_ONLY);
        // Fit the terminal (long real migration names wrap instead of a 121-column table);
        // `COLUMNS` sets the width when stdout is not a terminal.
        table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        if let Some(w) = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
        {
            table.set_width(w.max(40));
        }
        table.set_header(vec![
            "migration",
            "state",
            "applied at (UTC)",
            "duration",
            "steps",
        ]);
        if let Some(c) = table.column_mut(0) {
            c.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
                comfy_table::Width::Percentage(45),
            ));
        }
        for e in &report.reconciled.entries {
            let row = e.row.as_ref();
            let at = row
                .and_then(|r| r.finished_at.or(Some(r.started_at)))
                .filter(|_| e.state != State::Pending)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let duration = row
                .and_then(|r| r.duration_ms())
                .map(|ms| format!("{ms} ms"))
                .unwrap_or_default();
            let steps = row
                .filter(|_| matches!(e.state, State::Failed | State::Applied | State::Modified))
                .map(|r| r.applied_steps_count.to_string())
                .unwrap_or_default();
            table.add_row(vec![
                e.name.clone(),
                report.state_word(e).to_string(),
                at,
                duration,
                steps,
            ]);
        }
        out!("{table}");
    }
    out!("{}", report.summary());
    if let Some(d) = &drift {
        if d.drifted() {
            out!(
                "drift: {} difference(s) between the database and its applied migrations:",
                d.findings.len()
            );
            for f in &d.findings {
                out!("  {f}");
            }
            out!("`keel drift` prints the SQL for both ways to reconcile");
        } else {
            out!("no drift: the database matches its applied migrations");
        }
    }
    for line in crate::output::invalid_index_lines(&report.invalid_indexes) {
        out!("{line}");
    }
    if !report.unmanaged_tables.is_empty() {
        out!(
            "the database has {} table(s) but no ledger: capture it with `keel baseline`, or record an existing first migration with `keel resolve --applied NAME` (error K3005 on deploy)",
            report.unmanaged_tables.len()
        );
    }
    if let Some(r) = &report.running {
        out!(
            "`{}` is being applied now: another session holds the deploy lock ({}); run `keel status` again when it ends",
            r.name, r.holder
        );
    }
    for e in report.failed() {
        if let Some(logs) = e.row.as_ref().and_then(|r| r.logs.as_deref()) {
            out!("\n`{}` failed:\n{}", e.name, logs.trim_end());
        }
        out!(
            "fix: `keel doctor` measures which of its steps took effect and why it failed, and names the command: `keel repair {0} --finish` / `--revert`, or `keel resolve`",
            e.name
        );
    }
    Ok(code)
}
