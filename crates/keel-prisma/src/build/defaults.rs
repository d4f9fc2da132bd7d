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
/// offset (as PostgreSQL does), `timestamptz` is the instant in UTC (`… 01:04:05.12+00`: the
/// introspecting session's time zone is assumed UTC), `date` the date, `time` the time;
/// MySQL the local time with as many fraction digits as the column's precision; SQLite the
/// text Prisma writes (`2020-01-02 03:04:05.120 +02:00`). `None` when `s` is not a date-time.
fn datetime(dialect: Dialect, data_type: &str, s: &str) -> Option<String> {
    let t = parse_datetime(s)?;
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

/// A parsed ISO 8601 date-time: the local date and time as written, the fraction digits, the
/// offset from UTC in minutes (0 for `Z` or none).
struct DateTimeLiteral {
    date: (i64, u32, u32),
    time: (u32, u32, u32),
    frac: String,
    offset_minutes: i64,
}

impl DateTimeLiteral {
    /// The date and time in UTC.
    fn utc(&self) -> ((i64, u32, u32), (u32, u32, u32)) {
        let (y, m, d) = self.date;
        let (h, mi, s) = self.time;
        let minutes = days_from_civil(y, m, d) * 1440 + i64::from(h) * 60 + i64::from(mi)
            - self.offset_minutes;
        let days = minutes.div_euclid(1440);
        let rest = minutes.rem_euclid(1440);
        (
            civil_from_days(days),
            ((rest / 60) as u32, (rest % 60) as u32, s),
        )
    }
}

fn parse_datetime(s: &str) -> Option<DateTimeLiteral> {
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let (date, rest) = if s.len() > 10 {
        s.split_at(10)
    } else {
        (s, "")
    };
    let mut parts = date.split('-');
    let (y, m, d) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut out = DateTimeLiteral {
        date: (i64::from(y), m, d),
        time: (0, 0, 0),
        frac: String::new(),
        offset_minutes: 0,
    };
    let Some(rest) = rest.strip_prefix(['T', ' ']) else {
        return rest.is_empty().then_some(out);
    };
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.split(':');
    let (h, mi) = (num(hms.next()?)?, num(hms.next()?)?);
    let se = hms.next().map_or(Some(0), num)?;
    if hms.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    out.time = (h, mi, se);
    out.frac = frac.to_string();
    out.offset_minutes = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = &z[1..];
            let (zh, zm) = z.split_once(':').unwrap_or(if z.len() == 4 {
                z.split_at(2)
            } else {
                (z, "0")
            });
            sign * (i64::from(num(zh)?) * 60 + i64::from(num(zm)?))
        }
    };
    Some(out)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
            "",
        ] {
            assert!(pg(t, bad).is_none(), "{bad}");
        }
        for days in [-800_000, -1, 0, 1, 59, 365 * 400 + 97, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
