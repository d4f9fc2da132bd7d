//! What a column type change does to existing values, shared by `narrowing-type`,
//! `table-rewrite` and `mysql-table-copy`. Types are compared as the database prints them
//! (keel's schema model keeps native type text).

/// How a type change treats existing values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Every old value fits the new type unchanged.
    Widening,
    /// Values can be truncated or rejected: why.
    Narrowing(String),
}

/// `varchar(20)` → (`varchar`, [20]); `numeric(10,2)` → (`numeric`, [10, 2]).
fn parse(t: &str) -> (String, Vec<u32>) {
    let t = t.trim().to_ascii_lowercase();
    let (base, params) = match t.split_once('(') {
        Some((b, rest)) => (
            b.trim().to_string(),
            rest.trim_end_matches([')', ' '])
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect(),
        ),
        None => (t.clone(), Vec::new()),
    };
    let base = base.trim_end_matches(" unsigned").to_string();
    (base, params)
}

fn family(base: &str) -> &'static str {
    match base {
        "smallint" | "int2" | "tinyint" | "mediumint" | "int" | "integer" | "int4" | "bigint"
        | "int8" | "serial" | "bigserial" | "smallserial" => "int",
        "numeric" | "decimal" | "real" | "float" | "float4" | "float8" | "double"
        | "double precision" => "number",
        "varchar" | "character varying" | "char" | "character" | "bpchar" | "text" | "tinytext"
        | "mediumtext" | "longtext" | "nvarchar" | "nchar" | "citext" => "text",
        "varbinary" | "binary" | "blob" | "tinyblob" | "mediumblob" | "longblob" | "bytea" => {
            "bytes"
        }
        "date"
        | "timestamp"
        | "timestamp without time zone"
        | "timestamp with time zone"
        | "timestamptz"
        | "datetime" => "time",
        "boolean" | "bool" => "bool",
        _ => "other",
    }
}

fn int_rank(base: &str) -> u8 {
    match base {
        "tinyint" => 1,
        "smallint" | "int2" | "smallserial" => 2,
        "mediumint" => 3,
        "int" | "integer" | "int4" | "serial" => 4,
        _ => 8,
    }
}

/// Text capacity: `None` = unbounded (`text`, `varchar` without a length).
fn text_len(base: &str, params: &[u32]) -> Option<u32> {
    match base {
        "text" | "mediumtext" | "longtext" | "citext" => None,
        "tinytext" => Some(255),
        _ => params.first().copied(),
    }
}

/// Classifies `old` → `new`.
pub(crate) fn change(old: &str, new: &str) -> Change {
    let (ob, op) = parse(old);
    let (nb, np) = parse(new);
    if ob == nb && op == np {
        return Change::Widening;
    }
    let (of, nf) = (family(&ob), family(&nb));
    match (of, nf) {
        (_, "text") if of != "text" => {
            // Anything to text fits, unless the text is bounded.
            match text_len(&nb, &np) {
                None => Change::Widening,
                Some(n) => Change::Narrowing(format!(
                    "values longer than {n} characters as text do not fit {new}"
                )),
            }
        }
        ("text", "text") => match (text_len(&ob, &op), text_len(&nb, &np)) {
            (_, None) => Change::Widening,
            (None, Some(n)) => Change::Narrowing(format!(
                "values longer than {n} characters are cut or rejected"
            )),
            (Some(a), Some(b)) if b >= a => Change::Widening,
            (Some(_), Some(b)) => Change::Narrowing(format!(
                "values longer than {b} characters are cut or rejected"
            )),
        },
        ("int", "int") => {
            if int_rank(&nb) >= int_rank(&ob) {
                Change::Widening
            } else {
                Change::Narrowing(format!(
                    "{old} values out of the range of {new} are rejected"
                ))
            }
        }
        ("int", "number") => Change::Widening,
        ("number", "number") => match (op.as_slice(), np.as_slice()) {
            ([p1, s1], [p2, s2]) if p2 >= p1 && s2 >= s1 => Change::Widening,
            ([p1], [p2]) if p2 >= p1 => Change::Widening,
            (_, []) if nb == "numeric" || nb == "decimal" => Change::Widening,
            _ => Change::Narrowing(format!("{old} values lose precision or scale in {new}")),
        },
        ("number", "int") => {
            Change::Narrowing(format!("fractions are cut converting {old} to {new}"))
        }
        ("text", _) => Change::Narrowing(format!(
            "text values that are not valid {new} make the cast fail"
        )),
        ("time", "time") if nb == "date" => Change::Narrowing("the time of day is cut".into()),
        ("time", "time") => Change::Widening,
        _ => Change::Narrowing(format!(
            "a cast from {old} to {new} can fail or change values"
        )),
    }
}

/// PostgreSQL: whether `old` → `new` rewrites the table (binary-coercible changes do not:
/// longer or unbounded text, wider numeric with the same scale).
pub(crate) fn pg_rewrites(old: &str, new: &str) -> bool {
    let (ob, op) = parse(old);
    let (nb, np) = parse(new);
    let (of, nf) = (family(&ob), family(&nb));
    if of == "text" && nf == "text" {
        let var = |b: &str| b != "char" && b != "character" && b != "bpchar";
        return !(var(&ob) && var(&nb) && change(old, new) == Change::Widening);
    }
    if (ob == "numeric" || ob == "decimal") && (nb == "numeric" || nb == "decimal") {
        return match (op.as_slice(), np.as_slice()) {
            ([p1, s1], [p2, s2]) => !(p2 >= p1 && s2 == s1),
            (_, []) => false,
            _ => true,
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(change("integer", "bigint"), Change::Widening);
        assert!(matches!(change("bigint", "integer"), Change::Narrowing(_)));
        assert_eq!(
            change("character varying(20)", "character varying(50)"),
            Change::Widening
        );
        assert!(matches!(
            change("varchar(50)", "varchar(20)"),
            Change::Narrowing(_)
        ));
        assert_eq!(change("varchar(50)", "text"), Change::Widening);
        assert!(matches!(
            change("text", "varchar(10)"),
            Change::Narrowing(_)
        ));
        assert!(matches!(change("text", "integer"), Change::Narrowing(_)));
        assert_eq!(change("numeric(10,2)", "numeric(12,2)"), Change::Widening);
        assert!(matches!(
            change("numeric(10,2)", "numeric(10,0)"),
            Change::Narrowing(_)
        ));
        assert!(matches!(
            change("timestamp(3)", "date"),
            Change::Narrowing(_)
        ));
        assert_eq!(
            change("int", "varchar(255)").clone(),
            Change::Narrowing(
                "values longer than 255 characters as text do not fit varchar(255)".into()
            )
        );
    }

    #[test]
    fn postgres_rewrites() {
        assert!(!pg_rewrites(
            "character varying(20)",
            "character varying(50)"
        ));
        assert!(!pg_rewrites("character varying(20)", "text"));
        assert!(pg_rewrites("integer", "bigint"));
        assert!(!pg_rewrites("numeric(10,2)", "numeric(12,2)"));
        assert!(pg_rewrites("numeric(10,2)", "numeric(12,3)"));
    }
}
