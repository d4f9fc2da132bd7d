//! `keel plan`, `keel rollback`, `keel check`, `keel inspect`.

use crate::args::{InspectFormat, PlanArgs, RollbackArgs};
use keel::ExitStatus;
use keel::{Error, PlanOptions, Rename, RollbackOptions, RollbackReport, Settings};
use keel_core::redact::redact_in;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

fn interactive(json: bool) -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal() && !json
}

fn ask_yes(question: &str) -> bool {
    err_part!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "yes")
}

pub async fn plan(settings: &Settings, a: &PlanArgs, json: bool) -> Result<ExitStatus, Error> {
    let renames = a
        .rename
        .iter()
        .map(|r| r.parse::<Rename>())
        .collect::<Result<Vec<_>, _>>()?;
    let options = PlanOptions {
        name: a.name.clone(),
        schema_file: a.schema.clone(),
        renames,
        create_only: a.create_only,
    };
    let tty = interactive(json);
    let mut ask = |r: &Rename| -> Option<bool> {
        tty.then(|| {
            ask_yes(&format!(
                "Is {r} a rename? (a drop and an add loses the data) [y/N]"
            ))
        })
    };
    let r = keel::plan(settings, &options, &mut ask).await?;
    if json {
        out!(
            "{}",
            redact_in(
                &serde_json::to_string(&r).unwrap_or_default(),
                &settings.database_url
            )
        );
        return Ok(ExitStatus::Success);
    }
    let Some(dir) = &r.dir else {
        out!(
            "nothing to do: the migrations already produce {}",
            a.schema.display()
        );
        return Ok(ExitStatus::Success);
    };
    out!(
        "wrote {} (migration.sql and down.sql, verified in {})",
        dir.display(),
        r.shadows
            .last()
            .map(String::as_str)
            .unwrap_or("a shadow database")
    );
    for l in &r.summary {
        out!("  {l}");
    }
    for l in &r.losses {
        out!("warning: drops {l}");
    }
    if let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) {
        if let Ok(l) = keel::lint(settings, &[name]).await {
            for f in &l.findings {
                out!(
                    "{}[{}]: {} (step {}; docs/rules/{}.md)",
                    f.severity,
                    f.id,
                    f.message,
                    f.step,
                    f.id
                );
            }
        }
    }
    if r.deployed {
        out!(
            "deployed to {}",
            redact_in(&settings.database_url, &settings.database_url)
        );
    }
    Ok(ExitStatus::Success)
}

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

pub async fn rollback(
    settings: &Settings,
    a: &RollbackArgs,
    json: bool,
) -> Result<ExitStatus, Error> {
    let options = RollbackOptions {
        steps: a.steps,
        to: a.to.clone(),
        allow_data_loss: a.allow_data_loss,
        dry_run: a.dry_run,
    };
    let tty = interactive(json);
    let yes = a.yes;
    let mut confirm = |r: &RollbackReport| -> bool {
        if !json {
            print_rollback(r);
        }
        yes || (tty && ask_yes("Run this rollback? Type `yes` to continue:"))
    };
    let r = keel::rollback(settings, &options, &mut confirm).await?;
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

pub async fn check(settings: &Settings, schema: &Path, json: bool) -> Result<ExitStatus, Error> {
    let r = keel::check(settings, schema).await?;
    let code = r.exit_code();
    if json {
        out!("{}", serde_json::to_string(&r).unwrap_or_default());
        return Ok(code);
    }
    match &r.schema_file {
        Some(f) if r.schema_differences.is_empty() => {
            out!("ok: the migrations reproduce {}", f.display())
        }
        Some(f) => {
            out!(
                "error: the migrations do not reproduce {} (run `keel plan NAME`):",
                f.display()
            );
            for d in &r.schema_differences {
                out!("  {d}");
            }
        }
        None => out!("skipped: no {} to compare with", schema.display()),
    }
    let mut without = 0;
    for d in &r.downs {
        match &d.differences {
            None => without += 1,
            Some(v) if v.is_empty() => out!("ok: {}/down.sql undoes it", d.name),
            Some(v) => {
                out!("error: {}/down.sql does not undo it:", d.name);
                for l in v {
                    out!("  {l}");
                }
            }
        }
    }
    if without > 0 {
        out!("note: {without} migration(s) have no down.sql (they cannot be rolled back)");
    }
    let mut code = code;
    match keel::lint(settings, &[]).await {
        Ok(l) => {
            for f in l.findings.iter().filter(|f| f.allowed.is_none()) {
                out!(
                    "{}[{}]: {} ({} step {})",
                    f.severity,
                    f.id,
                    f.message,
                    f.migration,
                    f.step
                );
            }
            if l.exit_code() != ExitStatus::Success {
                out!("error: pending migrations have lint errors (`keel lint` for details)");
                code = ExitStatus::Findings;
            } else {
                out!(
                    "ok: {} pending migration(s) lint clean of errors",
                    l.migrations.len()
                );
            }
        }
        Err(e) => out!(
            "note: pending migrations not linted: {}",
            redact_in(&e.to_string(), &settings.database_url)
        ),
    }
    Ok(code)
}

pub async fn inspect(
    settings: &Settings,
    format: InspectFormat,
    json: bool,
) -> Result<ExitStatus, Error> {
    let schema = keel::inspect(settings).await?;
    let dialect = keel_driver::parse_url(&settings.database_url)?.dialect();
    let format = if json { InspectFormat::Json } else { format };
    match format {
        InspectFormat::Json => out!(
            "{}",
            serde_json::to_string_pretty(&schema).unwrap_or_default()
        ),
        InspectFormat::Mermaid => out_part!("{}", keel_core::schema::mermaid::render(&schema)),
        InspectFormat::Sql => {
            let plan = keel_core::schema::diff::diff(
                dialect,
                &keel_core::schema::Schema::default(),
                &schema,
            );
            out_part!("{}", keel_core::schema::render::render_script(&plan)?);
        }
    }
    Ok(ExitStatus::Success)
}
