//! `keel drift`: the live schema against its applied migrations.

use crate::args::DriftArgs;
use keel::ExitStatus;
use keel::{Error, ExecuteOptions, Settings};

pub async fn run(settings: &Settings, a: &DriftArgs, json: bool) -> Result<ExitStatus, Error> {
    if a.revert {
        return revert(settings, a, json).await;
    }
    if let Some(name) = &a.record {
        return record(settings, name, a.dry_run, json).await;
    }
    let r = keel::drift(settings).await?;
    if json {
        out!(
            "{}",
            serde_json::json!({
                "drift": r.drifted(),
                "findings": r.findings,
                "changes": keel_core::schema::named::named_changes(&r.plan),
                "revert_sql": r.revert_sql.as_ref().ok(),
                "revert_losses": r.revert_losses,
                "record_sql": r.record_sql.as_ref().ok(),
                "shadows": r.shadows,
                "notes": r.notes,
                "not_compared": keel_core::schema::coverage::not_compared(r.plan.dialect),
            })
        );
        return Ok(if r.drifted() {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        });
    }
    for n in &r.notes {
        out!("note: {n}");
    }
    let not_compared = keel_core::schema::coverage::not_compared_line(r.plan.dialect);
    if !r.drifted() {
        out!("no drift: the database matches its applied migrations");
        out!("note: {not_compared}");
        return Ok(ExitStatus::Success);
    }
    for f in &r.findings {
        out!("{f}");
    }
    let show = |title: &str, sql: &Result<String, String>| match sql {
        Ok(s) => out!("\n-- {title}\n{s}"),
        Err(e) => out!("\n-- {title}: cannot be written automatically ({e})"),
    };
    show(
        "to bring the database back to its history: `keel drift --revert` runs this (review it: it may drop what was added by hand)",
        &r.revert_sql,
    );
    for l in &r.revert_losses {
        out!("--   drops {l}");
    }
    show(
        "to record the change in the history instead: `keel drift --record NAME` writes this as a migration and marks it applied",
        &r.record_sql,
    );
    out!("\nnote: {not_compared}");
    Ok(ExitStatus::Findings)
}

async fn revert(settings: &Settings, a: &DriftArgs, json: bool) -> Result<ExitStatus, Error> {
    let options = ExecuteOptions {
        allow_data_loss: a.allow_data_loss,
        dry_run: a.dry_run,
    };
    let mut confirm = super::execute::confirmer(
        a.yes,
        json,
        "Bring the database back to its history? Type `yes` to continue:",
    );
    let (drift, r) = keel::drift_revert(
        settings,
        options,
        &mut confirm,
        &mut super::execute::lock_waits,
    )
    .await?;
    if json {
        out!("{}", super::execute::report_json(&r, settings));
        return Ok(ExitStatus::Success);
    }
    if !drift.drifted() {
        out!("no drift: the database matches its applied migrations; nothing to run");
        return Ok(ExitStatus::Success);
    }
    for f in &drift.findings {
        out!("{f}");
    }
    super::execute::finished(&r, "");
    Ok(ExitStatus::Success)
}

async fn record(
    settings: &Settings,
    name: &str,
    dry_run: bool,
    json: bool,
) -> Result<ExitStatus, Error> {
    let (drift, r) = keel::drift_record(settings, name, dry_run).await?;
    if json {
        out!("{}", serde_json::to_string(&r).unwrap_or_default());
        return Ok(ExitStatus::Success);
    }
    if !drift.drifted() {
        out!("no drift: the database matches its applied migrations; nothing to record");
        return Ok(ExitStatus::Success);
    }
    for f in &drift.findings {
        out!("{f}");
    }
    match &r.dir {
        Some(dir) => {
            out!("created {}", dir.display());
            out!("recorded as applied: the history with it, replayed in a shadow database, is verified to reproduce the database");
        }
        None => {
            out!("-- migration.sql\n{}", r.up);
            out!("-- down.sql\n{}", r.down);
            out!("dry run: nothing written");
        }
    }
    Ok(ExitStatus::Success)
}
