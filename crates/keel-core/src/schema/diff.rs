//! The differ: schema × schema → [`Plan`]. The matching is written once (tables by name,
//! columns by name, indexes by name then definition, foreign keys by name or definition);
//! dialects answer only dialect questions ([`sqlite_needs_redefinition`]).

use super::plan::{Change, ColumnChanges, Plan};
use super::{Column, ColumnId, ForeignKey, Index, IndexPart, Schema, TableId};
use crate::Dialect;

/// The plan that turns `from` into `to` on `dialect`, in execution order.
pub fn diff(dialect: Dialect, from: &Schema, to: &Schema) -> Plan {
    let mut changes = Vec::new();

    for (i, n) in to.namespaces.iter().enumerate() {
        if !from.namespaces.contains(n) {
            changes.push(Change::CreateNamespace { to: i });
        }
    }
    for (i, n) in from.namespaces.iter().enumerate() {
        if !to.namespaces.contains(n) {
            changes.push(Change::DropNamespace { from: i });
        }
    }
    // Extensions, enums, sequences, views: matched by (namespace, name).
    for (i, e) in to.extensions.iter().enumerate() {
        if !from.extensions.iter().any(|f| f.name == e.name) {
            changes.push(Change::CreateExtension { to: i });
        }
    }
    for (i, e) in from.extensions.iter().enumerate() {
        if !to.extensions.iter().any(|t| t.name == e.name) {
            changes.push(Change::DropExtension { from: i });
        }
    }
    for (i, e) in to.enums.iter().enumerate() {
        match from
            .enums
            .iter()
            .position(|f| f.namespace == e.namespace && f.name == e.name)
        {
            None => changes.push(Change::CreateEnum { to: i }),
            Some(fi) if from.enums[fi].values != e.values => {
                let old = &from.enums[fi].values;
                changes.push(Change::AlterEnum {
                    from: fi,
                    to: i,
                    added: e
                        .values
                        .iter()
                        .filter(|v| !old.contains(v))
                        .cloned()
                        .collect(),
                    removed: old
                        .iter()
                        .filter(|v| !e.values.contains(v))
                        .cloned()
                        .collect(),
                });
            }
            Some(_) => {}
        }
    }
    for (i, e) in from.enums.iter().enumerate() {
        if !to
            .enums
            .iter()
            .any(|t| t.namespace == e.namespace && t.name == e.name)
        {
            changes.push(Change::DropEnum { from: i });
        }
    }
    diff_types(from, to, &mut changes);
    for (i, s) in to.sequences.iter().enumerate() {
        match from
            .sequences
            .iter()
            .find(|f| f.namespace == s.namespace && f.name == s.name)
        {
            None => changes.push(Change::CreateSequence { to: i }),
            Some(f) if f != s => {
                let fi = from.sequences.iter().position(|x| x == f).unwrap_or(0);
                changes.push(Change::DropSequence { from: fi });
                changes.push(Change::CreateSequence { to: i });
            }
            Some(_) => {}
        }
    }
    for (i, s) in from.sequences.iter().enumerate() {
        if !to
            .sequences
            .iter()
            .any(|t| t.namespace == s.namespace && t.name == s.name)
        {
            changes.push(Change::DropSequence { from: i });
        }
    }
    for (i, v) in to.views.iter().enumerate() {
        let created = (0..v.indexes.len()).map(|index| Change::CreateViewIndex { view: i, index });
        match from
            .views
            .iter()
            .position(|f| f.namespace == v.namespace && f.name == v.name)
        {
            None => {
                changes.push(Change::CreateView { to: i });
                changes.extend(created);
            }
            Some(fi) if !same_view(&from.views[fi], v) => {
                changes.push(Change::DropView { from: fi });
                changes.push(Change::CreateView { to: i });
                changes.extend(created);
            }
            Some(fi) => diff_view_indexes(fi, &from.views[fi], i, v, &mut changes),
        }
    }
    for (i, v) in from.views.iter().enumerate() {
        if !to
            .views
            .iter()
            .any(|t| t.namespace == v.namespace && t.name == v.name)
        {
            changes.push(Change::DropView { from: i });
        }
    }

    // Tables: partitions after their parents (a partition's defaults may use its parent's
    // sequence), in schema order otherwise.
    let mut order: Vec<usize> = (0..to.tables.len()).collect();
    order.sort_by_key(|&i| partition_depth(to, &to.tables[i]));
    for ti in order {
        let t = &to.tables[ti];
        let to_id = TableId(ti as u32);
        match from.table_id(t.namespace.as_deref(), &t.name) {
            None => {
                changes.push(Change::CreateTable { table: to_id });
                if t.partition_of.is_some() {
                    changes.push(Change::AttachPartition { table: to_id });
                }
                for (i, ix) in to.indexes.iter().enumerate() {
                    if ix.table == to_id && !(dialect == Dialect::Sqlite && ix.constraint) {
                        changes.push(Change::CreateIndex { to: i });
                    }
                }
                if dialect != Dialect::Sqlite {
                    for (i, fk) in to.foreign_keys.iter().enumerate() {
                        if fk.table == to_id {
                            changes.push(Change::AddForeignKey { to: i });
                        }
                    }
                    for (i, c) in to.checks.iter().enumerate() {
                        if c.table == to_id {
                            changes.push(Change::AddCheck { to: i });
                        }
                    }
                }
            }
            Some(from_id) => {
                let before = changes.len();
                let was = from.table(from_id);
                if was.partition_by != t.partition_by {
                    changes.push(Change::Repartition {
                        from: from_id,
                        to: to_id,
                    });
                    continue;
                }
                diff_table(dialect, from, to, from_id, to_id, &mut changes);
                // A partition's columns are its parent's: they change with it.
                if was.partition_of.is_some() && t.partition_of.is_some() {
                    let mut own = changes.split_off(before);
                    own.retain(|c| {
                        !matches!(
                            c,
                            Change::AddColumn { .. }
                                | Change::DropColumn { .. }
                                | Change::AlterColumn { .. }
                        )
                    });
                    changes.extend(own);
                }
                if was.partition_of != t.partition_of {
                    if let Some(p) = &was.partition_of {
                        changes.push(Change::DetachPartition { table: from_id });
                        // A detached partition keeps the key and indexes it had from its
                        // parent (now its own): they are there already.
                        if let Some(parent) = from.table_id(p.namespace.as_deref(), &p.table) {
                            let mut own = changes.split_off(before);
                            own.retain(|c| !kept_on_detach(c, from, to, parent));
                            changes.extend(own);
                        }
                    }
                    if t.partition_of.is_some() {
                        changes.push(Change::AttachPartition { table: to_id });
                    }
                }
                // SQLite's table options (STRICT, WITHOUT ROWID) are only set by CREATE TABLE.
                let options_differ = from.table(from_id).options != t.options;
                if dialect == Dialect::Sqlite
                    && (options_differ
                        || changes[before..]
                            .iter()
                            .any(|c| sqlite_needs_redefinition(c, from, to)))
                {
                    // Replace the in-place changes by one rebuild; the rebuild drops the old
                    // table's indexes, so every index of the new table is created again.
                    changes.truncate(before);
                    changes.push(Change::RedefineTable {
                        from: from_id,
                        to: to_id,
                    });
                    for (i, ix) in to.indexes.iter().enumerate() {
                        if ix.table == to_id && !ix.constraint {
                            changes.push(Change::CreateIndex { to: i });
                        }
                    }
                }
            }
        }
    }
    for from_id in drop_order(dialect, from, to) {
        {
            // Its foreign keys go first, so that tables dropped together drop in any order.
            if dialect != Dialect::Sqlite {
                for (i, fk) in from.foreign_keys.iter().enumerate() {
                    if fk.table == from_id {
                        changes.push(Change::DropForeignKey { from: i });
                    }
                }
            }
            changes.push(Change::DropTable { table: from_id });
        }
    }
    diff_functions(from, to, &mut changes);
    diff_triggers(from, to, &mut changes);
    diff_row_security(from, to, &mut changes);
    diff_events(from, to, &mut changes);
    changes.sort_by_key(Change::rank);
    Plan {
        dialect,
        from: from.clone(),
        to: to.clone(),
        changes,
    }
}

/// Domains and composite types, matched by (namespace, name): a changed definition, or a
/// domain that became a composite type or the other way, is [`Change::AlterType`] (which
/// the renderer refuses: the columns using it decide how). Dropped in the reverse of their
/// creation order (a type may be built on one before it).
fn diff_types(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    let same =
        |a: &super::UserType, b: &super::UserType| a.namespace == b.namespace && a.name == b.name;
    for (i, t) in to.types.iter().enumerate() {
        match from.types.iter().position(|f| same(f, t)) {
            None => changes.push(Change::CreateType { to: i }),
            Some(fi) if from.types[fi] != *t => {
                changes.push(Change::AlterType { from: fi, to: i });
            }
            Some(_) => {}
        }
    }
    for (i, f) in from.types.iter().enumerate().rev() {
        if !to.types.iter().any(|t| same(f, t)) {
            changes.push(Change::DropType { from: i });
        }
    }
}

/// Events and event triggers, matched by name: a changed definition or state is a drop and
/// a create (MySQL's `ALTER EVENT` and PostgreSQL's `ALTER EVENT TRIGGER` change one part).
fn diff_events(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    for (i, e) in to.events.iter().enumerate() {
        match from.events.iter().position(|f| f.name == e.name) {
            None => changes.push(Change::CreateEvent { to: i }),
            Some(fi) if from.events[fi] != *e => {
                changes.push(Change::DropEvent { from: fi });
                changes.push(Change::CreateEvent { to: i });
            }
            Some(_) => {}
        }
    }
    for (i, f) in from.events.iter().enumerate() {
        if !to.events.iter().any(|e| e.name == f.name) {
            changes.push(Change::DropEvent { from: i });
        }
    }
}

/// Whether two views of the same name have the same definition and kind (their indexes
/// are compared apart: a changed index is not a reason to rebuild a materialized view).
fn same_view(a: &super::View, b: &super::View) -> bool {
    a.definition == b.definition && a.materialized == b.materialized
}

/// The indexes of materialized view `fi` of `from` (`a`) and `ti` of `to` (`b`), matched by
/// name: a changed one is dropped and created again.
fn diff_view_indexes(
    fi: usize,
    a: &super::View,
    ti: usize,
    b: &super::View,
    changes: &mut Vec<Change>,
) {
    for (index, ix) in a.indexes.iter().enumerate() {
        if !b.indexes.contains(ix) {
            changes.push(Change::DropViewIndex { view: fi, index });
        }
    }
    for (index, ix) in b.indexes.iter().enumerate() {
        if !a.indexes.contains(ix) {
            changes.push(Change::CreateViewIndex { view: ti, index });
        }
    }
}

/// Functions, matched by (namespace, name, arguments): a changed definition is replaced
/// ([`Change::ReplaceFunction`]: in place, or dropped first when `CREATE OR REPLACE` cannot
/// change it).
fn diff_functions(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    let key = |f: &super::Function| (f.namespace.clone(), f.name.clone(), f.arguments.clone());
    for (i, f) in to.functions.iter().enumerate() {
        match from.functions.iter().position(|g| key(g) == key(f)) {
            None => changes.push(Change::CreateFunction { to: i }),
            Some(fi) if from.functions[fi].definition != f.definition => {
                changes.push(Change::ReplaceFunction { from: fi, to: i });
            }
            Some(_) => {}
        }
    }
    for (i, f) in from.functions.iter().enumerate() {
        if !to.functions.iter().any(|g| key(g) == key(f)) {
            changes.push(Change::DropFunction { from: i });
        }
    }
}

/// Triggers, matched by (table, name): a changed definition is dropped and created again, a
/// changed state altered. A trigger of a dropped table goes with it; one of a new or
/// rebuilt table (SQLite's copy, drop, rename) is created with it.
fn diff_triggers(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    let rebuilt: Vec<TableId> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RedefineTable { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    let table_in = |s: &Schema, other: &Schema, id: TableId| {
        let t = other.table(id);
        s.table_id(t.namespace.as_deref(), &t.name)
    };
    for (i, tr) in to.triggers.iter().enumerate() {
        let old = table_in(from, to, tr.table).and_then(|ft| {
            from.triggers
                .iter()
                .position(|g| g.table == ft && g.name == tr.name)
        });
        match old {
            _ if rebuilt.contains(&tr.table) => changes.push(Change::CreateTrigger { to: i }),
            None => changes.push(Change::CreateTrigger { to: i }),
            Some(fi) if from.triggers[fi].definition != tr.definition => {
                changes.push(Change::DropTrigger { from: fi });
                changes.push(Change::CreateTrigger { to: i });
            }
            Some(fi) if from.triggers[fi].state != tr.state => {
                changes.push(Change::AlterTrigger { from: fi, to: i });
            }
            Some(_) => {}
        }
    }
    for (i, tr) in from.triggers.iter().enumerate() {
        let Some(tt) = table_in(to, from, tr.table) else {
            continue;
        };
        if rebuilt.contains(&tt) {
            continue;
        }
        if !to
            .triggers
            .iter()
            .any(|g| g.table == tt && g.name == tr.name)
        {
            changes.push(Change::DropTrigger { from: i });
        }
    }
}

/// Row-level security and policies (PostgreSQL), by table name: the table's flags set when
/// they differ (a new table's when it has any), a policy whose parts differ dropped and
/// created again.
fn diff_row_security(from: &Schema, to: &Schema, changes: &mut Vec<Change>) {
    let old_table = |id: TableId| {
        let t = to.table(id);
        from.table_id(t.namespace.as_deref(), &t.name)
    };
    for (i, _) in to.tables.iter().enumerate() {
        let id = TableId(i as u32);
        let was = old_table(id).map_or((false, false), |f| from.row_security_of(f));
        if to.row_security_of(id) != was {
            changes.push(Change::AlterRowSecurity { table: id });
        }
    }
    for (i, p) in to.policies.iter().enumerate() {
        let old = old_table(p.table).and_then(|ft| {
            from.policies
                .iter()
                .position(|q| q.table == ft && q.name == p.name)
        });
        match old {
            None => changes.push(Change::CreatePolicy { to: i }),
            Some(fi)
                if from.policies[fi]
                    != (super::Policy {
                        table: from.policies[fi].table,
                        ..p.clone()
                    }) =>
            {
                changes.push(Change::DropPolicy { from: fi });
                changes.push(Change::CreatePolicy { to: i });
            }
            Some(_) => {}
        }
    }
    for (i, p) in from.policies.iter().enumerate() {
        let t = from.table(p.table);
        let Some(tt) = to.table_id(t.namespace.as_deref(), &t.name) else {
            continue;
        };
        if !to
            .policies
            .iter()
            .any(|q| q.table == tt && q.name == p.name)
        {
            changes.push(Change::DropPolicy { from: i });
        }
    }
}

/// The tables of `from` missing in `to`, in the order to drop them: on SQLite (whose foreign
/// keys are part of the table and act while it is dropped) a table after every dropped table
/// that references it; elsewhere in schema order (their foreign keys are dropped first).
fn drop_order(dialect: Dialect, from: &Schema, to: &Schema) -> Vec<TableId> {
    let mut left: Vec<TableId> = from
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| to.table_id(t.namespace.as_deref(), &t.name).is_none())
        .map(|(i, _)| TableId(i as u32))
        .collect();
    if dialect != Dialect::Sqlite {
        // Partitions before their parents, the deepest first (dropping a parent drops its
        // partitions).
        left.sort_by_key(|t| std::cmp::Reverse(partition_depth(from, from.table(*t))));
        return left;
    }
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let free = left.iter().position(|t| {
            !from
                .foreign_keys
                .iter()
                .any(|fk| fk.referenced_table == *t && fk.table != *t && left.contains(&fk.table))
        });
        // A cycle: break it in schema order.
        out.push(left.remove(free.unwrap_or(0)));
    }
    out
}

/// How many partitioned parents `t` has above it in `s` (0 for a table that is no partition).
fn partition_depth(s: &Schema, t: &super::Table) -> u8 {
    let mut depth = 0u8;
    let mut at = t;
    while let Some(p) = &at.partition_of {
        match s.table_id(p.namespace.as_deref(), &p.table) {
            Some(parent) if depth < 32 => {
                depth += 1;
                at = s.table(parent);
            }
            _ => break,
        }
    }
    depth
}

/// Whether `c` creates, on a partition being detached from `parent` (of `from`), a key or an
/// index the parent has (the same definition, by [`index_key`]): PostgreSQL leaves those on
/// the detached table.
fn kept_on_detach(c: &Change, from: &Schema, to: &Schema, parent: TableId) -> bool {
    match c {
        Change::AddPrimaryKey { table } => {
            let (Some(mine), Some(theirs)) = (
                &to.table(*table).primary_key,
                &from.table(parent).primary_key,
            ) else {
                return false;
            };
            let names = |s: &Schema, cols: &[ColumnId]| -> Vec<String> {
                cols.iter().map(|c| s.column(*c).name.clone()).collect()
            };
            names(to, &mine.columns) == names(from, &theirs.columns)
        }
        Change::CreateIndex { to: i } => {
            let key = index_key(to, &to.indexes[*i]);
            from.indexes
                .iter()
                .any(|p| p.table == parent && index_key(from, p) == key)
        }
        _ => false,
    }
}

/// SQLite can add a column in place only when it is nullable or has a constant default, is not
/// part of a key, and is not generated as STORED; everything else rebuilds the table.
fn sqlite_needs_redefinition(c: &Change, from: &Schema, to: &Schema) -> bool {
    match c {
        Change::AddColumn { column } => {
            let col = to.column(*column);
            let constant_default = col.default.as_deref().is_some_and(is_constant);
            (!col.nullable && !constant_default)
                || col.default.as_deref().is_some_and(|d| !is_constant(d))
                || col.generated.as_ref().is_some_and(|g| g.stored)
                || to
                    .table(col.table)
                    .primary_key
                    .as_ref()
                    .is_some_and(|pk| pk.columns.contains(column))
        }
        // A UNIQUE constraint only exists inside CREATE TABLE.
        Change::CreateIndex { to: i } => to.indexes[*i].constraint,
        Change::DropIndex { from: i } => from.indexes[*i].constraint,
        Change::AlterTableComment { .. } | Change::AlterTableOptions { .. } => false,
        _ => true,
    }
}

fn is_constant(d: &str) -> bool {
    let u = d.trim().to_ascii_uppercase();
    u.starts_with('\'')
        || u.parse::<f64>().is_ok()
        || matches!(u.as_str(), "TRUE" | "FALSE" | "NULL")
}

fn diff_table(
    dialect: Dialect,
    from: &Schema,
    to: &Schema,
    from_id: TableId,
    to_id: TableId,
    changes: &mut Vec<Change>,
) {
    for (cid, c) in to.table_columns(to_id) {
        match from.column_id(from_id, &c.name) {
            None => changes.push(Change::AddColumn { column: cid }),
            Some(fcid) => {
                let ch = column_changes(from.column(fcid), c);
                if ch.any() {
                    changes.push(Change::AlterColumn {
                        from: fcid,
                        to: cid,
                        changes: ch,
                    });
                }
            }
        }
    }
    for (cid, c) in from.table_columns(from_id) {
        if to.column_id(to_id, &c.name).is_none() {
            changes.push(Change::DropColumn { column: cid });
        }
    }
    let pk_names = |s: &Schema, t: TableId| {
        s.table(t).primary_key.as_ref().map(|pk| {
            (
                pk.columns
                    .iter()
                    .map(|c| s.column(*c).name.clone())
                    .collect::<Vec<_>>(),
                pk.name.clone(),
            )
        })
    };
    let (fpk, tpk) = (pk_names(from, from_id), pk_names(to, to_id));
    let pk_changed = match (&fpk, &tpk) {
        (Some((fc, fname)), Some((tc, tname))) => {
            fc != tc
                || (dialect == Dialect::Postgres
                    && fname.is_some()
                    && tname.is_some()
                    && fname != tname)
        }
        (None, None) => false,
        _ => true,
    };
    if pk_changed {
        if fpk.is_some() {
            changes.push(Change::DropPrimaryKey { table: from_id });
        }
        if tpk.is_some() {
            changes.push(Change::AddPrimaryKey { table: to_id });
        }
    }
    // Indexes: by name, and equal only when their definitions (in column names) are.
    let fidx: Vec<(usize, &Index)> = from
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, i)| i.table == from_id)
        .collect();
    let tidx: Vec<(usize, &Index)> = to
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, i)| i.table == to_id)
        .collect();
    // Names the database generates say nothing: such indexes match by definition only.
    // SQLite's `sqlite_autoindex_*`, and MySQL/MariaDB's index for a foreign key (named after
    // the constraint or its first column, and renamed by the server when the key is added
    // again).
    let generated = |s: &Schema, i: &Index| {
        i.name.starts_with("sqlite_autoindex_")
            || (dialect == Dialect::Mysql && mysql_fk_index(s, i))
    };
    for (ti, t) in &tidx {
        let same = if generated(to, t) {
            fidx.iter()
                .find(|(_, f)| generated(from, f) && index_key(from, f) == index_key(to, t))
        } else {
            fidx.iter().find(|(_, f)| f.name == t.name)
        };
        match same {
            // An INVALID index (a failed CREATE INDEX CONCURRENTLY) is not the index it was
            // meant to be: it is dropped and built again.
            Some((_, f)) if index_key(from, f) == index_key(to, t) && f.invalid == t.invalid => {}
            Some((fi, _)) => {
                changes.push(Change::DropIndex { from: *fi });
                changes.push(Change::CreateIndex { to: *ti });
            }
            None => changes.push(Change::CreateIndex { to: *ti }),
        }
    }
    for (fi, f) in &fidx {
        let kept = if generated(from, f) {
            tidx.iter()
                .any(|(_, t)| generated(to, t) && index_key(from, f) == index_key(to, t))
        } else {
            tidx.iter().any(|(_, t)| t.name == f.name)
        };
        if !kept {
            changes.push(Change::DropIndex { from: *fi });
        }
    }
    // Foreign keys: by name when both are named, else by definition.
    let ffk: Vec<(usize, &ForeignKey)> = from
        .foreign_keys
        .iter()
        .enumerate()
        .filter(|(_, f)| f.table == from_id)
        .collect();
    let tfk: Vec<(usize, &ForeignKey)> = to
        .foreign_keys
        .iter()
        .enumerate()
        .filter(|(_, f)| f.table == to_id)
        .collect();
    let mut kept = vec![false; ffk.len()];
    for (ti, t) in &tfk {
        let tk = fk_key(dialect, to, t);
        let found = ffk.iter().enumerate().find(|(k, (_, f))| {
            !kept[*k]
                && fk_key(dialect, from, f) == tk
                && (f.name.is_none() || t.name.is_none() || f.name == t.name)
        });
        match found {
            // NOT VALID → valid: validated in place; valid → NOT VALID cannot be done in place.
            Some((k, (fi, f))) if f.not_valid != t.not_valid => {
                kept[k] = true;
                if f.not_valid {
                    changes.push(Change::ValidateForeignKey { to: *ti });
                } else {
                    changes.push(Change::DropForeignKey { from: *fi });
                    changes.push(Change::AddForeignKey { to: *ti });
                }
            }
            Some((k, _)) => kept[k] = true,
            None => changes.push(Change::AddForeignKey { to: *ti }),
        }
    }
    for (k, (fi, _)) in ffk.iter().enumerate() {
        if !kept[k] {
            changes.push(Change::DropForeignKey { from: *fi });
        }
    }
    // Checks: by expression (and name when both have one).
    for (i, c) in to
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.table == to_id)
    {
        let old = from.checks.iter().position(|f| {
            f.table == from_id
                && f.expression == c.expression
                && (f.name.is_none() || c.name.is_none() || f.name == c.name)
        });
        match old {
            None => changes.push(Change::AddCheck { to: i }),
            Some(fi) if from.checks[fi].not_valid && !c.not_valid => {
                changes.push(Change::ValidateCheck { to: i });
            }
            Some(fi) if !from.checks[fi].not_valid && c.not_valid => {
                changes.push(Change::DropCheck { from: fi });
                changes.push(Change::AddCheck { to: i });
            }
            Some(_) => {}
        }
    }
    for (i, c) in from
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.table == from_id)
    {
        if !to.checks.iter().any(|t| {
            t.table == to_id
                && t.expression == c.expression
                && (t.name.is_none() || c.name.is_none() || t.name == c.name)
        }) {
            changes.push(Change::DropCheck { from: i });
        }
    }
    if from.table(from_id).comment != to.table(to_id).comment {
        changes.push(Change::AlterTableComment {
            from: from_id,
            to: to_id,
        });
    }
    if dialect == Dialect::Mysql
        && super::table_options::differs(from, from.table(from_id), to, to.table(to_id)).any()
    {
        changes.push(Change::AlterTableOptions {
            from: from_id,
            to: to_id,
        });
    }
}

fn column_changes(a: &Column, b: &Column) -> ColumnChanges {
    ColumnChanges {
        data_type: a.data_type != b.data_type,
        nullable: a.nullable != b.nullable,
        default: a.default != b.default,
        auto_increment: a.auto_increment != b.auto_increment,
        generated: a.generated != b.generated,
        collation: a.collation != b.collation,
        comment: a.comment != b.comment,
        mysql_options: a.on_update != b.on_update || a.invisible != b.invisible,
    }
}

/// Whether `i` is the index MySQL/MariaDB creates for a foreign key: not unique, on exactly
/// the key's columns, named after the constraint or after its first column.
fn mysql_fk_index(s: &Schema, i: &Index) -> bool {
    if i.unique || i.predicate.is_some() {
        return false;
    }
    let cols: Option<Vec<ColumnId>> = i
        .columns
        .iter()
        .map(|c| match c.part {
            IndexPart::Column(id) => Some(id),
            IndexPart::Expression(_) => None,
        })
        .collect();
    let Some(cols) = cols else { return false };
    s.foreign_keys.iter().any(|fk| {
        fk.table == i.table
            && fk.columns == cols
            && (fk.name.as_deref() == Some(i.name.as_str())
                || fk.columns.first().map(|c| s.column(*c).name.as_str()) == Some(i.name.as_str()))
    })
}

/// An index's definition in names, for comparison across schemas.
fn index_key(s: &Schema, i: &Index) -> String {
    let cols: Vec<String> = i
        .columns
        .iter()
        .map(|c| {
            let part = match &c.part {
                IndexPart::Column(id) => s.column(*id).name.clone(),
                IndexPart::Expression(e) => format!("({e})"),
            };
            format!(
                "{part}{}{}",
                if c.descending { " DESC" } else { "" },
                c.option
                    .as_deref()
                    .map(|o| format!(" {o}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let include: Vec<&str> = i
        .include
        .iter()
        .map(|c| s.column(*c).name.as_str())
        .collect();
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{}|{:?}",
        i.unique,
        i.constraint,
        cols.join(","),
        i.method,
        i.predicate,
        include,
        i.nulls_not_distinct,
        i.storage
    )
}

fn fk_key(dialect: Dialect, s: &Schema, f: &ForeignKey) -> String {
    // MySQL treats NO ACTION as RESTRICT, and MariaDB reports either spelling.
    let action = |a: super::Action| match (dialect, a) {
        (Dialect::Mysql, super::Action::NoAction) => super::Action::Restrict,
        (_, a) => a,
    };
    let cols: Vec<&str> = f
        .columns
        .iter()
        .map(|c| s.column(*c).name.as_str())
        .collect();
    let rcols: Vec<&str> = f
        .referenced_columns
        .iter()
        .map(|c| s.column(*c).name.as_str())
        .collect();
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}",
        cols.join(","),
        s.table_name(f.referenced_table),
        rcols.join(","),
        action(f.on_delete),
        action(f.on_update),
        f.deferrable
    )
}

/// Column ids of `table` in `s` by name, for renderers.
pub(crate) fn column_names(s: &Schema, ids: &[ColumnId]) -> Vec<String> {
    ids.iter().map(|c| s.column(*c).name.clone()).collect()
}
