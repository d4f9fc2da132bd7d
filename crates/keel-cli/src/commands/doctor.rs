//! `keel doctor` and `keel repair`.

use crate::args::RepairArgs;
use keel::ExitStatus;
use keel::{Error, RepairDirection, RepairOptions, RepairPlan, Settings, Severity};
use keel_core::redact::redact_in;
use std::io::{BufRead, IsTerminal, Write};

pub async fn doctor(settings: &Settings, json: bool) -> Result<ExitStatus, Error> {
    let r = keel::doctor(settings).await?;
    let url = &settings.database_url;
    let code = r.exit_code();
    if json {
        let v = serde_json::json!({
            "exit_code": code.code(),
            "findings": r.findings,
            "diagnoses": r.diagnoses,
        });
        out!("{}", redact_in(&v.to_string(), url));
        return Ok(code);
    }
    if r.findings.is_empty() {
        out!(
            "healthy: every migration is applied, the schema matches them, the deploy lock is free"
        );
        return Ok(ExitStatus::Success);
    }
    for f in &r.findings {
        let label = match f.severity {
            Severity::Repair => "repair",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        out!("{label}[{}]: {}", f.code, redact_in(&f.title, url));
        for d in &f.details {
            out!("  - {}", redact_in(d, url));
        }
        for (i, fix) in f.fixes.iter().enumerate() {
            let head = if i == 0 { "fix" } else { " or" };
            out!("  {head}: {}", redact_in(fix, url));
        }
        out!("  docs: docs/errors.md#{}", f.code.anchor());
        out!();
    }
    Ok(code)
}

pub async fn repair(settings: &Settings, a: &RepairArgs, json: bool) -> Result<ExitStatus, Error> {
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
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && !json;
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
        err_part!("Run this repair? Type `yes` to continue: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        line.trim() == "yes"
    };
    let r = keel::repair(settings, &a.name, options, &mut confirm).await?;
    if json {
        let v = serde_json::json!({
            "executed": r.executed,
            "state": r.state.to_string(),
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
    out!(
        "repair ({}, {}):",
        p.source,
        if p.transactional {
            "in one transaction with the ledger write"
        } else {
            "statement by statement: this database cannot roll DDL back"
        }
    );
    if p.statements.is_empty() {
        out!("  (no SQL)");
    }
    for s in &p.statements {
        out!("{s};");
    }
    for l in &p.losses {
        out!("  drops {l}");
    }
    out!("then: {}", p.ledger);
}
