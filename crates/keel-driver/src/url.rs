//! Database URLs: which database, and the options sqlx needs.

use crate::DriverError;
use keel_core::redact::redact_url;
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

    /// `host:port/database` (or the SQLite path), to tell whether two URLs name one database.
    pub fn identity(&self) -> String {
        match self {
            DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => match ::url::Url::parse(u) {
                Ok(p) => format!(
                    "{}:{}{}",
                    p.host_str().unwrap_or("localhost"),
                    p.port().unwrap_or(0),
                    p.path()
                ),
                Err(_) => u.clone(),
            },
            DatabaseUrl::Sqlite { path, .. } => path
                .as_ref()
                .map(|p| p.canonicalize().unwrap_or(p.clone()).display().to_string())
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
/// # Errors
/// [`DriverError::InvalidUrl`] (K1013) for an empty URL, an unknown scheme, or a URL that does
/// not parse; the message holds the redacted URL only.
pub fn parse_url(url: &str) -> Result<DatabaseUrl, DriverError> {
    let invalid = |message: &str| DriverError::InvalidUrl {
        url: redact_url(url),
        message: message.to_string(),
    };
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid("the URL is empty"));
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(invalid(
            "no scheme; use postgres://, mysql://, mariadb:// or sqlite:",
        ));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => {
            ::url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
            Ok(DatabaseUrl::Postgres(url.to_string()))
        }
        "mysql" | "mariadb" => {
            ::url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
            Ok(DatabaseUrl::Mysql(format!("mysql:{rest}")))
        }
        "sqlite" | "file" => {
            let body = rest.strip_prefix("//").unwrap_or(rest);
            let path_part = body.split('?').next().unwrap_or("");
            if path_part.is_empty() {
                return Err(invalid("no file path (example: sqlite://keel.db)"));
            }
            let path = (path_part != ":memory:").then(|| std::path::PathBuf::from(path_part));
            Ok(DatabaseUrl::Sqlite {
                url: url.to_string(),
                path,
            })
        }
        other => Err(invalid(&format!(
            "unsupported scheme `{other}`; use postgres://, mysql://, mariadb:// or sqlite:"
        ))),
    }
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
