//! Relations: foreign keys from the side that names `fields:`/`references:`, and the join
//! tables of implicit many-to-many relations.
//!
//! Source: Prisma's documentation. "Referential actions": when `onDelete` is not given it is
//! `SetNull` if a field of the relation is optional, else `Restrict`; `onUpdate` is
//! `Cascade`. "Many-to-many relations → implicit": the table `_{relation name}` (by default
//! the two model names in alphabetical order joined by `To`), column `A` referencing the
//! model that sorts first and `B` the other, both `ON DELETE CASCADE ON UPDATE CASCADE`;
//! since Prisma 6 a primary key `_{name}_AB_pkey` on PostgreSQL (a unique index
//! `_{name}_AB_unique` elsewhere) and an index `_{name}_B_index`.

use super::{find, is_model, Ctx};
use crate::ast::{Arity, Attribute, Expr, Field};
use crate::error::PslError;
use crate::names;
use keel_core::schema::{
    Action, Column, ColumnId, ForeignKey, Index, IndexColumn, IndexPart, PrimaryKey, Schema,
    TableId,
};
use keel_core::Dialect;
use std::collections::{HashMap, HashSet};

/// A join table of an implicit many-to-many relation.
pub(crate) struct Join {
    pub(crate) table: String,
    pub(crate) namespace: Option<String>,
    /// The model column `A` references (the one whose name sorts first).
    a: usize,
    /// The model column `B` references.
    b: usize,
}

/// The relation name of a relation field: `@relation("Name")` or `@relation(name: "Name")`.
fn relation_name(f: &Field) -> Option<&str> {
    find(&f.attributes, "relation")
        .and_then(|a| a.argument("name", true))
        .and_then(Expr::as_str)
}

fn relation(f: &Field) -> Option<&Attribute> {
    find(&f.attributes, "relation")
}

/// The field on the other side of relation field `fi` of model `mi`, if any.
fn opposite<'a>(ctx: &'a Ctx<'_>, mi: usize, fi: usize) -> Option<&'a Field> {
    let f = &ctx.models[mi].block.fields[fi];
    let target = is_model(ctx, f)?;
    let name = relation_name(f);
    ctx.models[target]
        .block
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| !(target == mi && *i == fi))
        .map(|(_, g)| g)
        .find(|g| is_model(ctx, g) == Some(mi) && relation_name(g) == name)
}

fn has_fields(f: &Field) -> bool {
    relation(f).is_some_and(|a| a.argument("fields", false).is_some())
}

/// The implicit many-to-many relations: pairs of list relation fields, neither naming
/// `fields:`.
pub(crate) fn join_tables(ctx: &Ctx<'_>) -> Result<Vec<Join>, PslError> {
    let mut seen = HashSet::new();
    let mut joins = Vec::new();
    for (mi, m) in ctx.models.iter().enumerate() {
        for (fi, f) in m.block.fields.iter().enumerate() {
            if f.arity != Arity::List || has_fields(f) {
                continue;
            }
            let Some(target) = is_model(ctx, f) else {
                continue;
            };
            let Some(other) = opposite(ctx, mi, fi) else {
                return Err(ctx.err(
                    f.span,
                    format!(
                        "the relation `{}` has no field on the other side, in `{}`",
                        f.name, ctx.models[target].block.name
                    ),
                ));
            };
            if other.arity != Arity::List || has_fields(other) {
                continue;
            }
            let (a, b) = {
                let (x, y) = (&m.block.name, &ctx.models[target].block.name);
                if x <= y {
                    (mi, target)
                } else {
                    (target, mi)
                }
            };
            let name = relation_name(f).map(str::to_string).unwrap_or_else(|| {
                format!("{}To{}", ctx.models[a].block.name, ctx.models[b].block.name)
            });
            if seen.insert(name.clone()) {
                joins.push(Join {
                    table: format!("_{name}"),
                    namespace: ctx.models[a].namespace.clone(),
                    a,
                    b,
                });
            }
        }
    }
    Ok(joins)
}

fn action(ctx: &Ctx<'_>, attr: &Attribute, key: &str) -> Result<Option<Action>, PslError> {
    let Some(v) = attr.argument(key, false) else {
        return Ok(None);
    };
    Ok(Some(match v.as_path() {
        Some("Cascade") => Action::Cascade,
        Some("Restrict") => Action::Restrict,
        Some("NoAction") => Action::NoAction,
        Some("SetNull") => Action::SetNull,
        Some("SetDefault") => Action::SetDefault,
        _ => {
            return Err(ctx.err(
                attr.span,
                format!("`{key}:` is one of Cascade, Restrict, NoAction, SetNull, SetDefault"),
            ))
        }
    }))
}

fn field_list(ctx: &Ctx<'_>, attr: &Attribute, key: &str) -> Result<Vec<String>, PslError> {
    match attr.argument(key, false) {
        Some(Expr::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_path()
                    .map(str::to_string)
                    .ok_or_else(|| ctx.err(attr.span, format!("`{key}:` lists field names")))
            })
            .collect(),
        Some(_) => Err(ctx.err(attr.span, format!("`{key}:` lists field names"))),
        None => Ok(Vec::new()),
    }
}

/// The column of scalar field `name` of model `mi`.
fn column_of_field(
    ctx: &Ctx<'_>,
    column_of: &HashMap<(usize, usize), ColumnId>,
    mi: usize,
    name: &str,
) -> Option<ColumnId> {
    let fi = ctx.models[mi]
        .block
        .fields
        .iter()
        .position(|f| f.name == name)?;
    column_of.get(&(mi, fi)).copied()
}

/// Adds the foreign key of every relation field that names `fields:` and `references:`
/// (none under `relationMode = "prisma"`, after checking the fields exist).
pub(crate) fn foreign_keys(
    ctx: &Ctx<'_>,
    table_of_model: &[TableId],
    column_of: &HashMap<(usize, usize), ColumnId>,
    schema: &mut Schema,
) -> Result<(), PslError> {
    for (mi, m) in ctx.models.iter().enumerate() {
        for f in &m.block.fields {
            let Some(target) = is_model(ctx, f) else {
                continue;
            };
            let Some(attr) = relation(f).filter(|a| a.argument("fields", false).is_some()) else {
                continue;
            };
            let fields = field_list(ctx, attr, "fields")?;
            let references = field_list(ctx, attr, "references")?;
            if fields.is_empty() || fields.len() != references.len() {
                return Err(ctx.err(
                    attr.span,
                    "`fields:` and `references:` name as many fields as each other",
                ));
            }
            let mut columns = Vec::new();
            let mut optional = false;
            for name in &fields {
                let c = column_of_field(ctx, column_of, mi, name).ok_or_else(|| {
                    ctx.err(
                        attr.span,
                        format!("`{name}` is not a scalar field of `{}`", m.block.name),
                    )
                })?;
                optional |= schema.columns[c.idx()].nullable;
                columns.push(c);
            }
            let mut referenced = Vec::new();
            for name in &references {
                referenced.push(column_of_field(ctx, column_of, target, name).ok_or_else(
                    || {
                        ctx.err(
                            attr.span,
                            format!(
                                "`{name}` is not a scalar field of `{}`",
                                ctx.models[target].block.name
                            ),
                        )
                    },
                )?);
            }
            if ctx.relation_mode_prisma {
                continue;
            }
            let on_delete = action(ctx, attr, "onDelete")?.unwrap_or(if optional {
                Action::SetNull
            } else {
                Action::Restrict
            });
            let on_update = action(ctx, attr, "onUpdate")?.unwrap_or(Action::Cascade);
            let name = match ctx.dialect {
                Dialect::Sqlite => None,
                d => Some(match attr.argument("map", false).and_then(Expr::as_str) {
                    Some(n) => n.to_string(),
                    None => {
                        let names: Vec<&str> = columns
                            .iter()
                            .map(|c| schema.columns[c.idx()].name.as_str())
                            .collect();
                        names::foreign_key(d, &m.table, &names)
                    }
                }),
            };
            schema.foreign_keys.push(ForeignKey {
                table: table_of_model[mi],
                name,
                columns,
                referenced_table: table_of_model[target],
                referenced_columns: referenced,
                on_delete,
                on_update,
                deferrable: None,
                not_valid: false,
            });
        }
    }
    Ok(())
}

/// The single-column id of model `mi`: its column, for a join table to reference.
fn single_id(schema: &Schema, table: TableId) -> Option<ColumnId> {
    match &schema.tables[table.idx()].primary_key {
        Some(pk) if pk.columns.len() == 1 => Some(pk.columns[0]),
        _ => None,
    }
}

/// Adds the columns, keys and foreign keys of each join table (its table is already in
/// `schema`).
pub(crate) fn add_join_tables(
    ctx: &Ctx<'_>,
    joins: &[Join],
    table_of_model: &[TableId],
    schema: &mut Schema,
) -> Result<(), PslError> {
    for j in joins {
        let Some(table) = schema.table_id(j.namespace.as_deref(), &j.table) else {
            continue;
        };
        let mut ids = Vec::new();
        for (letter, model) in [("A", j.a), ("B", j.b)] {
            let target = table_of_model[model];
            let id = single_id(schema, target).ok_or_else(|| {
                ctx.err(
                    ctx.models[model].block.span,
                    format!(
                        "`{}` is in an implicit many-to-many relation, which needs a single-field `@id`",
                        ctx.models[model].block.name
                    ),
                )
            })?;
            let referenced = schema.columns[id.idx()].clone();
            let c = ColumnId(schema.columns.len() as u32);
            schema.columns.push(Column {
                table,
                name: letter.to_string(),
                nullable: false,
                default: None,
                auto_increment: None,
                generated: None,
                comment: None,
                on_update: None,
                invisible: false,
                collation: referenced.collation.clone(),
                data_type: referenced.data_type.clone(),
            });
            ids.push((c, target, id));
        }
        let part = |c: ColumnId| IndexColumn {
            part: IndexPart::Column(c),
            descending: false,
            option: None,
        };
        let (a, b) = (ids[0].0, ids[1].0);
        let base = &j.table;
        if ctx.dialect == Dialect::Postgres {
            schema.tables[table.idx()].primary_key = Some(PrimaryKey {
                name: Some(format!("{base}_AB_pkey")),
                columns: vec![a, b],
            });
        } else {
            schema.indexes.push(index(
                table,
                format!("{base}_AB_unique"),
                true,
                vec![part(a), part(b)],
            ));
        }
        schema.indexes.push(index(
            table,
            format!("{base}_B_index"),
            false,
            vec![part(b)],
        ));
        if ctx.relation_mode_prisma {
            continue;
        }
        for (letter, (c, target, id)) in ["A", "B"].iter().zip(ids) {
            schema.foreign_keys.push(ForeignKey {
                table,
                name: (ctx.dialect != Dialect::Sqlite).then(|| format!("{base}_{letter}_fkey")),
                columns: vec![c],
                referenced_table: target,
                referenced_columns: vec![id],
                on_delete: Action::Cascade,
                on_update: Action::Cascade,
                deferrable: None,
                not_valid: false,
            });
        }
    }
    Ok(())
}

fn index(table: TableId, name: String, unique: bool, columns: Vec<IndexColumn>) -> Index {
    Index {
        table,
        name,
        unique,
        constraint: false,
        columns,
        method: None,
        predicate: None,
        include: Vec::new(),
        invalid: false,
        nulls_not_distinct: false,
        storage: None,
    }
}
