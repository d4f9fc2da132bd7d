//! The ledger's DDL, per dialect: Prisma's `_prisma_migrations` definitions, column for column,
//! so that a ledger keel creates is one Prisma reads unchanged (and the other way round).
//!
//! Source: prisma-engines, `schema-engine/connectors/sql-schema-connector/src/flavour/*`
//! (`create_migrations_table`).

use keel_core::Dialect;

/// The columns, in Prisma's order.
pub(crate) const COLUMNS: &str =
    "id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count";

/// `CREATE TABLE` for the ledger named `table` in `dialect`.
pub(crate) fn create_table(dialect: Dialect, table: &str) -> String {
    let table = quote(dialect, table);
    match dialect {
        Dialect::Postgres => format!(
            r#"CREATE TABLE IF NOT EXISTS {table} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)"#
        ),
        Dialect::Mysql => format!(
            r#"CREATE TABLE IF NOT EXISTS {table} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4"#
        ),
        Dialect::Sqlite => format!(
            r#"CREATE TABLE IF NOT EXISTS {table} (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)"#
        ),
    }
}

/// Quotes a table name for `dialect`. Ledger names come from settings, never from SQL input;
/// quoting still guards against a name with a quote in it.
pub(crate) fn quote(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn timestamp_literal(dialect: Dialect, t: &chrono::DateTime<chrono::Utc>) -> String {
    match dialect {
        Dialect::Sqlite => t.timestamp_millis().to_string(),
        Dialect::Postgres => format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.6f+00")),
        Dialect::Mysql => format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.3f")),
    }
}

/// An `INSERT` of `row` into the ledger with its values as SQL literals, and `finished_at` set
/// to the server's clock at the moment the statement runs (`clock_timestamp()` on PostgreSQL,
/// epoch milliseconds on SQLite, `CURRENT_TIMESTAMP(3)` on MySQL). Used to send a migration,
/// its ledger row and `COMMIT` as one query.
pub(crate) fn insert_finished_literal(
    dialect: Dialect,
    table: &str,
    row: &keel_core::ledger::LedgerRow,
) -> String {
    let now = match dialect {
        Dialect::Postgres => "clock_timestamp()",
        Dialect::Mysql => "CURRENT_TIMESTAMP(3)",
        Dialect::Sqlite => "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)",
    };
    format!(
        "INSERT INTO {} ({COLUMNS}) VALUES ({}, {}, {now}, {}, NULL, NULL, {}, {})",
        quote(dialect, table),
        literal(&row.id),
        literal(&row.checksum),
        literal(&row.migration_name),
        timestamp_literal(dialect, &row.started_at),
        row.applied_steps_count
    )
}

/// A step-by-step migration's bookkeeping write as one PostgreSQL query, committed
/// asynchronously (see `Driver::record_step_progress`): the insert of the unfinished `row`, or
/// the update of its `applied_steps_count`.
pub(crate) fn progress_literal_pg(
    table: &str,
    row: &keel_core::ledger::LedgerRow,
    insert: bool,
) -> String {
    let d = Dialect::Postgres;
    let write = if insert {
        format!(
            "INSERT INTO {} ({COLUMNS}) VALUES ({}, {}, NULL, {}, NULL, NULL, {}, {})",
            quote(d, table),
            literal(&row.id),
            literal(&row.checksum),
            literal(&row.migration_name),
            timestamp_literal(d, &row.started_at),
            row.applied_steps_count
        )
    } else {
        format!(
            "UPDATE {} SET applied_steps_count = {} WHERE id = {}",
            quote(d, table),
            row.applied_steps_count,
            literal(&row.id)
        )
    };
    format!("BEGIN; SET LOCAL synchronous_commit = off; {write}; COMMIT")
}
