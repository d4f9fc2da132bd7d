//! The three SQL dialects keel speaks.

use std::fmt;

/// A database family. Determines the splitter's rules, the ledger's DDL and the lock keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL (15 is tested).
    Postgres,
    /// MySQL and MariaDB (MariaDB 10.11 is tested).
    Mysql,
    /// SQLite (bundled by sqlx).
    Sqlite,
}

impl Dialect {
    /// The provider name Prisma writes in `migration_lock.toml` for this dialect
    /// (`postgresql`, `mysql`, `sqlite`).
    pub fn prisma_provider(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Parses a provider name as written in `migration_lock.toml`. Accepts Prisma's names and
    /// the common aliases (`postgres`, `mariadb`, `sqlite3`); returns `None` for anything else
    /// (including `cockroachdb`, `sqlserver` and `mongodb`, which keel does not support).
    pub fn from_provider(name: &str) -> Option<Dialect> {
        match name.trim().to_ascii_lowercase().as_str() {
            "postgresql" | "postgres" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            _ => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::Mysql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        })
    }
}
