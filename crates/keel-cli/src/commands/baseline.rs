//! `keel baseline`: record how much of an existing history a database already has, or capture
//! a database without history as a verified first migration.

use keel::ExitStatus;
use keel::{Error, Settings};
use keel_core::schema::coverage::{not_compared, not_compared_line};

pub async fn run(settings: &Settings, name: Option<&str>, json: bool) -> Result<ExitStatus, Error> {
    let dialect = settings.url()?.dialect();
    let has_history = name.is_none()
        && !settings
            .read_migrations_allow_missing()?
            .migrations
            .is_empty();
    if has_history {
        let r = keel::baseline_history(settings).await?;
        if json {
            out!(
                "{}",
                serde_json::json!({"recorded": r.recorded, "pending": r.pending, "shadow": r.shadow, "compared": r.compared, "not_compared": not_compared(dialect)})
            );
        } else {
            out!(
                "the database has the schema of the first {} migration(s), through `{}` (replayed in {}, compared {} time(s)): recorded as applied",
                r.recorded.len(),
                r.recorded.last().map(String::as_str).unwrap_or(""),
                r.shadow,
                r.compared
            );
            if r.pending.is_empty() {
                out!("nothing is pending");
            } else {
                out!(
                    "{} migration(s) pending, from `{}`: next, `keel deploy`",
                    r.pending.len(),
                    r.pending[0]
                );
            }
            out!("note: {}", not_compared_line(dialect));
        }
        return Ok(ExitStatus::Success);
    }
    let r = keel::baseline(settings, name.unwrap_or("baseline")).await?;
    if json {
        out!(
            "{}",
            serde_json::json!({"migration": r.name, "path": r.path, "tables": r.tables, "shadow": r.shadow, "not_compared": not_compared(dialect)})
        );
    } else {
        out!(
            "wrote {} ({} tables), verified in {}, recorded as applied",
            r.path.display(),
            r.tables,
            r.shadow
        );
        out!(
            "note: verified as far as keel compares: {}",
            not_compared_line(dialect)
        );
    }
    Ok(ExitStatus::Success)
}
