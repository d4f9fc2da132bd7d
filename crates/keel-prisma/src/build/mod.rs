//! [`Ast`] → keel's [`Schema`] for the datasource's provider, as Prisma Migrate would create
//! it: one table per model (`@@map`), one column per scalar field (`@map`), `@id`/`@@id`,
//! `@unique`/`@@unique` and `@@index` as indexes, relations as foreign keys (none under
//! `relationMode = "prisma"`), implicit many-to-many relations as `_AToB` join tables, enums
//! as PostgreSQL enum types or MySQL `enum(…)` columns, the datasource's `extensions` and
//! `schemas`.
//!
//! Source: Prisma's documentation (Prisma schema reference; "Relations"; "Many-to-many
//! relations → implicit"; "Referential actions"; "Index and constraint names") and the
//! behaviour of Prisma Migrate 6.19 (`migrate diff --from-empty --to-schema-datamodel`),
//! checked by `crates/keel-cli/tests/prisma_parity.rs`.

mod defaults;
mod relations;
pub mod types;

use crate::ast::{Arity, Ast, Attribute, Block, BlockKind, Expr, Field, Span, TypeName};
use crate::error::PslError;
use crate::names;
use keel_core::schema::normalize;
use keel_core::schema::{
    Column, ColumnId, Enum, Extension, Index, IndexColumn, IndexPart, PrimaryKey, Schema, Table,
    TableId,
};
use keel_core::Dialect;
use std::collections::HashMap;
use std::path::PathBuf;

/// A `schema.prisma` read as a desired schema.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The datasource's provider.
    pub dialect: Dialect,
    /// The schema Prisma Migrate would create.
    pub schema: Schema,
    /// `relationMode = "prisma"`: relations make no foreign keys.
    pub relation_mode_prisma: bool,
    /// The datasource declares `extensions` (Prisma's `postgresqlExtensions`): only then
    /// does Prisma manage them.
    pub declares_extensions: bool,
    /// The datasource's `schemas` (PostgreSQL multi-schema); empty when it lists none.
    pub schemas: Vec<String>,
    /// PostgreSQL: the schema whose objects the model holds with no namespace.
    pub current_schema: String,
    /// The files read.
    pub files: Vec<PathBuf>,
}

/// What one model becomes.
pub(crate) struct Model<'a> {
    pub(crate) block: &'a Block,
    pub(crate) table: String,
    pub(crate) namespace: Option<String>,
    /// (field index in the block, column name) of each scalar field.
    pub(crate) columns: Vec<(usize, String)>,
}

/// What one enum becomes.
struct EnumType {
    db_name: String,
    namespace: Option<String>,
    /// (value name, database value).
    values: Vec<(String, String)>,
}

pub(crate) struct Ctx<'a> {
    ast: &'a Ast,
    pub(crate) dialect: Dialect,
    /// PostgreSQL: the schema objects without `@@schema` go to, and whose objects the model
    /// holds with no namespace.
    current: String,
    pub(crate) models: Vec<Model<'a>>,
    by_name: HashMap<&'a str, usize>,
    enums: HashMap<&'a str, EnumType>,
    pub(crate) relation_mode_prisma: bool,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, at: Span, message: impl Into<String>) -> PslError {
        let path = self
            .ast
            .files
            .get(at.file)
            .cloned()
            .unwrap_or_else(|| PathBuf::from("schema.prisma"));
        PslError::at(&path, at.line, at.column, message)
    }

    /// The namespace an object of `@@schema(name)` gets in the model.
    fn namespace(&self, name: Option<String>) -> Option<String> {
        name.filter(|n| self.dialect == Dialect::Postgres && *n != self.current)
    }
}

fn string_arg(ctx: &Ctx<'_>, attr: &Attribute, name: &str) -> Result<Option<String>, PslError> {
    match attr.argument(name, true) {
        None => Ok(None),
        Some(Expr::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ctx.err(attr.span, format!("`@{}` takes a string here", attr.name))),
    }
}

pub(crate) fn find<'b>(attrs: &'b [Attribute], name: &str) -> Option<&'b Attribute> {
    attrs.iter().find(|a| a.name == name)
}

/// Builds the schema `ast` describes. `current_schema` is the PostgreSQL schema the target
/// works in (its `?schema=` or current schema; `public` when `None`): objects in it carry no
/// namespace, as introspection gives them.
///
/// # Errors
/// [`PslError`] (K1012) at the place of: a missing or second datasource, a provider keel
/// does not run (`sqlserver`, `mongodb`, `cockroachdb`), an unknown type, attribute argument
/// or native type, a relation whose fields or references are not fields of their models, a
/// default that does not fit its field, composite types (MongoDB's).
pub fn build(ast: &Ast, current_schema: Option<&str>) -> Result<Desired, PslError> {
    let mut ctx = Ctx {
        ast,
        dialect: Dialect::Postgres,
        current: current_schema.unwrap_or("public").to_string(),
        models: Vec::new(),
        by_name: HashMap::new(),
        enums: HashMap::new(),
        relation_mode_prisma: false,
    };
    let mut schema = Schema::default();
    datasource(&mut ctx, &mut schema)?;
    for b in &ast.blocks {
        match b.kind {
            BlockKind::Type => {
                return Err(ctx.err(
                    b.span,
                    format!(
                        "`type {}`: composite types are MongoDB's; SQL databases have none",
                        b.name
                    ),
                ))
            }
            BlockKind::Enum => enum_type(&mut ctx, b)?,
            _ => {}
        }
    }
    for b in ast.blocks.iter().filter(|b| b.kind == BlockKind::Model) {
        model(&mut ctx, b)?;
    }
    scalar_columns(&mut ctx)?;
    let joins = relations::join_tables(&ctx)?;
    // Tables in (namespace, name) order, as introspection lists them.
    let mut order: Vec<(Option<String>, String, Option<usize>)> = ctx
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.namespace.clone(), m.table.clone(), Some(i)))
        .chain(
            joins
                .iter()
                .map(|j| (j.namespace.clone(), j.table.clone(), None)),
        )
        .collect();
    order.sort();
    for w in order.windows(2) {
        if w[0].0 == w[1].0 && w[0].1 == w[1].1 {
            let at = w[1].2.or(w[0].2).map(|i| ctx.models[i].block.span);
            return Err(ctx.err(
                at.unwrap_or_default(),
                format!("two models map to the table `{}`", w[1].1),
            ));
        }
    }
    let mut table_of_model = vec![TableId(0); ctx.models.len()];
    for (i, (namespace, name, m)) in order.iter().enumerate() {
        schema.tables.push(Table {
            namespace: namespace.clone(),
            name: name.clone(),
            primary_key: None,
            comment: None,
            options: None,
            partition_by: None,
            partition_of: None,
            engine: None,
            // Prisma's MySQL renderer ends every CREATE TABLE (join tables too) with
            // `DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`.
            collation: (ctx.dialect == Dialect::Mysql).then(|| "utf8mb4_unicode_ci".to_string()),
        });
        if let Some(m) = m {
            table_of_model[*m] = TableId(i as u32);
        }
    }
    let mut column_of: HashMap<(usize, usize), ColumnId> = HashMap::new();
    for (mi, m) in ctx.models.iter().enumerate() {
        let table = table_of_model[mi];
        for (fi, name) in &m.columns {
            let column = column(&ctx, &m.block.fields[*fi], name, table)?;
            column_of.insert((mi, *fi), ColumnId(schema.columns.len() as u32));
            schema.columns.push(column);
        }
    }
    for (mi, m) in ctx.models.iter().enumerate() {
        keys(&ctx, mi, m, table_of_model[mi], &column_of, &mut schema)?;
    }
    if ctx.dialect == Dialect::Sqlite {
        // Prisma writes `AUTOINCREMENT` on every single-column `Int` primary key on SQLite,
        // `@default(autoincrement())` or not (its SQLite renderer: a single primary key of the
        // Int family).
        for t in &schema.tables {
            if let Some([c]) = t.primary_key.as_ref().map(|pk| pk.columns.as_slice()) {
                let col = &mut schema.columns[c.idx()];
                if col.data_type.eq_ignore_ascii_case("INTEGER") {
                    col.auto_increment = Some(keel_core::schema::AutoIncrement::AutoIncrement);
                }
            }
        }
    }
    relations::foreign_keys(&ctx, &table_of_model, &column_of, &mut schema)?;
    relations::add_join_tables(&ctx, &joins, &table_of_model, &mut schema)?;
    if ctx.dialect == Dialect::Postgres {
        for b in ast.blocks.iter().filter(|b| b.kind == BlockKind::Enum) {
            if let Some(e) = ctx.enums.get(b.name.as_str()) {
                schema.enums.push(Enum {
                    namespace: e.namespace.clone(),
                    name: e.db_name.clone(),
                    values: e.values.iter().map(|(_, v)| v.clone()).collect(),
                });
            }
        }
        schema
            .enums
            .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    }
    let mut namespaces: Vec<String> = schema
        .tables
        .iter()
        .filter_map(|t| t.namespace.clone())
        .chain(schema.enums.iter().filter_map(|e| e.namespace.clone()))
        .chain(
            declared_schemas(&ctx)
                .into_iter()
                .filter(|s| *s != ctx.current),
        )
        .collect();
    namespaces.sort();
    namespaces.dedup();
    if ctx.dialect == Dialect::Postgres {
        schema.namespaces = namespaces;
    }
    Ok(Desired {
        dialect: ctx.dialect,
        schema,
        relation_mode_prisma: ctx.relation_mode_prisma,
        declares_extensions: declares(ast, "extensions"),
        schemas: declared_schemas(&ctx),
        current_schema: ctx.current.clone(),
        files: ast.files.clone(),
    })
}

fn datasource(ctx: &mut Ctx<'_>, schema: &mut Schema) -> Result<(), PslError> {
    let mut sources = ctx
        .ast
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Datasource);
    let Some(ds) = sources.next() else {
        let at = Span::default();
        return Err(ctx.err(at, "no `datasource` block: keel reads the provider from it"));
    };
    if let Some(second) = sources.next() {
        return Err(ctx.err(second.span, "a second `datasource` block: Prisma takes one"));
    }
    let setting = |key: &str| ds.settings.iter().find(|(k, _, _)| k == key);
    let Some((_, provider, at)) = setting("provider") else {
        return Err(ctx.err(ds.span, "the datasource names no `provider`"));
    };
    ctx.dialect = match provider.as_str() {
        Some("postgresql" | "postgres") => Dialect::Postgres,
        Some("mysql") => Dialect::Mysql,
        Some("sqlite") => Dialect::Sqlite,
        Some(other) => {
            return Err(ctx.err(
                *at,
                format!("provider `{other}`: keel runs postgresql, mysql and sqlite"),
            ))
        }
        None => {
            return Err(ctx.err(
                *at,
                "`provider` is a string: \"postgresql\", \"mysql\" or \"sqlite\"",
            ))
        }
    };
    if let Some((_, mode, at)) = setting("relationMode").or_else(|| setting("referentialIntegrity"))
    {
        ctx.relation_mode_prisma = match mode.as_str() {
            Some("prisma") => true,
            Some("foreignKeys") => false,
            _ => return Err(ctx.err(*at, "`relationMode` is \"foreignKeys\" or \"prisma\"")),
        };
    }
    if let Some((_, Expr::Array(items), at)) = setting("extensions") {
        if ctx.dialect != Dialect::Postgres {
            return Err(ctx.err(*at, "`extensions` are PostgreSQL's"));
        }
        for item in items {
            let (name, args) = match item {
                Expr::Path(n) => (n.clone(), &[][..]),
                Expr::Call(n, args) => (n.clone(), &args[..]),
                _ => {
                    return Err(ctx.err(
                        *at,
                        "an extension is a name: `pg_trgm`, `citext(schema: \"x\")`",
                    ))
                }
            };
            let arg = |k: &str| {
                args.iter()
                    .find(|a| a.name.as_deref() == Some(k))
                    .and_then(|a| a.value.as_str().map(str::to_string))
            };
            schema.extensions.push(Extension {
                name: arg("map").unwrap_or(name),
                namespace: ctx.namespace(arg("schema")),
            });
        }
        schema.extensions.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
}

fn declares(ast: &Ast, key: &str) -> bool {
    ast.blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Datasource)
        .any(|b| b.settings.iter().any(|(k, _, _)| k == key))
}

fn declared_schemas(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.ast
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Datasource)
        .flat_map(|b| b.settings.iter())
        .filter(|(k, _, _)| k == "schemas")
        .flat_map(|(_, v, _)| match v {
            Expr::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn schema_attr(ctx: &Ctx<'_>, b: &Block) -> Result<Option<String>, PslError> {
    match find(&b.attributes, "schema") {
        Some(a) => string_arg(ctx, a, "name"),
        None => Ok(None),
    }
}

fn enum_type<'a>(ctx: &mut Ctx<'a>, b: &'a Block) -> Result<(), PslError> {
    let db_name = match find(&b.attributes, "map") {
        Some(a) => string_arg(ctx, a, "name")?.unwrap_or_else(|| b.name.clone()),
        None => b.name.clone(),
    };
    let mut values = Vec::new();
    for v in &b.values {
        let db = match find(&v.attributes, "map") {
            Some(a) => string_arg(ctx, a, "name")?.unwrap_or_else(|| v.name.clone()),
            None => v.name.clone(),
        };
        values.push((v.name.clone(), db));
    }
    let namespace = ctx.namespace(schema_attr(ctx, b)?);
    ctx.enums.insert(
        b.name.as_str(),
        EnumType {
            db_name,
            namespace,
            values,
        },
    );
    Ok(())
}

/// Whether `type_name` names a model of the schema.
pub(crate) fn is_model(ctx: &Ctx<'_>, field: &Field) -> Option<usize> {
    match &field.type_name {
        TypeName::Named(t) => ctx.by_name.get(t.as_str()).copied(),
        TypeName::Unsupported(_) => None,
    }
}

fn model<'a>(ctx: &mut Ctx<'a>, b: &'a Block) -> Result<(), PslError> {
    let table = match find(&b.attributes, "map") {
        Some(a) => string_arg(ctx, a, "name")?.unwrap_or_else(|| b.name.clone()),
        None => b.name.clone(),
    };
    let namespace = ctx.namespace(schema_attr(ctx, b)?);
    if ctx
        .by_name
        .insert(b.name.as_str(), ctx.models.len())
        .is_some()
    {
        return Err(ctx.err(b.span, format!("a second model `{}`", b.name)));
    }
    ctx.models.push(Model {
        block: b,
        table,
        namespace,
        columns: Vec::new(),
    });
    Ok(())
}

/// Fills each model's scalar columns, once every model is known (a field's type may be a
/// model declared later or in another file).
fn scalar_columns(ctx: &mut Ctx<'_>) -> Result<(), PslError> {
    for mi in 0..ctx.models.len() {
        let b = ctx.models[mi].block;
        let mut columns = Vec::new();
        for (fi, f) in b.fields.iter().enumerate() {
            if is_model(ctx, f).is_some() {
                continue;
            }
            if let TypeName::Named(t) = &f.type_name {
                if !types::SCALARS.contains(&t.as_str()) && !ctx.enums.contains_key(t.as_str()) {
                    return Err(ctx.err(
                        f.span,
                        format!("`{t}` is not a scalar type, enum or model of this schema"),
                    ));
                }
            }
            let name = match find(&f.attributes, "map") {
                Some(a) => string_arg(ctx, a, "name")?.unwrap_or_else(|| f.name.clone()),
                None => f.name.clone(),
            };
            columns.push((fi, name));
        }
        ctx.models[mi].columns = columns;
    }
    Ok(())
}

fn column(ctx: &Ctx<'_>, f: &Field, name: &str, table: TableId) -> Result<Column, PslError> {
    let dialect = ctx.dialect;
    let native = f.attributes.iter().find(|a| a.name.starts_with("db."));
    let (scalar, enum_type) = match &f.type_name {
        TypeName::Named(t) => match ctx.enums.get(t.as_str()) {
            Some(e) => (None, Some(e)),
            None => (Some(t.as_str()), None),
        },
        TypeName::Unsupported(_) => (None, None),
    };
    let base = match (&f.type_name, scalar, enum_type, native) {
        (TypeName::Unsupported(text), ..) => text.clone(),
        (_, Some(s), _, Some(attr)) => {
            types::native_type(dialect, s, attr).map_err(|e| ctx.err(attr.span, e))?
        }
        (_, Some(s), _, None) => types::default_type(dialect, s)
            .map(str::to_string)
            .ok_or_else(|| ctx.err(f.span, format!("`{s}` is not a scalar type")))?,
        (_, None, Some(e), _) => match dialect {
            Dialect::Postgres => types::pg_type_name(e.namespace.as_deref(), &e.db_name),
            Dialect::Mysql => format!(
                "enum({})",
                e.values
                    .iter()
                    .map(|(_, v)| format!("'{}'", v.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            // Prisma 6.2 and later: an enum is TEXT on SQLite.
            Dialect::Sqlite => "TEXT".to_string(),
        },
        _ => return Err(ctx.err(f.span, "this field has no type")),
    };
    let list = f.arity == Arity::List;
    if list && dialect != Dialect::Postgres {
        return Err(ctx.err(f.span, "scalar lists (`Type[]`) are PostgreSQL's only"));
    }
    let data_type = if list { format!("{base}[]") } else { base };
    let mut made = defaults::Made::default();
    if let Some(attr) = find(&f.attributes, "default") {
        let value = attr
            .argument("value", true)
            .ok_or_else(|| ctx.err(attr.span, "`@default` needs a value"))?;
        let values: &[(String, String)] = enum_type.map_or(&[], |e| &e.values);
        made = defaults::made(
            &defaults::Field {
                dialect,
                scalar,
                enum_values: values,
                list,
                data_type: &data_type,
            },
            value,
        )
        .map_err(|e| ctx.err(attr.span, e))?;
    }
    Ok(Column {
        table,
        name: name.to_string(),
        data_type: normalize::data_type(dialect, &data_type),
        nullable: f.arity != Arity::Required,
        default: made
            .default
            .and_then(|d| normalize::default_expr(dialect, &d)),
        auto_increment: made.auto_increment,
        generated: None,
        collation: None,
        comment: None,
        on_update: None,
        invisible: false,
    })
}

/// A field reference in `@@id`/`@@unique`/`@@index`: `a`, `a(sort: Desc, length: 10, ops: …)`.
struct KeyPart {
    field: String,
    descending: bool,
    option: Option<String>,
}

fn key_parts(ctx: &Ctx<'_>, attr: &Attribute, value: &Expr) -> Result<Vec<KeyPart>, PslError> {
    let Expr::Array(items) = value else {
        return Err(ctx.err(
            attr.span,
            format!("`@@{}` takes a list of fields", attr.name),
        ));
    };
    items
        .iter()
        .map(|i| match i {
            Expr::Path(f) => Ok(KeyPart {
                field: f.clone(),
                descending: false,
                option: None,
            }),
            Expr::Call(f, args) => {
                let arg = |k: &str| {
                    args.iter()
                        .find(|a| a.name.as_deref() == Some(k))
                        .map(|a| &a.value)
                };
                Ok(KeyPart {
                    field: f.clone(),
                    descending: arg("sort").and_then(Expr::as_path) == Some("Desc"),
                    option: part_option(ctx.dialect, arg("length"), arg("ops")),
                })
            }
            _ => Err(ctx.err(attr.span, "a field of the model is expected here")),
        })
        .collect()
}

/// A key part's option as introspection holds it: a MySQL prefix length, a PostgreSQL
/// operator class (`raw("gin_trgm_ops")`, or Prisma's name `JsonbPathOps` → `jsonb_path_ops`).
fn part_option(dialect: Dialect, length: Option<&Expr>, ops: Option<&Expr>) -> Option<String> {
    if let (Dialect::Mysql, Some(Expr::Number(n))) = (dialect, length) {
        return Some(n.clone());
    }
    match ops? {
        Expr::Call(raw, args) if raw == "raw" => args
            .first()
            .and_then(|a| a.value.as_str())
            .map(str::to_string),
        Expr::Path(p) => {
            let mut s = String::new();
            for (i, c) in p.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    s.push('_');
                }
                s.push(c.to_ascii_lowercase());
            }
            Some(s)
        }
        _ => None,
    }
}

fn keys(
    ctx: &Ctx<'_>,
    mi: usize,
    m: &Model<'_>,
    table: TableId,
    column_of: &HashMap<(usize, usize), ColumnId>,
    schema: &mut Schema,
) -> Result<(), PslError> {
    let dialect = ctx.dialect;
    let col = |field: &str, at: Span| -> Result<(ColumnId, &str), PslError> {
        m.block
            .fields
            .iter()
            .position(|f| f.name == field)
            .and_then(|fi| {
                let c = column_of.get(&(mi, fi))?;
                let name = m
                    .columns
                    .iter()
                    .find(|(i, _)| *i == fi)
                    .map(|(_, n)| n.as_str())?;
                Some((*c, name))
            })
            .ok_or_else(|| {
                ctx.err(
                    at,
                    format!("`{field}` is not a scalar field of `{}`", m.block.name),
                )
            })
    };
    let add_index = |schema: &mut Schema,
                     attr: &Attribute,
                     parts: Vec<KeyPart>,
                     unique: bool,
                     method: Option<String>|
     -> Result<(), PslError> {
        let mut columns = Vec::new();
        let mut names = Vec::new();
        for p in parts {
            let (c, n) = col(&p.field, attr.span)?;
            names.push(n);
            columns.push(IndexColumn {
                part: IndexPart::Column(c),
                descending: p.descending,
                option: p.option,
            });
        }
        // `@@index(name: …)` is the database name too (Prisma 2's spelling of `map:`).
        let legacy = if attr.name == "index" {
            string_arg_named(ctx, attr, "name")?
        } else {
            None
        };
        let name = match string_arg_named(ctx, attr, "map")?.or(legacy) {
            Some(n) => n,
            None if unique => names::unique_index(dialect, &m.table, &names),
            None => names::index(dialect, &m.table, &names),
        };
        schema.indexes.push(Index {
            table,
            name,
            unique,
            constraint: false,
            columns,
            method,
            predicate: None,
            include: Vec::new(),
            invalid: false,
            nulls_not_distinct: false,
            storage: None,
        });
        Ok(())
    };
    // Field attributes: @id, @unique.
    for (fi, f) in m.block.fields.iter().enumerate() {
        if !column_of.contains_key(&(mi, fi)) {
            continue;
        }
        for attr in &f.attributes {
            let part = KeyPart {
                field: f.name.clone(),
                descending: attr.argument("sort", false).and_then(Expr::as_path) == Some("Desc"),
                option: part_option(dialect, attr.argument("length", false), None),
            };
            match attr.name.as_str() {
                "id" => primary_key(ctx, m, table, schema, attr, vec![part], &col)?,
                "unique" => add_index(schema, attr, vec![part], true, None)?,
                _ => {}
            }
        }
    }
    for attr in &m.block.attributes {
        let fields = || {
            attr.argument("fields", true)
                .ok_or_else(|| ctx.err(attr.span, format!("`@@{}` needs its fields", attr.name)))
        };
        match attr.name.as_str() {
            "id" => {
                let parts = key_parts(ctx, attr, fields()?)?;
                primary_key(ctx, m, table, schema, attr, parts, &col)?;
            }
            "unique" => {
                let parts = key_parts(ctx, attr, fields()?)?;
                add_index(schema, attr, parts, true, None)?;
            }
            "index" | "fulltext" => {
                let parts = key_parts(ctx, attr, fields()?)?;
                let method = if attr.name == "fulltext" {
                    Some("FULLTEXT".to_string())
                } else {
                    index_method(ctx, attr)?
                };
                let mut parts = parts;
                for p in &mut parts {
                    if p.option
                        .as_deref()
                        .is_some_and(|o| default_opclass(method.as_deref(), o))
                    {
                        p.option = None;
                    }
                }
                add_index(schema, attr, parts, false, method)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn string_arg_named(
    ctx: &Ctx<'_>,
    attr: &Attribute,
    name: &str,
) -> Result<Option<String>, PslError> {
    match attr.argument(name, false) {
        None => Ok(None),
        Some(Expr::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ctx.err(attr.span, format!("`{name}:` takes a string"))),
    }
}

fn index_method(ctx: &Ctx<'_>, attr: &Attribute) -> Result<Option<String>, PslError> {
    let Some(t) = attr.argument("type", false) else {
        return Ok(None);
    };
    let method = match (ctx.dialect, t.as_path()) {
        (_, Some("BTree")) => None,
        (Dialect::Postgres, Some("Hash")) => Some("hash"),
        (Dialect::Postgres, Some("Gin")) => Some("gin"),
        (Dialect::Postgres, Some("Gist")) => Some("gist"),
        (Dialect::Postgres, Some("SpGist")) => Some("spgist"),
        (Dialect::Postgres, Some("Brin")) => Some("brin"),
        (Dialect::Mysql, Some("Hash")) => Some("HASH"),
        _ => return Err(ctx.err(attr.span, "`type:` is not an index type of this database")),
    };
    Ok(method.map(str::to_string))
}

/// Whether PostgreSQL uses operator class `opclass` for index method `method` when none is
/// named (introspection leaves those out): `array_ops`, `jsonb_ops`, `tsvector_ops` for GIN,
/// a type's own `*_ops` for B-tree and hash (the `*_pattern_ops` are not), `*_minmax_ops`
/// for BRIN.
fn default_opclass(method: Option<&str>, opclass: &str) -> bool {
    match method {
        Some("gin") => matches!(opclass, "array_ops" | "jsonb_ops" | "tsvector_ops"),
        None | Some("hash") => opclass.ends_with("_ops") && !opclass.contains("pattern"),
        Some("brin") => opclass.ends_with("_minmax_ops"),
        _ => false,
    }
}

type ColFn<'f> = dyn Fn(&str, Span) -> Result<(ColumnId, &'f str), PslError> + 'f;

fn primary_key<'f>(
    ctx: &Ctx<'_>,
    m: &Model<'_>,
    table: TableId,
    schema: &mut Schema,
    attr: &Attribute,
    parts: Vec<KeyPart>,
    col: &ColFn<'f>,
) -> Result<(), PslError> {
    if schema.tables[table.idx()].primary_key.is_some() {
        return Err(ctx.err(
            attr.span,
            format!("`{}` has a second primary key", m.block.name),
        ));
    }
    let columns = parts
        .iter()
        .map(|p| col(&p.field, attr.span).map(|(c, _)| c))
        .collect::<Result<Vec<_>, _>>()?;
    let name = match ctx.dialect {
        Dialect::Postgres => Some(
            string_arg_named(ctx, attr, "map")?
                .unwrap_or_else(|| names::primary_key(ctx.dialect, &m.table)),
        ),
        _ => None,
    };
    schema.tables[table.idx()].primary_key = Some(PrimaryKey { name, columns });
    Ok(())
}

#[cfg(test)]
mod tests;
