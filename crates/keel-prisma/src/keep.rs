//! What a comparison against `schema.prisma` keeps: the objects of the other side that the
//! Prisma schema language cannot describe, or that Prisma does not manage, so that a plan
//! towards `schema.prisma` never drops them (Prisma's own diff does: prisma/prisma#29220,
//! #29263 for hand-written indexes).
//!
//! Kept, when the other side has them and `schema.prisma` has nothing of that name:
//! PostgreSQL schemas the datasource does not list (with everything in them); domains and
//! composite types, views (with a materialized view's indexes), functions, triggers, events
//! and event triggers, free-standing sequences, row-level security and policies; extensions
//! when the datasource declares none; check constraints; indexes with a `WHERE` clause, an
//! expression or `INCLUDE` columns, and MySQL `SPATIAL` indexes; table and column comments,
//! column collations and generation expressions; PostgreSQL partitioning (a table's partition
//! key, partitions whole) and, of an index, `NULLS NOT DISTINCT` and storage parameters.

use crate::build::Desired;
use keel_core::schema::{Column, ColumnId, ForeignKey, Index, IndexPart, Schema, TableId};
use std::collections::HashMap;

/// Copies into `desired` what `other` has that `schema.prisma` cannot describe, and returns
/// one line per object kept (`index "users_lower_email" on "users" (an expression)`).
pub fn keep_undescribed(desired: &mut Desired, other: &Schema) -> Vec<String> {
    let mut kept = Vec::new();
    let s = &mut desired.schema;
    // Schemas Prisma does not list, with everything in them.
    let foreign: Vec<String> = other
        .namespaces
        .iter()
        .filter(|n| !s.namespaces.contains(n))
        .cloned()
        .collect();
    for ns in &foreign {
        s.namespaces.push(ns.clone());
        kept.push(format!(
            "schema \"{ns}\" (not in the datasource's `schemas`)"
        ));
    }
    s.namespaces.sort();
    let in_foreign = |ns: &Option<String>| ns.as_ref().is_some_and(|n| foreign.contains(n));
    let mut copied = Vec::new();
    for (i, t) in other.tables.iter().enumerate() {
        let absent = s.table_id(t.namespace.as_deref(), &t.name).is_none();
        // A partition (created by hand: PSL has no partitions) is kept whole.
        if absent && !in_foreign(&t.namespace) {
            if let Some(p) = &t.partition_of {
                copy_table(other, TableId(i as u32), s);
                copied.push(TableId(i as u32));
                kept.push(format!(
                    "partition \"{}\" of \"{}\" ({})",
                    t.name, p.table, p.bound
                ));
            }
        }
        if in_foreign(&t.namespace) && absent {
            copy_table(other, TableId(i as u32), s);
            copied.push(TableId(i as u32));
        }
    }
    // The partitioning of a table both sides have (PSL cannot say it).
    for t in &other.tables {
        let Some(d) = s.table_id(t.namespace.as_deref(), &t.name) else {
            continue;
        };
        let d = &mut s.tables[d.idx()];
        if d.partition_by.is_none() && t.partition_by.is_some() {
            d.partition_by.clone_from(&t.partition_by);
            kept.push(format!(
                "table \"{}\": its partitioning (PARTITION BY {})",
                t.name,
                t.partition_by.as_deref().unwrap_or_default()
            ));
        }
        if d.partition_of.is_none() && t.partition_of.is_some() {
            d.partition_of.clone_from(&t.partition_of);
        }
    }
    for e in &other.enums {
        if in_foreign(&e.namespace) {
            s.enums.push(e.clone());
        }
    }
    let tables = table_map(other, s);
    let columns = column_map(other, s, &tables);
    // Foreign keys of the tables copied whole.
    for fk in &other.foreign_keys {
        if !copied.contains(&fk.table) {
            continue;
        }
        if let Some(f) = remap_fk(fk, &tables, &columns) {
            s.foreign_keys.push(f);
        }
    }
    let name_of = |t: TableId| other.tables[t.idx()].name.clone();
    // Objects on tables both sides have.
    for c in &other.checks {
        let Some(&t) = tables.get(&c.table) else {
            continue;
        };
        if copied.contains(&c.table) || s.checks.iter().any(|d| d.table == t && d.name == c.name) {
            continue;
        }
        let mut c2 = c.clone();
        c2.table = t;
        s.checks.push(c2);
        kept.push(format!(
            "check constraint \"{}\" on \"{}\"",
            c.name.as_deref().unwrap_or("(unnamed)"),
            name_of(c.table)
        ));
    }
    for i in &other.indexes {
        let Some(&t) = tables.get(&i.table) else {
            continue;
        };
        if copied.contains(&i.table) {
            continue;
        }
        if let Some(d) = s
            .indexes
            .iter_mut()
            .find(|d| d.table == t && d.name == i.name)
        {
            // The same index: take what `@@index`/`@@unique` cannot say from the other side.
            let mut what = Vec::new();
            if d.predicate.is_none() && i.predicate.is_some() {
                d.predicate.clone_from(&i.predicate);
                what.push("its WHERE clause");
            }
            if d.include.is_empty() && !i.include.is_empty() {
                if let Some(r) = remap_index(i, t, &columns) {
                    d.include = r.include;
                    what.push("its INCLUDE columns");
                }
            }
            if d.unique && i.unique && i.nulls_not_distinct && !d.nulls_not_distinct {
                d.nulls_not_distinct = true;
                what.push("NULLS NOT DISTINCT");
            }
            if d.storage.is_none() && i.storage.is_some() {
                d.storage.clone_from(&i.storage);
                what.push("its storage parameters");
            }
            if d.unique && i.unique && d.constraint != i.constraint {
                d.constraint = i.constraint;
                what.push(if i.constraint {
                    "being a UNIQUE constraint rather than an index"
                } else {
                    "being a unique index rather than a constraint"
                });
            }
            if !what.is_empty() {
                kept.push(format!(
                    "index \"{}\" on \"{}\": {}",
                    i.name,
                    name_of(i.table),
                    what.join(", ")
                ));
            }
            continue;
        }
        let Some(feature) = undescribable(i) else {
            continue;
        };
        let Some(i2) = remap_index(i, t, &columns) else {
            continue;
        };
        s.indexes.push(i2);
        kept.push(format!(
            "index \"{}\" on \"{}\" ({feature})",
            i.name,
            name_of(i.table)
        ));
    }
    for tr in &other.triggers {
        let Some(&t) = tables.get(&tr.table) else {
            continue;
        };
        if copied.contains(&tr.table)
            || s.triggers.iter().any(|d| d.table == t && d.name == tr.name)
        {
            continue;
        }
        let mut tr2 = tr.clone();
        tr2.table = t;
        s.triggers.push(tr2);
        kept.push(format!(
            "trigger \"{}\" on \"{}\"",
            tr.name,
            name_of(tr.table)
        ));
    }
    for p in &other.policies {
        let Some(&t) = tables.get(&p.table) else {
            continue;
        };
        let mut p2 = p.clone();
        p2.table = t;
        s.policies.push(p2);
        kept.push(format!("policy \"{}\" on \"{}\"", p.name, name_of(p.table)));
    }
    for r in &other.row_security {
        let Some(&t) = tables.get(&r.table) else {
            continue;
        };
        let mut r2 = *r;
        r2.table = t;
        s.row_security.push(r2);
        kept.push(format!("row-level security on \"{}\"", name_of(r.table)));
    }
    // Prisma compares an enum's values, not their order (values added by `ALTER TYPE … ADD
    // VALUE` go last): the same values in another order are the same enum.
    for e in &other.enums {
        if let Some(d) = s
            .enums
            .iter_mut()
            .find(|d| d.namespace == e.namespace && d.name == e.name)
        {
            let mut a = d.values.clone();
            let mut b = e.values.clone();
            a.sort();
            b.sort();
            if a == b && d.values != e.values {
                d.values.clone_from(&e.values);
                kept.push(format!(
                    "the order of the values of enum \"{}\" (Prisma compares the values, not their order)",
                    e.name
                ));
            }
        }
    }
    // Comments, collations and generation expressions of columns both sides have.
    for (i, t) in other.tables.iter().enumerate() {
        if let (Some(c), Some(&d)) = (&t.comment, tables.get(&TableId(i as u32))) {
            let dt = &mut s.tables[d.idx()];
            if dt.comment.is_none() {
                dt.comment = Some(c.clone());
            }
        }
    }
    for (i, c) in other.columns.iter().enumerate() {
        let Some(&d) = columns.get(&ColumnId(i as u32)) else {
            continue;
        };
        let dc: &mut Column = &mut s.columns[d.idx()];
        if dc.comment.is_none() {
            dc.comment.clone_from(&c.comment);
        }
        if dc.collation.is_none() {
            dc.collation.clone_from(&c.collation);
        }
        // A scalar list is `Type[]` whether or not the column is NOT NULL: Prisma leaves it.
        if dc.data_type.ends_with("[]") && c.data_type == dc.data_type && dc.nullable != c.nullable
        {
            dc.nullable = c.nullable;
            kept.push(format!(
                "{} of list column \"{}\".\"{}\" (a Prisma list says nothing of it)",
                if c.nullable { "NULL" } else { "NOT NULL" },
                name_of(c.table),
                c.name
            ));
        }
        if dc.generated.is_none() && c.generated.is_some() {
            dc.generated.clone_from(&c.generated);
            dc.default = None;
            kept.push(format!(
                "generation expression of \"{}\".\"{}\"",
                name_of(c.table),
                c.name
            ));
        }
    }
    // Objects of their own.
    for t in &other.types {
        if !s
            .types
            .iter()
            .any(|d| d.namespace == t.namespace && d.name == t.name)
        {
            s.types.push(t.clone());
            let kind = if t.composite {
                "composite type"
            } else {
                "domain"
            };
            kept.push(format!("{kind} \"{}\"", t.name));
        }
    }
    for e in &other.events {
        if !s.events.iter().any(|d| d.name == e.name) {
            s.events.push(e.clone());
            kept.push(format!("event \"{}\"", e.name));
        }
    }
    for v in &other.views {
        if !s
            .views
            .iter()
            .any(|d| d.namespace == v.namespace && d.name == v.name)
        {
            s.views.push(v.clone());
            let kind = if v.materialized {
                "materialized view"
            } else {
                "view"
            };
            kept.push(format!("{kind} \"{}\"", v.name));
        }
    }
    for f in &other.functions {
        if !s
            .functions
            .iter()
            .any(|d| d.namespace == f.namespace && d.name == f.name && d.arguments == f.arguments)
        {
            s.functions.push(f.clone());
            let kind = if f.procedure { "procedure" } else { "function" };
            kept.push(format!("{kind} \"{}\"({})", f.name, f.arguments));
        }
    }
    for q in &other.sequences {
        if !s
            .sequences
            .iter()
            .any(|d| d.namespace == q.namespace && d.name == q.name)
        {
            s.sequences.push(q.clone());
            kept.push(format!("sequence \"{}\"", q.name));
        }
    }
    if !desired.declares_extensions {
        for e in &other.extensions {
            if !s.extensions.iter().any(|d| d.name == e.name) {
                s.extensions.push(e.clone());
                kept.push(format!(
                    "extension \"{}\" (the datasource declares no `extensions`)",
                    e.name
                ));
            }
        }
    }
    for t in copied {
        kept.push(format!(
            "table \"{}\".\"{}\"",
            other.tables[t.idx()]
                .namespace
                .as_deref()
                .unwrap_or_default(),
            other.tables[t.idx()].name
        ));
    }
    kept
}

/// Takes `other`'s spelling where it means what `desired` says, with or without `--strict`:
/// MariaDB's JSON (a `longtext` column with `CHECK (json_valid(col))` and the `utf8mb4_bin`
/// collation), and a decimal default written with more zeros (`0.000…` for `0`).
pub fn same_spelling(desired: &mut Desired, other: &Schema) {
    let s = &mut desired.schema;
    let tables = table_map(other, s);
    let columns = column_map(other, s, &tables);
    for (i, c) in other.columns.iter().enumerate() {
        let Some(&d) = columns.get(&ColumnId(i as u32)) else {
            continue;
        };
        let Some(&t) = tables.get(&c.table) else {
            continue;
        };
        let dc = &mut s.columns[d.idx()];
        if let (Some(a), Some(b)) = (&dc.default, &c.default) {
            if a != b && canonical_number(a).is_some() && canonical_number(a) == canonical_number(b)
            {
                dc.default = Some(b.clone());
            }
        }
        let json_check = other.checks.iter().find(|k| {
            k.table == c.table
                && k.expression.replace(['`', '"', ' '], "") == format!("json_valid({})", c.name)
        });
        if dc.data_type == "json" && c.data_type == "longtext" {
            if let Some(k) = json_check {
                dc.data_type.clone_from(&c.data_type);
                dc.collation.clone_from(&c.collation);
                if !s.checks.iter().any(|x| x.table == t && x.name == k.name) {
                    let mut k2 = k.clone();
                    k2.table = t;
                    s.checks.push(k2);
                }
            }
        }
    }
}

/// A number with its trailing fractional zeros and a bare `.` left out; `None` for text
/// that is not a plain decimal number.
fn canonical_number(s: &str) -> Option<String> {
    let t = s.trim_matches('\'');
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t.to_string()
    })
}

/// What marks an index as written by hand rather than from `@@index`, if anything: what
/// `@@index` cannot say (a `WHERE` clause, an expression, `INCLUDE`, MySQL `SPATIAL`), or
/// what Prisma projects write in SQL by hand (an operator class, an access method other than
/// B-tree, MySQL `FULLTEXT`). An index with none of these that `schema.prisma` lacks is
/// dropped, as Prisma drops it.
fn undescribable(i: &Index) -> Option<String> {
    if i.predicate.is_some() {
        Some("a WHERE clause".into())
    } else if i
        .columns
        .iter()
        .any(|c| matches!(c.part, IndexPart::Expression(_)))
    {
        Some("an expression".into())
    } else if !i.include.is_empty() {
        Some("INCLUDE columns".into())
    } else if let Some(m) = &i.method {
        Some(format!("USING {}", m.to_ascii_uppercase()))
    } else {
        i.columns
            .iter()
            .find_map(|c| c.option.as_deref().filter(|o| o.parse::<u32>().is_err()))
            .map(|o| format!("operator class {o}"))
    }
}

/// `other`'s tables → `desired`'s, by namespace and name.
pub(crate) fn table_map(other: &Schema, desired: &Schema) -> HashMap<TableId, TableId> {
    other
        .tables
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            desired
                .table_id(t.namespace.as_deref(), &t.name)
                .map(|d| (TableId(i as u32), d))
        })
        .collect()
}

/// `other`'s columns → `desired`'s, by table and name.
pub(crate) fn column_map(
    other: &Schema,
    desired: &Schema,
    tables: &HashMap<TableId, TableId>,
) -> HashMap<ColumnId, ColumnId> {
    let mut by_name: HashMap<(TableId, &str), ColumnId> = HashMap::new();
    for (i, c) in desired.columns.iter().enumerate() {
        by_name.insert((c.table, c.name.as_str()), ColumnId(i as u32));
    }
    other
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let t = tables.get(&c.table)?;
            by_name
                .get(&(*t, c.name.as_str()))
                .map(|d| (ColumnId(i as u32), *d))
        })
        .collect()
}

fn remap_index(i: &Index, table: TableId, columns: &HashMap<ColumnId, ColumnId>) -> Option<Index> {
    let mut i2 = i.clone();
    i2.table = table;
    for c in &mut i2.columns {
        if let IndexPart::Column(id) = c.part {
            c.part = IndexPart::Column(*columns.get(&id)?);
        }
    }
    i2.include = i
        .include
        .iter()
        .map(|c| columns.get(c).copied())
        .collect::<Option<Vec<_>>>()?;
    Some(i2)
}

pub(crate) fn remap_fk(
    fk: &ForeignKey,
    tables: &HashMap<TableId, TableId>,
    columns: &HashMap<ColumnId, ColumnId>,
) -> Option<ForeignKey> {
    let mut f = fk.clone();
    f.table = *tables.get(&fk.table)?;
    f.referenced_table = *tables.get(&fk.referenced_table)?;
    f.columns = fk
        .columns
        .iter()
        .map(|c| columns.get(c).copied())
        .collect::<Option<_>>()?;
    f.referenced_columns = fk
        .referenced_columns
        .iter()
        .map(|c| columns.get(c).copied())
        .collect::<Option<_>>()?;
    Some(f)
}

/// Copies table `t` of `other` into `s` with its columns, primary key, indexes, checks and
/// triggers (its foreign keys once every table is there).
pub(crate) fn copy_table(other: &Schema, t: TableId, s: &mut Schema) {
    let id = TableId(s.tables.len() as u32);
    let mut table = other.tables[t.idx()].clone();
    let mut map = HashMap::new();
    for (i, c) in other
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.table == t)
    {
        let mut c2 = c.clone();
        c2.table = id;
        map.insert(ColumnId(i as u32), ColumnId(s.columns.len() as u32));
        s.columns.push(c2);
    }
    if let Some(pk) = &mut table.primary_key {
        pk.columns = pk
            .columns
            .iter()
            .filter_map(|c| map.get(c).copied())
            .collect();
    }
    s.tables.push(table);
    for i in other.indexes.iter().filter(|i| i.table == t) {
        if let Some(i2) = remap_index(i, id, &map) {
            s.indexes.push(i2);
        }
    }
    for c in other.checks.iter().filter(|c| c.table == t) {
        let mut c2 = c.clone();
        c2.table = id;
        s.checks.push(c2);
    }
    for tr in other.triggers.iter().filter(|tr| tr.table == t) {
        let mut tr2 = tr.clone();
        tr2.table = id;
        s.triggers.push(tr2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_core::schema::{Check, IndexColumn, Table, View};
    use keel_core::Dialect;

    fn desired_and_live() -> (Desired, Schema) {
        let table = Table {
            namespace: None,
            name: "t".into(),
            primary_key: None,
            comment: None,
            options: None,
            partition_by: None,
            partition_of: None,
            engine: None,
            collation: None,
        };
        let column = Column {
            nullable: false,
            ..Schema::column_template(TableId(0), "a", "text")
        };
        let mut desired = Schema::default();
        desired.tables.push(table.clone());
        desired.columns.push(column.clone());
        let mut live = Schema::default();
        // The live table has a second column first, so ids differ between the two sides.
        live.tables.push(table);
        live.columns.push(Column {
            name: "z".into(),
            ..column.clone()
        });
        live.columns.push(column);
        let index = |name: &str, predicate: Option<&str>| Index {
            table: TableId(0),
            name: name.into(),
            unique: false,
            constraint: false,
            columns: vec![IndexColumn {
                part: IndexPart::Column(ColumnId(1)),
                descending: false,
                option: None,
            }],
            method: None,
            predicate: predicate.map(str::to_string),
            include: Vec::new(),
            invalid: false,
            nulls_not_distinct: false,
            storage: None,
        };
        live.indexes.push(index("partial", Some("(a <> ''::text)")));
        live.indexes.push(index("plain", None));
        live.checks.push(Check {
            table: TableId(0),
            name: Some("a_nonempty".into()),
            expression: "(a <> ''::text)".into(),
            not_valid: false,
        });
        live.views.push(View {
            namespace: None,
            name: "v".into(),
            definition: "SELECT 1".into(),
            materialized: false,
            indexes: Vec::new(),
        });
        let d = Desired {
            dialect: Dialect::Postgres,
            schema: desired,
            relation_mode_prisma: false,
            declares_extensions: false,
            schemas: Vec::new(),
            current_schema: "public".into(),
            files: Vec::new(),
        };
        (d, live)
    }

    #[test]
    fn keeps_what_prisma_cannot_say_and_drops_what_it_can() {
        let (mut d, live) = desired_and_live();
        let kept = keep_undescribed(&mut d, &live);
        let names: Vec<&str> = d.schema.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            ["partial"],
            "a plain index the schema lacks is not kept"
        );
        // The kept index points at the desired side's column, not the live side's id.
        assert_eq!(
            d.schema.indexes[0].columns[0].part,
            IndexPart::Column(ColumnId(0))
        );
        assert_eq!(d.schema.checks.len(), 1);
        assert_eq!(d.schema.views.len(), 1);
        assert_eq!(
            kept,
            [
                "check constraint \"a_nonempty\" on \"t\"",
                "index \"partial\" on \"t\" (a WHERE clause)",
                "view \"v\"",
            ]
        );
        // Kept twice is kept once.
        let again = keep_undescribed(&mut d, &live);
        assert!(again.iter().all(|k| !k.starts_with("index")), "{again:?}");
    }

    #[test]
    fn numbers_compare_without_trailing_zeros() {
        assert_eq!(canonical_number("0.000"), Some("0".into()));
        assert_eq!(canonical_number("2.50"), canonical_number("2.5"));
        assert_eq!(canonical_number("'1'"), Some("1".into()));
        assert_eq!(canonical_number("now()"), None);
        assert_ne!(canonical_number("10"), canonical_number("1"));
    }
}
