//! `keel diff`.

use crate::args::DiffArgs;
use keel::ExitStatus;
use keel::{Error, Settings, Source};

pub async fn run(settings: &Settings, a: &DiffArgs, json: bool) -> Result<ExitStatus, Error> {
    let from: Source = a.from.parse()?;
    let to: Source = a.to.parse()?;
    let report = keel::diff(settings, &from, &to, a.strict).await?;
    let differs = !report.plan.is_empty();
    if json {
        let script = report.script().ok();
        out!(
            "{}",
            serde_json::json!({
                "changes": keel_core::schema::named::named_changes(&report.plan),
                "summary": report.summary,
                "script": script,
                "shadows": report.shadows,
                "kept": report.kept,
                "external": report.external,
                "not_compared": keel_core::schema::coverage::not_compared(report.plan.dialect),
            })
        );
    } else if a.script {
        out_part!("{}", report.script()?);
    } else {
        if differs {
            for line in &report.summary {
                out!("{line}");
            }
        } else {
            out!("no difference: the two schemas are the same");
        }
        print_kept(&report.kept, &report.external);
        out!(
            "note: {}",
            keel_core::schema::coverage::not_compared_line(report.plan.dialect)
        );
    }
    Ok(if a.exit_code && differs {
        ExitStatus::Findings
    } else {
        ExitStatus::Success
    })
}

/// The objects a `schema.prisma` side kept, and the external tables and enums left out, each
/// under one heading.
pub fn print_kept(kept: &[String], external: &[String]) {
    if !kept.is_empty() {
        out!("kept: not described by schema.prisma (--strict compares them):");
        for k in kept {
            out!("  {k}");
        }
    }
    if !external.is_empty() {
        out!("not compared: external in prisma.config.ts (Prisma Migrate leaves them to their owner):");
        for k in external {
            out!("  {k}");
        }
    }
}
