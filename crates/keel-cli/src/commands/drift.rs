//! `keel drift`: the live schema against its applied migrations.

use keel::ExitStatus;
use keel::{Error, Settings};

pub async fn run(settings: &Settings, json: bool) -> Result<ExitStatus, Error> {
    let r = keel::drift(settings).await?;
    if json {
        out!(
            "{}",
            serde_json::json!({
                "drift": r.drifted(),
                "findings": r.findings,
                "changes": r.plan.changes,
                "revert_sql": r.revert_sql.as_ref().ok(),
                "record_sql": r.record_sql.as_ref().ok(),
                "shadows": r.shadows,
                "notes": r.notes,
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
    if !r.drifted() {
        out!("no drift: the database matches its applied migrations");
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
        "to bring the database back to its history (review it: it may drop what was added by hand)",
        &r.revert_sql,
    );
    show(
        "to record the change in the history instead: `keel new NAME`, put this in its migration.sql, then `keel resolve --applied NAME`",
        &r.record_sql,
    );
    Ok(ExitStatus::Findings)
}
