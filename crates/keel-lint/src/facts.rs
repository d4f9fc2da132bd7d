//! Counts measured on the target database, keyed by names as the schema model prints them
//! (`Schema::table_name`: `table` or `schema.table`). Gathered by the engine, read-only, each
//! probe bounded by a statement timeout; a count that could not be measured is absent.

use std::collections::HashMap;

/// What the target holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Rows per table.
    pub rows: HashMap<String, i64>,
    /// Non-NULL values per (table, column).
    pub non_null: HashMap<(String, String), i64>,
    /// NULL values per (table, column).
    pub nulls: HashMap<(String, String), i64>,
    /// Groups of rows with equal values per (table, columns joined by `,`).
    pub duplicates: HashMap<(String, String), i64>,
    /// Rows whose foreign-key values match no parent, per (table, columns joined by `,`).
    pub orphans: HashMap<(String, String), i64>,
}

/// A count with thousands separators: `12,345`.
pub fn count(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
