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
        (Some("DateTime"), Expr::String(s)) => datetime(field.dialect, field.data_type, s)
            .map(|d| quote(&d))
            .ok_or_else(|| format!("`\"{}\"` is not an ISO 8601 date-time", s.escape_debug())),
        // Prisma decodes a Bytes default from base64 and writes the bytes in hex (PostgreSQL's
        // `'\x…'`).
        (Some("Bytes"), Expr::String(s)) if field.dialect != Dialect::Mysql => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| format!("`\"{}\"` is not base64", s.escape_debug()))?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Ok(match field.dialect {
                Dialect::Postgres => format!("'\\x{hex}'"),
                // SQLite: the hex digits as a string, as Prisma writes them.
                _ => format!("'{hex}'"),
            })
        }
        (Some("String" | "Json" | "Bytes" | "Decimal"), Expr::String(s)) => Ok(quote(s)),
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

/// An ISO 8601 date-time default (`2020-01-02T03:04:05.120+02:00`) as the database prints it
/// back for a column of `data_type`: PostgreSQL `timestamp` keeps the local time and drops the
/// offset (as PostgreSQL does), `timestamptz` is the instant in UTC (`… 01:04:05.12+00`, as
/// normalisation reads every printed `timestamptz` constant), `date` the date, `time` the time;
/// MySQL the local time with as many fraction digits as the column's precision; SQLite the
/// text Prisma writes (`2020-01-02 03:04:05.120 +02:00`). `None` when `s` is not a date-time.
fn datetime(dialect: Dialect, data_type: &str, s: &str) -> Option<String> {
    let t = keel_core::schema::datetime::parse(s)?;
    let ty = data_type.to_ascii_lowercase();
    let precision: usize = ty
        .split_once('(')
        .and_then(|(_, r)| r.split(')').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(if dialect == Dialect::Mysql { 0 } else { 6 });
    let frac = |f: &str| -> String {
        let f = match dialect {
            Dialect::Mysql => format!("{f:0<precision$}")[..precision].to_string(),
            _ => f.trim_end_matches('0').to_string(),
        };
        if f.is_empty() {
            String::new()
        } else {
            format!(".{f}")
        }
    };
    let date = |(y, m, d): (i64, u32, u32)| format!("{y:04}-{m:02}-{d:02}");
    let time = |(h, mi, se): (u32, u32, u32), f: &str| format!("{h:02}:{mi:02}:{se:02}{}", frac(f));
    if dialect == Dialect::Sqlite {
        // The text Prisma writes (its date-time's display: `2020-01-02 03:04:05.120 +02:00`),
        // kept as written in the table's SQL.
        let digits = t.frac.trim_end_matches('0');
        let width = match digits.len() {
            0 => 0,
            1..=3 => 3,
            4..=6 => 6,
            _ => 9,
        };
        let f = if width == 0 {
            String::new()
        } else {
            format!(".{digits:0<width$}")
        };
        let (h, mi, se) = t.time;
        let o = t.offset_minutes.abs();
        return Some(format!(
            "{} {h:02}:{mi:02}:{se:02}{f} {}{:02}:{:02}",
            date(t.date),
            if t.offset_minutes < 0 { '-' } else { '+' },
            o / 60,
            o % 60
        ));
    }
    let tz = ty.contains("with time zone") || ty.starts_with("timestamptz");
    if ty.starts_with("timestamp") && tz && dialect == Dialect::Postgres {
        let (day, hms) = t.utc();
        return Some(format!("{} {}+00", date(day), time(hms, &t.frac)));
    }
    if ty.starts_with("timestamp") || ty.starts_with("datetime") {
        return Some(format!("{} {}", date(t.date), time(t.time, &t.frac)));
    }
    if ty.starts_with("date") {
        return Some(date(t.date));
    }
    if ty.starts_with("time") {
        return Some(time(t.time, &t.frac));
    }
    Some(s.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_defaults_are_printed_as_the_database_prints_them() {
        let pg = |ty: &str, s: &str| datetime(Dialect::Postgres, ty, s);
        let t = "timestamp(3) without time zone";
        let tz = "timestamptz(3)";
        for (dialect, ty, written, printed) in [
            (
                Dialect::Postgres,
                t,
                "2020-01-02T03:04:05Z",
                "2020-01-02 03:04:05",
            ),
            (
                Dialect::Postgres,
                t,
                "2020-01-02T03:04:05.120+02:00",
                "2020-01-02 03:04:05.12",
            ),
            (
                Dialect::Postgres,
                tz,
                "2020-01-02T01:04:05.123+02:00",
                "2020-01-01 23:04:05.123+00",
            ),
            (
                Dialect::Postgres,
                tz,
                "2020-12-31T23:30:00-01:00",
                "2021-01-01 00:30:00+00",
            ),
            (
                Dialect::Postgres,
                tz,
                "2024-02-29T00:00:00Z",
                "2024-02-29 00:00:00+00",
            ),
            (
                Dialect::Postgres,
                "date",
                "2020-01-02T23:00:00-05:00",
                "2020-01-02",
            ),
            (
                Dialect::Postgres,
                "time(6) without time zone",
                "1970-01-01T12:30:00Z",
                "12:30:00",
            ),
            (
                Dialect::Mysql,
                "datetime(3)",
                "2020-01-02T03:04:05Z",
                "2020-01-02 03:04:05.000",
            ),
            (
                Dialect::Mysql,
                "datetime",
                "2020-01-02T03:04:05.9Z",
                "2020-01-02 03:04:05",
            ),
            (
                Dialect::Sqlite,
                "DATETIME",
                "2020-01-02T03:04:05Z",
                "2020-01-02 03:04:05 +00:00",
            ),
            (
                Dialect::Sqlite,
                "DATETIME",
                "2020-01-02T03:04:05.12-05:30",
                "2020-01-02 03:04:05.120 -05:30",
            ),
            (
                Dialect::Sqlite,
                "DATETIME",
                "2020-01-02T03:04:05.1234Z",
                "2020-01-02 03:04:05.123400 +00:00",
            ),
        ] {
            assert_eq!(
                datetime(dialect, ty, written).as_deref(),
                Some(printed),
                "{written} as {ty}"
            );
        }
        for bad in [
            "yesterday",
            "2020-13-01",
            "2020-01-02T25:00:00Z",
            "2020-01-02Tnoon",
            "2020-01-0\u{e9}T1",
            "",
        ] {
            assert!(pg(t, bad).is_none(), "{bad}");
        }
    }
}
