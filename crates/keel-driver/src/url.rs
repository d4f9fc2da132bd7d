//! Database URLs: which database, and the options sqlx needs.

use crate::DriverError;
use keel_core::redact::{percent_decode, redact_url};
use keel_core::Dialect;

/// A parsed database URL.
#[derive(Debug, Clone)]
pub enum DatabaseUrl {
    /// `postgres://` or `postgresql://` (sqlx's options: `sslmode`, `sslrootcert`, …).
    Postgres(String),
    /// `mysql://` or `mariadb://` (sqlx's options: `ssl-mode`, `ssl-ca`, …).
    Mysql(String),
    /// `sqlite:path`, `sqlite://path`, `sqlite::memory:`; `path` relative to the working
    /// directory.
    Sqlite {
        /// The original URL.
        url: String,
        /// The file path, or `None` for an in-memory database.
        path: Option<std::path::PathBuf>,
        /// `?mode=`.
        mode: SqliteMode,
    },
}

impl DatabaseUrl {
    /// The dialect of this URL.
    pub fn dialect(&self) -> Dialect {
        match self {
            DatabaseUrl::Postgres(_) => Dialect::Postgres,
            DatabaseUrl::Mysql(_) => Dialect::Mysql,
            DatabaseUrl::Sqlite { .. } => Dialect::Sqlite,
        }
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        match self {
            DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => u,
            DatabaseUrl::Sqlite { url, .. } => url,
        }
    }

    /// The same server with another database name (for a shadow database). `None` for SQLite.
    pub fn with_database(&self, name: &str) -> Option<String> {
        match self {
            DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => {
                let mut parsed = ::url::Url::parse(u).ok()?;
                parsed.set_path(&format!("/{name}"));
                Some(parsed.to_string())
            }
            DatabaseUrl::Sqlite { .. } => None,
        }
    }

    /// Prisma's `?schema=NAME` on a PostgreSQL URL: the schema that holds the ledger and the
    /// migrated tables (the session's `search_path`). `None`: the server's default
    /// (`current_schema()`, normally `public`), and always for MySQL and SQLite.
    pub fn schema(&self) -> Option<String> {
        match self {
            DatabaseUrl::Postgres(u) => ::url::Url::parse(u)
                .ok()?
                .query_pairs()
                .find_map(|(k, v)| (k == "schema" && !v.trim().is_empty()).then(|| v.into_owned())),
            _ => None,
        }
    }

    /// `host:port/database` (PostgreSQL: `/database?schema=NAME` with a schema), or the SQLite
    /// file's canonical path (symlinks resolved), to tell whether two URLs name one database.
    /// The host is lower-cased and a missing port is the scheme's default (5432, 3306).
    pub fn identity(&self) -> String {
        match self {
            DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => match ::url::Url::parse(u) {
                Ok(p) => {
                    let default_port = if matches!(self, DatabaseUrl::Postgres(_)) {
                        5432
                    } else {
                        3306
                    };
                    let host_param = p
                        .query_pairs()
                        .find_map(|(k, v)| (k == "host").then(|| v.into_owned()));
                    let host = match p.host_str() {
                        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
                        _ => host_param.unwrap_or_else(|| "localhost".into()),
                    };
                    let schema = self
                        .schema()
                        .map(|s| format!("?schema={s}"))
                        .unwrap_or_default();
                    format!(
                        "{host}:{}/{}{schema}",
                        p.port().unwrap_or(default_port),
                        percent_decode(p.path().trim_start_matches('/'))
                    )
                }
                Err(_) => "<unparsed>".into(),
            },
            DatabaseUrl::Sqlite { path, .. } => path
                .as_ref()
                .map(|p| {
                    let abs = if p.is_absolute() {
                        p.clone()
                    } else {
                        std::env::current_dir().unwrap_or_default().join(p)
                    };
                    abs.canonicalize().unwrap_or(abs).display().to_string()
                })
                .unwrap_or_else(|| ":memory:".into()),
        }
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(self.as_str())
    }
}

/// Parses `url` and tells which database it names.
///
/// Refused, so that keel never acts on a database nobody named: an empty URL (no
/// `DATABASE_URL`, `--database-url` or keel.toml `database_url`); an unknown scheme; a URL whose
/// user name or password holds an unencoded `/ ? # @` (the parser would read part of the
/// password as the host or path); a PostgreSQL or MySQL URL without a database name (the
/// servers would pick a default database); PostgreSQL's `template0`/`template1` (every database
/// created later would inherit the tables); an empty PostgreSQL `?schema=`; SQLite query
/// parameters other than `mode=ro|rw|rwc|memory`.
///
/// # Errors
/// [`DriverError::InvalidUrl`] (K1013) saying what is missing or wrong; the message never
/// holds the URL, only its redaction ([`redact_url`]).
pub fn parse_url(url: &str) -> Result<DatabaseUrl, DriverError> {
    let invalid = |message: &str| DriverError::InvalidUrl {
        url: redact_url(url),
        message: message.to_string(),
    };
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid(
            "no database URL: set DATABASE_URL (in the environment or .env), --database-url, or database_url in keel.toml",
        ));
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(invalid(
            "no scheme; use postgres://, mysql://, mariadb:// or sqlite:",
        ));
    };
    let server = |kind: &str| -> Result<::url::Url, DriverError> {
        if keel_core::redact::misplaced_at(url) {
            return Err(invalid(
                "the user name or password holds an unencoded `/`, `?`, `#` or `@`: percent-encode it (`/` is %2F, `?` %3F, `#` %23, `@` %40)",
            ));
        }
        let parsed = ::url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        let db_param = parsed
            .query_pairs()
            .find(|(k, _)| k == "dbname")
            .map(|(_, v)| v.into_owned());
        let path = parsed.path().trim_start_matches('/');
        let database = match db_param {
            Some(d) if path.is_empty() => d,
            _ => percent_decode(path),
        };
        if database.trim().is_empty() {
            return Err(invalid(&format!(
                "no database name: {kind} would choose a default database; name it, e.g. {}://USER@HOST/DB",
                scheme.to_ascii_lowercase()
            )));
        }
        if database.contains('/') {
            return Err(invalid(
                "the database name holds a `/`: percent-encode it (%2F)",
            ));
        }
        Ok(parsed)
    };
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => {
            let parsed = server("PostgreSQL")?;
            let database = percent_decode(parsed.path().trim_start_matches('/'));
            if matches!(database.as_str(), "template0" | "template1") {
                return Err(invalid(&format!(
                    "`{database}` is a template database: every database created later would inherit what keel writes there; name your application's database"
                )));
            }
            if let Some((_, s)) = parsed.query_pairs().find(|(k, _)| k == "schema") {
                if s.trim().is_empty() {
                    return Err(invalid("`?schema=` is empty: name the schema, or leave the parameter out for `public`"));
                }
            }
            Ok(DatabaseUrl::Postgres(url.to_string()))
        }
        "mysql" | "mariadb" => {
            server("MySQL")?;
            Ok(DatabaseUrl::Mysql(format!("mysql:{rest}")))
        }
        "sqlite" | "file" => {
            let body = rest.strip_prefix("//").unwrap_or(rest);
            let (path_part, query) = body.split_once('?').unwrap_or((body, ""));
            if path_part.is_empty() {
                return Err(invalid("no file path (example: sqlite://keel.db)"));
            }
            let mut mode = SqliteMode::ReadWriteCreate;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=').unwrap_or((pair, "")) {
                    ("mode", "ro") => mode = SqliteMode::ReadOnly,
                    ("mode", "rw") => mode = SqliteMode::ReadWrite,
                    ("mode", "rwc") => mode = SqliteMode::ReadWriteCreate,
                    ("mode", "memory") => mode = SqliteMode::Memory,
                    (k, _) => {
                        return Err(invalid(&format!(
                            "unknown SQLite URL parameter `{}`; keel reads `mode=ro|rw|rwc|memory`",
                            k.chars().take(40).collect::<String>()
                        )))
                    }
                }
            }
            let path = (path_part != ":memory:" && mode != SqliteMode::Memory)
                .then(|| std::path::PathBuf::from(percent_decode(path_part)));
            Ok(DatabaseUrl::Sqlite {
                url: url.to_string(),
                path,
                mode,
            })
        }
        other => Err(invalid(&format!(
            "unsupported scheme `{}`; use postgres://, mysql://, mariadb:// or sqlite:",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

/// How a SQLite URL opens its file (`?mode=`, as SQLite's own URI filenames and sqlx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteMode {
    /// `mode=ro`: never written; a command that writes fails with the server's read-only
    /// error.
    ReadOnly,
    /// `mode=rw`: the file must exist.
    ReadWrite,
    /// `mode=rwc` (the default): created when missing.
    ReadWriteCreate,
    /// `mode=memory` or `:memory:`.
    Memory,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            parse_url("postgresql://u@h/db").map(|u| u.dialect()).ok(),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            parse_url("mariadb://root@h/db").map(|u| u.dialect()).ok(),
            Some(Dialect::Mysql)
        );
        match parse_url("sqlite://keel.db") {
            Ok(DatabaseUrl::Sqlite { path, .. }) => assert_eq!(path, Some("keel.db".into())),
            other => panic!("{other:?}"),
        }
        match parse_url("sqlite::memory:") {
            Ok(DatabaseUrl::Sqlite { path, .. }) => assert_eq!(path, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_urls_are_k1013_and_redacted() {
        for bad in [
            "",
            "nonsense",
            "oracle://u:pw@h/db",
            "postgres://u:secret@h:notaport/db",
            "sqlite://",
        ] {
            let e = parse_url(bad).unwrap_err();
            assert_eq!(e.code(), "K1013", "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }
}
