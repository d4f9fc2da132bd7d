//! Data probes: why a step failed, measured on the target (read-only, bounded queries). Used by
//! the diagnosis of a failed migration: NULLs under a new NOT NULL, duplicate groups under a
//! new unique index, orphan rows under a new foreign key, values that do not cast, and who
//! holds a lock.

use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::{IndexPart, Schema, TableId};
use keel_core::Dialect;
use keel_driver::{quote_ident, Driver};

/// How many sample keys or values a probe shows.
const SAMPLES: usize = 5;

/// What the failed step's changes (`change`: state before the step → after it, from the
/// shadow) meet in the live data; with `lock_timeout`, who holds locks on the tables it touches. One sentence per finding; probes that fail are skipped.
pub(crate) async fn probe(
    driver: &mut dyn Driver,
    live: &Schema,
    change: &Plan,
    lock_timeout: bool,
) -> Vec<String> {
    let dialect = driver.dialect();
    let after = &change.to;
    let mut out = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    for c in &change.changes {
        match c {
            Change::AlterColumn { to, changes, from } => {
                let col = after.column(*to);
                let Some(t) = live_table(dialect, live, after, col.table) else {
                    continue;
                };
                tables.push(t.clone());
                if changes.nullable && !col.nullable {
                    out.extend(nulls(driver, live, &t, &col.name).await);
                }
                if changes.data_type {
                    let old = change.from.column(*from);
                    out.extend(casts(driver, &t, &col.name, &old.data_type, &col.data_type).await);
                }
            }
            Change::AddColumn { column } => {
                let col = after.column(*column);
                let Some(t) = live_table(dialect, live, after, col.table) else {
                    continue;
                };
                tables.push(t.clone());
                if !col.nullable
                    && col.default.is_none()
                    && col.generated.is_none()
                    && col.auto_increment.is_none()
                {
                    if let Some(n) = count(driver, &format!("SELECT COUNT(*) FROM {t}")).await {
                        if n > 0 {
                            out.push(format!(
                                "table {t} has {} row{}, and the new column {} is NOT NULL without a default: give it a default, or add it nullable, fill it, then set NOT NULL",
                                fmt_count(n),
                                plural(n),
                                quote_ident(dialect, &col.name)
                            ));
                        }
                    }
                }
            }
            Change::CreateIndex { to } => {
                let ix = &after.indexes[*to];
                let Some(t) = live_table(dialect, live, after, ix.table) else {
                    continue;
                };
                tables.push(t.clone());
                if ix.unique {
                    let cols: Option<Vec<String>> = ix
                        .columns
                        .iter()
                        .map(|c| match &c.part {
                            IndexPart::Column(id) => Some(after.column(*id).name.clone()),
                            IndexPart::Expression(_) => None,
                        })
                        .collect();
                    if let Some(cols) = cols {
                        out.extend(duplicates(driver, &t, &cols, &ix.name).await);
                    }
                }
            }
            Change::AddPrimaryKey { table } => {
                let Some(t) = live_table(dialect, live, after, *table) else {
                    continue;
                };
                tables.push(t.clone());
                if let Some(pk) = &after.table(*table).primary_key {
                    let cols: Vec<String> = pk
                        .columns
                        .iter()
                        .map(|c| after.column(*c).name.clone())
                        .collect();
                    out.extend(duplicates(driver, &t, &cols, "the primary key").await);
                }
            }
            Change::AddForeignKey { to } => {
                let fk = &after.foreign_keys[*to];
                out.extend(orphans(driver, live, after, fk).await);
                if let Some(t) = live_table(dialect, live, after, fk.table) {
                    tables.push(t);
                }
            }
            Change::RedefineTable { to, .. } => {
                // SQLite: the copy into the new table fails on NULLs under NOT NULL columns and
                // (checked at COMMIT) rows that break its foreign keys.
                let Some(t) = live_table(dialect, live, after, *to) else {
                    continue;
                };
                tables.push(t.clone());
                for (_, col) in after.table_columns(*to) {
                    if !col.nullable && live_has_column(live, after, *to, &col.name) {
                        out.extend(nulls(driver, live, &t, &col.name).await);
                    }
                }
                for fk in after.foreign_keys.iter().filter(|f| f.table == *to) {
                    out.extend(orphans(driver, live, after, fk).await);
                }
            }
            _ => {}
        }
    }
    if lock_timeout {
        out.extend(lock_holders(driver, &tables).await);
    }
    out
}

/// The table's quoted name on the target, when it exists there.
fn live_table(d: Dialect, live: &Schema, after: &Schema, id: TableId) -> Option<String> {
    let t = after.table(id);
    live.table_id(t.namespace.as_deref(), &t.name)?;
    Some(qualified_with(d, t.namespace.as_deref(), &t.name))
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

/// The value of a `SELECT COUNT(*) …`, or `None` when the query fails.
pub(crate) async fn count(driver: &mut dyn Driver, sql: &str) -> Option<i64> {
    let rows = driver.query_text(sql).await.ok()?;
    rows.first()?.first()?.as_ref()?.parse().ok()
}

/// `CAST(x AS TEXT)` / `CAST(x AS CHAR)`.
fn as_text(d: Dialect, expr: &str) -> String {
    match d {
        Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        _ => format!("CAST({expr} AS TEXT)"),
    }
}

async fn samples(driver: &mut dyn Driver, sql: &str) -> Vec<String> {
    driver
        .query_text(sql)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let vals: Vec<String> = r
                .into_iter()
                .map(|v| v.map_or("NULL".to_string(), |v| format!("'{v}'")))
                .collect();
            if vals.len() == 1 {
                vals[0].clone()
            } else {
                format!("({})", vals.join(", "))
            }
        })
        .collect()
}

/// NULLs in `t.column` that a new NOT NULL rejects, with sample primary keys.
async fn nulls(driver: &mut dyn Driver, live: &Schema, t: &str, column: &str) -> Vec<String> {
    let d = driver.dialect();
    let c = quote_ident(d, column);
    let Some(n) = count(
        driver,
        &format!("SELECT COUNT(*) FROM {t} WHERE {c} IS NULL"),
    )
    .await
    else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let key = key_columns(live, t, d);
    let sample = match &key {
        Some(cols) => {
            let list: Vec<String> = cols
                .iter()
                .map(|k| as_text(d, &quote_ident(d, k)))
                .collect();
            let keys = samples(
                driver,
                &format!(
                    "SELECT {} FROM {t} WHERE {c} IS NULL LIMIT {SAMPLES}",
                    list.join(", ")
                ),
            )
            .await;
            format!(
                " (rows with {} {}{})",
                cols.join(", "),
                keys.join(", "),
                if n as usize > keys.len() { ", …" } else { "" }
            )
        }
        None => String::new(),
    };
    vec![format!(
        "{t}.{c} holds {} NULL value{}{sample}, which NOT NULL rejects: fill them (`UPDATE {t} SET {c} = … WHERE {c} IS NULL`) or give the column a default",
        fmt_count(n),
        plural(n)
    )]
}

/// Primary-key column names of the live table quoted as `t`.
fn key_columns(live: &Schema, quoted: &str, d: Dialect) -> Option<Vec<String>> {
    let id = (0..live.tables.len())
        .map(|i| TableId(i as u32))
        .find(|id| {
            let tb = live.table(*id);
            qualified_with(d, tb.namespace.as_deref(), &tb.name) == quoted
        })?;
    let pk = live.table(id).primary_key.as_ref()?;
    Some(
        pk.columns
            .iter()
            .map(|c| live.column(*c).name.clone())
            .collect(),
    )
}

fn qualified_with(d: Dialect, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{}.{}", quote_ident(d, ns), quote_ident(d, name)),
        None => quote_ident(d, name),
    }
}

/// Groups of rows with equal non-NULL values in `columns`, which a unique index rejects.
async fn duplicates(
    driver: &mut dyn Driver,
    t: &str,
    columns: &[String],
    what: &str,
) -> Vec<String> {
    let d = driver.dialect();
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(d, c)).collect();
    let list = cols.join(", ");
    let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let groups = duplicate_groups_sql(d, t, columns);
    let Some(n) = count(driver, &format!("SELECT COUNT(*) FROM ({groups}) keel_d")).await else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let texts: Vec<String> = cols.iter().map(|c| as_text(d, c)).collect();
    let rows = driver
        .query_text(&format!(
            "SELECT {}, COUNT(*) FROM {t} WHERE {} GROUP BY {list} HAVING COUNT(*) > 1 LIMIT {SAMPLES}",
            texts.join(", "),
            not_null.join(" AND ")
        ))
        .await
        .unwrap_or_default();
    let sample: Vec<String> = rows
        .into_iter()
        .filter_map(|mut r| {
            let times = r.pop()??;
            let vals: Vec<String> = r
                .into_iter()
                .map(|v| v.map_or("NULL".to_string(), |v| format!("'{v}'")))
                .collect();
            let key = if vals.len() == 1 {
                vals[0].clone()
            } else {
                format!("({})", vals.join(", "))
            };
            Some(format!("{key} ×{times}"))
        })
        .collect();
    vec![format!(
        "{t} has {} group{} of rows with the same ({list}), which {} rejects: {}{}; remove or merge the duplicates first",
        fmt_count(n),
        plural(n),
        if what == "the primary key" { what.to_string() } else { format!("unique index {}", quote_ident(d, what)) },
        sample.join(", "),
        if n as usize > sample.len() { ", …" } else { "" }
    )]
}

/// `SELECT cols FROM t WHERE cols IS NOT NULL GROUP BY cols HAVING COUNT(*) > 1`: groups of
/// rows a unique index over `columns` rejects (NULLs never collide). `t` is quoted.
pub(crate) fn duplicate_groups_sql(d: Dialect, t: &str, columns: &[String]) -> String {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(d, c)).collect();
    let list = cols.join(", ");
    let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    format!(
        "SELECT {list} FROM {t} WHERE {} GROUP BY {list} HAVING COUNT(*) > 1",
        not_null.join(" AND ")
    )
}

/// `FROM child keel_c WHERE … AND NOT EXISTS (parent row)`: rows whose foreign-key values
/// (`cols`, unquoted) match no `refs` row of `parent`. Tables are quoted.
pub(crate) fn orphans_filter(
    d: Dialect,
    child: &str,
    parent: &str,
    cols: &[String],
    refs: &[String],
) -> String {
    let q = |v: &[String]| v.iter().map(|c| quote_ident(d, c)).collect::<Vec<_>>();
    orphans_filter_quoted(child, parent, &q(cols), &q(refs))
}

fn orphans_filter_quoted(child: &str, parent: &str, cols: &[String], refs: &[String]) -> String {
    let not_null: Vec<String> = cols
        .iter()
        .map(|c| format!("keel_c.{c} IS NOT NULL"))
        .collect();
    let join: Vec<String> = cols
        .iter()
        .zip(refs)
        .map(|(c, r)| format!("keel_p.{r} = keel_c.{c}"))
        .collect();
    format!(
        "FROM {child} keel_c WHERE {} AND NOT EXISTS (SELECT 1 FROM {parent} keel_p WHERE {})",
        not_null.join(" AND "),
        join.join(" AND ")
    )
}

/// Rows whose foreign-key values match no row of the referenced table.
async fn orphans(
    driver: &mut dyn Driver,
    live: &Schema,
    after: &Schema,
    fk: &keel_core::schema::ForeignKey,
) -> Vec<String> {
    let d = driver.dialect();
    let (Some(child), Some(parent)) = (
        live_table(d, live, after, fk.table),
        live_table(d, live, after, fk.referenced_table),
    ) else {
        return Vec::new();
    };
    let cols: Vec<String> = fk
        .columns
        .iter()
        .map(|c| quote_ident(d, &after.column(*c).name))
        .collect();
    let refs: Vec<String> = fk
        .referenced_columns
        .iter()
        .map(|c| quote_ident(d, &after.column(*c).name))
        .collect();
    if cols.len() != refs.len() {
        return Vec::new();
    }
    let filter = orphans_filter_quoted(&child, &parent, &cols, &refs);
    let Some(n) = count(driver, &format!("SELECT COUNT(*) {filter}")).await else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let texts: Vec<String> = cols
        .iter()
        .map(|c| as_text(d, &format!("keel_c.{c}")))
        .collect();
    let sample = samples(
        driver,
        &format!(
            "SELECT DISTINCT {} {filter} LIMIT {SAMPLES}",
            texts.join(", ")
        ),
    )
    .await;
    vec![format!(
        "{child} has {} row{} whose ({}) match no row of {parent} (values: {}{}), which the new foreign key rejects: delete them, point them at existing rows, or set them NULL",
        fmt_count(n),
        plural(n),
        cols.join(", "),
        sample.join(", "),
        if n as usize > sample.len() { ", …" } else { "" }
    )]
}

/// Values of `t.column` that the new type may not accept.
async fn casts(
    driver: &mut dyn Driver,
    t: &str,
    column: &str,
    old: &str,
    new: &str,
) -> Vec<String> {
    let d = driver.dialect();
    let c = quote_ident(d, column);
    let lower = new.to_ascii_lowercase();
    let integer = ["int", "serial"].iter().any(|k| lower.contains(k));
    let numeric = integer
        || ["numeric", "decimal", "real", "double", "float"]
            .iter()
            .any(|k| lower.contains(k));
    let pattern = if integer {
        "^[[:space:]]*[-+]?[0-9]+[[:space:]]*$"
    } else {
        "^[[:space:]]*[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?[[:space:]]*$"
    };
    let bad = match (numeric, d) {
        (true, Dialect::Postgres) => {
            format!("{c} IS NOT NULL AND NOT ({} ~ '{pattern}')", as_text(d, &c))
        }
        (true, Dialect::Mysql) => format!(
            "{c} IS NOT NULL AND NOT ({} REGEXP '{pattern}')",
            as_text(d, &c)
        ),
        _ => format!("{c} IS NOT NULL"),
    };
    let sample = samples(
        driver,
        &format!(
            "SELECT DISTINCT {} FROM {t} WHERE {bad} LIMIT {SAMPLES}",
            as_text(d, &c)
        ),
    )
    .await;
    if sample.is_empty() {
        return Vec::new();
    }
    if numeric {
        let n = count(driver, &format!("SELECT COUNT(*) FROM {t} WHERE {bad}"))
            .await
            .unwrap_or(0);
        vec![format!(
            "{t}.{c} changes type from {old} to {new}, and {} value{} are not numbers (e.g. {}): clean them up or convert with an explicit USING expression",
            fmt_count(n),
            plural(n),
            sample.join(", ")
        )]
    } else {
        vec![format!(
            "{t}.{c} changes type from {old} to {new}; sample values: {}",
            sample.join(", ")
        )]
    }
}

/// Sessions that hold locks on `tables` now (PostgreSQL), or open transactions (MySQL).
pub(crate) async fn lock_holders(driver: &mut dyn Driver, tables: &[String]) -> Vec<String> {
    let d = driver.dialect();
    let sql = match d {
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
    let rows = driver.query_text(&sql).await.unwrap_or_default();
    let on = if tables.is_empty() {
        String::new()
    } else {
        format!(" on {}", tables.join(", "))
    };
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
