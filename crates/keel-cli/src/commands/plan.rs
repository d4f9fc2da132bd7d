//! `keel plan`: the next migration from schema.sql, verified in a shadow.

use crate::args::PlanArgs;
use crate::prompt;
use keel::ExitStatus;
use keel::{Error, PlanOptions, Rename, Settings};
use keel_core::redact::redact_in;

pub async fn run(settings: &Settings, a: &PlanArgs, json: bool) -> Result<ExitStatus, Error> {
    let renames = a
        .rename
        .iter()
        .map(|r| r.parse::<Rename>())
        .collect::<Result<Vec<_>, _>>()?;
    let schema = a
        .schema
        .clone()
        .unwrap_or_else(|| keel::desired::default_schema(std::path::Path::new(".")));
    let options = PlanOptions {
        name: a.name.clone(),
        schema_file: schema.clone(),
        strict: a.strict,
        renames,
        create_only: a.create_only,
    };
    let tty = prompt::interactive(json);
    let mut ask = |r: &Rename| -> Option<bool> {
        tty.then(|| {
            prompt::yes_no(&format!(
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
    crate::commands::diff::print_kept(&r.kept, &r.external);
    let Some(dir) = &r.dir else {
        out!(
            "nothing to do: the migrations already produce {}",
            schema.display()
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
    for f in &r.lint {
        out!(
            "{}[{}]: {} (step {}; docs/rules/{}.md)",
            f.severity,
            f.id,
            f.message,
            f.step,
            f.id
        );
    }
    if r.deployed {
        out!(
            "deployed to {}",
            redact_in(&settings.database_url, &settings.database_url)
        );
    }
    Ok(ExitStatus::Success)
}
