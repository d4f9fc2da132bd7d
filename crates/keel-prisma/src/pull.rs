//! Schema model → `schema.prisma` text (Prisma's `db pull`): one model per table, one field
//! per column with its Prisma type and `@db.*` native type when it is not the scalar's
//! default, `@id`/`@@id`, `@unique`/`@@unique`, `@@index`, relation fields on both sides of
//! every foreign key, enums, and `@map`/`@@map` where a database name is not a Prisma
//! identifier. Reading the result back ([`crate::build`]) gives the same schema; what the
//! Prisma schema language cannot say (partial and expression indexes, checks, triggers,
//! functions, views, generated columns) is listed in comments, and keel's comparisons keep
//! it (see [`crate::keep`]).
//!
//! Source: Prisma's documentation "Introspection" (`prisma db pull`): model and field names
//! are the database names, made valid and `@map`ped when they are not; back-relation fields
//! are named after the model that refers.

use crate::names;
use keel_core::schema::{Action, AutoIncrement, ForeignKey, Index, IndexPart, Schema, TableId};
use keel_core::Dialect;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// Renders `schema` (of `dialect`; `current` is PostgreSQL's current schema, `public` when
/// `None`) as a `schema.prisma` whose datasource reads `DATABASE_URL`.
pub fn render(schema: &Schema, dialect: Dialect, current: Option<&str>) -> String {
    Pull::new(schema, dialect, current.unwrap_or("public")).render()
}

/// A Prisma identifier for a database name: letters, digits and `_`, starting with a letter.
fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        s.insert(0, 'x');
    }
    s
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A type with its arguments: `varchar(255)` → ("varchar", "255").
fn split_args(t: &str) -> (&str, Option<&str>) {
    match t.split_once('(') {
        Some((base, rest)) => {
            let close = rest.find(')').unwrap_or(rest.len());
            let tail = rest[close..].trim_start_matches(')').trim();
            if tail.is_empty() {
                (base, Some(&rest[..close]))
            } else {
                (t, None)
            }
        }
        None => (t, None),
    }
}

/// (scalar, native type attribute) for a column type, or `None` for `Unsupported`.
fn prisma_type(dialect: Dialect, t: &str) -> Option<(&'static str, Option<String>)> {
    let native = |n: &str| Some(n.to_string());
    let with = |n: &str, a: Option<&str>| match a {
        Some(a) => Some(format!("{n}({a})")),
        None => Some(n.to_string()),
    };
    Some(match dialect {
        Dialect::Postgres => {
            let (zone, base) = if let Some(b) = t.strip_suffix(" with time zone") {
                (Some(true), b)
            } else if let Some(b) = t.strip_suffix(" without time zone") {
                (Some(false), b)
            } else {
                (None, t)
            };
            let (base, args) = split_args(base);
            match (base, args, zone) {
                ("text", None, None) => ("String", None),
                ("varchar", a, None) => ("String", with("VarChar", a)),
                ("char", a, None) => ("String", with("Char", a)),
                ("uuid", None, None) => ("String", native("Uuid")),
                ("citext", None, None) => ("String", native("Citext")),
                ("inet", None, None) => ("String", native("Inet")),
                ("xml", None, None) => ("String", native("Xml")),
                ("bit", a, None) => ("String", with("Bit", a)),
                ("bit varying", a, None) => ("String", with("VarBit", a)),
                ("boolean", None, None) => ("Boolean", None),
                ("integer", None, None) => ("Int", None),
                ("smallint", None, None) => ("Int", native("SmallInt")),
                ("oid", None, None) => ("Int", native("Oid")),
                ("bigint", None, None) => ("BigInt", None),
                ("double precision", None, None) => ("Float", None),
                ("real", None, None) => ("Float", native("Real")),
                ("numeric", Some("65,30"), None) => ("Decimal", None),
                ("numeric", a, None) => ("Decimal", with("Decimal", a)),
                ("money", None, None) => ("Decimal", native("Money")),
                ("timestamp", Some("3"), Some(false)) => ("DateTime", None),
                ("timestamp", a, Some(false)) => ("DateTime", with("Timestamp", a)),
                ("timestamp", a, Some(true)) => ("DateTime", with("Timestamptz", a)),
                ("time", a, Some(false)) => ("DateTime", with("Time", a)),
                ("time", a, Some(true)) => ("DateTime", with("Timetz", a)),
                ("date", None, None) => ("DateTime", native("Date")),
                ("jsonb", None, None) => ("Json", None),
                ("json", None, None) => ("Json", native("Json")),
                ("bytea", None, None) => ("Bytes", None),
                _ => return None,
            }
        }
        Dialect::Mysql => {
            let (base, args) = split_args(t);
            match (base, args) {
                ("varchar", Some("191")) => ("String", None),
                ("varchar", a) => ("String", with("VarChar", a)),
                ("char", a) => ("String", with("Char", a)),
                ("text", None) => ("String", native("Text")),
                ("tinytext", None) => ("String", native("TinyText")),
                ("mediumtext", None) => ("String", native("MediumText")),
                ("longtext", None) => ("String", native("LongText")),
                ("tinyint", Some("1")) => ("Boolean", None),
                ("int", None) => ("Int", None),
                ("int unsigned", None) => ("Int", native("UnsignedInt")),
                ("smallint", None) => ("Int", native("SmallInt")),
                ("smallint unsigned", None) => ("Int", native("UnsignedSmallInt")),
                ("mediumint", None) => ("Int", native("MediumInt")),
                ("mediumint unsigned", None) => ("Int", native("UnsignedMediumInt")),
                ("tinyint", None) => ("Int", native("TinyInt")),
                ("tinyint unsigned", None) => ("Int", native("UnsignedTinyInt")),
                ("year", None) => ("Int", native("Year")),
                ("bigint", None) => ("BigInt", None),
                ("bigint unsigned", None) => ("BigInt", native("UnsignedBigInt")),
                ("decimal", Some("65,30")) => ("Decimal", None),
                ("decimal", a) => ("Decimal", with("Decimal", a)),
                ("double", None) => ("Float", None),
                ("float", None) => ("Float", native("Float")),
                ("datetime", Some("3")) => ("DateTime", None),
                ("datetime", a) => ("DateTime", with("DateTime", a.or(Some("0")))),
                ("timestamp", a) => ("DateTime", with("Timestamp", a.or(Some("0")))),
                ("time", a) => ("DateTime", with("Time", a.or(Some("0")))),
                ("date", None) => ("DateTime", native("Date")),
                ("json", None) => ("Json", None),
                ("longblob", None) => ("Bytes", None),
                ("blob", None) => ("Bytes", native("Blob")),
                ("tinyblob", None) => ("Bytes", native("TinyBlob")),
                ("mediumblob", None) => ("Bytes", native("MediumBlob")),
                ("binary", a) => ("Bytes", with("Binary", a)),
                ("varbinary", a) => ("Bytes", with("VarBinary", a)),
                _ => return None,
            }
        }
        Dialect::Sqlite => match t {
            "TEXT" => ("String", None),
            "INTEGER" => ("Int", None),
            "BIGINT" => ("BigInt", None),
            "REAL" => ("Float", None),
            "DECIMAL" => ("Decimal", None),
            "DATETIME" => ("DateTime", None),
            "BOOLEAN" => ("Boolean", None),
            "BLOB" => ("Bytes", None),
            "JSONB" => ("Json", None),
            _ => return None,
        },
    })
}

struct Pull<'a> {
    s: &'a Schema,
    dialect: Dialect,
    current: &'a str,
    /// Model name of each table.
    models: Vec<String>,
    /// Field name of each column.
    fields: Vec<String>,
    /// PostgreSQL enum type (as a column spells it) → Prisma enum name.
    pg_enums: HashMap<String, usize>,
    /// MySQL `enum(…)` columns: column index → Prisma enum name.
    my_enums: Vec<(usize, String, Vec<String>)>,
    /// Implicit many-to-many join tables, written as list fields rather than models.
    joins: Vec<Join>,
}

/// A table that is exactly what Prisma makes for an implicit many-to-many relation.
struct Join {
    table: TableId,
    /// The relation name when it is not the default `{A}To{B}`.
    name: Option<String>,
    a: TableId,
    b: TableId,
}

impl<'a> Pull<'a> {
    fn new(s: &'a Schema, dialect: Dialect, current: &'a str) -> Pull<'a> {
        let mut taken = HashSet::new();
        let mut unique = |base: String| {
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            name
        };
        let mut models = Vec::new();
        for t in &s.tables {
            models.push(unique(ident(&t.name)));
        }
        let mut pg_enums = HashMap::new();
        let mut enum_names = Vec::new();
        for (i, e) in s.enums.iter().enumerate() {
            let spelled = crate::build::types::pg_type_name(e.namespace.as_deref(), &e.name);
            pg_enums.insert(spelled, i);
            enum_names.push(unique(ident(&e.name)));
        }
        let mut my_enums = Vec::new();
        if dialect == Dialect::Mysql {
            for (ci, c) in s.columns.iter().enumerate() {
                if let Some(values) = mysql_enum_values(&c.data_type) {
                    let base = format!(
                        "{}_{}",
                        ident(&s.tables[c.table.idx()].name),
                        ident(&c.name)
                    );
                    my_enums.push((ci, unique(base), values));
                }
            }
        }
        let mut fields = Vec::with_capacity(s.columns.len());
        let mut per_table: HashMap<TableId, HashSet<String>> = HashMap::new();
        for c in &s.columns {
            let set = per_table.entry(c.table).or_default();
            let base = ident(&c.name);
            let mut name = base.clone();
            let mut n = 2;
            while !set.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            fields.push(name);
        }
        let mut p = Pull {
            s,
            dialect,
            current,
            models,
            fields,
            pg_enums,
            my_enums,
            joins: Vec::new(),
        };
        p.models.extend(enum_names);
        p.joins = (0..s.tables.len())
            .filter_map(|t| p.join(TableId(t as u32)))
            .collect();
        p
    }

    /// `t` as an implicit many-to-many join table, when it is exactly what Prisma makes:
    /// `_NAME` with NOT NULL columns `A` and `B` only, each a cascading foreign key to a
    /// single-column primary key, Prisma's key and index names, the model of `A` sorting
    /// first, nothing else on it.
    fn join(&self, t: TableId) -> Option<Join> {
        let s = self.s;
        let table = &s.tables[t.idx()];
        let rel = table.name.strip_prefix('_').filter(|r| !r.is_empty())?;
        let cols: Vec<usize> = (0..s.columns.len())
            .filter(|&i| s.columns[i].table == t)
            .collect();
        let col = |n: &str| cols.iter().copied().find(|&i| s.columns[i].name == n);
        let (a, b) = (col("A")?, col("B")?);
        if cols.len() != 2
            || [a, b].iter().any(|&i| {
                let c = &s.columns[i];
                c.nullable || c.default.is_some() || c.generated.is_some()
            })
        {
            return None;
        }
        let id = |i: usize| keel_core::schema::ColumnId(i as u32);
        let fks: Vec<&ForeignKey> = s.foreign_keys.iter().filter(|f| f.table == t).collect();
        let target = |c: usize, letter: &str| -> Option<TableId> {
            let f = fks.iter().find(|f| f.columns == [id(c)])?;
            let pk = s.tables[f.referenced_table.idx()].primary_key.as_ref()?;
            let name_ok = match self.dialect {
                Dialect::Sqlite => f.name.is_none(),
                _ => f.name.as_deref() == Some(&format!("{}_{letter}_fkey", table.name)),
            };
            (pk.columns == f.referenced_columns
                && pk.columns.len() == 1
                && f.on_delete == Action::Cascade
                && f.on_update == Action::Cascade
                && name_ok)
                .then_some(f.referenced_table)
        };
        let (ta, tb) = (target(a, "A")?, target(b, "B")?);
        let indexes: Vec<&Index> = s.indexes.iter().filter(|i| i.table == t).collect();
        let on = |i: &Index, c: &[usize]| {
            i.predicate.is_none()
                && i.method.is_none()
                && i.columns.len() == c.len()
                && i.columns.iter().zip(c).all(|(p, &c)| {
                    p.part == IndexPart::Column(id(c)) && !p.descending && p.option.is_none()
                })
        };
        let b_index = indexes
            .iter()
            .any(|i| !i.unique && i.name == format!("{}_B_index", table.name) && on(i, &[b]));
        let keyed = match self.dialect {
            Dialect::Postgres => {
                indexes.len() == 1
                    && table.primary_key.as_ref().is_some_and(|pk| {
                        pk.columns == [id(a), id(b)]
                            && pk.name.as_deref() == Some(&format!("{}_AB_pkey", table.name))
                    })
            }
            _ => {
                indexes.len() == 2
                    && table.primary_key.is_none()
                    && indexes.iter().any(|i| {
                        i.unique && i.name == format!("{}_AB_unique", table.name) && on(i, &[a, b])
                    })
            }
        };
        let alone = !s.triggers.iter().any(|x| x.table == t)
            && !s.checks.iter().any(|x| x.table == t)
            && !s.policies.iter().any(|x| x.table == t)
            && s.tables[ta.idx()].namespace == table.namespace;
        let (ma, mb) = (&self.models[ta.idx()], &self.models[tb.idx()]);
        if !(b_index && keyed && alone && ma <= mb) {
            return None;
        }
        Some(Join {
            table: t,
            name: (rel != format!("{ma}To{mb}")).then(|| rel.to_string()),
            a: ta,
            b: tb,
        })
    }

    fn is_join(&self, t: TableId) -> bool {
        self.joins.iter().any(|j| j.table == t)
    }

    fn enum_name(&self, i: usize) -> &str {
        &self.models[self.s.tables.len() + i]
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let provider = match self.dialect {
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        };
        let _ = writeln!(out, "// Written by `keel inspect --format prisma`.");
        let _ = writeln!(
            out,
            "generator client {{\n  provider = \"prisma-client-js\"\n}}\n"
        );
        let _ = writeln!(
            out,
            "datasource db {{\n  provider = \"{provider}\"\n  url      = env(\"DATABASE_URL\")"
        );
        if !self.s.namespaces.is_empty() {
            let mut all: Vec<String> = vec![quote(self.current)];
            all.extend(self.s.namespaces.iter().map(|n| quote(n)));
            let _ = writeln!(out, "  schemas  = [{}]", all.join(", "));
        }
        if !self.s.extensions.is_empty() {
            let list: Vec<String> = self
                .s
                .extensions
                .iter()
                .map(|e| {
                    let id = ident(&e.name);
                    let mut args = Vec::new();
                    if id != e.name {
                        args.push(format!("map: {}", quote(&e.name)));
                    }
                    if let Some(ns) = &e.namespace {
                        args.push(format!("schema: {}", quote(ns)));
                    }
                    if args.is_empty() {
                        id
                    } else {
                        format!("{id}({})", args.join(", "))
                    }
                })
                .collect();
            let _ = writeln!(out, "  extensions = [{}]", list.join(", "));
        }
        let _ = writeln!(out, "}}");
        for t in 0..self.s.tables.len() {
            if self.is_join(TableId(t as u32)) {
                continue;
            }
            out.push('\n');
            self.model(TableId(t as u32), &mut out);
        }
        for (i, e) in self.s.enums.iter().enumerate() {
            out.push('\n');
            self.enum_block(
                self.enum_name(i),
                &e.name,
                &e.values,
                e.namespace.as_deref(),
                &mut out,
            );
        }
        for (_, name, values) in &self.my_enums {
            out.push('\n');
            self.enum_block(name, name, values, None, &mut out);
        }
        self.not_described(&mut out);
        out
    }

    fn schema_attr(&self, namespace: Option<&str>, out: &mut String) {
        if !self.s.namespaces.is_empty() {
            let _ = writeln!(
                out,
                "  @@schema({})",
                quote(namespace.unwrap_or(self.current))
            );
        }
    }

    fn enum_block(
        &self,
        name: &str,
        db: &str,
        values: &[String],
        ns: Option<&str>,
        out: &mut String,
    ) {
        let _ = writeln!(out, "enum {name} {{");
        let mut taken = HashSet::new();
        for v in values {
            let base = ident(v);
            let mut id = base.clone();
            let mut n = 2;
            while !taken.insert(id.clone()) {
                id = format!("{base}{n}");
                n += 1;
            }
            if id == *v {
                let _ = writeln!(out, "  {id}");
            } else {
                let _ = writeln!(out, "  {id} @map({})", quote(v));
            }
        }
        if name != db && self.dialect == Dialect::Postgres {
            let _ = writeln!(out, "\n  @@map({})", quote(db));
        }
        self.schema_attr(ns, out);
        let _ = writeln!(out, "}}");
    }

    fn cols(&self, ids: &[keel_core::schema::ColumnId]) -> String {
        ids.iter()
            .map(|c| self.fields[c.idx()].clone())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn col_names(&self, ids: &[keel_core::schema::ColumnId]) -> Vec<&str> {
        ids.iter()
            .map(|c| self.s.columns[c.idx()].name.as_str())
            .collect()
    }

    fn model(&self, t: TableId, out: &mut String) {
        let table = &self.s.tables[t.idx()];
        let name = &self.models[t.idx()];
        let _ = writeln!(out, "model {name} {{");
        let single_pk = table
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .map(|pk| pk.columns[0]);
        let mut block = Vec::new();
        // Indexes: single-column unique ones on the field, the rest as block attributes.
        let mut field_unique: HashMap<usize, String> = HashMap::new();
        let mut skipped = Vec::new();
        for i in self.s.indexes.iter().filter(|i| i.table == t) {
            if let Some(why) = undescribable(i) {
                skipped.push(format!(
                    "  // index {} ({why}): not expressible in schema.prisma; keel keeps it",
                    quote(&i.name)
                ));
                continue;
            }
            let cols: Vec<keel_core::schema::ColumnId> = i
                .columns
                .iter()
                .filter_map(|c| match c.part {
                    IndexPart::Column(id) => Some(id),
                    IndexPart::Expression(_) => None,
                })
                .collect();
            let names = self.col_names(&cols);
            let default = if i.unique {
                names::unique_index(self.dialect, &table.name, &names)
            } else {
                names::index(self.dialect, &table.name, &names)
            };
            let map = (i.name != default).then(|| format!("map: {}", quote(&i.name)));
            let plain = i
                .columns
                .iter()
                .all(|c| !c.descending && c.option.is_none());
            if i.unique
                && cols.len() == 1
                && plain
                && i.method.is_none()
                && !field_unique.contains_key(&cols[0].idx())
            {
                let arg = map.map(|m| format!("({m})")).unwrap_or_default();
                field_unique.insert(cols[0].idx(), format!("@unique{arg}"));
                continue;
            }
            let parts: Vec<String> = i
                .columns
                .iter()
                .zip(&cols)
                .map(|(c, id)| {
                    let mut args = Vec::new();
                    if c.descending {
                        args.push("sort: Desc".to_string());
                    }
                    if let Some(o) = &c.option {
                        if o.parse::<u32>().is_ok() {
                            args.push(format!("length: {o}"));
                        } else {
                            args.push(format!("ops: raw({})", quote(o)));
                        }
                    }
                    let f = &self.fields[id.idx()];
                    if args.is_empty() {
                        f.clone()
                    } else {
                        format!("{f}({})", args.join(", "))
                    }
                })
                .collect();
            let mut args = vec![format!("[{}]", parts.join(", "))];
            args.extend(map);
            let kind = match i.method.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("fulltext") => "fulltext",
                _ if i.unique => "unique",
                _ => "index",
            };
            if let Some(m) = i.method.as_deref().filter(|_| kind == "index") {
                let ty = match m.to_ascii_lowercase().as_str() {
                    "hash" => "Hash",
                    "gin" => "Gin",
                    "gist" => "Gist",
                    "spgist" => "SpGist",
                    "brin" => "Brin",
                    _ => "BTree",
                };
                args.push(format!("type: {ty}"));
            }
            block.push(format!("  @@{kind}({})", args.join(", ")));
        }
        // Relations from this table.
        let fks: Vec<&ForeignKey> = self
            .s
            .foreign_keys
            .iter()
            .filter(|f| f.table == t)
            .collect();
        let mut relation_fields = Vec::new();
        let mut taken: HashSet<String> = self
            .s
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.table == t)
            .map(|(i, _)| self.fields[i].clone())
            .collect();
        let mut unique_name = |base: String| {
            let mut n = base.clone();
            let mut k = 2;
            while !taken.insert(n.clone()) {
                n = format!("{base}{k}");
                k += 1;
            }
            n
        };
        for f in &fks {
            let target = &self.models[f.referenced_table.idx()];
            let optional = f.columns.iter().any(|c| self.s.columns[c.idx()].nullable);
            let field = unique_name(ident(&format!(
                "{}_{}",
                target,
                self.col_names(&f.columns).join("_")
            )));
            let mut args = Vec::new();
            if let Some(n) = self.relation_name(f) {
                args.push(quote(&n));
            }
            args.push(format!("fields: [{}]", self.cols(&f.columns)));
            args.push(format!(
                "references: [{}]",
                self.cols(&f.referenced_columns)
            ));
            args.push(format!("onDelete: {}", action(f.on_delete)));
            args.push(format!("onUpdate: {}", action(f.on_update)));
            if let Some(n) = &f.name {
                if *n != names::foreign_key(self.dialect, &table.name, &self.col_names(&f.columns))
                {
                    args.push(format!("map: {}", quote(n)));
                }
            }
            relation_fields.push(format!(
                "  {field} {target}{} @relation({})",
                if optional { "?" } else { "" },
                args.join(", ")
            ));
        }
        // Implicit many-to-many relations: a list field on each side.
        for j in &self.joins {
            for (me, other) in [(j.a, j.b), (j.b, j.a)] {
                if me != t {
                    continue;
                }
                let other_model = &self.models[other.idx()];
                let field = unique_name(ident(other_model));
                let relation = j
                    .name
                    .as_ref()
                    .map(|n| format!(" @relation({})", quote(n)))
                    .unwrap_or_default();
                relation_fields.push(format!("  {field} {other_model}[]{relation}"));
                if j.a == j.b {
                    let field = unique_name(format!("{}_of", ident(other_model)));
                    relation_fields.push(format!("  {field} {other_model}[]{relation}"));
                    break;
                }
            }
        }
        // Relations to this table (the other side).
        for f in self
            .s
            .foreign_keys
            .iter()
            .filter(|f| f.referenced_table == t && !self.is_join(f.table))
        {
            let from = &self.models[f.table.idx()];
            let one_to_one = self.is_unique(f.table, &f.columns);
            let field = unique_name(ident(&format!(
                "{}_{}",
                from,
                self.col_names(&f.columns).join("_")
            )));
            let relation = self
                .relation_name(f)
                .map(|n| format!(" @relation({})", quote(&n)))
                .unwrap_or_default();
            relation_fields.push(format!(
                "  {field} {from}{}{relation}",
                if one_to_one { "?" } else { "[]" }
            ));
        }
        for (ci, c) in self
            .s
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.table == t)
        {
            let mut line = format!("  {}", self.fields[ci]);
            let (type_name, native, list) = self.field_type(ci);
            let arity = if list {
                "[]"
            } else if c.nullable {
                "?"
            } else {
                ""
            };
            let _ = write!(line, " {type_name}{arity}");
            if Some(keel_core::schema::ColumnId(ci as u32)) == single_pk {
                let pk = table.primary_key.as_ref().and_then(|p| p.name.as_deref());
                match pk {
                    Some(n) if n != names::primary_key(self.dialect, &table.name) => {
                        let _ = write!(line, " @id(map: {})", quote(n));
                    }
                    _ => line.push_str(" @id"),
                }
            }
            if let Some(u) = field_unique.get(&ci) {
                let _ = write!(line, " {u}");
            }
            if let Some(d) = self.default(ci) {
                let _ = write!(line, " @default({d})");
            }
            if self.fields[ci] != c.name {
                let _ = write!(line, " @map({})", quote(&c.name));
            }
            if let Some(n) = native {
                let _ = write!(line, " @db.{n}");
            }
            if let Some(g) = &c.generated {
                let _ = write!(
                    line,
                    " // generated: {} (keel keeps it)",
                    g.expression.replace('\n', " ")
                );
            }
            let _ = writeln!(out, "{line}");
        }
        for r in relation_fields {
            let _ = writeln!(out, "{r}");
        }
        for s in skipped {
            let _ = writeln!(out, "{s}");
        }
        if let Some(pk) = table.primary_key.as_ref().filter(|pk| pk.columns.len() > 1) {
            let mut args = vec![format!("[{}]", self.cols(&pk.columns))];
            if let Some(n) = &pk.name {
                if *n != names::primary_key(self.dialect, &table.name) {
                    args.push(format!("map: {}", quote(n)));
                }
            }
            block.insert(0, format!("  @@id({})", args.join(", ")));
        }
        if !block.is_empty() || *name != table.name || !self.s.namespaces.is_empty() {
            out.push('\n');
        }
        for b in block {
            let _ = writeln!(out, "{b}");
        }
        if *name != table.name {
            let _ = writeln!(out, "  @@map({})", quote(&table.name));
        }
        self.schema_attr(table.namespace.as_deref(), out);
        let _ = writeln!(out, "}}");
    }

    /// A relation needs a name when two tables have more than one foreign key between them,
    /// or one table refers to itself.
    fn relation_name(&self, f: &ForeignKey) -> Option<String> {
        let pair = |g: &ForeignKey| {
            let (a, b) = (
                g.table.min(g.referenced_table),
                g.table.max(g.referenced_table),
            );
            (a, b)
        };
        let same = self
            .s
            .foreign_keys
            .iter()
            .filter(|g| pair(g) == pair(f))
            .count();
        (same > 1 || f.table == f.referenced_table).then(|| {
            f.name.clone().unwrap_or_else(|| {
                format!(
                    "{}_{}",
                    self.s.tables[f.table.idx()].name,
                    self.col_names(&f.columns).join("_")
                )
            })
        })
    }

    fn is_unique(&self, t: TableId, cols: &[keel_core::schema::ColumnId]) -> bool {
        let same = |v: &[keel_core::schema::ColumnId]| {
            let mut a = v.to_vec();
            let mut b = cols.to_vec();
            a.sort();
            b.sort();
            a == b
        };
        self.s.tables[t.idx()]
            .primary_key
            .as_ref()
            .is_some_and(|pk| same(&pk.columns))
            || self.s.indexes.iter().any(|i| {
                i.table == t
                    && i.unique
                    && i.predicate.is_none()
                    && same(
                        &i.columns
                            .iter()
                            .filter_map(|c| match c.part {
                                IndexPart::Column(id) => Some(id),
                                IndexPart::Expression(_) => None,
                            })
                            .collect::<Vec<_>>(),
                    )
            })
    }

    /// (type name, native type, list) of column `ci`.
    fn field_type(&self, ci: usize) -> (String, Option<String>, bool) {
        let c = &self.s.columns[ci];
        if let Some((_, name, _)) = self.my_enums.iter().find(|(i, _, _)| *i == ci) {
            return (name.clone(), None, false);
        }
        let (base, list) = match c.data_type.strip_suffix("[]") {
            Some(b) if self.dialect == Dialect::Postgres => (b, true),
            _ => (c.data_type.as_str(), false),
        };
        if let Some(&e) = self.pg_enums.get(base) {
            return (self.enum_name(e).to_string(), None, list);
        }
        match prisma_type(self.dialect, base) {
            Some((scalar, native)) => (scalar.to_string(), native, list),
            None => (format!("Unsupported({})", quote(&c.data_type)), None, false),
        }
    }

    /// The `@default(…)` argument of column `ci`, if it has a default.
    fn default(&self, ci: usize) -> Option<String> {
        let c = &self.s.columns[ci];
        if c.auto_increment.is_some() {
            return match c.auto_increment {
                Some(AutoIncrement::IdentityAlways | AutoIncrement::IdentityByDefault) => {
                    Some("autoincrement()".into())
                }
                _ => Some("autoincrement()".into()),
            };
        }
        let d = c.default.as_deref()?;
        let (type_name, _, list) = self.field_type(ci);
        let upper = d.to_ascii_uppercase();
        if upper.starts_with("CURRENT_TIMESTAMP") || upper == "NOW()" {
            return Some("now()".into());
        }
        if !list {
            if let Some(text) = string_literal(d) {
                let is_enum = self.pg_enums.contains_key(c.data_type.as_str())
                    || self.my_enums.iter().any(|(i, _, _)| *i == ci);
                if is_enum
                    && text
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
                    && ident(&text) == text
                {
                    return Some(text);
                }
                match type_name.as_str() {
                    "String" | "Json" => return Some(quote(&text)),
                    "Int" | "BigInt" | "Float" | "Decimal" if text.parse::<f64>().is_ok() => {
                        return Some(text)
                    }
                    _ => {}
                }
            }
            match type_name.as_str() {
                "Boolean" if matches!(d, "true" | "false") => return Some(d.into()),
                "Boolean" if self.dialect == Dialect::Mysql && matches!(d, "1" | "0") => {
                    return Some(if d == "1" { "true" } else { "false" }.into())
                }
                "Int" | "BigInt" | "Float" | "Decimal" if d.parse::<f64>().is_ok() => {
                    return Some(d.into())
                }
                _ => {}
            }
        }
        Some(format!("dbgenerated({})", quote(d)))
    }

    fn not_described(&self, out: &mut String) {
        let s = self.s;
        let mut lines = Vec::new();
        let mut count = |n: usize, what: &str| {
            if n > 0 {
                lines.push(format!("//   {n} {what}"));
            }
        };
        count(s.views.len(), "view(s)");
        count(s.functions.len(), "function(s) and procedure(s)");
        count(s.triggers.len(), "trigger(s)");
        count(s.checks.len(), "check constraint(s)");
        count(s.policies.len(), "row-level security policy(ies)");
        count(s.sequences.len(), "free-standing sequence(s)");
        if !lines.is_empty() {
            let _ = writeln!(
                out,
                "\n// Not described by schema.prisma (keel's comparisons keep them):"
            );
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::NoAction => "NoAction",
        Action::Restrict => "Restrict",
        Action::Cascade => "Cascade",
        Action::SetNull => "SetNull",
        Action::SetDefault => "SetDefault",
    }
}

/// The text of a `'…'` literal (`''` unescaped), if `d` is one.
fn string_literal(d: &str) -> Option<String> {
    let inner = d.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// The values of a MySQL `enum('a','b')` column type.
fn mysql_enum_values(t: &str) -> Option<Vec<String>> {
    let inner = t.strip_prefix("enum(")?.strip_suffix(')')?;
    let mut values = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('\'', true) if chars.peek() == Some(&'\'') => {
                chars.next();
                cur.push('\'');
            }
            ('\'', _) => quoted = !quoted,
            (',', false) => values.push(std::mem::take(&mut cur)),
            (c, true) => cur.push(c),
            _ => {}
        }
    }
    values.push(cur);
    Some(values)
}

/// Why an index cannot be written as `@@index`/`@@unique`, if it cannot.
fn undescribable(i: &Index) -> Option<&'static str> {
    if i.predicate.is_some() {
        Some("a WHERE clause")
    } else if i
        .columns
        .iter()
        .any(|c| matches!(c.part, IndexPart::Expression(_)))
    {
        Some("an expression")
    } else if !i.include.is_empty() {
        Some("INCLUDE columns")
    } else if i
        .method
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("spatial"))
    {
        Some("SPATIAL")
    } else {
        None
    }
}
