//! What keel's schema model does not hold, per database: the kinds of object that every
//! comparison leaves out, said wherever a comparison is reported (drift, diff, baseline,
//! inspect) so that "no drift" or "verified" never covers more than was compared. The table
//! in `docs/coverage.md` says the same, with what is compared.

use crate::Dialect;

/// The kinds of object of `dialect` that keel does not read, compare or recreate, in words.
pub fn not_compared(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Postgres => &[
            "range and base types, casts, operators",
            "grants, ownership and settings",
        ],
        Dialect::Mysql => &[
            "fulltext parsers (WITH PARSER)",
            "partitioning",
            "table options other than engine and collation (ROW_FORMAT, AUTO_INCREMENT start)",
            "grants and settings",
        ],
        Dialect::Sqlite => &["virtual tables"],
    }
}

/// One line for the output of a comparison: `not compared (keel does not model them): …`.
pub fn not_compared_line(dialect: Dialect) -> String {
    format!(
        "not compared on {dialect} (keel does not model them): {}",
        not_compared(dialect).join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_database_says_what_it_leaves_out() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            assert!(!not_compared(d).is_empty());
            assert!(not_compared_line(d).starts_with("not compared on "));
        }
    }

    #[test]
    fn the_docs_table_names_each_kind() {
        let doc = include_str!("../../../../docs/coverage.md");
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            for kind in not_compared(d) {
                let first = kind.split([',', ' ', '(']).next().unwrap_or_default();
                assert!(
                    doc.to_ascii_lowercase()
                        .contains(&first.to_ascii_lowercase()),
                    "docs/coverage.md does not mention `{first}` ({d})"
                );
            }
        }
    }
}
