//! `keel inspect`: the live schema as SQL, JSON, Mermaid or schema.prisma.

use crate::args::InspectFormat;
use keel::ExitStatus;
use keel::{Error, Settings};

pub async fn run(
    settings: &Settings,
    format: InspectFormat,
    json: bool,
) -> Result<ExitStatus, Error> {
    let schema = keel::inspect(settings).await?;
    let dialect = settings.url()?.dialect();
    let format = if json { InspectFormat::Json } else { format };
    match format {
        InspectFormat::Json => out!(
            "{}",
            serde_json::to_string_pretty(&schema).unwrap_or_default()
        ),
        InspectFormat::Mermaid => out_part!("{}", keel_core::schema::mermaid::render(&schema)),
        InspectFormat::Prisma => {
            let current = settings.url()?.schema();
            out_part!(
                "{}",
                keel_prisma::pull::render(&schema, dialect, current.as_deref())
            );
        }
        InspectFormat::Sql => {
            let script = schema.creation_script(dialect)?;
            out!(
                "-- {}",
                keel_core::schema::coverage::not_compared_line(dialect)
            );
            out_part!("{script}");
        }
    }
    Ok(ExitStatus::Success)
}
