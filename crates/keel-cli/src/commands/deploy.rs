//! `keel deploy`: progress bar on a terminal, one plain line per migration otherwise, one JSON
//! event per line with `--json`.

use crate::args::DeployArgs;
use indicatif::{ProgressBar, ProgressStyle};
use keel::ExitStatus;
use keel::{DeployOptions, Error, Event, Settings};
use std::io::IsTerminal;

pub async fn run(settings: &Settings, a: &DeployArgs, json: bool) -> Result<ExitStatus, Error> {
    let options = DeployOptions {
        dry_run: a.dry_run,
        to: a.to.clone(),
        allow_modified: a.allow_modified,
        allow_missing: a.allow_missing,
        allow_out_of_order: a.allow_out_of_order,
        allow_data_loss: a.allow_data_loss,
    };
    if let Some(note) = whole_seconds_note(settings) {
        err!("note: {note}");
    }
    let tty = std::io::stderr().is_terminal() && !json;
    let mut bar: Option<ProgressBar> = None;
    // On a terminal the bar is cleared at the end; the applied migrations are then printed,
    // so that the list stays on screen as Prisma's does (issue #13, item 17).
    let mut applied_lines: Vec<String> = Vec::new();
    let mut on_event = |e: &Event| {
        if json {
            if let Ok(line) = serde_json::to_string(e) {
                out!("{line}");
            }
            return;
        }
        if let Event::Plan { accepted, .. } = e {
            // Before anything is applied: the warning is about what deploy is about to do.
            // A dry run prints a SQL script: the warning is a comment in it.
            let prefix = if a.dry_run { "-- " } else { "" };
            for line in accepted {
                out!("{prefix}warning: {line}");
            }
        }
        match e {
            Event::Plan { pending, .. } if tty && !pending.is_empty() && !a.dry_run => {
                let pb = ProgressBar::new(pending.len() as u64);
                pb.set_style(
                    ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg} {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                pb.enable_steady_tick(std::time::Duration::from_millis(100));
                bar = Some(pb);
            }
            Event::MigrationStarted { name, .. } => {
                if let Some(pb) = &bar {
                    pb.set_message(name.clone());
                }
            }
            Event::MigrationApplied {
                index,
                total,
                name,
                duration_ms,
                steps,
            } => {
                let line = format!(
                    "applied {name} ({index}/{total}, {steps} step{}, {duration_ms} ms)",
                    if *steps == 1 { "" } else { "s" }
                );
                match &bar {
                    Some(pb) => {
                        pb.inc(1);
                        applied_lines.push(line);
                    }
                    None => out!("{line}"),
                }
            }
            Event::LedgerCreated { table } if !tty => out!("created ledger table {table}"),
            Event::LockWait { .. } => {
                // On stderr: waits are progress, not results.
                let line = crate::output::lock_wait_text(e).unwrap_or_default();
                match &bar {
                    Some(pb) => pb.println(crate::output::escape_controls(&line)),
                    None => err!("{line}"),
                }
            }
            _ => {}
        }
    };
    let result = keel::deploy(settings, &options, &mut on_event).await;
    if let Some(pb) = bar.take() {
        pb.finish_and_clear();
    }
    for line in &applied_lines {
        out!("{line}");
    }
    let report = result?;
    if let Some(sql) = &report.dry_run_sql {
        if json {
            out!(
                "{}",
                serde_json::json!({"event": "dry_run", "sql": sql, "migrations": report.applied, "data_loss": report.data_loss})
            );
        } else {
            out_part!("{sql}");
            for f in &report.data_loss {
                out!("-- data loss (deploy refuses without --allow-data-loss): {f}");
            }
            out!(
                "-- dry run: {} migration(s) would be applied; nothing was changed",
                report.applied.len()
            );
        }
        return Ok(ExitStatus::Success);
    }
    if json {
        out!(
            "{}",
            serde_json::json!({"event": "done", "applied": report.applied, "accepted": report.accepted, "data_loss": report.data_loss, "invalid_indexes": report.invalid_indexes.iter().map(|(t, i)| serde_json::json!({"table": t, "index": i})).collect::<Vec<_>>()})
        );
    } else {
        for line in crate::output::invalid_index_lines(&report.invalid_indexes) {
            out!("warning: {line}");
        }
        for line in &report.data_loss {
            out!("warning: data loss accepted (--allow-data-loss): {line}");
        }
        if report.applied.is_empty() {
            out!(
                "nothing to apply: the database is up to date ({})",
                settings.redacted_url()
            );
        } else {
            out!(
                "{} migration(s) applied to {}",
                report.applied.len(),
                settings.redacted_url()
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// MySQL and MariaDB count lock waits (`lock_wait_timeout`, `innodb_lock_wait_timeout`) in
/// whole seconds: a lock timeout that is not a whole number of seconds is rounded up, and the
/// user is told so instead of seeing a 200 ms setting wait a second.
fn whole_seconds_note(settings: &Settings) -> Option<String> {
    let dialect = settings.url().ok()?.dialect();
    let ms = settings.lock_timeout.as_millis();
    if dialect != keel_core::Dialect::Mysql || ms.is_multiple_of(1000) {
        return None;
    }
    let secs = ms.div_ceil(1000).max(1);
    Some(format!(
        "MySQL/MariaDB wait for locks in whole seconds: the lock timeout of {ms} ms is {secs} s there"
    ))
}
