//! MySQL / MariaDB renderer. Columns are modified in place (`MODIFY COLUMN`).

use super::{
    check_clause, col, column_list, default_sql, foreign_key_clause, index_parts, literal, quote,
    table_ref, unsupported, RenderError,
};
use crate::schema::plan::{Change, Plan};
use crate::schema::{table_options, AutoIncrement, Column, TableId};
use crate::Dialect;

const D: Dialect = Dialect::Mysql;

fn q(s: &str) -> String {
    quote(D, s)
}

/// A column definition for CREATE TABLE / ADD COLUMN / MODIFY COLUMN.
pub(super) fn column_def(c: &Column) -> String {
    let mut s = format!("{} {}", q(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            g.expression,
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    }
    s.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {}", default_sql(D, d)));
    }
    if let Some(u) = &c.on_update {
        s.push_str(&format!(" ON UPDATE {u}"));
    }
    if c.auto_increment == Some(AutoIncrement::AutoIncrement) {
        s.push_str(" AUTO_INCREMENT");
    }
    if c.invisible {
        s.push_str(" INVISIBLE");
    }
    if let Some(cm) = &c.comment {
        s.push_str(&format!(" COMMENT {}", literal(cm)));
    }
    s
}

pub(super) fn change(plan: &Plan, c: &Change, out: &mut Vec<String>) -> Result<(), RenderError> {
    let (from, to) = (&plan.from, &plan.to);
    match c {
        Change::CreateNamespace { .. } | Change::DropNamespace { .. } => {
            return Err(unsupported(D, "manage schemas (namespaces)"))
        }
        Change::CreateExtension { .. } | Change::DropExtension { .. } => {
            return Err(unsupported(D, "manage extensions"))
        }
        Change::CreateEnum { .. } | Change::AlterEnum { .. } | Change::DropEnum { .. } => {
            return Err(unsupported(
                D,
                "manage enum types (enums are column types there)",
            ))
        }
        Change::CreateSequence { .. } | Change::DropSequence { .. } => {
            return Err(unsupported(D, "manage sequences"))
        }
        Change::RedefineTable { .. } => {
            return Err(unsupported(D, "redefine a table (SQLite only)"))
        }
        Change::CreateFunction { .. }
        | Change::ReplaceFunction { .. }
        | Change::DropFunction { .. }
        | Change::AlterTrigger { .. }
        | Change::CreateTrigger { .. }
        | Change::DropTrigger { .. }
        | Change::AlterRowSecurity { .. }
        | Change::CreatePolicy { .. }
        | Change::DropPolicy { .. }
        | Change::ValidateForeignKey { .. }
        | Change::ValidateCheck { .. }
        | Change::AttachPartition { .. }
        | Change::DetachPartition { .. }
        | Change::Repartition { .. }
        | Change::CreateViewIndex { .. }
        | Change::DropViewIndex { .. }
        | Change::CreateType { .. }
        | Change::AlterType { .. }
        | Change::DropType { .. }
        | Change::CreateEvent { .. }
        | Change::DropEvent { .. } => super::triggers_or_postgres_only(D, plan, c, out)?,
        Change::DropView { from: i } => out.push(format!("DROP VIEW {}", q(&from.views[*i].name))),
        Change::CreateView { to: i } => {
            let v = &to.views[*i];
            out.push(format!(
                "CREATE VIEW {} AS {}",
                q(&v.name),
                v.definition.trim().trim_end_matches(';')
            ));
        }
        Change::DropForeignKey { from: i } => {
            let fk = &from.foreign_keys[*i];
            let Some(name) = &fk.name else {
                return Err(unsupported(D, "drop an unnamed foreign key"));
            };
            out.push(format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}",
                table_ref(D, from, fk.table),
                q(name)
            ));
        }
        Change::DropIndex { from: i } => {
            let ix = &from.indexes[*i];
            out.push(format!(
                "DROP INDEX {} ON {}",
                q(&ix.name),
                table_ref(D, from, ix.table)
            ));
        }
        Change::DropCheck { from: i } => {
            let ck = &from.checks[*i];
            let Some(name) = &ck.name else {
                return Err(unsupported(D, "drop an unnamed check constraint"));
            };
            out.push(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                table_ref(D, from, ck.table),
                q(name)
            ));
        }
        Change::DropPrimaryKey { table } => {
            out.push(format!(
                "ALTER TABLE {} DROP PRIMARY KEY",
                table_ref(D, from, *table)
            ));
        }
        Change::DropTable { table } => {
            out.push(format!("DROP TABLE {}", table_ref(D, from, *table)))
        }
        Change::CreateTable { table } => {
            let t = to.table(*table);
            let mut lines: Vec<String> = to
                .table_columns(*table)
                .map(|(_, c)| column_def(c))
                .collect();
            if let Some(pk) = &t.primary_key {
                lines.push(format!("PRIMARY KEY ({})", column_list(D, to, &pk.columns)));
            }
            let comment = t
                .comment
                .as_ref()
                .map(|c| format!(" COMMENT={}", literal(c)))
                .unwrap_or_default();
            let mut options = String::new();
            if let Some(e) = &t.engine {
                options.push_str(&format!(" ENGINE={}", option_word(e)?));
            }
            if let Some(c) = &t.collation {
                let c = option_word(c)?;
                options.push_str(&format!(
                    " DEFAULT CHARSET={} COLLATE={c}",
                    table_options::charset(c)
                ));
            }
            out.push(format!(
                "CREATE TABLE {} (\n    {}\n){options}{comment}",
                table_ref(D, to, *table),
                lines.join(",\n    ")
            ));
        }
        Change::AddColumn { column } => {
            let c = col(to, *column);
            out.push(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                table_ref(D, to, c.table),
                column_def(c)
            ));
        }
        Change::AlterColumn { to: tc, .. } => {
            let c = col(to, *tc);
            out.push(format!(
                "ALTER TABLE {} MODIFY COLUMN {}",
                table_ref(D, to, c.table),
                column_def(c)
            ));
        }
        Change::DropColumn { column } => {
            let c = col(from, *column);
            out.push(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                table_ref(D, from, c.table),
                q(&c.name)
            ));
        }
        Change::AddPrimaryKey { table } => {
            let Some(pk) = &to.table(*table).primary_key else {
                return Ok(());
            };
            out.push(format!(
                "ALTER TABLE {} ADD PRIMARY KEY ({})",
                table_ref(D, to, *table),
                column_list(D, to, &pk.columns)
            ));
        }
        Change::CreateIndex { to: i } => {
            let ix = &to.indexes[*i];
            let kind = match ix.method.as_deref().map(str::to_ascii_uppercase).as_deref() {
                Some("FULLTEXT") => "FULLTEXT ",
                Some("SPATIAL") => "SPATIAL ",
                _ if ix.unique => "UNIQUE ",
                _ => "",
            };
            // An explicit method (`USING BTREE`, `USING HASH`) as the definition named it.
            let using = match ix.method.as_deref() {
                Some(m @ ("BTREE" | "HASH" | "RTREE")) => format!(" USING {m}"),
                _ => String::new(),
            };
            out.push(format!(
                "CREATE {kind}INDEX {} ON {} ({}){using}",
                q(&ix.name),
                table_ref(D, to, ix.table),
                index_parts(D, to, ix)
            ));
        }
        Change::AddForeignKey { to: i } => {
            let fk = &to.foreign_keys[*i];
            let target = table_ref(D, to, fk.referenced_table);
            out.push(format!(
                "ALTER TABLE {} ADD {}",
                table_ref(D, to, fk.table),
                foreign_key_clause(D, to, fk, &target)
            ));
        }
        Change::AddCheck { to: i } => {
            let ck = &to.checks[*i];
            out.push(format!(
                "ALTER TABLE {} ADD {}",
                table_ref(D, to, ck.table),
                check_clause(D, ck)
            ));
        }
        Change::AlterTableComment { to: t, .. } => {
            out.push(format!(
                "ALTER TABLE {} COMMENT = {}",
                table_ref(D, to, *t),
                literal(to.table(*t).comment.as_deref().unwrap_or(""))
            ));
        }
        Change::AlterTableOptions { from: f, to: t } => {
            alter_table_options(plan, *f, *t, out)?;
        }
    }
    Ok(())
}

/// A table option's value (an engine or collation name) as it goes into the statement: a
/// plain word, which the server's catalog always gives; anything else is refused rather
/// than interpolated.
fn option_word(s: &str) -> Result<&str, RenderError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(s)
    } else {
        Err(unsupported(
            D,
            "use a table engine or collation whose name is not a plain word",
        ))
    }
}

/// `ALTER TABLE … ENGINE = …` and `CONVERT TO CHARACTER SET … COLLATE …` for the options
/// that differ. The conversion rewrites every text column to the table's collation, so the
/// columns of [`Plan::to`] with a collation of their own are modified back to it after.
fn alter_table_options(
    plan: &Plan,
    f: TableId,
    t: TableId,
    out: &mut Vec<String>,
) -> Result<(), RenderError> {
    let (from, to) = (&plan.from, &plan.to);
    let (was, now) = (from.table(f), to.table(t));
    let differs = table_options::differs(from, was, to, now);
    if differs.engine {
        if let Some(e) = table_options::engine(to, from, now) {
            out.push(format!(
                "ALTER TABLE {} ENGINE = {}",
                table_ref(D, to, t),
                option_word(e)?
            ));
        }
    }
    if differs.collation {
        if let Some(c) = table_options::collation(to, from, now) {
            let c = option_word(c)?;
            out.push(format!(
                "ALTER TABLE {} CONVERT TO CHARACTER SET {} COLLATE {c}",
                table_ref(D, to, t),
                table_options::charset(c)
            ));
            for (_, column) in to.table_columns(t).filter(|(_, c)| c.collation.is_some()) {
                out.push(format!(
                    "ALTER TABLE {} MODIFY COLUMN {}",
                    table_ref(D, to, t),
                    column_def(column)
                ));
            }
        }
    }
    Ok(())
}
