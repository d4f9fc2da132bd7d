//! Prisma's externally managed tables and enums: the `tables.external` and `enums.external`
//! lists of `prisma.config.ts`. Prisma Migrate leaves them to their owner: it never creates,
//! alters or drops them, while the relations of managed models to them still make foreign
//! keys.
//!
//! Source: Prisma's documentation "External tables" (Preview since 6.13) and the engine's
//! rule for the names (prisma/prisma-engines#5558, errors P3023/P3024): `schema.table` when the
//! datasource lists `schemas`, the bare table name when it does not.

use crate::build::Desired;
use crate::keep::{column_map, copy_table, remap_fk, table_map};
use keel_core::schema::{ColumnId, Enum, ForeignKey, Schema, Table, TableId};

/// The external tables and enums a `prisma.config.ts` names, as written there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct External {
    /// `tables.external`.
    pub tables: Vec<String>,
    /// `enums.external`.
    pub enums: Vec<String>,
}

impl External {
    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.enums.is_empty()
    }

    /// Whether `tables.external` names the table `name` of `namespace` (`None`: the current
    /// schema, `current`); a name with a `.` is `schema.name`, one without a bare name.
    pub fn names_table(&self, namespace: Option<&str>, name: &str, current: &str) -> bool {
        self.tables
            .iter()
            .filter_map(|n| split(n, n.contains('.')))
            .any(|entry| names(&entry, namespace, name, current))
    }
}

/// Whether the parsed external name `entry` is the object `name` of `namespace` (`None`: the
/// current schema, `current`).
fn names(
    entry: &(Option<String>, String),
    namespace: Option<&str>,
    name: &str,
    current: &str,
) -> bool {
    let (schema, n) = entry;
    n == name
        && match schema {
            None => namespace.is_none(),
            Some(s) => namespace.unwrap_or(current) == s,
        }
}

/// Leaves the external tables and enums out of the comparison of `desired` with `other`:
/// `desired` takes `other`'s version of each (so that no change is planned for them), or has
/// none when `other` has none. The foreign keys of managed tables to an external table are
/// kept, resolved by column name against `other`'s version. Returns one line per external
/// object, and per foreign key that could not be kept because `other` lacks what it
/// references.
///
/// # Errors
/// A message when a name does not have the form Prisma requires: `schema.table` when the
/// datasource lists `schemas` (Prisma's P3023), a bare name when it does not (P3024).
pub fn ignore_external(
    desired: &mut Desired,
    other: &Schema,
    external: &External,
) -> Result<Vec<String>, String> {
    let qualified = !desired.schemas.is_empty();
    let mut tables = Vec::new();
    let mut enums = Vec::new();
    for (list, out, what) in [
        (&external.tables, &mut tables, "tables.external"),
        (&external.enums, &mut enums, "enums.external"),
    ] {
        for name in list {
            out.push(split(name, qualified).ok_or_else(|| {
                if qualified {
                    format!("`{what}` names `{name}`: the datasource lists `schemas`, so each name is `schema.name`")
                } else {
                    format!("`{what}` names `{name}`: the datasource lists no `schemas`, so each name is a bare name")
                }
            })?);
        }
    }
    let current = desired.current_schema.clone();
    Ok(leave_to_owner(
        &mut desired.schema,
        other,
        &tables,
        &enums,
        &current,
    ))
}

/// As [`ignore_external`] for two schemas of one database (a replayed history and the live
/// schema, in `keel drift`): `schema` takes `other`'s version of each external table and enum.
/// A name with a `.` is `schema.name`, one without is a bare name; `current` is PostgreSQL's
/// current schema (`public` when unsure). Returns one line per external object.
pub fn leave_external(
    schema: &mut Schema,
    other: &Schema,
    external: &External,
    current: &str,
) -> Vec<String> {
    let parse = |list: &[String]| -> Vec<(Option<String>, String)> {
        list.iter()
            .filter_map(|n| split(n, n.contains('.')))
            .collect()
    };
    leave_to_owner(
        schema,
        other,
        &parse(&external.tables),
        &parse(&external.enums),
        current,
    )
}

fn leave_to_owner(
    schema: &mut Schema,
    other: &Schema,
    tables: &[(Option<String>, String)],
    enums: &[(Option<String>, String)],
    current: &str,
) -> Vec<String> {
    let is_named = |list: &[(Option<String>, String)], namespace: &Option<String>, name: &str| {
        list.iter()
            .any(|entry| names(entry, namespace.as_deref(), name, current))
    };
    let is_external = |t: &Table| is_named(tables, &t.namespace, &t.name);
    let mut lines = Vec::new();
    let s = &*schema;

    // The foreign keys of managed tables to external ones, by name, before the renumbering.
    let to_external: Vec<(&ForeignKey, Vec<&str>, Vec<&str>)> = s
        .foreign_keys
        .iter()
        .filter(|fk| !is_external(s.table(fk.table)) && is_external(s.table(fk.referenced_table)))
        .map(|fk| {
            let names = |ids: &[ColumnId]| {
                ids.iter()
                    .map(|c| s.columns[c.idx()].name.as_str())
                    .collect()
            };
            (fk, names(&fk.columns), names(&fk.referenced_columns))
        })
        .collect();
    let mut next = s.retain_tables(|t| !is_external(t));
    let mut copied = Vec::new();
    for (i, t) in other.tables.iter().enumerate() {
        if is_external(t) {
            copy_table(other, TableId(i as u32), &mut next);
            copied.push(TableId(i as u32));
            lines.push(format!("table {}", shown(&t.namespace, &t.name)));
        }
    }
    for (ns, name) in tables {
        let found = other.tables.iter().any(|t| {
            t.name == *name && is_named(&[(ns.clone(), name.clone())], &t.namespace, &t.name)
        });
        if !found {
            lines.push(format!(
                "table {} (absent on the other side too)",
                shown(ns, name)
            ));
        }
    }
    // The external tables' own foreign keys, as the other side has them.
    let tmap = table_map(other, &next);
    let cmap = column_map(other, &next, &tmap);
    for fk in other
        .foreign_keys
        .iter()
        .filter(|fk| copied.contains(&fk.table))
    {
        if let Some(f) = remap_fk(fk, &tmap, &cmap) {
            next.foreign_keys.push(f);
        }
    }
    for (fk, cols, ref_cols) in to_external {
        let from = s.table(fk.table);
        let to = s.table(fk.referenced_table);
        let resolved = (|| {
            let t = next.table_id(from.namespace.as_deref(), &from.name)?;
            let rt = next.table_id(to.namespace.as_deref(), &to.name)?;
            let columns = cols
                .iter()
                .map(|c| next.column_id(t, c))
                .collect::<Option<Vec<_>>>()?;
            let referenced_columns = ref_cols
                .iter()
                .map(|c| next.column_id(rt, c))
                .collect::<Option<Vec<_>>>()?;
            Some(ForeignKey {
                table: t,
                referenced_table: rt,
                columns,
                referenced_columns,
                ..fk.clone()
            })
        })();
        match resolved {
            Some(f) => next.foreign_keys.push(f),
            None => lines.push(format!(
                "foreign key {}of {} to the external table {}: left out, the other side lacks the columns it references",
                fk.name.as_deref().map(|n| format!("\"{n}\" ")).unwrap_or_default(),
                shown(&from.namespace, &from.name),
                shown(&to.namespace, &to.name),
            )),
        }
    }
    let external_enum = |e: &Enum| is_named(enums, &e.namespace, &e.name);
    next.enums.retain(|e| !external_enum(e));
    for e in other.enums.iter().filter(|e| external_enum(e)) {
        next.enums.push(e.clone());
        lines.push(format!("enum {}", shown(&e.namespace, &e.name)));
    }
    next.enums
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    *schema = next;
    lines
}

/// `schema.name` → (Some(schema), name) when `qualified`, `name` → (None, name) when not;
/// `None` for the other form.
fn split(name: &str, qualified: bool) -> Option<(Option<String>, String)> {
    match (name.split_once('.'), qualified) {
        (Some((s, n)), true) if !s.is_empty() && !n.is_empty() && !n.contains('.') => {
            Some((Some(s.to_string()), n.to_string()))
        }
        (None, false) if !name.is_empty() => Some((None, name.to_string())),
        _ => None,
    }
}

fn shown(namespace: &Option<String>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("\"{ns}\".\"{name}\""),
        None => format!("\"{name}\""),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ast::Ast;
    use std::path::Path;

    fn desired(text: &str) -> Desired {
        let mut ast = Ast {
            files: vec![Path::new("schema.prisma").to_path_buf()],
            blocks: Vec::new(),
        };
        crate::parse::parse_file(Path::new("schema.prisma"), 0, text, &mut ast.blocks).unwrap();
        crate::build(&ast, None).unwrap()
    }

    const APP: &str = r#"
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model users {
  id    Int    @id
  email String
  posts Post[]
  role  role
}
model Post {
  id       Int   @id
  authorId Int
  author   users @relation(fields: [authorId], references: [id])
}
enum role {
  admin
  member
}
"#;

    fn external(tables: &[&str], enums: &[&str]) -> External {
        External {
            tables: tables.iter().map(|s| s.to_string()).collect(),
            enums: enums.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn an_external_table_takes_the_other_sides_shape_and_keeps_its_foreign_keys() {
        let d = desired(APP);
        // The owner's table has a column the models leave out, and no `email`.
        let mut other = d.schema.retain_tables(|t| t.name != "users");
        let users = other.push_table(None, "users");
        other
            .columns
            .push(Schema::column_template(users, "id", "integer"));
        other
            .columns
            .push(Schema::column_template(users, "auth_provider", "text"));
        let post = other.table_id(None, "Post").unwrap();
        other.foreign_keys.push(ForeignKey {
            table: post,
            referenced_table: users,
            columns: vec![other.column_id(post, "authorId").unwrap()],
            referenced_columns: vec![other.column_id(users, "id").unwrap()],
            ..d.schema.foreign_keys[0].clone()
        });
        let mut d = d;
        let lines = ignore_external(&mut d, &other, &external(&["users"], &["role"])).unwrap();
        assert_eq!(lines[0], "table \"users\"");
        let t = d.schema.table_id(None, "users").unwrap();
        let cols: Vec<&str> = d
            .schema
            .table_columns(t)
            .map(|(_, c)| c.name.as_str())
            .collect();
        assert_eq!(cols, ["id", "auth_provider"]);
        // Post's foreign key to users survives, pointing at the copied table.
        let fk = d
            .schema
            .foreign_keys
            .iter()
            .find(|f| f.name.as_deref() == Some("Post_authorId_fkey"))
            .unwrap();
        assert_eq!(fk.referenced_table, t);
        // The enum is the other side's.
        assert_eq!(d.schema.enums, other.enums);
        let plan = keel_core::schema::diff::diff(keel_core::Dialect::Postgres, &other, &d.schema);
        let summary = keel_core::schema::summary::summarize(&plan);
        assert!(
            summary.iter().all(|l| !l.contains("users")),
            "nothing is planned for the external table: {summary:?}"
        );
    }

    #[test]
    fn a_foreign_key_to_columns_the_owner_lacks_is_named_not_invented() {
        let mut d = desired(APP);
        let other = Schema::default();
        let lines = ignore_external(&mut d, &other, &external(&["users"], &[])).unwrap();
        assert_eq!(
            lines,
            [
                "table \"users\" (absent on the other side too)",
                "foreign key \"Post_authorId_fkey\" of \"Post\" to the external table \"users\": left out, the other side lacks the columns it references",
            ]
        );
        assert!(d.schema.table_id(None, "users").is_none());
        assert!(d.schema.foreign_keys.is_empty());
    }

    #[test]
    fn names_take_prismas_form() {
        let mut d = desired(APP);
        let e = ignore_external(
            &mut d,
            &Schema::default(),
            &external(&["public.users"], &[]),
        );
        assert!(e.unwrap_err().contains("bare name"));
        let multi = APP
            .replace(
                "url      = env(\"DATABASE_URL\")",
                "url = env(\"DATABASE_URL\")\n  schemas = [\"public\", \"auth\"]",
            )
            .replace("model users {", "model users {\n  @@schema(\"auth\")")
            .replace("model Post {", "model Post {\n  @@schema(\"public\")")
            .replace("enum role {", "enum role {\n  @@schema(\"public\")");
        let mut d = desired(&multi);
        let e = ignore_external(&mut d, &Schema::default(), &external(&["users"], &[]));
        assert!(e.unwrap_err().contains("schema.name"));
        // `public` is the current schema: its objects carry no namespace in the model.
        let mut other = Schema::default();
        other.enums.push(Enum {
            namespace: None,
            name: "role".into(),
            values: vec!["owner".into()],
        });
        let lines =
            ignore_external(&mut d, &other, &external(&["auth.users"], &["public.role"])).unwrap();
        assert!(lines.contains(&"enum \"role\"".to_string()), "{lines:?}");
        assert_eq!(d.schema.enums[0].values, ["owner"]);
        assert!(d.schema.table_id(Some("auth"), "users").is_none());
    }
}
