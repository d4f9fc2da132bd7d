//! PostgreSQL driver.

mod introspect;
#[cfg(test)]
mod session_tests;

use crate::ledger_sql::{self, COLUMNS};
use crate::{DatabaseUrl, Driver, DriverError, PG_LOCK_KEY};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keel_core::ledger::{LedgerRow, KEEL_TABLE, PRISMA_TABLE};
use keel_core::Dialect;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Row};
use std::str::FromStr;
use std::time::{Duration, Instant};

pub(crate) struct PgDriver {
    conn: PgConnection,
    url: String,
    /// For the second connection of the session check (see [`PgDriver::check_session`]).
    opts: PgConnectOptions,
    /// While the deploy lock is held: the backend pid that took it and the marker this
    /// connection left in the session (`keel.session`), to tell that it is still there.
    session: Option<(i32, String)>,
    /// The URL's `?schema=` (Prisma's convention), set as `search_path` at connection.
    schema: Option<String>,
    /// Whether [`Driver::lock`] ran on this connection: until it has, `unlock` has nothing to
    /// undo (no lock, no session marker) and sends nothing.
    lock_attempted: bool,
}

/// Whether this session holds Prisma's advisory lock, as an SQL expression.
fn holds_lock_expr() -> String {
    backend_holds_lock_expr("pg_backend_pid()")
}

/// Whether backend `pid` (an SQL expression: `pg_backend_pid()`, or a number) holds Prisma's
/// advisory lock. A bigint key shows in pg_locks as classid = high 32 bits, objid = low 32
/// bits, objsubid = 1.
fn backend_holds_lock_expr(pid: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND pid = {pid} AND classid = {} AND objid = {} AND objsubid = 1)",
        PG_LOCK_KEY >> 32,
        PG_LOCK_KEY & 0xffff_ffff
    )
}

/// `SELECT CASE WHEN <on backend pid, marked mark> THEN expr END`: `expr` runs only on the
/// checked session, and the one column is NULL on any other backend.
fn on_session_sql(pid: i32, mark: &str, expr: &str) -> String {
    format!(
        "SELECT CASE WHEN pg_backend_pid() = {pid} AND current_setting('{SESSION_MARK}', true) = '{mark}' \
         THEN {expr} END"
    )
}

/// How long the session check's second connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many connections [`PgDriver::release_on_backend`] may open to reach the backend that
/// holds the deploy lock (a pooler's pool is rarely larger).
const RELEASE_CONNECTIONS: usize = 64;

/// One statement that releases the deploy lock and clears the session marker only on backend
/// `pid` marked `mark`: its one column is NULL on any other backend.
fn release_sql(pid: i32, mark: &str) -> String {
    on_session_sql(
        pid,
        mark,
        &format!(
            "num_nonnulls(pg_advisory_unlock({PG_LOCK_KEY}), set_config('{SESSION_MARK}', '', false)) = 2"
        ),
    )
}

/// The session setting keel marks its locking session with.
const SESSION_MARK: &str = "keel.session";

impl PgDriver {
    pub(crate) async fn connect(url: &DatabaseUrl) -> Result<PgDriver, DriverError> {
        let redacted = url.redacted();
        let opts = PgConnectOptions::from_str(url.as_str())
            .map_err(|e| DriverError::InvalidUrl {
                url: redacted.clone(),
                message: keel_core::redact::redact_in(&e.to_string(), url.as_str()),
            })?
            .application_name("keel");
        let database = opts.get_database().unwrap_or_default().to_string();
        let conn = opts.clone().connect().await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
                DriverError::DatabaseNotFound {
                    url: redacted.clone(),
                    database: database.clone(),
                }
            }
            _ => DriverError::connect_failed(&e, url.as_str(), &redacted),
        })?;
        let mut driver = PgDriver::from_conn(conn, redacted, opts);
        if let Some(schema) = url.schema() {
            driver.use_schema(&schema, false).await?;
        }
        Ok(driver)
    }

    /// A driver on an open connection (e.g. taken from an application's pool); `opts` opens
    /// the second connection of the session check.
    pub(crate) fn from_conn(
        conn: PgConnection,
        redacted: String,
        opts: PgConnectOptions,
    ) -> PgDriver {
        PgDriver {
            conn,
            url: redacted,
            opts,
            session: None,
            schema: None,
            lock_attempted: false,
        }
    }

    async fn backend_pid(conn: &mut PgConnection) -> Result<i32, DriverError> {
        // Simple protocol (no prepared statement), which works through any pooler.
        let row = sqlx::Executor::fetch_one(&mut *conn, "SELECT pg_backend_pid()")
            .await
            .map_err(DriverError::from_sqlx)?;
        row.try_get::<i32, _>(0).map_err(DriverError::from_sqlx)
    }

    /// Whether this connection still runs on backend `pid` with this driver's session marker.
    async fn same_session(&mut self, pid: i32) -> Result<bool, DriverError> {
        let Some((_, mark)) = &self.session else {
            return Ok(true);
        };
        let row = sqlx::Executor::fetch_one(
            &mut self.conn,
            format!(
                "SELECT pg_backend_pid(), coalesce(current_setting('{SESSION_MARK}', true), '')"
            )
            .as_str(),
        )
        .await
        .map_err(DriverError::from_sqlx)?;
        let now: i32 = row.try_get(0).map_err(DriverError::from_sqlx)?;
        let seen: String = row.try_get(1).map_err(DriverError::from_sqlx)?;
        Ok(now == pid && &seen == mark)
    }

    /// Marks this connection's server session (`keel.session`) and checks that the
    /// connection is one stable session, as the session-level deploy lock needs; run before
    /// the lock is taken, so that a refusal leaves no lock behind. Behind a pooler in
    /// transaction or statement mode (PgBouncer, RDS Proxy, Supavisor) the backend changes
    /// between transactions: the session already carries another connection's marker, or a
    /// second connection, in an open transaction, is handed the backend this one just left
    /// (poolers reuse the most recently used server), or this connection comes back on
    /// another backend. Then session settings (`lock_timeout`) would not stay put either.
    ///
    /// # Errors
    /// [`DriverError::PooledSession`]; a server or connection error.
    async fn check_session(&mut self) -> Result<(), DriverError> {
        let row = sqlx::Executor::fetch_one(
            &mut self.conn,
            format!("SELECT coalesce(current_setting('{SESSION_MARK}', true), '')").as_str(),
        )
        .await
        .map_err(DriverError::from_sqlx)?;
        let before: String = row.try_get(0).map_err(DriverError::from_sqlx)?;
        let ours = self.session.as_ref().is_some_and(|(_, m)| *m == before);
        if !before.is_empty() && !ours {
            return Err(DriverError::PooledSession);
        }
        let mark = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let row = sqlx::Executor::fetch_one(
            &mut self.conn,
            format!("SELECT pg_backend_pid(), set_config('{SESSION_MARK}', '{mark}', false)")
                .as_str(),
        )
        .await
        .map_err(DriverError::from_sqlx)?;
        let pid: i32 = row.try_get(0).map_err(DriverError::from_sqlx)?;
        self.session = Some((pid, mark));
        let mut probe = match tokio::time::timeout(PROBE_TIMEOUT, self.opts.clone().connect()).await
        {
            Ok(Ok(c)) => c,
            // No second connection (connection limit): the check cannot run; carry on,
            // as every other tool does.
            _ => return Ok(()),
        };
        let stable = tokio::time::timeout(PROBE_TIMEOUT, async {
            sqlx::Executor::execute(&mut probe, "BEGIN")
                .await
                .map_err(DriverError::from_sqlx)?;
            if Self::backend_pid(&mut probe).await? == pid {
                return Ok(false);
            }
            self.same_session(pid).await
        })
        .await;
        let stable = match stable {
            Ok(r) => {
                let _ = tokio::time::timeout(PROBE_TIMEOUT, async {
                    let _ = sqlx::Executor::execute(&mut probe, "ROLLBACK").await;
                    let _ = probe.close().await;
                })
                .await;
                r
            }
            // A pooler with no server free for the probe (PgBouncer session mode with a
            // pool of one): the check cannot run; carry on. The probe still has a query in
            // flight, which the pooler would answer only after its query_wait_timeout
            // (120 s): drop the socket instead of waiting to close it politely.
            Err(_) => {
                drop(probe);
                // Inconclusive, so look harder at this connection: behind a pooler in
                // transaction mode under load, its next statements land on other backends.
                let mut same = Ok(true);
                for _ in 0..5 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    match self.same_session(pid).await {
                        Ok(true) => {}
                        other => {
                            same = other;
                            break;
                        }
                    }
                }
                same
            }
        };
        if stable? {
            Ok(())
        } else {
            self.session = None;
            Err(DriverError::PooledSession)
        }
    }

    /// Releases the deploy lock that backend `pid` (marked `mark`) holds, when this
    /// connection no longer reaches it: through the pooler, connections that each keep a
    /// transaction open take distinct backends, until one lands on `pid` (poolers hand out
    /// an idle server before opening one). At most [`RELEASE_CONNECTIONS`] connections and
    /// [`PROBE_TIMEOUT`] are spent; nothing is done when `pid` holds no keel lock.
    ///
    /// # Errors
    /// [`DriverError::PooledSession`] when the backend could not be reached in time; a
    /// server or connection error.
    async fn release_on_backend(&mut self, pid: i32, mark: &str) -> Result<(), DriverError> {
        let held_sql = format!("SELECT {}", backend_holds_lock_expr(&pid.to_string()));
        let row = sqlx::Executor::fetch_one(&mut self.conn, held_sql.as_str())
            .await
            .map_err(DriverError::from_sqlx)?;
        if !row.try_get::<bool, _>(0).map_err(DriverError::from_sqlx)? {
            return Ok(());
        }
        let sql = release_sql(pid, mark);
        let mut open = Vec::new();
        let released = tokio::time::timeout(PROBE_TIMEOUT, async {
            for _ in 0..RELEASE_CONNECTIONS {
                let mut c = self
                    .opts
                    .clone()
                    .connect()
                    .await
                    .map_err(DriverError::from_sqlx)?;
                sqlx::Executor::execute(&mut c, "BEGIN")
                    .await
                    .map_err(DriverError::from_sqlx)?;
                let row = sqlx::Executor::fetch_one(&mut c, sql.as_str())
                    .await
                    .map_err(DriverError::from_sqlx)?;
                let hit = row
                    .try_get::<Option<bool>, _>(0)
                    .map_err(DriverError::from_sqlx)?
                    .is_some();
                open.push(c);
                if hit {
                    // COMMIT keeps the cleared marker (a session setting made in a
                    // transaction is undone by its ROLLBACK); the unlock is immediate.
                    if let Some(c) = open.last_mut() {
                        sqlx::Executor::execute(&mut *c, "COMMIT")
                            .await
                            .map_err(DriverError::from_sqlx)?;
                    }
                    return Ok(true);
                }
            }
            Ok::<bool, DriverError>(false)
        })
        .await;
        for mut c in open {
            let _ = tokio::time::timeout(PROBE_TIMEOUT, async {
                let _ = sqlx::Executor::execute(&mut c, "ROLLBACK").await;
                let _ = c.close().await;
            })
            .await;
        }
        match released {
            Ok(Ok(true)) => Ok(()),
            Ok(Err(e)) => Err(e),
            _ => Err(DriverError::PooledSession),
        }
    }

    async fn lock_holder(&mut self) -> Option<String> {
        // An advisory lock on a bigint key shows in pg_locks as classid = high 32 bits,
        // objid = low 32 bits, objsubid = 1.
        let sql = "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.query, ''), \
                   coalesce(a.state, ''), \
                   to_char(coalesce(a.xact_start, a.backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                   extract(epoch FROM now() - coalesce(a.xact_start, a.backend_start))::float8 \
                   FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                   AND l.classid = 0 AND l.objid = $1 \
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
        let row = sqlx::query(sql)
            .bind(PG_LOCK_KEY)
            .fetch_optional(&mut self.conn)
            .await
            .ok()??;
        let pid: i32 = row.try_get(0).ok()?;
        let app: String = row.try_get(1).ok()?;
        let query: String = row.try_get(2).ok()?;
        let state: String = row.try_get(3).ok()?;
        let since: String = row.try_get(4).ok()?;
        let age: f64 = row.try_get(5).ok()?;
        let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
        let query = if query.chars().count() > 120 {
            format!("{}…", query.chars().take(120).collect::<String>())
        } else {
            query
        };
        Some(format!(
            "PostgreSQL backend pid {pid} (application_name '{app}', state {state}, since {since}, {age:.0} s ago, last query: {query})"
        ))
    }
}

#[async_trait]
impl Driver for PgDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn redacted_url(&self) -> &str {
        &self.url
    }

    async fn lock(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let start = Instant::now();
        let mut wait = Duration::from_millis(20);
        self.lock_attempted = true;
        self.check_session().await?;
        let Some((pid, mark)) = self.session.clone() else {
            return Err(DriverError::PooledSession);
        };
        loop {
            // The lock is taken only on the checked session (simple protocol: no prepared
            // statement to lose behind a pooler); on any other, nothing is locked.
            let row = sqlx::Executor::fetch_one(
                &mut self.conn,
                on_session_sql(pid, &mark, &format!("pg_try_advisory_lock({PG_LOCK_KEY})"))
                    .as_str(),
            )
            .await
            .map_err(DriverError::from_sqlx)?;
            match row
                .try_get::<Option<bool>, _>(0)
                .map_err(DriverError::from_sqlx)?
            {
                Some(true) => return Ok(()),
                Some(false) => {}
                None => {
                    self.session = None;
                    return Err(DriverError::PooledSession);
                }
            }
            if start.elapsed() >= timeout {
                return Err(DriverError::LockTimeout {
                    waited: start.elapsed(),
                    holder: self.lock_holder().await,
                });
            }
            tokio::time::sleep(wait.min(timeout.saturating_sub(start.elapsed()))).await;
            wait = (wait * 2).min(Duration::from_millis(250));
        }
    }

    async fn unlock(&mut self) -> Result<(), DriverError> {
        if !self.lock_attempted {
            return Ok(());
        }
        // The lock is held only while `session` is set (every path that refuses before or
        // instead of locking clears it); nothing else is released, so that a statement that
        // lands on another pooled backend cannot release or unmark someone else's session.
        let Some((pid, mark)) = self.session.take() else {
            return Ok(());
        };
        let row = sqlx::Executor::fetch_one(&mut self.conn, release_sql(pid, &mark).as_str())
            .await
            .map_err(DriverError::from_sqlx)?;
        if row
            .try_get::<Option<bool>, _>(0)
            .map_err(DriverError::from_sqlx)?
            .is_some()
        {
            return Ok(());
        }
        // This connection has moved to another backend (a pooler in transaction mode that a
        // lucky session check did not catch): the lock is still held by backend `pid`, in a
        // server session the pooler keeps, where it would block every later deploy.
        self.release_on_backend(pid, &mark).await
    }

    async fn table_exists(&mut self, name: &str) -> Result<bool, DriverError> {
        // The current schema comes in the same round trip: without `?schema=`, a search_path
        // that names no existing schema would make the ledger "not created yet" and every
        // migration fail with "no schema has been selected to create in".
        let (current, search_path, exists): (Option<String>, String, bool) = sqlx::query_as(
            "SELECT current_schema()::text, current_setting('search_path'), \
             EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1)",
        )
        .bind(name)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        if current.is_none() && self.schema.is_none() {
            return Err(DriverError::NoCurrentSchema { search_path });
        }
        Ok(exists)
    }

    async fn invalid_indexes(&mut self) -> Result<Vec<(String, String)>, DriverError> {
        sqlx::query_as(
            "SELECT t.relname::text, c.relname::text FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_class t ON t.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid AND t.relkind <> 'p' AND n.nspname = current_schema() \
             ORDER BY 1, 2",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)
    }

    async fn index_is_invalid(
        &mut self,
        schema: Option<&str>,
        name: &str,
    ) -> Result<bool, DriverError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i \
             JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid \
             JOIN pg_catalog.pg_class t ON t.oid = i.indrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid AND t.relkind <> 'p' AND c.relname = $2 \
             AND n.nspname = COALESCE($1, current_schema()))",
        )
        .bind(schema)
        .bind(name)
        .fetch_one(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)
    }

    async fn user_tables(&mut self) -> Result<Vec<String>, DriverError> {
        sqlx::query_scalar(
            "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
             AND tablename NOT IN ($1, $2) ORDER BY tablename",
        )
        .bind(KEEL_TABLE)
        .bind(PRISMA_TABLE)
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)
    }

    async fn create_ledger(&mut self, table: &str) -> Result<(), DriverError> {
        if let Some(schema) = self.schema.clone() {
            // As Prisma's deploy: the URL's schema is created when it does not exist yet.
            self.use_schema(&schema, true).await?;
        }
        self.execute(&ledger_sql::create_table(Dialect::Postgres, table))
            .await
    }

    async fn deploy_lock_holder(&mut self) -> Option<String> {
        self.lock_holder().await
    }

    async fn record_step_progress(
        &mut self,
        table: &str,
        row: &LedgerRow,
        insert: bool,
    ) -> Result<(), DriverError> {
        let r = self
            .execute(&ledger_sql::progress_literal_pg(table, row, insert))
            .await;
        if r.is_err() {
            // The query opened a transaction: do not leave it open (and aborted).
            let _ = self.execute("ROLLBACK").await;
        }
        r
    }

    async fn session_holds_lock(&mut self) -> Result<bool, DriverError> {
        let Some((pid, mark)) = self.session.clone() else {
            return self.holds_lock().await;
        };
        let row = sqlx::Executor::fetch_one(
            &mut self.conn,
            format!(
                "SELECT pg_backend_pid(), coalesce(current_setting('{SESSION_MARK}', true), ''), {}",
                holds_lock_expr()
            )
            .as_str(),
        )
        .await
        .map_err(DriverError::from_sqlx)?;
        let now: i32 = row.try_get(0).map_err(DriverError::from_sqlx)?;
        let seen: String = row.try_get(1).map_err(DriverError::from_sqlx)?;
        if now != pid || seen != mark {
            return Err(DriverError::PooledSession);
        }
        row.try_get::<bool, _>(2).map_err(DriverError::from_sqlx)
    }

    async fn holds_lock(&mut self) -> Result<bool, DriverError> {
        let row = sqlx::Executor::fetch_one(
            &mut self.conn,
            format!("SELECT {}", holds_lock_expr()).as_str(),
        )
        .await
        .map_err(DriverError::from_sqlx)?;
        row.try_get::<bool, _>(0).map_err(DriverError::from_sqlx)
    }

    async fn use_schema(&mut self, name: &str, create: bool) -> Result<(), DriverError> {
        let quoted = ledger_sql::quote(Dialect::Postgres, name);
        if create {
            self.execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))
                .await?;
        }
        self.execute(&format!("SET search_path TO {quoted}"))
            .await?;
        self.schema = Some(name.to_string());
        Ok(())
    }

    async fn current_schema(&mut self) -> Result<Option<String>, DriverError> {
        sqlx::query_scalar("SELECT current_schema()::text")
            .fetch_one(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)
    }

    async fn restore_search_path(&mut self) -> Result<(), DriverError> {
        match self.schema.clone() {
            Some(s) => {
                let quoted = ledger_sql::quote(Dialect::Postgres, &s);
                self.execute(&format!("SET search_path TO {quoted}")).await
            }
            None => self.execute("RESET search_path").await,
        }
    }

    async fn read_ledger(&mut self, table: &str) -> Result<Vec<LedgerRow>, DriverError> {
        // `'infinity'` in a timestamp would make the decoder fail deep inside sqlx: read only
        // finite values, and say which row holds another (K1010).
        let finite = |c: &str| format!("CASE WHEN isfinite({c}) THEN {c} END AS {c}");
        let sql = format!(
            "SELECT id, checksum, {}, migration_name, logs, {}, {}, applied_steps_count, \
             (coalesce(isfinite(finished_at), true) AND coalesce(isfinite(rolled_back_at), true) \
              AND coalesce(isfinite(started_at), true)) AS keel_finite \
             FROM {} ORDER BY 7, migration_name",
            finite("finished_at"),
            finite("rolled_back_at"),
            finite("started_at"),
            ledger_sql::quote(Dialect::Postgres, table)
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
                let steps: i32 = r.try_get("applied_steps_count").map_err(bad)?;
                if !r.try_get::<bool, _>("keel_finite").map_err(bad)? {
                    let name: String = r.try_get("migration_name").map_err(bad)?;
                    return Err(DriverError::BadLedger {
                        table: table.to_string(),
                        message: format!(
                            "the row of `{name}` holds a timestamp that is not a point in time ('infinity' or '-infinity'); set it to a real time or NULL"
                        ),
                    });
                }
                Ok(LedgerRow {
                    id: r.try_get("id").map_err(bad)?,
                    // A NULL checksum (a ledger altered by hand) reads as none: the
                    // migration then reads as modified, on every database alike.
                    checksum: r
                        .try_get::<Option<String>, _>("checksum")
                        .map_err(bad)?
                        .unwrap_or_default(),
                    finished_at: r
                        .try_get::<Option<DateTime<Utc>>, _>("finished_at")
                        .map_err(bad)?,
                    migration_name: r.try_get("migration_name").map_err(bad)?,
                    logs: r.try_get("logs").map_err(bad)?,
                    rolled_back_at: r.try_get("rolled_back_at").map_err(bad)?,
                    started_at: r.try_get("started_at").map_err(bad)?,
                    applied_steps_count: u32::try_from(steps).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn insert_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ledger_sql::quote(Dialect::Postgres, table)
        );
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.checksum)
            .bind(row.finished_at)
            .bind(&row.migration_name)
            .bind(&row.logs)
            .bind(row.rolled_back_at)
            .bind(row.started_at)
            .bind(i32::try_from(row.applied_steps_count).unwrap_or(i32::MAX))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn update_row(&mut self, table: &str, row: &LedgerRow) -> Result<(), DriverError> {
        let sql = format!(
            "UPDATE {} SET checksum = $2, finished_at = $3, logs = $4, rolled_back_at = $5, applied_steps_count = $6 WHERE id = $1",
            ledger_sql::quote(Dialect::Postgres, table)
        );
        sqlx::query(&sql)
            .bind(&row.id)
            .bind(&row.checksum)
            .bind(row.finished_at)
            .bind(&row.logs)
            .bind(row.rolled_back_at)
            .bind(i32::try_from(row.applied_steps_count).unwrap_or(i32::MAX))
            .execute(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(())
    }

    async fn create_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.execute(&format!(
            "CREATE DATABASE {}",
            ledger_sql::quote(Dialect::Postgres, name)
        ))
        .await
    }

    async fn drop_database(&mut self, name: &str) -> Result<(), DriverError> {
        self.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            ledger_sql::quote(Dialect::Postgres, name)
        ))
        .await
    }

    async fn reset(&mut self) -> Result<(), DriverError> {
        if let Some(schema) = self.schema.clone() {
            let quoted = ledger_sql::quote(Dialect::Postgres, &schema);
            self.execute(&format!("DROP SCHEMA IF EXISTS {quoted} CASCADE"))
                .await?;
            return self.use_schema(&schema, true).await;
        }
        let schemas: Vec<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
             AND nspname NOT LIKE 'pg\\_%' ESCAPE '\\'",
        )
        .fetch_all(&mut self.conn)
        .await
        .map_err(DriverError::from_sqlx)?;
        for s in schemas {
            self.execute(&format!(
                "DROP SCHEMA {} CASCADE",
                ledger_sql::quote(Dialect::Postgres, &s)
            ))
            .await?;
        }
        self.execute("CREATE SCHEMA public").await
    }

    async fn introspect(&mut self) -> Result<keel_core::schema::Schema, DriverError> {
        // With `?schema=` the schema may not exist yet (deploy creates it): nothing is current
        // then, and that is right. Without it, the role's search_path must name one.
        introspect::introspect(&mut self.conn, self.schema.is_none()).await
    }

    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DriverError> {
        let rows = sqlx::query(sql)
            .fetch_all(&mut self.conn)
            .await
            .map_err(DriverError::from_sqlx)?;
        Ok(rows.iter().map(crate::rows::row_text).collect())
    }

    async fn verify_session(&mut self) -> Result<(), DriverError> {
        let Some((pid, _)) = self.session.clone() else {
            return Ok(());
        };
        if self.same_session(pid).await? {
            Ok(())
        } else {
            Err(DriverError::PooledSession)
        }
    }

    async fn set_timeouts(
        &mut self,
        lock: Duration,
        statement: Option<Duration>,
    ) -> Result<(), DriverError> {
        let statement = match statement {
            Some(d) => format!("'{}ms'", d.as_millis().max(1)),
            None => "DEFAULT".into(),
        };
        self.execute(&format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = {statement}",
            lock.as_millis().max(1)
        ))
        .await
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
