//! SQLite driver (bundled by sqlx).
//!
//! Ledger timestamps are stored as integer epoch milliseconds, as Prisma stores them; text
//! timestamps (the column default, other tools) are read too.

mod introspect;

use crate::ledger_sql::{self, COLUMNS};
use crate::{DatabaseUrl, Driver, DriverError, SqliteMode};
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use keel_core::ledger::{LedgerRow, KEEL_TABLE, PRISMA_TABLE};
use keel_core::Dialect;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

pub(crate) struct SqliteDriver {
    conn: SqliteConnection,
    url: String,
    path: Option<PathBuf>,
    /// The open database file holding our `flock` while the deploy lock is held.
    lock_file: Option<std::fs::File>,
}

impl SqliteDriver {
    pub(crate) async fn connect(url: &DatabaseUrl) -> Result<SqliteDriver, DriverError> {
        let redacted = url.redacted();
        let DatabaseUrl::Sqlite { path, mode, .. } = url else {
            return Err(DriverError::InvalidUrl {
                url: redacted,
                message: "not a SQLite URL".into(),
            });
        };
        let opts = match path {
            Some(p) => SqliteConnectOptions::new().filename(p),
            None => SqliteConnectOptions::from_str("sqlite::memory:").map_err(|e| {
                DriverError::InvalidUrl {
                    url: redacted.clone(),
                    message: e.to_string(),
                }
            })?,
        }
        .create_if_missing(*mode == SqliteMode::ReadWriteCreate)
        .read_only(*mode == SqliteMode::ReadOnly)
        .busy_timeout(Duration::from_secs(10));
        let conn = opts.connect().await.map_err(|e| DriverError::Connect {
            url: redacted.clone(),
            message: e.to_string(),
        })?;
        Ok(SqliteDriver::from_conn(conn, redacted, path.clone()))
    }

    /// A driver on an open connection to the file `path` (`None`: in memory).
    pub(crate) fn from_conn(
        conn: SqliteConnection,
        redacted: String,
        path: Option<PathBuf>,
    ) -> SqliteDriver {
        SqliteDriver {
            conn,
            url: redacted,
            path,
            lock_file: None,
        }
    }
}

/// Who holds a `flock` on `path`, from `/proc/locks` (Linux); `None` elsewhere.
fn flock_holder(path: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    for line in locks.lines() {
        // "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234 0 EOF"
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 6 && f[1] == "FLOCK" && f[5].rsplit(':').next() == Some(&inode.to_string()) {
            let pid = f[4];
            if pid == std::process::id().to_string() {
                continue;
            }
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .split('\0')
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            return Some(format!(
                "process {pid} ({})",
                keel_core::redact::redact_url(&cmd)
            ));
        }
    }
    None
}

fn from_millis(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

/// What [`millis_expr`] gives for a value that is there but is no time (`'garbage'`).
const UNREADABLE: i64 = i64::MIN;

/// Reads a timestamp column as epoch milliseconds whether it holds an integer (Prisma) or text;
/// a value that is not a time reads as [`UNREADABLE`].
fn millis_expr(col: &str) -> String {
    format!(
        "CASE WHEN {col} IS NULL THEN NULL WHEN typeof({col}) IN ('integer', 'real') THEN CAST({col} AS INTEGER) \
         ELSE coalesce(CAST(round((julianday({col}) - 2440587.5) * 86400000.0) AS INTEGER), {UNREADABLE}) END AS {col}"
    )
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn deploy_lock_holder(&mut self) -> Option<String> {
        let path = self.path.clone()?;
        if self.lock_file.is_some() {
            return None;
        }
        let file = std::fs::File::open(&path).ok()?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                None
            }
            Err(_) => Some(flock_holder(&path).unwrap_or_else(|| "another process".into())),
        }
    }

    fn redacted_url(&self) -> &str {
        &self.url
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), DriverError> {
        // An in-memory database is private to this connection: nothing to lock.
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        // flock(2) on the database file itself: independent of SQLite's own fcntl locks on
        // Linux, so it serialises keel processes without blocking readers, and leaves no file.
        let file = std::fs::File::open(&path).map_err(|e| DriverError::Connect {
            url: self.url.clone(),
            message: e.to_string(),
        })?;
        let start = Instant::now();
        let mut wait = Duration::from_millis(20);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    self.lock_file = Some(file);
                    return Ok(());
                }
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(DriverError::Server {
                        code: None,
                        message: format!("cannot lock {}: {e}", path.display()),
                    })
                }
            }
            if start.elapsed() >= timeout {
                return Err(DriverError::LockTimeout {
                    waited: start.elapsed(),
                    holder: flock_holder(&path),
                });
            }
            tokio::time::sleep(wait.min(timeout.saturating_sub(start.elapsed()))).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    async fn set_timeouts(
        &mut self,
        lock: Duration,
        _statement: Option<Duration>,
    ) -> Result<(), DriverError> {
        self.execute(&format!(
            "PRAGMA busy_timeout = {}",
            lock.as_millis().max(1)
        ))
        .await
    }

    async fn unlock(&mut self) -> Result<(), DriverError> {
        if let Some(f) = self.lock_file.take() {
            let _ = f.unlock();
        }
        Ok(())
    }

    async fn table_exists(&mut self, name: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
        )
        .bind(name)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        Ok(n > 0)
    }

    async fn user_tables(&mut self) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name NOT IN (?, ?) ORDER BY name",
        )
        .bind(KEEL_TABLE)
        .bind(PRISMA_TABLE)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)
    }

    async fn create_ledger(&mut self, table: &str) -> Result<(), DriverError> {
        self.execute(&ledger_sql::create_table(Dialect::Sqlite, table))
            .await
    }

    async fn read_ledger(&mut self, table: &str) -> Result<Vec<LedgerRow>, DriverError> {
        let sql = format!(
            "SELECT id, checksum, {}, migration_name, logs, {}, {}, applied_steps_count FROM {} ORDER BY 7, migration_name",
            millis_expr("finished_at"),
            millis_expr("rolled_back_at"),
            millis_expr("started_at"),
            ledger_sql::quote(Dialect::Sqlite, table)
        );
        let rows = sqlx::query(&sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| DriverError::ledger_unreadable(table, e))?;
        rows.iter()
            .map(|r| {
                let bad = |e: sqlx::Error| DriverError::BadLedger {
                    table: table.to_string(),
                    message: e.to_string(),
                };
                let steps: i64 = r.try_get("applied_steps_count").map_err(bad)?;
                let name: String = r.try_get("migration_name").map_err(bad)?;
                // A value that is there but reads as no time is an error naming the row, never
                // NULL (which would make an applied migration look failed).
                let time = |col: &str| -> Result<Option<DateTime<Utc>>, DriverError> {
                    let ms: Option<i64> = r.try_get(col).map_err(bad)?;
                    match ms {
                        None => Ok(None),
                        Some(ms) => match from_millis(Some(ms)).filter(|_| ms != UNREADABLE) {
                            Some(t) => Ok(Some(t)),
                            None => Err(DriverError::BadLedger {
                                table: table.to_string(),
                                message: format!(
                                    "the row of `{name}` has a `{col}` that is not a time; set it to a time or NULL"
                                ),
                            }),
                        },
                    }
                };
                Ok(LedgerRow {
                    id: r.try_get("id").map_err(bad)?,
                    // A NULL checksum (a ledger altered by hand) reads as none: the
                    // migration then reads as modified, on every database alike.
                    checksum: r
                        .try_get::<Option<String>, _>("checksum")
                        .map_err(bad)?
                        .unwrap_or_default(),
                    finished_at: time("finished_at")?,
                    migration_name: name.clone(),
                    logs: r.try_get("logs").map_err(bad)?,
                    rolled_back_at: time("rolled_back_at")?,
                    started_at: time("started_at")?.unwrap_or_default(),
                    applied_steps_count: u32::try_from(steps).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn insert_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "INSERT INTO {} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ledger_sql::quote(Dialect::Sqlite, table)
        );
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.checksum)
            .bind(row.finished_at.map(|t| t.timestamp_millis()))
            .bind(&row.migration_name)
            .bind(&row.logs)
            .bind(row.rolled_back_at.map(|t| t.timestamp_millis()))
            .bind(row.started_at.timestamp_millis())
            .bind(i64::from(row.applied_steps_count))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn update_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "UPDATE {} SET checksum = ?, finished_at = ?, logs = ?, rolled_back_at = ?, applied_steps_count = ? WHERE id = ?",
            ledger_sql::quote(Dialect::Sqlite, table)
        );
        sqlx::query(&sql)
            .bind(&row.checksum)
            .bind(row.finished_at.map(|t| t.timestamp_millis()))
            .bind(&row.logs)
            .bind(row.rolled_back_at.map(|t| t.timestamp_millis()))
            .bind(i64::from(row.applied_steps_count))
            .bind(&row.id)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn create_database(&mut self, _name: &str) -> Result<(), DriverError> {
        Err(DriverError::Server {
            code: None,
            message: "SQLite has no CREATE DATABASE (shadow databases are in memory)".into(),
        })
    }

    async fn drop_database(&mut self, _name: &str) -> Result<(), DriverError> {
        Ok(())
    }

    async fn reset(&mut self) -> Result<(), DriverError> {
        let rows = sqlx::query(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND type IN ('view', 'table')",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        self.execute("PRAGMA foreign_keys=OFF").await?;
        for r in rows {
            let kind: String = r.try_get(0).map_err(DriverError::from_sqlx)?;
            let name: String = r.try_get(1).map_err(DriverError::from_sqlx)?;
            let what = if kind == "view" { "VIEW" } else { "TABLE" };
            self.execute(&format!(
                "DROP {what} IF EXISTS {}",
                ledger_sql::quote(Dialect::Sqlite, &name)
            ))
            .await?;
        }
        self.execute("PRAGMA foreign_keys=ON").await
    }

    async fn introspect(&mut self) -> Result<keel_core::schema::Schema, DriverError> {
        introspect::introspect(&mut self.conn).await
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DriverError> {
        let rows = sqlx::query(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(rows.iter().map(crate::rows::row_text).collect())
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        // `&str` without arguments goes over the simple/text protocol, as `raw_sql` would.
        sqlx::Executor::execute(&mut self.conn, sql)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn foreign_key_violations(&mut self) -> Result<Vec<String>, DriverError> {
        let rows = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(rows
            .iter()
            .take(10)
            .map(|r| {
                let table: String = r.try_get(0).unwrap_or_default();
                let rowid: Option<i64> = r.try_get(1).unwrap_or(None);
                let parent: String = r.try_get(2).unwrap_or_default();
                format!(
                    "`{table}` row {} references a missing row of `{parent}`",
                    rowid.map_or("?".to_string(), |id| id.to_string())
                )
            })
            .collect())
    }

    async fn close(mut self: Box<Self>) {
        let _ = self.unlock().await;
        let _ = self.conn.close().await;
    }
}
