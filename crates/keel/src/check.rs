//! `keel check` for CI (issue #6, item 6): the migrations directory reproduces `schema.sql`,
//! and every `down.sql` undoes its migration exactly (both replayed in a shadow database).
//! Read-only: touches no target database.

use crate::diff::{read_pair, Source};
use crate::error::Error;
use crate::lint::LintReport;
use crate::settings::Settings;
use crate::shadow::Shadow;
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::summary::summarize;
use serde::Serialize;
use std::path::PathBuf;

/// One migration's down script, checked.
#[derive(Debug, Clone, Serialize)]
pub struct DownCheck {
    /// The migration.
    pub name: String,
    /// `None` when it has no down.sql; else what differs after up + down from the schema
    /// before it (empty = it undoes its migration exactly).
    pub differences: Option<Vec<String>>,
}

/// What `keel check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The desired schema compared, when the file exists.
    pub schema_file: Option<PathBuf>,
    /// What differs from the replayed history to `schema.sql` (empty = reproduced).
    pub schema_differences: Vec<String>,
    /// What a `schema.prisma` kept of the history: objects it cannot describe, one line each.
    pub kept: Vec<String>,
    /// The external tables and enums of `prisma.config.ts` left out, one line each.
    pub external: Vec<String>,
    /// Every migration, in order.
    pub downs: Vec<DownCheck>,
    /// The shadow databases used.
    pub shadows: Vec<String>,
    /// The pending migrations linted against the target (`keel lint`); `None` when they could
    /// not be ([`CheckReport::lint_skipped`] says why).
    pub lint: Option<LintReport>,
    /// Why the pending migrations were not linted (the target unreachable, no shadow
    /// database), as the error's text.
    pub lint_skipped: Option<String>,
}

impl CheckReport {
    /// 0 when the history reproduces `schema.sql`, every down.sql undoes its migration and
    /// the pending migrations have no lint error; else 2. A migration without down.sql is
    /// listed, not a failure; pending migrations that could not be linted are noted, not a
    /// failure.
    pub fn exit_code(&self) -> crate::ExitStatus {
        let lint_errors = self
            .lint
            .as_ref()
            .is_some_and(|l| l.exit_code() != crate::ExitStatus::Success);
        let bad_down = self
            .downs
            .iter()
            .any(|d| d.differences.as_ref().is_some_and(|v| !v.is_empty()));
        if self.schema_differences.is_empty() && !bad_down && !lint_errors {
            crate::ExitStatus::Success
        } else {
            crate::ExitStatus::Findings
        }
    }
}

/// Runs the checks. `schema_file` (DDL, or a `schema.prisma` file or folder) is skipped when
/// it does not exist; `strict` as in [`crate::diff::read_pair`].
///
/// # Errors
/// Shadow errors (K3014, K3006 when a migration or down script fails to run), migrations
/// directory errors.
pub async fn check(
    settings: &Settings,
    schema_file: &std::path::Path,
    strict: bool,
) -> Result<CheckReport, Error> {
    let dialect = settings.url()?.dialect();
    let dir = settings.read_migrations()?;
    dir.check_provider(dialect)?;
    let mut shadows = Vec::new();
    let mut schema_differences = Vec::new();
    let mut schema_used = None;
    let mut kept = Vec::new();
    let mut external = Vec::new();
    if schema_file.exists() {
        let pair = read_pair(
            settings,
            dialect,
            &Source::Migrations(None),
            &Source::SchemaFile(schema_file.to_path_buf()),
            strict,
            &mut shadows,
        )
        .await?;
        schema_differences = summarize(&diff_schemas(dialect, &pair.from, &pair.to));
        schema_used = Some(schema_file.to_path_buf());
        kept = pair.kept;
        external = pair.external;
    }
    // A history without any down.sql (every Prisma history) needs no second replay.
    if dir.migrations.iter().all(|m| m.down_path.is_none()) {
        let downs = dir
            .migrations
            .iter()
            .map(|m| DownCheck {
                name: m.name.clone(),
                differences: None,
            })
            .collect();
        return finish(
            settings,
            schema_used,
            schema_differences,
            (kept, external),
            downs,
            shadows,
        )
        .await;
    }
    // The downs, read before the shadow opens: a temporary-schema shadow is allowed only when
    // every script replayed in it is fit for one.
    let down_scripts = dir
        .migrations
        .iter()
        .map(Migration::read_down)
        .collect::<Result<Vec<_>, _>>()?;
    let replayed: Vec<&Migration> = dir
        .migrations
        .iter()
        .chain(down_scripts.iter().flatten())
        .collect();
    let mut shadow = Shadow::open_for(
        settings,
        dialect,
        crate::shadow::temp_schema_allowed(&replayed),
    )
    .await?;
    shadows.push(shadow.strategy.clone());
    let downs = async {
        let mut out = Vec::new();
        let mut before = shadow.introspect().await?;
        for (m, down) in dir.migrations.iter().zip(&down_scripts) {
            shadow.replay(&[m]).await?;
            let after = shadow.introspect().await?;
            let Some(down) = down else {
                out.push(DownCheck {
                    name: m.name.clone(),
                    differences: None,
                });
                before = after;
                continue;
            };
            if let Err(e) = shadow.replay(&[down]).await {
                out.push(DownCheck {
                    name: m.name.clone(),
                    differences: Some(vec![format!("down.sql fails: {e}")]),
                });
                break;
            }
            let undone = shadow.introspect().await?;
            out.push(DownCheck {
                name: m.name.clone(),
                differences: Some(summarize(&diff_schemas(dialect, &before, &undone))),
            });
            // Apply it again, to go on with the history from the state it leaves (and to see
            // that down.sql left nothing that stops it).
            before = after;
            if let Err(e) = shadow.replay(&[m]).await {
                if let Some(last) = out.last_mut() {
                    if let Some(d) = last.differences.as_mut() {
                        d.push(format!(
                            "the migration no longer applies after its down.sql: {e}"
                        ));
                    }
                }
                break;
            }
        }
        Ok::<_, Error>(out)
    }
    .await;
    shadow.close().await;
    finish(
        settings,
        schema_used,
        schema_differences,
        (kept, external),
        downs?,
        shadows,
    )
    .await
}

async fn finish(
    settings: &Settings,
    schema_file: Option<PathBuf>,
    schema_differences: Vec<String>,
    (kept, external): (Vec<String>, Vec<String>),
    downs: Vec<DownCheck>,
    shadows: Vec<String>,
) -> Result<CheckReport, Error> {
    let (lint, lint_skipped) = match crate::lint(settings, &[]).await {
        Ok(l) => (Some(l), None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(CheckReport {
        schema_file,
        schema_differences,
        kept,
        external,
        downs,
        shadows,
        lint,
        lint_skipped,
    })
}

/// The live schema (read-only), for `keel inspect`.
///
/// # Errors
/// Connection and server errors.
pub async fn inspect(settings: &Settings) -> Result<keel_core::schema::Schema, Error> {
    let mut d = keel_driver::connect_to(settings.url()?).await?;
    let r = d.introspect().await;
    d.close().await;
    Ok(r?)
}
