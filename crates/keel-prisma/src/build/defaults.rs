//! `@default(…)`: the database default or auto-increment it makes, per provider.
//!
//! Source: Prisma's documentation "Prisma schema reference → @default": `autoincrement()`
//! (PostgreSQL `SERIAL`/`BIGSERIAL`, MySQL `AUTO_INCREMENT`, SQLite `AUTOINCREMENT`),
//! `now()` (`CURRENT_TIMESTAMP`, with the column's precision on MySQL), `dbgenerated("…")`
//! (the expression as written), literals; `uuid()`, `cuid()`, `nanoid()`, `ulid()` are made
//! by Prisma Client and leave the column without a default.

use crate::ast::Expr;
use keel_core::schema::AutoIncrement;
use keel_core::Dialect;

/// What a field's `@default` makes in the database.
#[derive(Debug, Default, PartialEq)]
pub struct Made {
    /// The default expression, before normalisation.
    pub default: Option<String>,
    /// An auto-increment.
    pub auto_increment: Option<AutoIncrement>,
}

/// Context for a default: the database, the field's scalar type (or `None` for an enum), the
/// database value of each enum value (for enums), whether a list, its column type.
pub struct Field<'a> {
    /// The database.
    pub dialect: Dialect,
    /// The scalar (`"Int"`), or `None` for an enum field.
    pub scalar: Option<&'a str>,
    /// For an enum: (value name, database value).
    pub enum_values: &'a [(String, String)],
    /// A list (`String[]`).
    pub list: bool,
    /// The column type (for `now()` on MySQL, lists on PostgreSQL).
    pub data_type: &'a str,
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The default `value` (the first argument of `@default`) makes for `field`, or why it is not
/// a default Prisma accepts.
pub fn made(field: &Field<'_>, value: &Expr) -> Result<Made, String> {
    let plain = |d: String| {
        Ok(Made {
            default: Some(d),
            auto_increment: None,
        })
    };
    match value {
        Expr::Call(name, args) => match name.as_str() {
            "autoincrement" => Ok(Made {
                default: None,
                auto_increment: Some(match field.dialect {
                    Dialect::Postgres => AutoIncrement::Serial,
                    _ => AutoIncrement::AutoIncrement,
                }),
            }),
            "now" => plain(match field.dialect {
                Dialect::Mysql => {
                    let precision = field
                        .data_type
                        .split_once('(')
                        .and_then(|(_, p)| p.strip_suffix(')'))
                        .filter(|p| *p != "0");
                    match precision {
                        Some(p) => format!("CURRENT_TIMESTAMP({p})"),
                        None => "CURRENT_TIMESTAMP".to_string(),
                    }
                }
                _ => "CURRENT_TIMESTAMP".to_string(),
            }),
            "dbgenerated" => match args.first().map(|a| &a.value) {
                Some(Expr::String(s)) => plain(s.clone()),
                None => Ok(Made::default()),
                Some(_) => Err("`dbgenerated` takes a string: the SQL of the default".into()),
            },
            "uuid" | "cuid" | "nanoid" | "ulid" => Ok(Made::default()),
            "sequence" => Err("`sequence()` is CockroachDB's; this provider has none".into()),
            other => Err(format!("`{other}()` is not a default Prisma knows")),
        },
        // As PostgreSQL prints an array default: `ARRAY[]::text[]` when empty, else each
        // quoted element cast to the element type (`ARRAY['a'::text, 'b'::text]`).
        Expr::Array(items) if field.list => {
            if field.dialect != Dialect::Postgres {
                return Err("scalar lists are PostgreSQL's only".into());
            }
            if items.is_empty() {
                return plain(format!("ARRAY[]::{}", field.data_type));
            }
            let element = field
                .data_type
                .strip_suffix("[]")
                .unwrap_or(field.data_type);
            let items = items
                .iter()
                .map(|i| {
                    literal(field, i).map(|l| {
                        if l.starts_with('\'') {
                            format!("{l}::{}", pg_cast_name(element))
                        } else {
                            l
                        }
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            plain(format!("ARRAY[{}]", items.join(", ")))
        }
        Expr::Array(_) => Err("a list default on a field that is not a list".into()),
        // Prisma writes no default for Json and Bytes on MySQL (the server takes none).
        _ if field.dialect == Dialect::Mysql && matches!(field.scalar, Some("Json" | "Bytes")) => {
            Ok(Made::default())
        }
        other => literal(field, other).and_then(plain),
    }
}

fn literal(field: &Field<'_>, value: &Expr) -> Result<String, String> {
    match (field.scalar, value) {
        (None, Expr::Path(v)) => field
            .enum_values
            .iter()
            .find(|(name, _)| name == v)
            .map(|(_, db)| quote(db))
            .ok_or_else(|| format!("`{v}` is not a value of this enum")),
        // A decimal given as a string is written as a number (`@default("2.00")` → `2.00`).
        (Some("Decimal"), Expr::String(s)) if s.parse::<f64>().is_ok() => Ok(s.clone()),
        (Some("String" | "Json" | "DateTime" | "Bytes" | "Decimal"), Expr::String(s)) => {
            Ok(quote(s))
        }
        (Some("Boolean"), Expr::Path(b)) if b == "true" || b == "false" => {
            Ok(match field.dialect {
                Dialect::Mysql if b == "true" => "1".into(),
                Dialect::Mysql => "0".into(),
                _ => b.clone(),
            })
        }
        (Some("Int" | "BigInt" | "Float" | "Decimal"), Expr::Number(n)) => {
            Ok(pg_number(field.dialect, n))
        }
        (scalar, v) => Err(format!(
            "`{}` is not a default for a field of type {}",
            show(v),
            scalar.unwrap_or("enum")
        )),
    }
}

/// A number as PostgreSQL prints it back in a default: quoted when negative (`'-1'::integer`)
/// or an integer beyond `integer`'s range (`'9007199254740993'::bigint`), the cast then
/// folded away by normalisation; as written elsewhere and on the other databases.
fn pg_number(dialect: Dialect, n: &str) -> String {
    let beyond_int4 = !n.contains(['.', 'e', 'E']) && n.parse::<i32>().is_err();
    if dialect == Dialect::Postgres && (n.starts_with('-') || beyond_int4) {
        format!("'{n}'")
    } else {
        n.to_string()
    }
}

/// The name PostgreSQL gives a type in a cast it prints: `varchar(n)` is `character varying`.
fn pg_cast_name(t: &str) -> String {
    if t.starts_with("varchar") {
        "character varying".to_string()
    } else {
        t.to_string()
    }
}

fn show(e: &Expr) -> String {
    match e {
        Expr::String(s) => format!("\"{}\"", s.escape_debug()),
        Expr::Number(n) | Expr::Path(n) => n.clone(),
        Expr::Call(n, _) => format!("{n}(…)"),
        Expr::Array(_) => "[…]".into(),
    }
}
