//! Prisma's default constraint and index names, and where it cuts them.
//!
//! Source: Prisma's documentation "Index and constraint names" and psl-core's
//! `constraint_names` rules: `{table}_pkey`, `{table}_{columns}_key` (unique),
//! `{table}_{columns}_idx`, `{table}_{columns}_fkey`, columns joined by `_`, database names
//! (after `@map`/`@@map`). When the name before its suffix would reach the database's
//! identifier limit minus the suffix's length, that part is cut to exactly that many bytes
//! (at a character boundary), so the whole name ends at the limit with the suffix kept.

use keel_core::Dialect;

/// The longest identifier the database takes, in bytes, as Prisma counts it: PostgreSQL 63,
/// MySQL 64, SQLite effectively unlimited (Prisma uses 10,000).
pub fn max_identifier_length(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Postgres => 63,
        Dialect::Mysql => 64,
        Dialect::Sqlite => 10_000,
    }
}

fn with_suffix(dialect: Dialect, base: String, suffix: &str) -> String {
    let room = max_identifier_length(dialect).saturating_sub(suffix.len());
    let mut base = base;
    if base.len() >= room {
        let mut cut = room;
        while cut > 0 && !base.is_char_boundary(cut) {
            cut -= 1;
        }
        base.truncate(cut);
    }
    base.push_str(suffix);
    base
}

fn joined(table: &str, columns: &[&str]) -> String {
    let mut s = String::with_capacity(table.len() + 16 * columns.len());
    s.push_str(table);
    s.push('_');
    s.push_str(&columns.join("_"));
    s
}

/// A primary key's default name: `{table}_pkey`.
pub fn primary_key(dialect: Dialect, table: &str) -> String {
    with_suffix(dialect, table.to_string(), "_pkey")
}

/// A unique index's default name: `{table}_{columns}_key`.
pub fn unique_index(dialect: Dialect, table: &str, columns: &[&str]) -> String {
    with_suffix(dialect, joined(table, columns), "_key")
}

/// An index's default name: `{table}_{columns}_idx`.
pub fn index(dialect: Dialect, table: &str, columns: &[&str]) -> String {
    with_suffix(dialect, joined(table, columns), "_idx")
}

/// A foreign key's default name: `{table}_{columns}_fkey`.
pub fn foreign_key(dialect: Dialect, table: &str, columns: &[&str]) -> String {
    with_suffix(dialect, joined(table, columns), "_fkey")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names() {
        let pg = Dialect::Postgres;
        assert_eq!(primary_key(pg, "User"), "User_pkey");
        assert_eq!(unique_index(pg, "User", &["email"]), "User_email_key");
        assert_eq!(index(pg, "Post", &["a", "b"]), "Post_a_b_idx");
        assert_eq!(foreign_key(pg, "Post", &["authorId"]), "Post_authorId_fkey");
    }

    #[test]
    fn long_names_are_cut_before_the_suffix() {
        let table = "t".repeat(70);
        let pg = index(Dialect::Postgres, &table, &["c"]);
        assert_eq!(pg.len(), 63);
        assert!(pg.ends_with("_idx"));
        let my = foreign_key(Dialect::Mysql, &table, &["c"]);
        assert_eq!(my.len(), 64);
        assert!(my.ends_with("tt_fkey"));
        // A multi-byte character at the cut is not split.
        let wide = "é".repeat(40);
        assert!(unique_index(Dialect::Postgres, &wide, &["x"]).ends_with("_key"));
    }
}
