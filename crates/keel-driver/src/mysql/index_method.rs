//! The index methods a table's definition names explicitly (`KEY k (a) USING BTREE`), read from
//! `SHOW CREATE TABLE`.
//!
//! `information_schema.STATISTICS.INDEX_TYPE` says `BTREE` for every InnoDB index, whether its
//! definition said `USING BTREE` or nothing; only `SHOW CREATE TABLE` keeps the difference. A
//! model without it re-creates `KEY k (a) USING BTREE` as `KEY k (a)`: the same index to the
//! server, a different `SHOW CREATE TABLE` to a dump, a checksum or a peer tool.

use keel_core::schema::Schema;
use std::collections::HashMap;

/// The explicit `USING BTREE` / `USING HASH` of each secondary index in `create_table` (the
/// `Create Table` column of `SHOW CREATE TABLE`), by index name. The primary key and indexes
/// without a `USING` clause are left out. Unparseable lines are skipped: the result is then
/// what the model held before (the method `INDEX_TYPE` gives).
pub(crate) fn explicit_methods(create_table: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in create_table.lines() {
        let line = line.trim_start();
        let rest = ["KEY ", "UNIQUE KEY "]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(rest) = rest else { continue };
        let Some((name, after)) = backquoted(rest) else {
            continue;
        };
        if let Some(method) = using_after_parts(after) {
            out.insert(name, method);
        }
    }
    out
}

/// Reads a `` `name` `` (backticks doubled inside) at the start of `s`: the name and the rest.
fn backquoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != '`' {
        return None;
    }
    let mut name = String::new();
    let mut pending_tick = false;
    for (i, c) in chars {
        if pending_tick {
            if c == '`' {
                name.push('`');
                pending_tick = false;
                continue;
            }
            return Some((name, &s[i..]));
        }
        if c == '`' {
            pending_tick = true;
        } else {
            name.push(c);
        }
    }
    pending_tick.then_some((name, ""))
}

/// The method of a `USING` clause after the key part list that opens `s` (`` (`a`) USING BTREE
/// COMMENT '…',``), upper-cased; `None` when there is none.
fn using_after_parts(s: &str) -> Option<String> {
    let s = s.trim_start();
    if !s.starts_with('(') {
        return None;
    }
    // Skip the key part list: parentheses nest (`(a(10))`, expressions); quotes and backticks
    // hide their contents.
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut end = None;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '\'' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '`' | '"' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    end = Some(i + 1);
                    break;
                }
            }
            _ => {}
        }
    }
    let mut words = s[end?..].split_whitespace();
    match (words.next(), words.next()) {
        (Some(u), Some(m)) if u.eq_ignore_ascii_case("USING") => {
            let m = m.trim_end_matches(',').to_ascii_uppercase();
            matches!(m.as_str(), "BTREE" | "HASH" | "RTREE").then_some(m)
        }
        _ => None,
    }
}

/// The tables of `schema` whose definitions must be read for [`explicit_methods`]: those with a
/// secondary index that is not `FULLTEXT` or `SPATIAL` (those have no `USING`).
pub(crate) fn tables_to_read(schema: &Schema) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for ix in &schema.indexes {
        let plain = !matches!(ix.method.as_deref(), Some("FULLTEXT" | "SPATIAL"));
        let name = &schema.table(ix.table).name;
        if plain && !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// One multi-statement `SHOW CREATE TABLE` request for `tables` (one round trip), names quoted.
pub(crate) fn show_create_tables(tables: &[String]) -> String {
    tables
        .iter()
        .map(|t| format!("SHOW CREATE TABLE `{}`", t.replace('`', "``")))
        .collect::<Vec<_>>()
        .join(";\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARIADB: &str = "CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  `a` int(11) DEFAULT NULL,
  `b` varchar(20) DEFAULT NULL,
  `c` text DEFAULT NULL,
  PRIMARY KEY (`id`) USING BTREE,
  UNIQUE KEY `k``2` (`b`) COMMENT 'x USING HASH',
  KEY `k1` (`a`) USING BTREE,
  KEY `k3` (`a`,`b`),
  KEY `k4` (`b`(5) DESC) USING BTREE,
  KEY `k5` ((`a` + 1), `b`) USING HASH COMMENT 'c',
  KEY `a) USING BTREE` (`b`),
  FULLTEXT KEY `f` (`c`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

    #[test]
    fn explicit_using_clauses_are_read_by_index_name() {
        let m = explicit_methods(MARIADB);
        assert_eq!(m.get("k1").map(String::as_str), Some("BTREE"));
        assert_eq!(m.get("k4").map(String::as_str), Some("BTREE"));
        assert_eq!(m.get("k5").map(String::as_str), Some("HASH"));
        // A comment that says USING, a name that says USING, no clause, the primary key.
        assert_eq!(m.get("k`2"), None);
        assert_eq!(m.get("a) USING BTREE"), None);
        assert_eq!(m.get("k3"), None);
        assert_eq!(m.get("PRIMARY"), None);
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn broken_definitions_give_nothing_and_do_not_panic() {
        for s in [
            "",
            "KEY ",
            "KEY `",
            "KEY `a",
            "KEY `a` (",
            "KEY `a` ((`x`) USING BTREE",
            "KEY `a` `b`) USING BTREE",
            "KEY `a` ('\\') USING BTREE",
            "  KEY `é` (`a`) USING",
        ] {
            assert!(explicit_methods(s).is_empty(), "{s:?}");
        }
        assert_eq!(
            explicit_methods("KEY `é` (`a`) USING btree")
                .get("é")
                .map(String::as_str),
            Some("BTREE")
        );
    }

    #[test]
    fn names_are_quoted_in_the_request() {
        assert_eq!(
            show_create_tables(&["a`; DROP TABLE x; --".into(), "b".into()]),
            "SHOW CREATE TABLE `a``; DROP TABLE x; --`;\nSHOW CREATE TABLE `b`"
        );
    }
}
