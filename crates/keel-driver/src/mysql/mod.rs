//! MySQL / MariaDB driver.

mod events;
mod index_method;
mod introspect;

use crate::ledger_sql::{self, COLUMNS};
use crate::{DatabaseUrl, Driver, DriverError, MYSQL_LOCK_NAME};
use async_trait::async_trait;
use chrono::NaiveDateTime;
use keel_core::ledger::{LedgerRow, KEEL_TABLE, PRISMA_TABLE};
use keel_core::Dialect;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::str::FromStr;
use std::time::{Duration, Instant};

pub(crate) struct MySqlDriver {
    conn: MySqlConnection,
    url: String,
}

impl MySqlDriver {
    pub(crate) async fn connect(url: &DatabaseUrl) -> Result<MySqlDriver, DriverError> {
        let redacted = url.redacted();
        let opts =
            MySqlConnectOptions::from_str(url.as_str()).map_err(|e| DriverError::InvalidUrl {
                url: redacted.clone(),
                message: keel_core::redact::redact_in(&e.to_string(), url.as_str()),
            })?;
        let database = opts.get_database().unwrap_or_default().to_string();
        let conn = opts.connect().await.map_err(|e| match &e {
            sqlx::Error::Database(db)
                if db.code().as_deref() == Some("42000")
                    && db.message().contains("Unknown database") =>
            {
                DriverError::DatabaseNotFound {
                    url: redacted.clone(),
                    database: database.clone(),
                }
            }
            _ => DriverError::connect_failed(&e, url.as_str(), &redacted),
        })?;
        MySqlDriver::from_conn(conn, redacted).await
    }

    /// A driver on an open connection (e.g. taken from an application's pool).
    pub(crate) async fn from_conn(
        mut conn: MySqlConnection,
        redacted: String,
    ) -> Result<MySqlDriver, DriverError> {
        // Ledger timestamps are UTC, as Prisma writes them.
        // (`Executor::execute` rather than `raw_sql(..).execute`: the latter makes rustc unable
        // to prove this future `Send`, which an application's `tokio::spawn` needs.)
        sqlx::Executor::execute(&mut conn, "SET time_zone = '+00:00'")
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(MySqlDriver {
            conn,
            url: redacted,
        })
    }

    /// The session holding the deploy lock and whether it is connected to this database: the
    /// lock (`GET_LOCK('prisma_migrate')`, Prisma's name, kept for interop) is server-wide, so
    /// a deploy of another database on the same server holds it too.
    async fn lock_holder_db(&mut self) -> Option<(String, bool)> {
        let row = sqlx::query(
            "SELECT CAST(p.ID AS SIGNED), CAST(coalesce(p.USER, '') AS CHAR), CAST(coalesce(p.HOST, '') AS CHAR), \
             CAST(coalesce(p.COMMAND, '') AS CHAR), CAST(coalesce(p.TIME, 0) AS SIGNED), \
             CAST(coalesce(p.INFO, '') AS CHAR), CAST(coalesce(p.DB, '') AS CHAR), \
             CAST(coalesce(p.DB = DATABASE(), 0) AS SIGNED) FROM information_schema.PROCESSLIST p \
             WHERE p.ID = IS_USED_LOCK(?)",
        )
        .bind(MYSQL_LOCK_NAME)
        .fetch_optional(&mut self.conn)
        .await
        .ok()??;
        let id: i64 = row.try_get(0).ok()?;
        let user: String = row.try_get(1).ok()?;
        let host: String = row.try_get(2).ok()?;
        let command: String = row.try_get(3).ok()?;
        let time: i64 = row.try_get(4).unwrap_or(0);
        let info: String = row.try_get(5).unwrap_or_default();
        let db: String = row.try_get(6).unwrap_or_default();
        let same: i64 = row.try_get(7).unwrap_or(0);
        let db_text = if db.is_empty() {
            "no database".to_string()
        } else {
            format!("database `{db}`")
        };
        Some((
            format!(
                "MySQL connection id {id} ({user}@{host}, {db_text}, {command} for {time} s, query: {}); the lock `{MYSQL_LOCK_NAME}` is server-wide, held for any database on this server",
                if info.is_empty() {
                    "none"
                } else {
                    info.as_str()
                }
            ),
            same == 1,
        ))
    }

    async fn lock_holder(&mut self) -> Option<String> {
        self.lock_holder_db().await.map(|(h, _)| h)
    }
}

fn naive(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<NaiveDateTime> {
    t.map(|t| t.naive_utc())
}

#[async_trait]
impl Driver for MySqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    async fn deploy_lock_holder(&mut self) -> Option<String> {
        // Only a deploy of this database can be running one of its migrations.
        self.lock_holder_db()
            .await
            .and_then(|(h, same)| same.then_some(h))
    }

    async fn holds_lock(&mut self) -> Result<bool, DriverError> {
        let row = sqlx::query("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")
            .bind(crate::MYSQL_LOCK_NAME)
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        let held: Option<i64> = row.try_get(0).map_err(DriverError::from_sqlx)?;
        Ok(held == Some(1))
    }

    fn redacted_url(&self) -> &str {
        &self.url
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let start = Instant::now();
        // GET_LOCK returns 1 when taken, 0 on timeout, NULL on error.
        let got: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(MYSQL_LOCK_NAME)
            .bind(timeout.as_secs_f64())
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        if got == Some(1) {
            return Ok(());
        }
        Err(DriverError::LockTimeout {
            waited: start.elapsed(),
            holder: self.lock_holder().await,
        })
    }

    async fn set_timeouts(
        &mut self,
        lock: Duration,
        statement: Option<Duration>,
    ) -> Result<(), DriverError> {
        let secs = lock.as_millis().div_ceil(1000).max(1);
        self.execute(&format!(
            "SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"
        ))
        .await?;
        let ms = statement.map_or(0, |d| d.as_millis().max(1));
        // MariaDB: max_statement_time (seconds, any statement); MySQL: max_execution_time
        // (ms, SELECT only). 0 = no limit.
        let mariadb = format!("SET SESSION max_statement_time = {}", ms as f64 / 1000.0);
        if self.execute(&mariadb).await.is_err() {
            self.execute(&format!("SET SESSION max_execution_time = {ms}"))
                .await?;
        }
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), DriverError> {
        sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(MYSQL_LOCK_NAME)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn table_exists(&mut self, name: &str) -> Result<bool, DriverError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        )
        .bind(name)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        Ok(n > 0)
    }

    async fn user_tables(&mut self) -> Result<Vec<String>, DriverError> {
        let rows = sqlx::query(
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME NOT IN (?, ?) ORDER BY TABLE_NAME",
        )
        .bind(KEEL_TABLE)
        .bind(PRISMA_TABLE)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(DriverError::from_sqlx))
            .collect()
    }

    async fn create_ledger(&mut self, table: &str) -> Result<(), DriverError> {
        self.execute(&ledger_sql::create_table(Dialect::Mysql, table))
            .await
    }

    async fn read_ledger(&mut self, table: &str) -> Result<Vec<LedgerRow>, DriverError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM {} ORDER BY started_at, migration_name",
            ledger_sql::quote(Dialect::Mysql, table)
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
                let ts = |col: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, DriverError> {
                    Ok(r.try_get::<Option<NaiveDateTime>, _>(col)
                        .map_err(bad)?
                        .map(|n| n.and_utc()))
                };
                let steps: u32 = r.try_get("applied_steps_count").map_err(bad)?;
                Ok(LedgerRow {
                    id: r.try_get("id").map_err(bad)?,
                    // A NULL checksum (a ledger altered by hand) reads as none: the
                    // migration then reads as modified, on every database alike.
                    checksum: r
                        .try_get::<Option<String>, _>("checksum")
                        .map_err(bad)?
                        .unwrap_or_default(),
                    finished_at: ts("finished_at")?,
                    migration_name: r.try_get("migration_name").map_err(bad)?,
                    logs: r.try_get("logs").map_err(bad)?,
                    rolled_back_at: ts("rolled_back_at")?,
                    started_at: ts("started_at")?.unwrap_or_default(),
                    applied_steps_count: steps,
                })
            })
            .collect()
    }

    async fn insert_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "INSERT INTO {} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ledger_sql::quote(Dialect::Mysql, table)
        );
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.checksum)
            .bind(naive(row.finished_at))
            .bind(&row.migration_name)
            .bind(&row.logs)
            .bind(naive(row.rolled_back_at))
            .bind(row.started_at.naive_utc())
            .bind(row.applied_steps_count)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn update_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "UPDATE {} SET checksum = ?, finished_at = ?, logs = ?, rolled_back_at = ?, applied_steps_count = ? WHERE id = ?",
            ledger_sql::quote(Dialect::Mysql, table)
        );
        sqlx::query(&sql)
            .bind(&row.checksum)
            .bind(naive(row.finished_at))
            .bind(&row.logs)
            .bind(naive(row.rolled_back_at))
            .bind(row.applied_steps_count)
            .bind(&row.id)
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn create_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.execute(&format!(
            "CREATE DATABASE {}",
            ledger_sql::quote(Dialect::Mysql, name)
        ))
        .await
    }

    async fn drop_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.execute(&format!(
            "DROP DATABASE IF EXISTS {}",
            ledger_sql::quote(Dialect::Mysql, name)
        ))
        .await
    }

    async fn reset(&mut self) -> Result<(), DriverError> {
        let rows = sqlx::query(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        self.execute("SET FOREIGN_KEY_CHECKS = 0").await?;
        for r in rows {
            let name: String = r.try_get(0).map_err(DriverError::from_sqlx)?;
            let kind: String = r.try_get(1).map_err(DriverError::from_sqlx)?;
            let what = if kind == "VIEW" { "VIEW" } else { "TABLE" };
            self.execute(&format!(
                "DROP {what} IF EXISTS {}",
                ledger_sql::quote(Dialect::Mysql, &name)
            ))
            .await?;
        }
        self.execute("SET FOREIGN_KEY_CHECKS = 1").await
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

    async fn close(self: Box<Self>) {
        let _ = self.conn.close().await;
    }
}
