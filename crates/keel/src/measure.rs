//! Measuring the data a plan meets on the target (issue #12, item 2), on the shape of Prisma's
//! destructive-change checker: a plan says what it needs counted ([`Needs`]); [`measure`] runs
//! those counts and samples once, read-only, under one statement timeout; the callers read
//! their views from the [`Facts`]: lint's facts ([`Facts::lint_facts`]), the data at stake
//! before repair, rollback and plan drop something ([`Facts::losses`]), and the diagnosis's
//! sentences about why a step failed (`probe.rs`).

use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::{IndexPart, Schema, TableId};
use keel_core::Dialect;
use keel_driver::{quote_ident, Driver, DriverError};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// How long each count or sample may run (a lock it waits for counts too); past it the
/// count is left out and [`Facts::timed_out`] says so.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// How many sample keys or values a sample returns.
pub(crate) const SAMPLES: usize = 5;

/// A table as the facts name it (`name` or `schema.name`, as [`Schema::table_name`]) and as
/// SQL quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TableRef {
    pub name: String,
    pub quoted: String,
}

impl TableRef {
    /// The id of the table of this name in `schema` (another schema than the one it was
    /// read from, e.g. the live one).
    pub fn id_in(&self, schema: &Schema) -> Option<TableId> {
        (0..schema.tables.len())
            .map(|i| TableId(u32::try_from(i).unwrap_or(u32::MAX)))
            .find(|id| schema.table_name(*id) == self.name)
    }

    /// Table `id` of `schema`, quoted for `d`.
    pub fn of(d: Dialect, schema: &Schema, id: TableId) -> TableRef {
        let t = schema.table(id);
        TableRef {
            name: schema.table_name(id),
            quoted: match &t.namespace {
                Some(ns) => format!("{}.{}", quote_ident(d, ns), quote_ident(d, &t.name)),
                None => quote_ident(d, &t.name),
            },
        }
    }
}

/// One count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Count {
    /// Rows of a table.
    Rows(TableRef),
    /// Non-NULL values of a column.
    NonNull(TableRef, String),
    /// NULL values of a column.
    Nulls(TableRef, String),
    /// Groups of rows with equal non-NULL values in the columns (a unique index rejects them).
    Duplicates(TableRef, Vec<String>),
    /// Rows of `child` whose `columns` match no `references` row of `parent`.
    Orphans {
        child: TableRef,
        parent: TableRef,
        columns: Vec<String>,
        references: Vec<String>,
    },
    /// Non-NULL values of a column that do not read as a number (`integer`: a whole one).
    NotNumbers {
        table: TableRef,
        column: String,
        integer: bool,
    },
}

/// One sample: up to [`SAMPLES`] rows, each value as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Sample {
    /// The `key` columns of rows where `column` is NULL.
    NullKeys {
        table: TableRef,
        column: String,
        key: Vec<String>,
    },
    /// The rows behind a count: for [`Count::Duplicates`] each group's values, then how many
    /// rows share them; for [`Count::Orphans`] the distinct orphan values. Other counts have
    /// no sample.
    Of(Count),
    /// Distinct values of a column: all non-NULL ones, or (`numeric`) those that do not read
    /// as a number.
    Values {
        table: TableRef,
        column: String,
        numeric: Option<bool>,
    },
}

/// What to measure, in order, without repeats.
#[derive(Debug, Clone, Default)]
pub(crate) struct Needs {
    counts: Vec<Count>,
    samples: Vec<Sample>,
}

impl Needs {
    /// Adds a count (once).
    pub fn count(&mut self, c: Count) {
        if !self.counts.contains(&c) {
            self.counts.push(c);
        }
    }

    /// Adds a sample (once).
    pub fn sample(&mut self, s: Sample) {
        if !self.samples.contains(&s) {
            self.samples.push(s);
        }
    }

    /// Whether nothing is needed.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.samples.is_empty()
    }

    /// The counts the data-loss and locking rules read, and the data at stake, for `plan`
    /// measured on the target (whose schema is `plan.from`): rows of the tables it drops,
    /// rewrites or locks; non-NULL values of the columns it drops or retypes; NULLs under a
    /// new NOT NULL; duplicate groups under a new unique index or primary key; orphans under a
    /// new foreign key.
    pub fn from_plan(d: Dialect, plan: &Plan) -> Needs {
        let (from, to) = (&plan.from, &plan.to);
        let mut n = Needs::default();
        let existed = |id: TableId| {
            let t = to.table(id);
            from.table_id(t.namespace.as_deref(), &t.name)
        };
        let names = |s: &Schema, ids: &[keel_core::schema::ColumnId]| -> Vec<String> {
            ids.iter().map(|c| s.column(*c).name.clone()).collect()
        };
        for c in &plan.changes {
            match c {
                Change::DropTable { table } => n.count(Count::Rows(TableRef::of(d, from, *table))),
                Change::DropColumn { column } => {
                    let col = from.column(*column);
                    n.count(Count::NonNull(
                        TableRef::of(d, from, col.table),
                        col.name.clone(),
                    ));
                }
                Change::RedefineTable { from: old, .. } => {
                    let t = TableRef::of(d, from, *old);
                    for (_, col) in from.table_columns(*old) {
                        n.count(Count::NonNull(t.clone(), col.name.clone()));
                    }
                    n.count(Count::Rows(t));
                }
                Change::AlterColumn {
                    from: a,
                    to: b,
                    changes,
                } => {
                    let col = from.column(*a);
                    let t = TableRef::of(d, from, col.table);
                    if changes.data_type {
                        n.count(Count::NonNull(t.clone(), col.name.clone()));
                    }
                    if changes.nullable && !to.column(*b).nullable {
                        n.count(Count::Nulls(t.clone(), col.name.clone()));
                    }
                    n.count(Count::Rows(t));
                }
                Change::AddColumn { column } => {
                    if let Some(old) = existed(to.column(*column).table) {
                        n.count(Count::Rows(TableRef::of(d, from, old)));
                    }
                }
                Change::CreateIndex { to: i } => {
                    let ix = &to.indexes[*i];
                    let Some(old) = existed(ix.table) else {
                        continue;
                    };
                    let t = TableRef::of(d, from, old);
                    n.count(Count::Rows(t.clone()));
                    if let (true, Some(cols)) = (ix.unique, index_columns(to, ix)) {
                        n.count(Count::Duplicates(t, cols));
                    }
                }
                Change::AddPrimaryKey { table } => {
                    let Some(old) = existed(*table) else { continue };
                    if let Some(pk) = &to.table(*table).primary_key {
                        n.count(Count::Duplicates(
                            TableRef::of(d, from, old),
                            names(to, &pk.columns),
                        ));
                    }
                }
                Change::AddForeignKey { to: i } => {
                    let fk = &to.foreign_keys[*i];
                    let (Some(child), Some(parent)) =
                        (existed(fk.table), existed(fk.referenced_table))
                    else {
                        continue;
                    };
                    n.count(Count::Orphans {
                        child: TableRef::of(d, from, child),
                        parent: TableRef::of(d, from, parent),
                        columns: names(to, &fk.columns),
                        references: names(to, &fk.referenced_columns),
                    });
                }
                _ => {}
            }
        }
        n
    }

    /// The data at stake in what `plan` drops: rows of each table, non-NULL values of each
    /// column (a redefined table's columns that disappear).
    pub fn losses_of(d: Dialect, plan: &Plan) -> Needs {
        let mut n = Needs::default();
        for (_, c) in dropped(d, plan) {
            n.count(c);
        }
        n
    }
}

/// The column names of an index, `None` when a part is an expression.
pub(crate) fn index_columns(s: &Schema, ix: &keel_core::schema::Index) -> Option<Vec<String>> {
    ix.columns
        .iter()
        .map(|c| match &c.part {
            IndexPart::Column(id) => Some(s.column(*id).name.clone()),
            IndexPart::Expression(_) => None,
        })
        .collect()
}

/// What `plan` drops, as the object named in messages (`table "t"`, `column "t"."c"`) and the
/// count that measures it.
fn dropped(d: Dialect, plan: &Plan) -> Vec<(String, Count)> {
    let from = &plan.from;
    let mut out = Vec::new();
    for c in &plan.changes {
        match c {
            Change::DropTable { table } => {
                let t = TableRef::of(d, from, *table);
                out.push((format!("table {}", t.quoted), Count::Rows(t)));
            }
            Change::DropColumn { column } => {
                let col = from.column(*column);
                let t = TableRef::of(d, from, col.table);
                out.push((
                    format!("column {}.{}", t.quoted, quote_ident(d, &col.name)),
                    Count::NonNull(t, col.name.clone()),
                ));
            }
            Change::RedefineTable { from: old, to } => {
                let t = TableRef::of(d, from, *old);
                for (_, col) in from.table_columns(*old) {
                    if plan.to.table_columns(*to).any(|(_, c)| c.name == col.name) {
                        continue;
                    }
                    out.push((
                        format!("column {}.{}", t.quoted, quote_ident(d, &col.name)),
                        Count::NonNull(t.clone(), col.name.clone()),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Data a plan would drop.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Loss {
    /// `table "users"`, `column "users"."phone"`.
    pub object: String,
    /// Rows in the table, or non-NULL values in the column; `None` when they could not be
    /// counted (the count failed or passed the statement timeout).
    pub rows: Option<i64>,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: i64| if n == 1 { "" } else { "s" };
        match self.rows {
            Some(n) if self.object.starts_with("column") => write!(
                f,
                "{} ({} non-NULL value{})",
                self.object,
                keel_lint::fmt_count(n),
                plural(n)
            ),
            Some(n) => write!(
                f,
                "{} ({} row{})",
                self.object,
                keel_lint::fmt_count(n),
                plural(n)
            ),
            None => write!(f, "{} (rows not counted)", self.object),
        }
    }
}

/// What [`measure`] found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    counts: HashMap<Count, i64>,
    samples: HashMap<Sample, Vec<Vec<Option<String>>>>,
    /// Some count or sample passed the statement timeout (a lock it waited for, or a large
    /// table) and was left out.
    pub timed_out: bool,
}

impl Facts {
    /// The count, `None` when it could not be measured.
    pub fn get(&self, c: &Count) -> Option<i64> {
        self.counts.get(c).copied()
    }

    /// The sample's rows (empty when it could not be taken).
    pub fn rows(&self, s: &Sample) -> &[Vec<Option<String>>] {
        self.samples.get(s).map_or(&[], Vec::as_slice)
    }

    /// lint's view: the counts by table and column names.
    pub fn lint_facts(&self) -> keel_lint::Facts {
        let mut f = keel_lint::Facts::default();
        for (c, n) in &self.counts {
            match c {
                Count::Rows(t) => {
                    f.rows.insert(t.name.clone(), *n);
                }
                Count::NonNull(t, col) => {
                    f.non_null.insert((t.name.clone(), col.clone()), *n);
                }
                Count::Nulls(t, col) => {
                    f.nulls.insert((t.name.clone(), col.clone()), *n);
                }
                Count::Duplicates(t, cols) => {
                    f.duplicates.insert((t.name.clone(), cols.join(",")), *n);
                }
                Count::Orphans { child, columns, .. } => {
                    f.orphans
                        .insert((child.name.clone(), columns.join(",")), *n);
                }
                Count::NotNumbers { .. } => {}
            }
        }
        f
    }

    /// repair's, rollback's and plan's view: what `plan` drops, with the data it holds.
    pub fn losses(&self, d: Dialect, plan: &Plan) -> Vec<Loss> {
        dropped(d, plan)
            .into_iter()
            .map(|(object, c)| Loss {
                object,
                rows: self.get(&c),
            })
            .collect()
    }
}

/// `CAST(x AS TEXT)` / `CAST(x AS CHAR)`.
pub(crate) fn as_text(d: Dialect, expr: &str) -> String {
    match d {
        Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        _ => format!("CAST({expr} AS TEXT)"),
    }
}

fn quoted(d: Dialect, v: &[String]) -> Vec<String> {
    v.iter().map(|c| quote_ident(d, c)).collect()
}

/// `FROM child keel_c WHERE … AND NOT EXISTS (parent row)`.
fn orphans_filter(
    d: Dialect,
    child: &TableRef,
    parent: &TableRef,
    cols: &[String],
    refs: &[String],
) -> String {
    let (cols, refs) = (quoted(d, cols), quoted(d, refs));
    let not_null: Vec<String> = cols
        .iter()
        .map(|c| format!("keel_c.{c} IS NOT NULL"))
        .collect();
    let join: Vec<String> = cols
        .iter()
        .zip(&refs)
        .map(|(c, r)| format!("keel_p.{r} = keel_c.{c}"))
        .collect();
    format!(
        "FROM {} keel_c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} keel_p WHERE {})",
        child.quoted,
        not_null.join(" AND "),
        parent.quoted,
        join.join(" AND ")
    )
}

fn duplicate_groups(d: Dialect, t: &TableRef, columns: &[String], select: &str) -> String {
    let cols = quoted(d, columns);
    let not_null: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
    let select = if select.is_empty() {
        cols.join(", ")
    } else {
        select.to_string()
    };
    format!(
        "SELECT {select} FROM {} WHERE {} GROUP BY {} HAVING COUNT(*) > 1",
        t.quoted,
        not_null.join(" AND "),
        cols.join(", ")
    )
}

/// The condition for values of `c` (quoted) that do not read as a number.
fn not_number(d: Dialect, c: &str, integer: bool) -> String {
    let pattern = if integer {
        "^[[:space:]]*[-+]?[0-9]+[[:space:]]*$"
    } else {
        "^[[:space:]]*[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?[[:space:]]*$"
    };
    match d {
        Dialect::Postgres => format!("{c} IS NOT NULL AND NOT ({} ~ '{pattern}')", as_text(d, c)),
        Dialect::Mysql => format!(
            "{c} IS NOT NULL AND NOT ({} REGEXP '{pattern}')",
            as_text(d, c)
        ),
        Dialect::Sqlite => format!("{c} IS NOT NULL"),
    }
}

impl Count {
    /// Whether the tables and columns this count reads are all in `live` (by name).
    fn exists_in(&self, live: &Schema) -> bool {
        let has = |t: &TableRef, columns: &[&String]| {
            t.id_in(live)
                .is_some_and(|id| columns.iter().all(|c| live.column_id(id, c).is_some()))
        };
        match self {
            Count::Rows(t) => has(t, &[]),
            Count::NonNull(t, c) | Count::Nulls(t, c) => has(t, &[c]),
            Count::NotNumbers { table, column, .. } => has(table, &[column]),
            Count::Duplicates(t, cols) => has(t, &cols.iter().collect::<Vec<_>>()),
            Count::Orphans {
                child,
                parent,
                columns,
                references,
            } => {
                has(child, &columns.iter().collect::<Vec<_>>())
                    && has(parent, &references.iter().collect::<Vec<_>>())
            }
        }
    }

    fn table(&self) -> &TableRef {
        match self {
            Count::Rows(t)
            | Count::NonNull(t, _)
            | Count::Nulls(t, _)
            | Count::Duplicates(t, _)
            | Count::NotNumbers { table: t, .. } => t,
            Count::Orphans { child, .. } => child,
        }
    }

    fn sql(&self, d: Dialect) -> Option<String> {
        let q = |c: &str| quote_ident(d, c);
        Some(match self {
            Count::Rows(t) => format!("SELECT COUNT(*) FROM {}", t.quoted),
            Count::NonNull(t, c) => {
                format!(
                    "SELECT COUNT(*) FROM {} WHERE {} IS NOT NULL",
                    t.quoted,
                    q(c)
                )
            }
            Count::Nulls(t, c) => {
                format!("SELECT COUNT(*) FROM {} WHERE {} IS NULL", t.quoted, q(c))
            }
            Count::Duplicates(t, cols) => format!(
                "SELECT COUNT(*) FROM ({}) keel_d",
                duplicate_groups(d, t, cols, "")
            ),
            Count::Orphans {
                child,
                parent,
                columns,
                references,
            } => {
                if columns.len() != references.len() || columns.is_empty() {
                    return None;
                }
                format!(
                    "SELECT COUNT(*) {}",
                    orphans_filter(d, child, parent, columns, references)
                )
            }
            Count::NotNumbers {
                table,
                column,
                integer,
            } => format!(
                "SELECT COUNT(*) FROM {} WHERE {}",
                table.quoted,
                not_number(d, &q(column), *integer)
            ),
        })
    }
}

impl Sample {
    fn sql(&self, d: Dialect) -> Option<String> {
        let q = |c: &str| quote_ident(d, c);
        Some(match self {
            Sample::NullKeys { table, column, key } => {
                let list: Vec<String> = key.iter().map(|k| as_text(d, &q(k))).collect();
                format!(
                    "SELECT {} FROM {} WHERE {} IS NULL LIMIT {SAMPLES}",
                    list.join(", "),
                    table.quoted,
                    q(column)
                )
            }
            Sample::Of(Count::Duplicates(t, cols)) => {
                let texts: Vec<String> = quoted(d, cols).iter().map(|c| as_text(d, c)).collect();
                format!(
                    "{} LIMIT {SAMPLES}",
                    duplicate_groups(d, t, cols, &format!("{}, COUNT(*)", texts.join(", ")))
                )
            }
            Sample::Of(Count::Orphans {
                child,
                parent,
                columns,
                references,
            }) => {
                if columns.len() != references.len() || columns.is_empty() {
                    return None;
                }
                let texts: Vec<String> = quoted(d, columns)
                    .iter()
                    .map(|c| as_text(d, &format!("keel_c.{c}")))
                    .collect();
                format!(
                    "SELECT DISTINCT {} {} LIMIT {SAMPLES}",
                    texts.join(", "),
                    orphans_filter(d, child, parent, columns, references)
                )
            }
            Sample::Of(_) => return None,
            Sample::Values {
                table,
                column,
                numeric,
            } => {
                let c = q(column);
                let filter = match numeric {
                    Some(integer) => not_number(d, &c, *integer),
                    None => format!("{c} IS NOT NULL"),
                };
                format!(
                    "SELECT DISTINCT {} FROM {} WHERE {filter} LIMIT {SAMPLES}",
                    as_text(d, &c),
                    table.quoted
                )
            }
        })
    }
}

/// Whether a server error says the statement passed its time limit.
fn is_timeout(e: &DriverError) -> bool {
    e.kind() == keel_driver::DbErrorKind::StatementTimeout
}

/// The session's statement timeout: set to `t` before the measurements, back to the
/// connection's default after. SQLite has none (in-process, no lock waits beyond
/// `busy_timeout`).
fn timeout_sql(d: Dialect, t: Duration) -> Option<(String, &'static str)> {
    match d {
        Dialect::Postgres => Some((
            format!("SET statement_timeout = {}", t.as_millis()),
            "RESET statement_timeout",
        )),
        Dialect::Mysql => Some((
            format!("SET SESSION max_statement_time = {}", t.as_secs_f64()),
            "SET SESSION max_statement_time = DEFAULT",
        )),
        Dialect::Sqlite => None,
    }
}

/// Runs `needs` on the target, read-only, each statement bounded by `timeout`. A count that
/// fails is left out, except that an object the target does not have (an earlier migration of
/// the same deploy creates it) holds nothing: 0, without a query, for a table or column that
/// `live` (the target's schema, when read) lacks; 0 for a table the target lacks otherwise.
pub(crate) async fn measure(
    driver: &mut dyn Driver,
    needs: &Needs,
    live: Option<&Schema>,
    timeout: Duration,
) -> Facts {
    let d = driver.dialect();
    let mut f = Facts::default();
    if needs.is_empty() {
        return f;
    }
    let limit = timeout_sql(d, timeout);
    if let Some((set, _)) = &limit {
        let _ = driver.execute(set).await;
    }
    for c in &needs.counts {
        if live.is_some_and(|l| !c.exists_in(l)) {
            f.counts.insert(c.clone(), 0);
            continue;
        }
        let Some(sql) = c.sql(d) else { continue };
        match driver.query_text(&sql).await {
            Ok(rows) => {
                if let Some(n) = rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(|v| v.as_ref())
                    .and_then(|v| v.parse().ok())
                {
                    f.counts.insert(c.clone(), n);
                }
            }
            Err(e) if is_timeout(&e) => f.timed_out = true,
            Err(_) => {
                let t = &c.table().name;
                if !t.contains('.') && driver.table_exists(t).await.ok() == Some(false) {
                    f.counts.insert(c.clone(), 0);
                }
            }
        }
    }
    for s in &needs.samples {
        let Some(sql) = s.sql(d) else { continue };
        match driver.query_text(&sql).await {
            Ok(rows) => {
                f.samples.insert(s.clone(), rows);
            }
            Err(e) if is_timeout(&e) => f.timed_out = true,
            Err(_) => {}
        }
    }
    if let Some((_, reset)) = &limit {
        let _ = driver.execute(reset).await;
    }
    f
}

/// The losses of `plan` measured on `driver`.
pub(crate) async fn losses(driver: &mut dyn Driver, plan: &Plan) -> Vec<Loss> {
    let d = driver.dialect();
    measure(driver, &Needs::losses_of(d, plan), None, TIMEOUT)
        .await
        .losses(d, plan)
}
