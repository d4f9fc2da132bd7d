//! Canonical spellings, so that two schemas that mean the same compare equal.

use crate::Dialect;

/// Canonical spelling of a column type for `dialect`: lowercase keywords, PostgreSQL's
/// internal aliases folded (`int4` → `integer`, `character varying` → `varchar`, `bool` →
/// `boolean`, `timestamptz` → `timestamp with time zone`), MySQL display widths dropped for
/// integer types (`int(11)` → `int`, MariaDB and MySQL 8 disagree), SQLite types kept as
/// declared but uppercased.
pub fn data_type(dialect: Dialect, raw: &str) -> String {
    let t = raw.trim();
    match dialect {
        Dialect::Sqlite => t.to_ascii_uppercase(),
        // A quoted type name ("UserRole") is case-sensitive: keep it exactly.
        Dialect::Postgres if t.contains('"') => t.to_string(),
        Dialect::Postgres => {
            let (base, array) = match t.strip_suffix("[]") {
                Some(b) => (b.trim(), "[]"),
                None => (t, ""),
            };
            let lower = base.to_ascii_lowercase();
            let folded = match lower.as_str() {
                "int4" | "int" => "integer".to_string(),
                "int8" => "bigint".to_string(),
                "int2" => "smallint".to_string(),
                "bool" => "boolean".to_string(),
                "float8" | "double precision" => "double precision".to_string(),
                "float4" => "real".to_string(),
                "timestamptz" => "timestamp with time zone".to_string(),
                "timestamp" => "timestamp without time zone".to_string(),
                "timetz" => "time with time zone".to_string(),
                "time" => "time without time zone".to_string(),
                "serial" | "serial4" => "integer".to_string(),
                "bigserial" | "serial8" => "bigint".to_string(),
                "smallserial" | "serial2" => "smallint".to_string(),
                _ => {
                    let l = lower
                        .replace("character varying", "varchar")
                        .replace("timestamptz", "timestamp with time zone");
                    if let Some(rest) = l.strip_prefix("timestamp(") {
                        if !l.contains("zone") {
                            format!("timestamp({rest} without time zone")
                        } else {
                            l
                        }
                    } else if l.starts_with("character(") || l == "character" {
                        l.replacen("character", "char", 1)
                    } else {
                        l
                    }
                }
            };
            format!("{folded}{array}")
        }
        Dialect::Mysql => {
            let lower = lowercase_outside_quotes(t);
            for int in ["tinyint", "smallint", "mediumint", "int", "bigint"] {
                if let Some(rest) = lower.strip_prefix(int) {
                    if let Some(close) = rest
                        .strip_prefix('(')
                        .and_then(|r| r.find(')').map(|i| (i, r)))
                    {
                        let (i, r) = close;
                        // tinyint(1) is MySQL's boolean: keep it, it means something.
                        if int == "tinyint" && &r[..i] == "1" {
                            return lower;
                        }
                        return format!("{int}{}", &r[i + 1..]);
                    }
                }
            }
            lower
        }
    }
}

/// `t` in lower case except inside `'…'` literals (the values of `enum('A','b')` and
/// `set(…)`, which MySQL keeps as written and compares by).
fn lowercase_outside_quotes(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut quoted = false;
    for c in t.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if quoted { c } else { c.to_ascii_lowercase() });
    }
    out
}

/// Canonical spelling of a default expression: outer parentheses removed, PostgreSQL casts of
/// literals to the column's own type removed (`'draft'::text` → `'draft'`,
/// `'a'::"Status"` → `'a'`), MariaDB's quoting of `NULL` defaults folded to none, and
/// `CURRENT_TIMESTAMP` spellings unified.
pub fn default_expr(dialect: Dialect, raw: &str) -> Option<String> {
    let mut s = raw.trim().to_string();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].trim().to_string();
    }
    let upper = s.to_ascii_uppercase();
    if upper == "NULL" || upper.starts_with("NULL::") {
        return None;
    }
    if dialect == Dialect::Postgres {
        // Strip a trailing cast chain from a literal: 'x'::text, '{}'::jsonb, 0::bigint.
        if let Some(idx) = literal_cast_start(&s) {
            // A `timestamptz` constant is printed in the session's time zone: the same instant
            // in UTC, so that sessions in different zones read the same default.
            let utc = (s[idx..] == *"::timestamp with time zone")
                .then(|| s.get(1..idx.checked_sub(1)?))
                .flatten()
                .and_then(super::datetime::timestamptz_utc);
            s.truncate(idx);
            if let Some(utc) = utc {
                s = format!("'{utc}'");
            }
        }
    }
    let upper = s.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CURRENT_TIMESTAMP()" | "NOW()" | "CURRENT_TIMESTAMP"
    ) && dialect != Dialect::Postgres
    {
        return Some("CURRENT_TIMESTAMP".to_string());
    }
    if dialect == Dialect::Mysql && upper.starts_with("CURRENT_TIMESTAMP(") {
        return Some(upper);
    }
    Some(s)
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    let mut in_str = false;
    for c in s.chars() {
        match c {
            '\'' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

/// Byte index where a `::type` cast chain begins after a literal, if `s` is a literal with casts.
fn literal_cast_start(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let end_of_literal = if bytes.first() == Some(&b'\'') {
        // find the closing quote, honouring ''
        let mut i = 1;
        loop {
            if i >= bytes.len() {
                return None;
            }
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break i + 1;
            }
            i += 1;
        }
    } else {
        let n = s
            .char_indices()
            .take_while(|(_, c)| c.is_ascii_digit() || *c == '.' || *c == '-')
            .count();
        if n == 0 {
            return None;
        }
        n
    };
    s[end_of_literal..]
        .starts_with("::")
        .then_some(end_of_literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_types() {
        assert_eq!(data_type(Dialect::Postgres, "int4"), "integer");
        assert_eq!(
            data_type(Dialect::Postgres, "character varying(255)"),
            "varchar(255)"
        );
        assert_eq!(
            data_type(Dialect::Postgres, "TIMESTAMP(3)"),
            "timestamp(3) without time zone"
        );
        assert_eq!(data_type(Dialect::Postgres, "text[]"), "text[]");
        assert_eq!(
            data_type(Dialect::Postgres, "timestamptz"),
            "timestamp with time zone"
        );
    }

    #[test]
    fn mysql_enum_values_keep_their_case() {
        // MySQL stores and compares enum values as written: 'ACTIVE' is not 'active'.
        assert_eq!(
            data_type(Dialect::Mysql, "ENUM('ACTIVE','closed')"),
            "enum('ACTIVE','closed')"
        );
        assert_eq!(
            data_type(Dialect::Mysql, "SET('It''s','B')"),
            "set('It''s','B')"
        );
    }

    #[test]
    fn mysql_types() {
        assert_eq!(data_type(Dialect::Mysql, "int(11)"), "int");
        assert_eq!(
            data_type(Dialect::Mysql, "bigint(20) unsigned"),
            "bigint unsigned"
        );
        assert_eq!(data_type(Dialect::Mysql, "tinyint(1)"), "tinyint(1)");
        assert_eq!(data_type(Dialect::Mysql, "VARCHAR(191)"), "varchar(191)");
    }

    #[test]
    fn defaults() {
        assert_eq!(
            default_expr(Dialect::Postgres, "'draft'::text").as_deref(),
            Some("'draft'")
        );
        assert_eq!(
            default_expr(Dialect::Postgres, "'a'::\"Status\"").as_deref(),
            Some("'a'")
        );
        assert_eq!(default_expr(Dialect::Postgres, "0").as_deref(), Some("0"));
        // A timestamptz constant as a session in another time zone prints it: the instant in UTC.
        assert_eq!(
            default_expr(
                Dialect::Postgres,
                "'2020-01-02 02:04:05.12+01'::timestamp with time zone"
            )
            .as_deref(),
            Some("'2020-01-02 01:04:05.12+00'")
        );
        assert_eq!(
            default_expr(Dialect::Postgres, "'infinity'::timestamp with time zone").as_deref(),
            Some("'infinity'")
        );
        assert_eq!(
            default_expr(Dialect::Postgres, "now()").as_deref(),
            Some("now()")
        );
        assert_eq!(default_expr(Dialect::Postgres, "NULL::text"), None);
        assert_eq!(default_expr(Dialect::Mysql, "NULL"), None);
        assert_eq!(default_expr(Dialect::Sqlite, "(0)").as_deref(), Some("0"));
        assert_eq!(
            default_expr(Dialect::Mysql, "current_timestamp()").as_deref(),
            Some("CURRENT_TIMESTAMP")
        );
    }
}
