//! `keel rollback`: runs the latest down.sql files, after showing what they drop.

use crate::args::RollbackArgs;
use crate::prompt;
use keel::ExitStatus;
use keel::{Error, RollbackOptions, RollbackReport, Settings};

fn print_rollback(r: &RollbackReport) {
    for it in &r.items {
        out!(
            "-- roll back {} ({})",
            it.name,
            if it.transactional {
                "in one transaction with the ledger write"
            } else {
                "statement by statement"
            }
        );
        out_part!("{}", it.down);
        if !it.down.ends_with('\n') {
            out!();
        }
        for l in &it.losses {
            out!("--   drops {l}");
        }
    }
}

pub async fn run(settings: &Settings, a: &RollbackArgs, json: bool) -> Result<ExitStatus, Error> {
    let options = RollbackOptions {
        steps: a.steps,
        to: a.to.clone(),
        allow_data_loss: a.allow_data_loss,
        dry_run: a.dry_run,
    };
    let tty = prompt::interactive(json);
    let yes = a.yes;
    let mut confirm = |r: &RollbackReport| -> bool {
        if !json {
            print_rollback(r);
        }
        yes || (tty && prompt::typed("Run this rollback? Type `yes` to continue:", "yes"))
    };
    let r = keel::rollback_with_events(settings, &options, &mut confirm, &mut |e| {
        if let Some(line) = crate::output::lock_wait_text(e) {
            err!("{line}");
        }
    })
    .await?;
    if json {
        out!("{}", serde_json::to_string(&r).unwrap_or_default());
        return Ok(ExitStatus::Success);
    }
    if r.items.is_empty() {
        out!("nothing to roll back");
    } else if !r.executed {
        print_rollback(&r);
        out!("dry run: nothing changed");
    } else {
        for it in &r.items {
            out!(
                "rolled back {} (schema verified; ledger: rolled back)",
                it.name
            );
        }
    }
    Ok(ExitStatus::Success)
}
