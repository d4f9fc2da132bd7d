//! A schema as a Mermaid `erDiagram` (renders on GitHub): every table with its key columns
//! (primary key, foreign key, unique), and one relationship per foreign key. Used by
//! `keel inspect --format mermaid`.
//!
//! Syntax: <https://mermaid.js.org/syntax/entityRelationshipDiagram.html>. Entity and attribute
//! names keep letters, digits, `_` and `-`; anything else becomes `_` (`auth.users` →
//! `auth__users`), so every name parses.

use super::{Schema, TableId};
use std::fmt::Write;

/// The diagram, starting with `erDiagram`, one line per attribute and relationship, ending
/// with a newline. Tables in the schema's order; a table without key columns is shown empty.
pub fn render(schema: &Schema) -> String {
    let mut out = String::from("erDiagram\n");
    for (i, t) in schema.tables.iter().enumerate() {
        let id = TableId(i as u32);
        let pk: Vec<_> = t
            .primary_key
            .as_ref()
            .map(|p| p.columns.clone())
            .unwrap_or_default();
        let fk: Vec<_> = schema
            .foreign_keys
            .iter()
            .filter(|f| f.table == id)
            .flat_map(|f| f.columns.clone())
            .collect();
        let uk: Vec<_> = schema
            .indexes
            .iter()
            .filter(|x| x.table == id && x.unique && x.columns.len() == 1)
            .filter_map(|x| match x.columns[0].part {
                super::IndexPart::Column(c) => Some(c),
                super::IndexPart::Expression(_) => None,
            })
            .collect();
        let _ = writeln!(out, "    {} {{", entity(schema, id));
        for (cid, col) in schema.table_columns(id) {
            let mut keys = Vec::new();
            if pk.contains(&cid) {
                keys.push("PK");
            }
            if fk.contains(&cid) {
                keys.push("FK");
            }
            if uk.contains(&cid) && !pk.contains(&cid) {
                keys.push("UK");
            }
            if keys.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "        {} {} {}",
                word(&col.data_type),
                word(&col.name),
                keys.join(", ")
            );
        }
        out.push_str("    }\n");
    }
    for f in &schema.foreign_keys {
        let nullable = f.columns.iter().any(|c| schema.column(*c).nullable);
        let parent = if nullable { "|o" } else { "||" };
        let label = f.name.clone().unwrap_or_else(|| {
            f.columns
                .iter()
                .map(|c| schema.column(*c).name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        });
        let _ = writeln!(
            out,
            "    {} {parent}--o{{ {} : \"{}\"",
            entity(schema, f.referenced_table),
            entity(schema, f.table),
            label.replace('"', "'")
        );
    }
    out
}

fn entity(schema: &Schema, id: TableId) -> String {
    let t = schema.table(id);
    match &t.namespace {
        Some(ns) => format!("{}__{}", word(ns), word(&t.name)),
        None => word(&t.name),
    }
}

/// Letters, digits, `_`, `-`; anything else `_`; a leading digit gets a `_` in front.
fn word(s: &str) -> String {
    let mut w: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while w.ends_with('_') && w.len() > 1 {
        w.pop();
    }
    if w.is_empty() || w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        w.insert(0, '_');
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ForeignKey, PrimaryKey};

    #[test]
    fn tables_keys_and_relationships() {
        let mut s = Schema::default();
        let orgs = s.push_table(None, "orgs");
        let oid = s.push_column(Schema::column_template(orgs, "id", "integer"));
        s.tables[0].primary_key = Some(PrimaryKey {
            name: None,
            columns: vec![oid],
        });
        let users = s.push_table(Some("auth".into()), "users");
        let uid = s.push_column(Schema::column_template(users, "id", "bigint"));
        let mut org = Schema::column_template(users, "org id", "character varying(36)");
        org.nullable = true;
        let org = s.push_column(org);
        s.tables[1].primary_key = Some(PrimaryKey {
            name: None,
            columns: vec![uid],
        });
        s.foreign_keys.push(ForeignKey {
            table: users,
            name: Some("users_org_fkey".into()),
            columns: vec![org],
            referenced_table: orgs,
            referenced_columns: vec![oid],
            on_delete: crate::schema::Action::NoAction,
            on_update: crate::schema::Action::NoAction,
            deferrable: None,
            not_valid: false,
        });
        insta::assert_snapshot!(render(&s));
    }

    #[test]
    fn words_always_parse() {
        assert_eq!(word("character varying(36)"), "character_varying_36");
        assert_eq!(word("1st"), "_1st");
        assert_eq!(word(""), "_");
        assert_eq!(word("ok-name"), "ok-name");
    }
}
