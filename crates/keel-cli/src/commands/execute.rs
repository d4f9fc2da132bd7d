//! `keel execute FILE`.

use crate::args::ExecuteArgs;
use keel::{Error, ExecuteOptions, ExecutePlan, ExecuteReport, ExitStatus, Settings};
use keel_core::redact::redact_in;

pub async fn run(settings: &Settings, a: &ExecuteArgs, json: bool) -> Result<ExitStatus, Error> {
    let options = ExecuteOptions {
        allow_data_loss: a.allow_data_loss,
        dry_run: a.dry_run,
    };
    let mut confirm = confirmer(a.yes, json, "Run this script? Type `yes` to continue:");
    let r = keel::execute(settings, &a.file, options, &mut confirm, &mut lock_waits).await?;
    if json {
        out!("{}", report_json(&r, settings));
        return Ok(ExitStatus::Success);
    }
    finished(&r, "");
    Ok(ExitStatus::Success)
}

/// Prints lock waits as deploy does.
pub(crate) fn lock_waits(e: &keel::Event) {
    if let Some(line) = crate::output::lock_wait_text(e) {
        err!("{line}");
    }
}

/// The confirmation of a plan: printed (not with JSON), then `--yes`, else a typed `yes` on
/// a terminal, else refused.
pub(crate) fn confirmer(
    yes: bool,
    json: bool,
    question: &'static str,
) -> impl FnMut(&ExecutePlan) -> bool + Send {
    let interactive = crate::prompt::interactive(json);
    move |plan: &ExecutePlan| {
        if !json {
            print_plan(plan);
        }
        if yes {
            return true;
        }
        interactive && crate::prompt::typed(question, "yes")
    }
}

/// The plan: where the statements come from, how they run, the statements, what they drop.
pub(crate) fn print_plan(p: &ExecutePlan) {
    let how = crate::output::how_it_runs(p.step_by_step.as_deref(), "in one transaction");
    crate::output::print_statements(&format!("{} ({how})", p.source), &p.statements, &p.losses);
}

/// The last lines: what ran, and what was checked (never "verified" for a script keel
/// could not check).
pub(crate) fn finished(r: &ExecuteReport, next: &str) {
    if !r.executed {
        if r.plan.statements.is_empty() {
            out!("nothing to run: {} holds no statements", r.plan.source);
        } else {
            print_plan(&r.plan);
            out!("dry run: nothing changed");
        }
        return;
    }
    let n = r.plan.statements.len();
    match (&r.plan.verified_against, r.verified) {
        (Some(what), true) => out!(
            "ran {n} statement(s); the schema is verified to be {what}{next}"
        ),
        _ => out!(
            "ran {n} statement(s); nothing recorded in the ledger (keel cannot check a script's intent: `keel drift` compares the schema with its history){next}"
        ),
    }
}

/// `{"executed","verified","plan"}`, redacted.
pub(crate) fn report_json(r: &ExecuteReport, settings: &Settings) -> String {
    let v = serde_json::json!({
        "executed": r.executed,
        "verified": r.verified,
        "plan": r.plan,
    });
    redact_in(&v.to_string(), &settings.database_url)
}
