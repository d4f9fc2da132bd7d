//! `keel plan NAME` (issue #6, items 1–3): the next migration and its `down.sql`, from the
//! desired schema (`schema.sql`, interpreted by the real engine in a shadow) against the
//! history (the migrations directory replayed in a shadow); both verified in a shadow before
//! anything is written.

use crate::diff::{read_pair, Source};
use crate::error::Error;
use crate::measure::{losses, Loss};
use crate::settings::Settings;
use crate::shadow::Shadow;
use keel_core::migrations::{self, Migration};
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::render::render;
use keel_core::schema::summary::summarize;
use keel_core::schema::{Schema, TableId};
use keel_core::Dialect;
use keel_driver::quote_ident;
use serde::Serialize;
use std::path::PathBuf;

/// A rename: a table (`table` is `None`) or a column of `table` (named as in the desired
/// schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// The column's table (its new name); `None` for a table rename.
    pub table: Option<String>,
    /// The old name.
    pub from: String,
    /// The new name.
    pub to: String,
}

impl std::str::FromStr for Rename {
    type Err = Error;

    /// `old=new` (a table) or `table.old=new` (a column of `table`).
    fn from_str(s: &str) -> Result<Rename, Error> {
        let bad = || Error::BadRename {
            given: s.to_string(),
        };
        let (left, to) = s.split_once('=').ok_or_else(bad)?;
        if to.is_empty() || to.contains('.') {
            return Err(bad());
        }
        match left.split_once('.') {
            Some((t, c)) if !t.is_empty() && !c.is_empty() && !c.contains('.') => Ok(Rename {
                table: Some(t.to_string()),
                from: c.to_string(),
                to: to.to_string(),
            }),
            None if !left.is_empty() => Ok(Rename {
                table: None,
                from: left.to_string(),
                to: to.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for Rename {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.table {
            Some(t) => write!(f, "column `{t}.{}` → `{}`", self.from, self.to),
            None => write!(f, "table `{}` → `{}`", self.from, self.to),
        }
    }
}

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The migration's name (`[a-z0-9_]+`).
    pub name: String,
    /// The desired schema: SQL DDL, or `schema.prisma` (a file or a folder).
    pub schema_file: PathBuf,
    /// Against a `schema.prisma`, compare everything (see [`crate::diff::read_pair`]).
    pub strict: bool,
    /// Renames the user stated (`--rename`).
    pub renames: Vec<Rename>,
    /// Write the files only; do not deploy.
    pub create_only: bool,
}

/// What `keel plan` did.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// The new migration's folder; `None` when there was nothing to do.
    pub dir: Option<PathBuf>,
    /// `migration.sql`.
    pub up: String,
    /// `down.sql`.
    pub down: String,
    /// One line per change.
    pub summary: Vec<String>,
    /// The changes after the renames, each naming its objects, with its SQL and summary.
    pub changes: Vec<keel_core::schema::named::NamedChange>,
    /// Renames applied.
    pub renames: Vec<Rename>,
    /// Data the migration drops on the development database (`--database-url`), with counts.
    pub losses: Vec<Loss>,
    /// Whether it was deployed to the development database.
    pub deployed: bool,
    /// The shadow databases used.
    pub shadows: Vec<String>,
    /// What a `schema.prisma` kept of the history: objects it cannot describe, one line each.
    pub kept: Vec<String>,
    /// The external tables and enums of `prisma.config.ts` left out, one line each.
    pub external: Vec<String>,
    /// The new migration's lint findings (with counts from the development database), once it
    /// is written; empty when it could not be linted.
    pub lint: Vec<keel_lint::Finding>,
}

/// Writes the next migration. `ask` is called for each probable rename (a table or column that
/// disappears while one of the same shape appears) that `options.renames` does not settle:
/// `Some(true)` = a rename, `Some(false)` = a drop and an add, `None` = cannot ask (then keel
/// refuses rather than guess).
///
/// # Errors
/// [`Error::InvalidName`] (K4010), [`Error::AmbiguousRename`] (K4061),
/// [`Error::PlanVerifyFailed`] (K4062), [`Error::BadRename`] (K4060), shadow, render, deploy
/// and file errors.
pub async fn plan(
    settings: &Settings,
    options: &PlanOptions,
    ask: &mut (dyn FnMut(&Rename) -> Option<bool> + Send),
) -> Result<PlanReport, Error> {
    crate::init::check_name(&options.name)?;
    let dialect = settings.url()?.dialect();
    let mut shadows = Vec::new();
    let crate::diff::Pair {
        from: history,
        to: desired,
        kept,
        external,
    } = read_pair(
        settings,
        dialect,
        &Source::Migrations(None),
        &Source::SchemaFile(options.schema_file.clone()),
        options.strict,
        &mut shadows,
    )
    .await?;

    // Renames: tables first, then columns of tables present on both sides.
    let mut renamed = history.clone();
    let mut applied: Vec<Rename> = Vec::new();
    for pass in 0..2 {
        let p = diff_schemas(dialect, &renamed, &desired);
        let candidates = if pass == 0 {
            table_candidates(&p)
        } else {
            column_candidates(&p)
        };
        for c in candidates {
            let stated = options.renames.contains(&c);
            let yes = if stated {
                true
            } else {
                match ask(&c) {
                    Some(b) => b,
                    None => {
                        return Err(Error::AmbiguousRename {
                            rename: c.to_string(),
                            flag: rename_flag(&c),
                        })
                    }
                }
            };
            if yes {
                apply_rename(&mut renamed, &c);
                applied.push(c);
            }
        }
    }
    for r in &options.renames {
        if !applied.contains(r) {
            return Err(Error::BadRename {
                given: format!("{r} names no table or column that disappears while one of the same shape appears"),
            });
        }
    }
    let up_plan = diff_schemas(dialect, &renamed, &desired);
    let down_plan = diff_schemas(dialect, &desired, &renamed);
    if up_plan.is_empty() && applied.is_empty() {
        return Ok(PlanReport {
            dir: None,
            up: String::new(),
            down: String::new(),
            summary: Vec::new(),
            changes: Vec::new(),
            renames: Vec::new(),
            losses: Vec::new(),
            deployed: false,
            shadows,
            kept,
            external,
            lint: Vec::new(),
        });
    }
    let mut up: Vec<String> = applied
        .iter()
        .map(|r| rename_sql(dialect, &history, r, false))
        .collect();
    up.extend(render(&up_plan)?);
    let mut down = render(&down_plan)?;
    down.extend(
        applied
            .iter()
            .rev()
            .map(|r| rename_sql(dialect, &history, r, true)),
    );
    let up_text = script(&up);
    let down_text = script(&down);

    // Verify: history + up = desired; history + up + down = history.
    let dir = migrations::read_dir(&settings.migrations_dir)?;
    // The first migration of a Prisma project (its desired schema is a schema.prisma): Prisma
    // writes migration_lock.toml beside it, which makes `_prisma_migrations` the ledger.
    let lock_needed = keel_prisma::is_prisma(&options.schema_file)
        && dir.migrations.is_empty()
        && dir.lock_provider.is_none();
    let all: Vec<&Migration> = dir.migrations.iter().collect();
    let up_m = Migration::from_bytes(
        "up",
        "migration.sql".into(),
        None,
        up_text.clone().into_bytes(),
    )?;
    let down_m = Migration::from_bytes(
        "down",
        "down.sql".into(),
        None,
        down_text.clone().into_bytes(),
    )?;
    let checked: Vec<&Migration> = all.iter().copied().chain([&up_m, &down_m]).collect();
    let mut shadow = Shadow::open_for(
        settings,
        dialect,
        crate::shadow::temp_schema_allowed(&checked),
    )
    .await?;
    shadows.push(shadow.strategy.clone());
    let verified = async {
        shadow.replay(&all).await?;
        shadow.replay(&[&up_m]).await?;
        let after_up = shadow.introspect().await?;
        let d = diff_schemas(dialect, &desired, &after_up);
        if !d.is_empty() {
            return Err(Error::PlanVerifyFailed {
                what: "migration.sql does not produce schema.sql".into(),
                differences: summarize(&d),
            });
        }
        shadow.replay(&[&down_m]).await?;
        let after_down = shadow.introspect().await?;
        let d = diff_schemas(dialect, &history, &after_down);
        if !d.is_empty() {
            return Err(Error::PlanVerifyFailed {
                what: "down.sql does not restore the history's schema".into(),
                differences: summarize(&d),
            });
        }
        Ok(())
    }
    .await;
    shadow.close().await;
    verified?;

    let mut summary: Vec<String> = applied.iter().map(|r| format!("rename {r}")).collect();
    summary.extend(summarize(&up_plan));
    let losses = dev_losses(settings, &up_plan).await;

    let file = crate::init::new_migration(settings, &options.name)?;
    let folder = file.parent().map(PathBuf::from).unwrap_or_default();
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|source| Error::Write { path, source })
    };
    write(file.clone(), &up_text)?;
    write(folder.join("down.sql"), &down_text)?;
    if lock_needed {
        write(
            settings.migrations_dir.join(migrations::LOCK_FILE),
            &format!(
                "# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = \"{}\"\n",
                dialect.prisma_provider()
            ),
        )?;
    }
    let mut deployed = false;
    if !options.create_only {
        crate::deploy(settings, &crate::DeployOptions::default(), &mut |_| {}).await?;
        deployed = true;
    }
    let name = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lint = if dev_database_may_exist(settings) {
        crate::lint(settings, &[name])
            .await
            .map(|l| l.findings)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(PlanReport {
        dir: Some(folder),
        up: up_text,
        down: down_text,
        summary,
        changes: keel_core::schema::named::named_changes(&up_plan),
        renames: applied,
        losses,
        deployed,
        shadows,
        kept,
        external,
        lint,
    })
}

fn rename_flag(r: &Rename) -> String {
    match &r.table {
        Some(t) => format!("--rename {t}.{}={}", r.from, r.to),
        None => format!("--rename {}={}", r.from, r.to),
    }
}

fn script(statements: &[String]) -> String {
    let mut s = String::new();
    for st in statements {
        s.push_str(st);
        s.push_str(";\n");
    }
    s
}

/// Whether the development database may be opened without creating it: any server database,
/// or a SQLite file that exists (an SQLite file is not created for counts or lint).
fn dev_database_may_exist(settings: &Settings) -> bool {
    match settings.url() {
        Ok(keel_driver::DatabaseUrl::Sqlite { path, .. }) => {
            path.as_ref().is_some_and(|p| p.exists())
        }
        _ => true,
    }
}

/// Counts on the development database, when one is reachable (an SQLite file is not created
/// for this).
async fn dev_losses(settings: &Settings, plan: &Plan) -> Vec<Loss> {
    if !plan.changes.iter().any(|c| {
        matches!(
            c,
            Change::DropTable { .. } | Change::DropColumn { .. } | Change::RedefineTable { .. }
        )
    }) {
        return Vec::new();
    }
    if !dev_database_may_exist(settings) {
        return losses_without_counts(plan);
    }
    let Ok(url) = settings.url() else {
        return losses_without_counts(plan);
    };
    match keel_driver::connect_to(url).await {
        Ok(mut d) => {
            let l = losses(d.as_mut(), plan).await;
            d.close().await;
            l
        }
        Err(_) => losses_without_counts(plan),
    }
}

fn losses_without_counts(plan: &Plan) -> Vec<Loss> {
    let f = &plan.from;
    plan.changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable { table } => Some(Loss {
                object: format!("table \"{}\"", f.table_name(*table)),
                rows: None,
            }),
            Change::DropColumn { column } => {
                let col = f.column(*column);
                Some(Loss {
                    object: format!("column \"{}\".\"{}\"", f.table_name(col.table), col.name),
                    rows: None,
                })
            }
            _ => None,
        })
        .collect()
}

/// Tables dropped while one with the same columns (names and types) is created.
fn table_candidates(p: &Plan) -> Vec<Rename> {
    let shape = |s: &Schema, t: TableId| {
        let mut cols: Vec<(String, String)> = s
            .table_columns(t)
            .map(|(_, c)| (c.name.clone(), c.data_type.clone()))
            .collect();
        cols.sort();
        cols
    };
    let mut out = Vec::new();
    for c in &p.changes {
        let Change::DropTable { table: old } = c else {
            continue;
        };
        let old_shape = shape(&p.from, *old);
        let created = p.changes.iter().find_map(|c| match c {
            Change::CreateTable { table }
                if shape(&p.to, *table) == old_shape
                    && p.from.table(*old).namespace == p.to.table(*table).namespace =>
            {
                Some(*table)
            }
            _ => None,
        });
        if let Some(new) = created {
            let r = Rename {
                table: None,
                from: p.from.table(*old).name.clone(),
                to: p.to.table(new).name.clone(),
            };
            if !out.iter().any(|x: &Rename| x.to == r.to) {
                out.push(r);
            }
        }
    }
    out
}

/// Columns dropped from a table while one of the same type is added to it (SQLite: within a
/// table redefinition).
fn column_candidates(p: &Plan) -> Vec<Rename> {
    let mut out = Vec::new();
    for c in &p.changes {
        let Change::RedefineTable { from, to } = c else {
            continue;
        };
        let old_t = p.from.table(*from);
        let gone: Vec<_> = p
            .from
            .table_columns(*from)
            .filter(|(_, oc)| p.to.table_columns(*to).all(|(_, nc)| nc.name != oc.name))
            .map(|(_, oc)| oc)
            .collect();
        let mut new: Vec<_> =
            p.to.table_columns(*to)
                .filter(|(_, nc)| {
                    p.from
                        .table_columns(*from)
                        .all(|(_, oc)| oc.name != nc.name)
                })
                .map(|(_, nc)| nc)
                .collect();
        for oc in gone {
            if let Some(i) = new.iter().position(|nc| nc.data_type == oc.data_type) {
                let nc = new.remove(i);
                out.push(Rename {
                    table: Some(old_t.name.clone()),
                    from: oc.name.clone(),
                    to: nc.name.clone(),
                });
            }
        }
    }
    for c in &p.changes {
        let Change::DropColumn { column: old } = c else {
            continue;
        };
        let oc = p.from.column(*old);
        let table = p.from.table(oc.table);
        let added = p.changes.iter().find_map(|c| match c {
            Change::AddColumn { column } => {
                let nc = p.to.column(*column);
                let nt = p.to.table(nc.table);
                (nt.name == table.name
                    && nt.namespace == table.namespace
                    && nc.data_type == oc.data_type)
                    .then(|| nc.name.clone())
            }
            _ => None,
        });
        if let Some(to) = added {
            if !out
                .iter()
                .any(|x: &Rename| x.table.as_deref() == Some(table.name.as_str()) && x.to == to)
            {
                out.push(Rename {
                    table: Some(table.name.clone()),
                    from: oc.name.clone(),
                    to,
                });
            }
        }
    }
    out
}

fn apply_rename(s: &mut Schema, r: &Rename) {
    match &r.table {
        None => {
            if let Some(t) = s.tables.iter_mut().find(|t| t.name == r.from) {
                t.name = r.to.clone();
            }
        }
        Some(table) => {
            if let Some(tid) = s.tables.iter().position(|t| &t.name == table) {
                let tid = TableId(tid as u32);
                if let Some(c) = s
                    .columns
                    .iter_mut()
                    .find(|c| c.table == tid && c.name == r.from)
                {
                    c.name = r.to.clone();
                }
            }
        }
    }
}

/// The rename's SQL; `back` renames new → old (for `down.sql`).
fn rename_sql(d: Dialect, history: &Schema, r: &Rename, back: bool) -> String {
    let (from, to) = if back {
        (&r.to, &r.from)
    } else {
        (&r.from, &r.to)
    };
    let q = |n: &str| quote_ident(d, n);
    match &r.table {
        None => {
            let ns = history
                .tables
                .iter()
                .find(|t| t.name == r.from)
                .and_then(|t| t.namespace.clone());
            let qualified = |n: &str| match &ns {
                Some(ns) => format!("{}.{}", q(ns), q(n)),
                None => q(n),
            };
            match d {
                Dialect::Mysql => format!("RENAME TABLE {} TO {}", q(from), q(to)),
                _ => format!("ALTER TABLE {} RENAME TO {}", qualified(from), q(to)),
            }
        }
        Some(table) => format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            q(table),
            q(from),
            q(to)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_renames() {
        let r: Rename = "users.name=full_name".parse().unwrap();
        assert_eq!(r.table.as_deref(), Some("users"));
        assert_eq!((r.from.as_str(), r.to.as_str()), ("name", "full_name"));
        let r: Rename = "people=persons".parse().unwrap();
        assert_eq!(r.table, None);
        for bad in ["", "a", "=b", "a=", "t.=b", ".a=b", "a=b.c", "a.b.c=d"] {
            assert!(bad.parse::<Rename>().is_err(), "{bad}");
        }
    }
}
