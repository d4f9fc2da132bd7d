//! `keel diff`.

use crate::args::DiffArgs;
use keel::ExitStatus;
use keel::{Error, Settings, Source};

pub async fn run(settings: &Settings, a: &DiffArgs, json: bool) -> Result<ExitStatus, Error> {
    let from: Source = a.from.parse()?;
    let to: Source = a.to.parse()?;
    let report = keel::diff(settings, &from, &to).await?;
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
