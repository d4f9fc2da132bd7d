//! Data probes: why a step failed, measured on the target (read-only, bounded queries). Used by
//! the diagnosis of a failed migration: NULLs under a new NOT NULL, duplicate groups under a
//! new unique index, orphan rows under a new foreign key, values that do not cast, and who
//! holds a lock. The counts and samples come from `measure.rs`; this module words them.

use crate::measure::{self, Count, Facts, Needs, Sample, TableRef, SAMPLES};
use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::{Schema, TableId};
use keel_core::Dialect;
use keel_driver::{quote_ident, Driver};

/// One thing to say about the data, once it is measured.
enum Probe {
    /// NULLs under a new NOT NULL.
    Nulls {
        table: TableRef,
        column: String,
        key: Option<Vec<String>>,
    },
    /// Rows of a table meeting a new NOT NULL column without a default.
    RowsForNotNull { table: TableRef, column: String },
    /// Duplicate groups ([`Count::Duplicates`]) under a new unique index (`index`) or the
    /// primary key (`None`).
    Duplicates { count: Count, index: Option<String> },
    /// Orphans under a new foreign key ([`Count::Orphans`]).
    Orphans(Count),
    /// A type change: sample values, and (to a number) the values that are not numbers.
    Cast {
        table: TableRef,
        column: String,
        old: String,
        new: String,
        numeric: Option<bool>,
    },
}

/// What the failed step's changes (`change`: state before the step → after it, from the
/// shadow) meet in the live data, measured under one statement timeout; with `lock_timeout`,
/// who holds locks on the tables it touches (or, for a `CREATE INDEX CONCURRENTLY` step
/// `step_sql`, the old snapshots it waits for). One sentence per finding; probes that fail are
/// skipped, and a probe that passed the timeout is said to have.
pub(crate) async fn probe(
    driver: &mut dyn Driver,
    live: &Schema,
    change: &Plan,
    lock_timeout: bool,
    step_sql: &str,
) -> Vec<String> {
    let d = driver.dialect();
    let (probes, tables) = plan_probes(d, live, change);
    let mut needs = Needs::default();
    for p in &probes {
        needs_of(p, &mut needs);
    }
    let facts = measure::measure(driver, &needs, Some(live), measure::TIMEOUT).await;
    let mut out: Vec<String> = probes.iter().filter_map(|p| say(d, p, &facts)).collect();
    if facts.timed_out {
        out.push(format!(
            "some data probes were stopped at the {} s statement timeout (a lock they waited for, or a large table): their counts are not shown",
            measure::TIMEOUT.as_secs()
        ));
    }
    if lock_timeout {
        out.extend(lock_holders(driver, step_sql, &tables).await);
    }
    out
}

/// The probes for `change`, and the tables it touches (quoted), for the lock holders.
fn plan_probes(d: Dialect, live: &Schema, change: &Plan) -> (Vec<Probe>, Vec<String>) {
    let after = &change.to;
    let mut out = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    let live_table = |id: TableId| {
        let t = after.table(id);
        live.table_id(t.namespace.as_deref(), &t.name)?;
        Some(TableRef::of(d, after, id))
    };
    let nulls = |table: &TableRef, column: &str| Probe::Nulls {
        table: table.clone(),
        column: column.to_string(),
        key: key_columns(live, table),
    };
    for c in &change.changes {
        match c {
            Change::AlterColumn { to, changes, from } => {
                let col = after.column(*to);
                let Some(t) = live_table(col.table) else {
                    continue;
                };
                tables.push(t.quoted.clone());
                if changes.nullable && !col.nullable {
                    out.push(nulls(&t, &col.name));
                }
                if changes.data_type {
                    let old = change.from.column(*from);
                    let lower = col.data_type.to_ascii_lowercase();
                    let integer = ["int", "serial"].iter().any(|k| lower.contains(k));
                    let numeric = integer
                        || ["numeric", "decimal", "real", "double", "float"]
                            .iter()
                            .any(|k| lower.contains(k));
                    out.push(Probe::Cast {
                        table: t,
                        column: col.name.clone(),
                        old: old.data_type.clone(),
                        new: col.data_type.clone(),
                        numeric: numeric.then_some(integer),
                    });
                }
            }
            Change::AddColumn { column } => {
                let col = after.column(*column);
                let Some(t) = live_table(col.table) else {
                    continue;
                };
                tables.push(t.quoted.clone());
                if !col.nullable
                    && col.default.is_none()
                    && col.generated.is_none()
                    && col.auto_increment.is_none()
                {
                    out.push(Probe::RowsForNotNull {
                        table: t,
                        column: col.name.clone(),
                    });
                }
            }
            Change::CreateIndex { to } => {
                let ix = &after.indexes[*to];
                let Some(t) = live_table(ix.table) else {
                    continue;
                };
                tables.push(t.quoted.clone());
                if let (true, Some(columns)) = (ix.unique, measure::index_columns(after, ix)) {
                    out.push(Probe::Duplicates {
                        count: Count::Duplicates(t, columns),
                        index: Some(ix.name.clone()),
                    });
                }
            }
            Change::AddPrimaryKey { table } => {
                let Some(t) = live_table(*table) else {
                    continue;
                };
                tables.push(t.quoted.clone());
                if let Some(pk) = &after.table(*table).primary_key {
                    out.push(Probe::Duplicates {
                        count: Count::Duplicates(
                            t,
                            pk.columns
                                .iter()
                                .map(|c| after.column(*c).name.clone())
                                .collect(),
                        ),
                        index: None,
                    });
                }
            }
            Change::AddForeignKey { to } => {
                let fk = &after.foreign_keys[*to];
                if let Some(p) = orphans(
                    live_table(fk.table),
                    live_table(fk.referenced_table),
                    after,
                    fk,
                ) {
                    out.push(p);
                }
                if let Some(t) = live_table(fk.table) {
                    tables.push(t.quoted);
                }
            }
            Change::RedefineTable { to, .. } => {
                // SQLite: the copy into the new table fails on NULLs under NOT NULL columns and
                // (checked at COMMIT) rows that break its foreign keys.
                let Some(t) = live_table(*to) else { continue };
                tables.push(t.quoted.clone());
                for (_, col) in after.table_columns(*to) {
                    if !col.nullable && live_has_column(live, after, *to, &col.name) {
                        out.push(nulls(&t, &col.name));
                    }
                }
                for fk in after.foreign_keys.iter().filter(|f| f.table == *to) {
                    if let Some(p) = orphans(
                        live_table(fk.table),
                        live_table(fk.referenced_table),
                        after,
                        fk,
                    ) {
                        out.push(p);
                    }
                }
            }
            _ => {}
        }
    }
    (out, tables)
}

fn orphans(
    child: Option<TableRef>,
    parent: Option<TableRef>,
    after: &Schema,
    fk: &keel_core::schema::ForeignKey,
) -> Option<Probe> {
    let names = |ids: &[keel_core::schema::ColumnId]| -> Vec<String> {
        ids.iter().map(|c| after.column(*c).name.clone()).collect()
    };
    Some(Probe::Orphans(Count::Orphans {
        child: child?,
        parent: parent?,
        columns: names(&fk.columns),
        references: names(&fk.referenced_columns),
    }))
}

/// What `p` needs measured.
fn needs_of(p: &Probe, n: &mut Needs) {
    match p {
        Probe::Nulls { table, column, key } => {
            n.count(Count::Nulls(table.clone(), column.clone()));
            if let Some(key) = key {
                n.sample(Sample::NullKeys {
                    table: table.clone(),
                    column: column.clone(),
                    key: key.clone(),
                });
            }
        }
        Probe::RowsForNotNull { table, .. } => n.count(Count::Rows(table.clone())),
        Probe::Duplicates { count, .. } | Probe::Orphans(count) => {
            n.count(count.clone());
            n.sample(Sample::Of(count.clone()));
        }
        Probe::Cast {
            table,
            column,
            numeric,
            ..
        } => {
            n.sample(Sample::Values {
                table: table.clone(),
                column: column.clone(),
                numeric: *numeric,
            });
            if let Some(integer) = numeric {
                n.count(Count::NotNumbers {
                    table: table.clone(),
                    column: column.clone(),
                    integer: *integer,
                });
            }
        }
    }
}

/// Values as shown: `'v'`, NULL, `('a', 'b')` for several.
fn shown(row: &[Option<String>]) -> String {
    let vals: Vec<String> = row
        .iter()
        .map(|v| v.as_ref().map_or("NULL".to_string(), |v| format!("'{v}'")))
        .collect();
    if vals.len() == 1 {
        vals[0].clone()
    } else {
        format!("({})", vals.join(", "))
    }
}

fn more(n: i64, shown: usize) -> &'static str {
    if usize::try_from(n).unwrap_or(usize::MAX) > shown {
        ", …"
    } else {
        ""
    }
}

/// The sentence for `p`, when the data meets it.
fn say(d: Dialect, p: &Probe, f: &Facts) -> Option<String> {
    match p {
        Probe::Nulls { table, column, key } => {
            let n = f
                .get(&Count::Nulls(table.clone(), column.clone()))
                .filter(|n| *n > 0)?;
            let t = &table.quoted;
            let c = quote_ident(d, column);
            let sample = match key {
                Some(cols) => {
                    let keys: Vec<String> = f
                        .rows(&Sample::NullKeys {
                            table: table.clone(),
                            column: column.clone(),
                            key: cols.clone(),
                        })
                        .iter()
                        .map(|r| shown(r))
                        .collect();
                    format!(
                        " (rows with {} {}{})",
                        cols.join(", "),
                        keys.join(", "),
                        more(n, keys.len())
                    )
                }
                None => String::new(),
            };
            Some(format!(
                "{t}.{c} holds {} NULL value{}{sample}, which NOT NULL rejects: fill them (`UPDATE {t} SET {c} = … WHERE {c} IS NULL`) or give the column a default",
                fmt_count(n),
                plural(n)
            ))
        }
        Probe::RowsForNotNull { table, column } => {
            let n = f.get(&Count::Rows(table.clone())).filter(|n| *n > 0)?;
            Some(format!(
                "table {} has {} row{}, and the new column {} is NOT NULL without a default: give it a default, or add it nullable, fill it, then set NOT NULL",
                table.quoted,
                fmt_count(n),
                plural(n),
                quote_ident(d, column)
            ))
        }
        Probe::Duplicates { count, index } => {
            let Count::Duplicates(table, columns) = count else {
                return None;
            };
            let n = f.get(count).filter(|n| *n > 0)?;
            let sample: Vec<String> = f
                .rows(&Sample::Of(count.clone()))
                .iter()
                .filter_map(|r| {
                    let (times, vals) = r.split_last()?;
                    Some(format!("{} ×{}", shown(vals), times.as_deref()?))
                })
                .collect();
            let list: Vec<String> = columns.iter().map(|c| quote_ident(d, c)).collect();
            Some(format!(
                "{} has {} group{} of rows with the same ({}), which {} rejects: {}{}; remove or merge the duplicates first",
                table.quoted,
                fmt_count(n),
                plural(n),
                list.join(", "),
                match index {
                    Some(i) => format!("unique index {}", quote_ident(d, i)),
                    None => "the primary key".to_string(),
                },
                sample.join(", "),
                more(n, sample.len())
            ))
        }
        Probe::Orphans(count) => {
            let Count::Orphans {
                child,
                parent,
                columns,
                ..
            } = count
            else {
                return None;
            };
            let n = f.get(count).filter(|n| *n > 0)?;
            let sample: Vec<String> = f
                .rows(&Sample::Of(count.clone()))
                .iter()
                .map(|r| shown(r))
                .collect();
            let cols: Vec<String> = columns.iter().map(|c| quote_ident(d, c)).collect();
            Some(format!(
                "{} has {} row{} whose ({}) match no row of {} (values: {}{}), which the new foreign key rejects: delete them, point them at existing rows, or set them NULL",
                child.quoted,
                fmt_count(n),
                plural(n),
                cols.join(", "),
                parent.quoted,
                sample.join(", "),
                more(n, sample.len())
            ))
        }
        Probe::Cast {
            table,
            column,
            old,
            new,
            numeric,
        } => {
            let sample: Vec<String> = f
                .rows(&Sample::Values {
                    table: table.clone(),
                    column: column.clone(),
                    numeric: *numeric,
                })
                .iter()
                .map(|r| shown(r))
                .collect();
            if sample.is_empty() {
                return None;
            }
            let (t, c) = (&table.quoted, quote_ident(d, column));
            Some(match numeric {
                Some(integer) => {
                    let n = f
                        .get(&Count::NotNumbers {
                            table: table.clone(),
                            column: column.clone(),
                            integer: *integer,
                        })
                        .unwrap_or(0);
                    format!(
                        "{t}.{c} changes type from {old} to {new}, and {} value{} are not numbers (e.g. {}): clean them up or convert with an explicit USING expression",
                        fmt_count(n),
                        plural(n),
                        sample.join(", ")
                    )
                }
                None => format!(
                    "{t}.{c} changes type from {old} to {new}; sample values: {}",
                    sample.join(", ")
                ),
            })
        }
    }
}

fn live_has_column(live: &Schema, after: &Schema, id: TableId, column: &str) -> bool {
    let t = after.table(id);
    live.table_id(t.namespace.as_deref(), &t.name)
        .and_then(|lt| live.column_id(lt, column))
        .is_some()
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub(crate) use keel_lint::fmt_count;

/// Primary-key column names of the live table `t`.
fn key_columns(live: &Schema, t: &TableRef) -> Option<Vec<String>> {
    let id = t.id_in(live)?;
    let pk = live.table(id).primary_key.as_ref()?;
    Some(
        pk.columns
            .iter()
            .map(|c| live.column(*c).name.clone())
            .collect(),
    )
}

/// Sessions that hold locks on `tables` now (PostgreSQL), or open transactions (MySQL).
///
/// For a PostgreSQL `CREATE INDEX CONCURRENTLY` step (`sql`), which waits not for locks but for
/// every transaction whose snapshot is older than its own (a `pg_dump`, a long REPEATABLE READ
/// report), the sessions holding such a snapshot (`backend_xmin`), oldest first.
pub(crate) async fn lock_holders(
    driver: &mut dyn Driver,
    sql: &str,
    tables: &[String],
) -> Vec<String> {
    let d = driver.dialect();
    let concurrently = keel_core::splitter::concurrent_index(sql, d).is_some();
    let query = match d {
        Dialect::Postgres if concurrently => format!(
            "SELECT a.pid::text, coalesce(a.application_name, ''), coalesce(a.state, ''), \
             coalesce(extract(epoch FROM now() - a.xact_start)::int::text, '?'), coalesce(left(a.query, 120), '') \
             FROM pg_stat_activity a WHERE a.backend_xmin IS NOT NULL AND a.pid <> pg_backend_pid() \
             AND a.datname = current_database() AND a.xact_start IS NOT NULL \
             ORDER BY a.xact_start LIMIT {SAMPLES}"
        ),
        Dialect::Postgres => {
            let rels: Vec<String> = tables
                .iter()
                .map(|t| format!("to_regclass('{}')", t.replace('\'', "''")))
                .collect();
            let filter = if rels.is_empty() {
                "l.relation IS NOT NULL".to_string()
            } else {
                format!("l.relation IN ({})", rels.join(", "))
            };
            format!(
                "SELECT DISTINCT a.pid::text, coalesce(a.application_name, ''), coalesce(a.state, ''), \
                 coalesce(extract(epoch FROM now() - a.xact_start)::int::text, '?'), coalesce(left(a.query, 120), '') \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.granted AND {filter} AND a.pid <> pg_backend_pid() \
                 AND a.datname = current_database() AND a.xact_start IS NOT NULL LIMIT {SAMPLES}"
            )
        }
        Dialect::Mysql => format!(
            "SELECT CAST(trx_mysql_thread_id AS CHAR), '', trx_state, \
             CAST(TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS CHAR), coalesce(left(trx_query, 120), '') \
             FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID() LIMIT {SAMPLES}"
        ),
        Dialect::Sqlite => return vec!["the database file was locked by another connection (SQLITE_BUSY)".into()],
    };
    let rows = driver.query_text(&query).await.unwrap_or_default();
    let on = if tables.is_empty() {
        String::new()
    } else {
        format!(" on {}", tables.join(", "))
    };
    if concurrently && rows.is_empty() {
        return vec![
            "CREATE INDEX CONCURRENTLY waited too long for older transactions to end; none is open now, so a retry is likely to succeed".into(),
        ];
    }
    if rows.is_empty() {
        return vec![format!(
            "the step waited too long for a lock{on}; no other session holds one now, so a retry is likely to succeed"
        )];
    }
    let holders: Vec<String> = rows
        .into_iter()
        .map(|r| {
            let v: Vec<String> = r.into_iter().map(Option::unwrap_or_default).collect();
            let label = if d == Dialect::Postgres {
                "pid"
            } else {
                "connection"
            };
            format!(
                "{label} {} (application '{}', {}, transaction open for {} s, query: {})",
                v[0],
                v[1],
                v[2],
                v[3],
                v[4].split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    let end = if d == Dialect::Postgres {
        "`SELECT pg_terminate_backend(pid)`"
    } else {
        "`KILL id`"
    };
    if concurrently {
        return vec![format!(
            "CREATE INDEX CONCURRENTLY waits for every transaction whose snapshot is older than its own (a pg_dump, a long REPEATABLE READ report), open now: {}. Wait for them or end them ({end}), then retry",
            holders.join("; ")
        )];
    }
    vec![format!(
        "the step waited too long for a lock{on}, held now by: {}. Wait for it or end it ({end}), then retry",
        holders.join("; ")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_thousands_separators() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(12345), "12,345");
    }
}
