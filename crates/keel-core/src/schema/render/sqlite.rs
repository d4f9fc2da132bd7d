//! SQLite renderer. What SQLite cannot alter in place is rebuilt with Prisma's
//! "RedefineTables" pattern (new table, copy, drop, rename, foreign keys off around it).

use super::{
    check_clause, col, column_list, default_sql, foreign_key_clause, index_parts, quote, table_ref,
    unsupported, RenderError,
};
use crate::schema::plan::{Change, Plan};
use crate::schema::{AutoIncrement, Column, Schema, TableId};
use crate::Dialect;

const D: Dialect = Dialect::Sqlite;

fn q(s: &str) -> String {
    quote(D, s)
}

fn column_def(c: &Column, inline_pk_autoincrement: bool) -> String {
    let mut s = format!("{} {}", q(&c.name), c.data_type);
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if inline_pk_autoincrement {
        s.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {}", default_sql(D, d)));
    }
    if let Some(g) = &c.generated {
        s.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            g.expression,
            if g.stored { "STORED" } else { "VIRTUAL" }
        ));
    }
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    s
}

/// `CREATE TABLE name (...)` for table `t` of `s`, with keys, unique constraints, foreign keys
/// and checks inline (SQLite cannot add them later).
fn create_table(s: &Schema, t: TableId, name: &str) -> String {
    let table = s.table(t);
    let pk = table.primary_key.as_ref();
    let inline_pk = pk.filter(|pk| {
        pk.columns.len() == 1
            && s.column(pk.columns[0]).auto_increment == Some(AutoIncrement::AutoIncrement)
    });
    let mut lines: Vec<String> = s
        .table_columns(t)
        .map(|(id, c)| column_def(c, inline_pk.is_some_and(|pk| pk.columns[0] == id)))
        .collect();
    if let (Some(pk), None) = (pk, inline_pk) {
        let cons = pk
            .name
            .as_ref()
            .map(|n| format!("CONSTRAINT {} ", q(n)))
            .unwrap_or_default();
        lines.push(format!(
            "{cons}PRIMARY KEY ({})",
            column_list(D, s, &pk.columns)
        ));
    }
    for ix in s.indexes.iter().filter(|i| i.table == t && i.constraint) {
        lines.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(&ix.name),
            index_parts(D, s, ix)
        ));
    }
    for fk in s.foreign_keys.iter().filter(|f| f.table == t) {
        let target = q(&s.table(fk.referenced_table).name);
        lines.push(foreign_key_clause(D, s, fk, &target));
    }
    for ck in s.checks.iter().filter(|c| c.table == t) {
        lines.push(check_clause(D, ck));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n){}",
        q(name),
        lines.join(",\n    "),
        table
            .options
            .as_deref()
            .map(|o| format!(" {o}"))
            .unwrap_or_default()
    )
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
            return Err(unsupported(D, "manage enum types"))
        }
        Change::CreateSequence { .. } | Change::DropSequence { .. } => {
            return Err(unsupported(D, "manage sequences"))
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
        Change::DropIndex { from: i } => {
            out.push(format!("DROP INDEX {}", q(&from.indexes[*i].name)))
        }
        Change::CreateIndex { to: i } => {
            let ix = &to.indexes[*i];
            let pred = ix
                .predicate
                .as_ref()
                .map(|p| format!(" WHERE {p}"))
                .unwrap_or_default();
            out.push(format!(
                "CREATE {}INDEX {} ON {} ({}){pred}",
                if ix.unique { "UNIQUE " } else { "" },
                q(&ix.name),
                table_ref(D, to, ix.table),
                index_parts(D, to, ix)
            ));
        }
        Change::DropTable { table } => {
            out.push(format!("DROP TABLE {}", table_ref(D, from, *table)))
        }
        Change::CreateTable { table } => out.push(create_table(to, *table, &to.table(*table).name)),
        Change::AddColumn { column } => {
            let c = col(to, *column);
            out.push(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                table_ref(D, to, c.table),
                column_def(c, false)
            ));
        }
        Change::RedefineTable { from: ft, to: tt } => {
            let name = to.table(*tt).name.clone();
            let tmp = format!("new_{name}");
            let common: Vec<String> = to
                .table_columns(*tt)
                .filter(|(_, c)| c.generated.is_none())
                .filter(|(_, c)| {
                    from.column_id(*ft, &c.name)
                        .is_some_and(|id| from.column(id).generated.is_none())
                })
                .map(|(_, c)| q(&c.name))
                .collect();
            out.push("PRAGMA defer_foreign_keys=ON".into());
            out.push("PRAGMA foreign_keys=OFF".into());
            out.push(create_table(to, *tt, &tmp));
            if !common.is_empty() {
                let cols = common.join(", ");
                out.push(format!(
                    "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
                    q(&tmp),
                    q(&from.table(*ft).name)
                ));
            }
            out.push(format!("DROP TABLE {}", q(&from.table(*ft).name)));
            out.push(format!("ALTER TABLE {} RENAME TO {}", q(&tmp), q(&name)));
            out.push("PRAGMA foreign_keys=ON".into());
            out.push("PRAGMA defer_foreign_keys=OFF".into());
        }
        // Comments do not exist in SQLite, nor do engines and table collations.
        Change::AlterTableComment { .. } | Change::AlterTableOptions { .. } => {}
        Change::AlterColumn { .. }
        | Change::DropColumn { .. }
        | Change::DropPrimaryKey { .. }
        | Change::AddPrimaryKey { .. }
        | Change::DropForeignKey { .. }
        | Change::AddForeignKey { .. }
        | Change::DropCheck { .. }
        | Change::AddCheck { .. } => {
            return Err(unsupported(
                D,
                "alter a table in place (the differ redefines it)",
            ))
        }
    }
    Ok(())
}
