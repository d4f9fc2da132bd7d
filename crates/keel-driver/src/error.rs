//! The drivers' errors, each with a stable code (see `docs/errors.md`).

use keel_core::codes::ErrorCode;
use std::time::Duration;

/// An error from a driver. Messages never hold a password: URLs are redacted before they get
/// here.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The database URL cannot be parsed or has an unsupported scheme (Prisma's P1013).
    #[error("invalid database URL `{url}`: {message}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The server could not be reached or refused the login (Prisma's P1001/P1000).
    #[error("cannot connect to `{url}`: {message}")]
    Connect {
        /// The URL, redacted.
        url: String,
        /// The reason.
        message: String,
    },
    /// A TLS connection could not be made (Prisma's P1011): the server offers no TLS while
    /// the URL requires it, its certificate is not signed by the given CA or does not name
    /// the host, or the CA file cannot be read.
    #[error("cannot open a TLS connection to `{url}`: {message}")]
    Tls {
        /// The URL, redacted.
        url: String,
        /// The reason.
        message: String,
    },
    /// The database named in the URL does not exist (Prisma's P1003).
    #[error("database `{database}` does not exist on `{url}`")]
    DatabaseNotFound {
        /// The URL, redacted.
        url: String,
        /// The database name.
        database: String,
    },
    /// The deploy lock was not free within the timeout (Prisma's P1002).
    #[error("timed out after {} ms waiting for the deploy lock{}", waited.as_millis(), holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default())]
    LockTimeout {
        /// How long keel waited.
        waited: Duration,
        /// Who holds it: session id, application, query, since when (when known).
        holder: Option<String>,
    },
    /// The connection is not one server session: a pooler in transaction or statement mode
    /// (PgBouncer, RDS Proxy, Supavisor) sits between keel and PostgreSQL, so the deploy lock
    /// and session settings would not hold.
    #[error("the database connection is not a stable session: the server backend changes between transactions (a connection pooler such as PgBouncer in transaction or statement mode), so the deploy lock would not protect this deploy; nothing was changed")]
    PooledSession,
    /// The server rejected a statement.
    #[error("{message}")]
    Server {
        /// SQLSTATE (PostgreSQL), error number (MySQL) or result code (SQLite).
        code: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The connection was lost (server restart, killed session, network) (Prisma's P1017).
    #[error("the connection to the database was lost: {message}")]
    ConnectionLost {
        /// The reason.
        message: String,
    },
    /// PostgreSQL: the session has no current schema (`current_schema()` is NULL): its
    /// `search_path` (the role's or the database's setting) names no schema that exists, and
    /// the URL has no `?schema=`.
    #[error("the session has no current schema: its search_path `{search_path}` names no schema that exists in this database, so the ledger and every unqualified name in the migrations resolve to nothing")]
    NoCurrentSchema {
        /// The session's `search_path`.
        search_path: String,
    },
    /// A ledger row could not be read.
    #[error("cannot read the ledger table `{table}`: {message}")]
    BadLedger {
        /// The table.
        table: String,
        /// What is wrong.
        message: String,
    },
}

/// What a server error means, read from its code (PostgreSQL SQLSTATE, MySQL/MariaDB error
/// number, SQLite result code), so that the engine never matches codes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// The statement gave up waiting for a lock: PostgreSQL 55P03 (lock_timeout), MySQL 1205
    /// (innodb_lock_wait_timeout), SQLite 5/6 (busy, locked). Nothing of the statement took
    /// effect.
    LockWait,
    /// The server broke a deadlock by aborting this statement (PostgreSQL 40P01, MySQL 1213);
    /// its transaction was rolled back.
    Deadlock,
    /// The statement ran past its time limit: PostgreSQL 57014 (statement_timeout, or a
    /// cancel), MariaDB 1969 (max_statement_time), MySQL 3024 (max_execution_time).
    StatementTimeout,
    /// A unique index or primary key rejects a value: PostgreSQL 23505, MySQL 1062, SQLite
    /// 2067/1555.
    UniqueViolation,
    /// NOT NULL rejects a NULL: PostgreSQL 23502, MySQL 1048/1138, SQLite 1299.
    NotNullViolation,
    /// A foreign key rejects a row: PostgreSQL 23503, MySQL 1451/1452, SQLite 787.
    ForeignKeyViolation,
    /// The statement names an object that does not exist: PostgreSQL 42P01/42703/42704/3F000,
    /// MySQL 1146/1054/1091.
    UndefinedObject,
    /// The statement creates an object that exists: PostgreSQL 42P07/42701/42710/42P06, MySQL
    /// 1050/1060/1061.
    DuplicateObject,
    /// The role lacks a privilege: PostgreSQL 42501, MySQL 1142/1044/1227.
    InsufficientPrivilege,
    /// Anything else, or no code.
    Other,
}

impl DbErrorKind {
    /// The kind of the server error code `code`.
    pub fn of(code: Option<&str>) -> DbErrorKind {
        match code.unwrap_or("") {
            "55P03" | "1205" | "5" | "6" => DbErrorKind::LockWait,
            "40P01" | "1213" => DbErrorKind::Deadlock,
            "57014" | "1969" | "3024" => DbErrorKind::StatementTimeout,
            "23505" | "1062" | "2067" | "1555" => DbErrorKind::UniqueViolation,
            "23502" | "1048" | "1138" | "1299" => DbErrorKind::NotNullViolation,
            "23503" | "1451" | "1452" | "787" => DbErrorKind::ForeignKeyViolation,
            "42P01" | "42703" | "42704" | "3F000" | "1146" | "1054" | "1091" => {
                DbErrorKind::UndefinedObject
            }
            "42P07" | "42701" | "42710" | "42P06" | "1050" | "1060" | "1061" => {
                DbErrorKind::DuplicateObject
            }
            "42501" | "1142" | "1044" | "1227" => DbErrorKind::InsufficientPrivilege,
            _ => DbErrorKind::Other,
        }
    }

    /// Whether the statement failed only because it waited for a lock (a lock wait or a
    /// deadlock): nothing of it took effect, and trying again may succeed.
    pub fn waited_for_lock(self) -> bool {
        matches!(self, DbErrorKind::LockWait | DbErrorKind::Deadlock)
    }
}

impl DriverError {
    /// The kind of a server error ([`DbErrorKind::Other`] for every other error).
    pub fn kind(&self) -> DbErrorKind {
        match self {
            DriverError::Server { code, .. } => DbErrorKind::of(code.as_deref()),
            _ => DbErrorKind::Other,
        }
    }

    /// The stable error code, documented in `docs/errors.md`.
    pub fn code(&self) -> ErrorCode {
        match self {
            DriverError::InvalidUrl { .. } => ErrorCode::K1013,
            DriverError::Connect { .. } => ErrorCode::K1001,
            DriverError::Tls { .. } => ErrorCode::K1011,
            DriverError::DatabaseNotFound { .. } => ErrorCode::K1003,
            DriverError::LockTimeout { .. } => ErrorCode::K1002,
            DriverError::PooledSession => ErrorCode::K1020,
            DriverError::Server { .. } => ErrorCode::K1009,
            DriverError::ConnectionLost { .. } => ErrorCode::K1017,
            DriverError::BadLedger { .. } => ErrorCode::K1010,
            DriverError::NoCurrentSchema { .. } => ErrorCode::K1021,
        }
    }

    /// Converts a sqlx error from opening a connection to `url` (shown as `redacted`):
    /// [`DriverError::Tls`] for TLS failures, else [`DriverError::Connect`]. The message
    /// never holds the password.
    pub(crate) fn connect_failed(e: &sqlx::Error, url: &str, redacted: &str) -> DriverError {
        let message = keel_core::redact::redact_in(&e.to_string(), url);
        let lower = message.to_ascii_lowercase();
        let tls_file = [
            "sslrootcert",
            "sslcert",
            "sslkey",
            "ssl-ca",
            "ssl-cert",
            "ssl-key",
        ]
        .iter()
        .any(|k| url.contains(k))
            && lower.contains("no such file");
        if matches!(e, sqlx::Error::Tls(_))
            || tls_file
            || lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("ssl")
        {
            DriverError::Tls {
                url: redacted.to_string(),
                message,
            }
        } else {
            DriverError::Connect {
                url: redacted.to_string(),
                message,
            }
        }
    }

    /// Converts a sqlx error from reading the ledger `table`: a table that exists without
    /// the ledger's columns is [`DriverError::BadLedger`], not a server error.
    pub(crate) fn ledger_unreadable(table: &str, e: sqlx::Error) -> DriverError {
        match DriverError::from_sqlx(e) {
            DriverError::Server { message, .. } => DriverError::BadLedger {
                table: table.to_string(),
                message: format!(
                    "{message}; a ledger has Prisma's columns (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)"
                ),
            },
            other => other,
        }
    }

    /// Converts a sqlx error from running a statement.
    pub(crate) fn from_sqlx(e: sqlx::Error) -> DriverError {
        match e {
            // PgBouncer in statement mode refuses transaction blocks: a pooler, not a lost
            // connection (K1020).
            sqlx::Error::Database(db)
                if db
                    .message()
                    .contains("not allowed in statement pooling mode") =>
            {
                DriverError::PooledSession
            }
            // The server ends the session (pg_terminate_backend, shutdown): 57P01..57P03,
            // or a connection exception (class 08).
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57P0") || c.starts_with("08")) =>
            {
                DriverError::ConnectionLost {
                    message: db.message().to_string(),
                }
            }
            // sqlx names its prepared statements `sqlx_s_N` per connection: one that already
            // exists (42P05) or has vanished (26000) means the server session changed under
            // the connection, i.e. a pooler in transaction mode.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("42P05" | "26000"))
                    && db.message().contains("sqlx_s_") =>
            {
                DriverError::PooledSession
            }
            // MySQL/MariaDB: the error number (1205, 1062) users search for, not the SQLSTATE
            // (HY000, 23000) many errors share.
            sqlx::Error::Database(db) => DriverError::Server {
                code: db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .map(|m| m.number().to_string())
                    .or_else(|| db.code().map(|c| c.into_owned())),
                message: db.message().to_string(),
            },
            sqlx::Error::Io(io) => DriverError::ConnectionLost {
                message: io.to_string(),
            },
            sqlx::Error::Protocol(p) => DriverError::ConnectionLost { message: p },
            sqlx::Error::WorkerCrashed => DriverError::ConnectionLost {
                message: "the SQLite worker stopped".into(),
            },
            other => DriverError::Server {
                code: None,
                message: other.to_string(),
            },
        }
    }
}
