//! `keel repair NAME --finish|--revert`.

use crate::args::RepairArgs;
use keel::ExitStatus;
use keel::{Error, RepairDirection, RepairOptions, RepairPlan, Settings};
use keel_core::redact::redact_in;

pub async fn run(settings: &Settings, a: &RepairArgs, json: bool) -> Result<ExitStatus, Error> {
    let direction = if a.finish {
        RepairDirection::Finish
    } else {
        RepairDirection::Revert
    };
    let options = RepairOptions {
        direction,
        allow_data_loss: a.allow_data_loss,
        dry_run: a.dry_run,
    };
    let interactive = crate::prompt::interactive(json);
    let yes = a.yes;
    let mut confirm = |plan: &RepairPlan| -> bool {
        if !json {
            print_plan(plan);
        }
        if yes {
            return true;
        }
        if !interactive {
            return false;
        }
        crate::prompt::typed("Run this repair? Type `yes` to continue:", "yes")
    };
    let r = keel::repair_with_events(settings, &a.name, options, &mut confirm, &mut |e| {
        if let Some(line) = crate::output::lock_wait_text(e) {
            err!("{line}");
        }
    })
    .await?;
    if json {
        let v = serde_json::json!({
            "executed": r.executed,
            "state": r.state,
            "plan": r.plan,
        });
        out!("{}", redact_in(&v.to_string(), &settings.database_url));
        return Ok(ExitStatus::Success);
    }
    if !r.executed {
        print_plan(&r.plan);
        out!("dry run: nothing changed");
        return Ok(ExitStatus::Success);
    }
    out!(
        "repaired `{}`: the schema is verified to be {}; {}",
        r.plan.name,
        match direction {
            RepairDirection::Finish => "the state after the migration",
            RepairDirection::Revert => "the state before the migration",
        },
        r.plan.ledger
    );
    if direction == RepairDirection::Revert {
        out!("next: fix the cause, then `keel deploy`");
    }
    Ok(ExitStatus::Success)
}

fn print_plan(p: &RepairPlan) {
    out!("migration `{}`: {}", p.name, p.diagnosis.headline());
    for c in &p.diagnosis.causes {
        out!("  cause: {c}");
    }
    let how = crate::output::how_it_runs(
        p.step_by_step.as_deref(),
        "in one transaction with the ledger write",
    );
    crate::output::print_statements(
        &format!("repair ({}, {how})", p.source),
        &p.statements,
        &p.losses,
    );
    out!("then: {}", p.ledger);
}
