//! Renderers: a [`Plan`] to SQL statements, one module per dialect. They never panic: a change
//! a dialect cannot express returns [`RenderError::Unsupported`].

mod mysql;
mod postgres;
mod sqlite;

use super::plan::Plan;
use super::{Check, Column, ColumnId, ForeignKey, Index, IndexPart, Schema, TableId};
use crate::Dialect;

/// A change the dialect cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// Not expressible on this database.
    #[error("{dialect} cannot {what}")]
    Unsupported {
        /// The database.
        dialect: Dialect,
        /// What was asked.
        what: String,
    },
}

/// The SQL statements (without terminating `;`) that carry out `plan`, in order.
///
/// # Errors
/// [`RenderError::Unsupported`] for a change the dialect cannot express (e.g. enum types on
/// SQLite).
pub fn render(plan: &Plan) -> Result<Vec<String>, RenderError> {
    let mut out = Vec::new();
    for c in &plan.changes {
        change(plan, c, &mut out)?;
    }
    Ok(out)
}

/// The SQL statements (without terminating `;`) of one change `c` of `plan`.
///
/// # Errors
/// As [`render`].
pub fn render_change(plan: &Plan, c: &super::plan::Change) -> Result<Vec<String>, RenderError> {
    let mut out = Vec::new();
    change(plan, c, &mut out)?;
    Ok(out)
}

fn change(plan: &Plan, c: &super::plan::Change, out: &mut Vec<String>) -> Result<(), RenderError> {
    match plan.dialect {
        Dialect::Postgres => postgres::change(plan, c, out),
        Dialect::Mysql => mysql::change(plan, c, out),
        Dialect::Sqlite => sqlite::change(plan, c, out),
    }
}

/// `plan` as one script: statements ended by `;` and a newline, with a comment per change.
///
/// # Errors
/// As [`render`].
pub fn render_script(plan: &Plan) -> Result<String, RenderError> {
    let mut s = String::new();
    for stmt in render(plan)? {
        s.push_str(&stmt);
        s.push_str(";\n");
    }
    Ok(s)
}

impl crate::schema::Schema {
    /// The SQL that creates this schema in an empty database of `dialect`, in dependency
    /// order (keel's plan from the empty schema to this one): `keel inspect --format sql` and
    /// the migration `keel baseline` writes.
    ///
    /// # Errors
    /// As [`render`]: an object this dialect cannot express.
    pub fn creation_script(&self, dialect: Dialect) -> Result<String, RenderError> {
        render_script(&crate::schema::diff::diff(
            dialect,
            &crate::schema::Schema::default(),
            self,
        ))
    }
}

/// Quotes an identifier: `"x"` (PostgreSQL, SQLite) or `` `x` `` (MySQL).
pub fn quote(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

/// A string literal.
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"ns"."table"` or `"table"`.
pub(crate) fn table_ref(d: Dialect, s: &Schema, t: TableId) -> String {
    let t = s.table(t);
    match &t.namespace {
        Some(ns) => format!("{}.{}", quote(d, ns), quote(d, &t.name)),
        None => quote(d, &t.name),
    }
}

pub(crate) fn qualified(d: Dialect, ns: &Option<String>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{}.{}", quote(d, ns), quote(d, name)),
        None => quote(d, name),
    }
}

pub(crate) fn column_list(d: Dialect, s: &Schema, ids: &[ColumnId]) -> String {
    ids.iter()
        .map(|c| quote(d, &s.column(*c).name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The key parts of an index: `"a", "b" DESC, (lower("c"))`.
pub(crate) fn index_parts(d: Dialect, s: &Schema, ix: &Index) -> String {
    ix.columns
        .iter()
        .map(|c| {
            let mut p = match &c.part {
                IndexPart::Column(id) => quote(d, &s.column(*id).name),
                // SQLite keeps the text as written, so add nothing; PostgreSQL and MySQL 8
                // need an expression key part in parentheses.
                IndexPart::Expression(e) if d == Dialect::Sqlite => e.clone(),
                IndexPart::Expression(e) => format!("({e})"),
            };
            if let Some(o) = &c.option {
                match d {
                    Dialect::Mysql => p.push_str(&format!("({o})")),
                    _ => {
                        p.push(' ');
                        p.push_str(o);
                    }
                }
            }
            if c.descending {
                p.push_str(" DESC");
            }
            p
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A default for DDL: literals as they are, other expressions in parentheses where the
/// dialect needs them (MySQL 8 and SQLite require them around expressions).
pub(crate) fn default_sql(d: Dialect, expr: &str) -> String {
    let u = expr.trim().to_ascii_uppercase();
    let bare = expr.starts_with('\'')
        || expr.parse::<f64>().is_ok()
        || matches!(
            u.as_str(),
            "TRUE" | "FALSE" | "NULL" | "CURRENT_TIMESTAMP" | "CURRENT_DATE" | "CURRENT_TIME"
        )
        || (d == Dialect::Mysql && u.starts_with("CURRENT_TIMESTAMP("))
        || d == Dialect::Postgres;
    if bare {
        expr.to_string()
    } else {
        format!("({expr})")
    }
}

/// MySQL and SQLite: a trigger is created from its statement and dropped by name, and so is a
/// MySQL stored routine; SQLite has no functions; a trigger's enabled state, row-level
/// security, partitioning and `VALIDATE CONSTRAINT` are PostgreSQL's.
///
/// # Errors
/// [`RenderError::Unsupported`] for those PostgreSQL-only changes.
pub(crate) fn triggers_or_postgres_only(
    d: Dialect,
    plan: &Plan,
    c: &super::plan::Change,
    out: &mut Vec<String>,
) -> Result<(), RenderError> {
    use super::plan::Change;
    match c {
        Change::CreateTrigger { to: i } => out.push(
            plan.to.triggers[*i]
                .definition
                .trim_end()
                .trim_end_matches(';')
                .to_string(),
        ),
        Change::DropTrigger { from: i } => out.push(format!(
            "DROP TRIGGER {}",
            quote(d, &plan.from.triggers[*i].name)
        )),
        Change::AlterTrigger { .. } => return Err(unsupported(d, "disable a trigger")),
        Change::AlterRowSecurity { .. }
        | Change::CreatePolicy { .. }
        | Change::DropPolicy { .. } => return Err(unsupported(d, "manage row-level security")),
        Change::ValidateForeignKey { .. } | Change::ValidateCheck { .. } => {
            return Err(unsupported(d, "validate a NOT VALID constraint"))
        }
        Change::AttachPartition { .. }
        | Change::DetachPartition { .. }
        | Change::Repartition { .. } => return Err(unsupported(d, "partition a table")),
        Change::CreateViewIndex { .. } | Change::DropViewIndex { .. } => {
            return Err(unsupported(d, "index a materialized view"))
        }
        Change::CreateType { .. } | Change::AlterType { .. } | Change::DropType { .. } => {
            return Err(unsupported(d, "manage domains and composite types"))
        }
        Change::CreateEvent { to: i } if d == Dialect::Mysql => {
            out.push(plan.to.events[*i].definition.clone())
        }
        Change::DropEvent { from: i } if d == Dialect::Mysql => out.push(format!(
            "DROP EVENT {}",
            quote(d, &plan.from.events[*i].name)
        )),
        Change::CreateEvent { .. } | Change::DropEvent { .. } => {
            return Err(unsupported(d, "manage events"))
        }
        // MySQL/MariaDB stored routines: created from their statement, replaced by a drop and a
        // create (MySQL has no CREATE OR REPLACE FUNCTION).
        Change::CreateFunction { to: i } if d == Dialect::Mysql => {
            out.push(plan.to.functions[*i].definition.trim_end().to_string())
        }
        Change::ReplaceFunction { from: f, to: i } if d == Dialect::Mysql => {
            out.push(drop_routine(d, &plan.from.functions[*f]));
            out.push(plan.to.functions[*i].definition.trim_end().to_string());
        }
        Change::DropFunction { from: f } if d == Dialect::Mysql => {
            out.push(drop_routine(d, &plan.from.functions[*f]))
        }
        _ => return Err(unsupported(d, "manage functions")),
    }
    Ok(())
}

/// `DROP FUNCTION `name`` or `DROP PROCEDURE `name``.
fn drop_routine(d: Dialect, f: &super::Function) -> String {
    format!(
        "DROP {} {}",
        if f.procedure { "PROCEDURE" } else { "FUNCTION" },
        quote(d, &f.name)
    )
}

pub(crate) fn unsupported(d: Dialect, what: &str) -> RenderError {
    RenderError::Unsupported {
        dialect: d,
        what: what.to_string(),
    }
}

pub(crate) fn col(s: &Schema, id: ColumnId) -> &Column {
    s.column(id)
}

/// `CONSTRAINT "name" ` when the constraint has a name, else nothing.
pub(crate) fn constraint_prefix(d: Dialect, name: Option<&str>) -> String {
    name.map(|n| format!("CONSTRAINT {} ", quote(d, n)))
        .unwrap_or_default()
}

/// `[CONSTRAINT n ]FOREIGN KEY (…) REFERENCES target (…) ON DELETE … ON UPDATE …[ DEFERRABLE …]`,
/// for `ALTER TABLE … ADD` and for SQLite's inline table constraints (`target` is the referenced
/// table as the statement names it).
pub(crate) fn foreign_key_clause(d: Dialect, s: &Schema, fk: &ForeignKey, target: &str) -> String {
    let deferrable = match fk.deferrable {
        Some(true) => " DEFERRABLE INITIALLY DEFERRED",
        Some(false) => " DEFERRABLE",
        None => "",
    };
    format!(
        "{}FOREIGN KEY ({}) REFERENCES {target} ({}) ON DELETE {} ON UPDATE {}{deferrable}",
        constraint_prefix(d, fk.name.as_deref()),
        column_list(d, s, &fk.columns),
        column_list(d, s, &fk.referenced_columns),
        fk.on_delete.sql(),
        fk.on_update.sql()
    )
}

/// `[CONSTRAINT n ]CHECK (expr)`, whether the model holds the bare expression or the clause.
pub(crate) fn check_clause(d: Dialect, ck: &Check) -> String {
    let e = ck.expression.trim();
    let body = if ck.is_exclusion() || (e.len() >= 5 && e[..5].eq_ignore_ascii_case("check")) {
        e.to_string()
    } else {
        format!("CHECK ({e})")
    };
    format!("{}{body}", constraint_prefix(d, ck.name.as_deref()))
}
