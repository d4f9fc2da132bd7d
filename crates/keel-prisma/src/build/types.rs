//! Column types: Prisma's scalar types and `@db.*` native types, per provider, in the spelling
//! keel's introspection gives them (then folded by `keel_core::schema::normalize`).
//!
//! Source: Prisma's documentation "Prisma schema reference → Model field scalar types", which
//! lists each scalar's default database type and native type attributes per database.

use crate::ast::{Attribute, Expr};
use keel_core::Dialect;

/// The scalars of Prisma's schema language.
pub const SCALARS: &[&str] = &[
    "String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes",
];

/// The database type of `scalar` when no `@db.*` attribute is given.
pub fn default_type(dialect: Dialect, scalar: &str) -> Option<&'static str> {
    Some(match (dialect, scalar) {
        (Dialect::Postgres, "String") => "text",
        (Dialect::Postgres, "Boolean") => "boolean",
        (Dialect::Postgres, "Int") => "integer",
        (Dialect::Postgres, "BigInt") => "bigint",
        (Dialect::Postgres, "Float") => "double precision",
        (Dialect::Postgres, "Decimal") => "numeric(65,30)",
        (Dialect::Postgres, "DateTime") => "timestamp(3) without time zone",
        (Dialect::Postgres, "Json") => "jsonb",
        (Dialect::Postgres, "Bytes") => "bytea",
        (Dialect::Mysql, "String") => "varchar(191)",
        (Dialect::Mysql, "Boolean") => "tinyint(1)",
        (Dialect::Mysql, "Int") => "int",
        (Dialect::Mysql, "BigInt") => "bigint",
        (Dialect::Mysql, "Float") => "double",
        (Dialect::Mysql, "Decimal") => "decimal(65,30)",
        (Dialect::Mysql, "DateTime") => "datetime(3)",
        (Dialect::Mysql, "Json") => "json",
        (Dialect::Mysql, "Bytes") => "longblob",
        (Dialect::Sqlite, "String") => "TEXT",
        (Dialect::Sqlite, "Boolean") => "BOOLEAN",
        (Dialect::Sqlite, "Int") => "INTEGER",
        (Dialect::Sqlite, "BigInt") => "BIGINT",
        (Dialect::Sqlite, "Float") => "REAL",
        (Dialect::Sqlite, "Decimal") => "DECIMAL",
        (Dialect::Sqlite, "DateTime") => "DATETIME",
        (Dialect::Sqlite, "Json") => "JSONB",
        (Dialect::Sqlite, "Bytes") => "BLOB",
        _ => return None,
    })
}

/// The numbers given to a native type: `@db.VarChar(255)` → `["255"]`.
fn numbers(attr: &Attribute) -> Result<Vec<String>, String> {
    attr.arguments
        .iter()
        .map(|a| match &a.value {
            Expr::Number(n) => Ok(n.clone()),
            _ => Err(format!("`@{}` takes numbers as its arguments", attr.name)),
        })
        .collect()
}

/// The database type of a `@db.NAME(args)` attribute on a field of `scalar`, or why not.
pub fn native_type(dialect: Dialect, scalar: &str, attr: &Attribute) -> Result<String, String> {
    let name = attr.name.strip_prefix("db.").unwrap_or(&attr.name);
    let args = numbers(attr)?;
    // MySQL's `datetime(0)`, `timestamp(0)`, `time(0)` are the types without precision.
    let args: Vec<String> = if dialect == Dialect::Mysql
        && matches!(name, "DateTime" | "Timestamp" | "Time")
        && args == ["0"]
    {
        Vec::new()
    } else {
        args
    };
    let paren = |base: &str| {
        if args.is_empty() {
            base.to_string()
        } else {
            format!("{base}({})", args.join(","))
        }
    };
    // (base, time-zone suffix) for the time types of PostgreSQL.
    let pg_time = |base: &str, zone: &str| {
        if args.is_empty() {
            format!("{base} {zone}")
        } else {
            format!("{base}({}) {zone}", args.join(","))
        }
    };
    let t = match dialect {
        Dialect::Postgres => match name {
            "Text" => "text".to_string(),
            "VarChar" => paren("varchar"),
            "Char" => paren("char"),
            "Uuid" => "uuid".to_string(),
            "Xml" => "xml".to_string(),
            "Citext" => "citext".to_string(),
            "Inet" => "inet".to_string(),
            "Bit" => paren("bit"),
            "VarBit" => paren("bit varying"),
            "Boolean" => "boolean".to_string(),
            "SmallInt" => "smallint".to_string(),
            "Integer" => "integer".to_string(),
            "BigInt" => "bigint".to_string(),
            "Oid" => "oid".to_string(),
            "Real" => "real".to_string(),
            "DoublePrecision" => "double precision".to_string(),
            "Decimal" => paren("numeric"),
            "Money" => "money".to_string(),
            "Timestamp" => pg_time("timestamp", "without time zone"),
            "Timestamptz" => pg_time("timestamp", "with time zone"),
            "Date" => "date".to_string(),
            "Time" => pg_time("time", "without time zone"),
            "Timetz" => pg_time("time", "with time zone"),
            "Json" => "json".to_string(),
            "JsonB" => "jsonb".to_string(),
            "ByteA" => "bytea".to_string(),
            _ => return Err(unknown(dialect, name)),
        },
        Dialect::Mysql => match name {
            "VarChar" => paren("varchar"),
            "Char" => paren("char"),
            "Text" => "text".to_string(),
            "TinyText" => "tinytext".to_string(),
            "MediumText" => "mediumtext".to_string(),
            "LongText" => "longtext".to_string(),
            "Int" => "int".to_string(),
            "UnsignedInt" => "int unsigned".to_string(),
            "SmallInt" => "smallint".to_string(),
            "UnsignedSmallInt" => "smallint unsigned".to_string(),
            "MediumInt" => "mediumint".to_string(),
            "UnsignedMediumInt" => "mediumint unsigned".to_string(),
            "TinyInt" if scalar == "Boolean" => paren("tinyint"),
            "TinyInt" => "tinyint".to_string(),
            "UnsignedTinyInt" => "tinyint unsigned".to_string(),
            "BigInt" => "bigint".to_string(),
            "UnsignedBigInt" => "bigint unsigned".to_string(),
            "Bit" => paren("bit"),
            "Decimal" => paren("decimal"),
            "Float" => "float".to_string(),
            "Double" => "double".to_string(),
            "DateTime" => paren("datetime"),
            "Timestamp" => paren("timestamp"),
            "Date" => "date".to_string(),
            "Time" => paren("time"),
            "Year" => "year".to_string(),
            "Json" => "json".to_string(),
            "Binary" => paren("binary"),
            "VarBinary" => paren("varbinary"),
            "TinyBlob" => "tinyblob".to_string(),
            "Blob" => "blob".to_string(),
            "MediumBlob" => "mediumblob".to_string(),
            "LongBlob" => "longblob".to_string(),
            _ => return Err(unknown(dialect, name)),
        },
        Dialect::Sqlite => return Err("SQLite has no `@db.*` native types".to_string()),
    };
    Ok(t)
}

fn unknown(dialect: Dialect, name: &str) -> String {
    format!(
        "`@db.{name}` is not a native type of {}",
        match dialect {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL",
            Dialect::Sqlite => "SQLite",
        }
    )
}

/// A PostgreSQL type name as `format_type()` prints it: bare when it is a lower-case
/// identifier, else double-quoted.
pub fn pg_type_name(namespace: Option<&str>, name: &str) -> String {
    let quote = |n: &str| {
        let plain = n
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if plain {
            n.to_string()
        } else {
            format!("\"{}\"", n.replace('"', "\"\""))
        }
    };
    match namespace {
        Some(ns) => format!("{}.{}", quote(ns), quote(name)),
        None => quote(name),
    }
}
