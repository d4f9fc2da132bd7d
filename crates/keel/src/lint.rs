//! `keel lint [MIGRATION…]` (issue #5): each migration replayed in a shadow database and
//! diffed before/after into typed changes, checked by keel-lint's rules, with facts (row
//! counts) measured on the target when it is reachable. Also the deploy gate: the data-loss
//! rules, run before `keel deploy` applies anything.

use crate::probe::count;
use crate::project::Project;
use crate::shadow::Shadow;
use crate::{Error, Settings};
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::plan::{Change, Plan};
use keel_core::schema::{IndexPart, Schema, TableId};
use keel_core::splitter;
use keel_core::Dialect;
use keel_driver::{quote_ident, Driver};
use keel_lint::{Context, Facts, Finding, Rule, Severity};
use serde::Serialize;

/// What `keel lint` found.
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    /// The migrations linted, in order.
    pub migrations: Vec<String>,
    /// Their findings, in migration and step order.
    pub findings: Vec<Finding>,
    /// Paths of the migration files, by name (for file:line output).
    pub paths: Vec<(String, std::path::PathBuf)>,
    /// Whether facts were measured on the target.
    pub facts: bool,
    /// The shadow databases used.
    pub shadows: Vec<String>,
}

impl LintReport {
    /// 1 when an error-severity finding is not allowed by a directive, else 0.
    pub fn exit_code(&self) -> crate::ExitStatus {
        if self
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.allowed.is_none())
        {
            crate::ExitStatus::Error
        } else {
            crate::ExitStatus::Success
        }
    }
}

/// Lints `names` (all pending migrations when empty).
///
/// # Errors
/// [`Error::MigrationNotFound`] (K3017) for a name not on disk, shadow errors (K3014,
/// K3006), driver and migrations-directory errors.
pub async fn lint(settings: &Settings, names: &[String]) -> Result<LintReport, Error> {
    let mut project = Project::open(settings).await?;
    let r = async {
        let (_, reconciled) = project.reconcile().await?;
        let selected: Vec<String> = if names.is_empty() {
            reconciled
                .entries
                .iter()
                .filter(|e| e.state.is_to_apply() && e.file.is_some())
                .map(|e| e.name.clone())
                .collect()
        } else {
            for n in names {
                if project.dir.get(n).is_none() {
                    return Err(Error::MigrationNotFound {
                        name: n.clone(),
                        dir: project.dir.root.clone(),
                    });
                }
            }
            names.to_vec()
        };
        lint_in(&mut project, settings, &selected, &[]).await
    }
    .await;
    project.close().await;
    r
}

/// Lints `selected` of an open project; with `only`, runs those rules only.
pub(crate) async fn lint_in(
    project: &mut Project,
    settings: &Settings,
    selected: &[String],
    only: &[Rule],
) -> Result<LintReport, Error> {
    let dialect = project.driver.dialect();
    let all: Vec<&Migration> = project.dir.migrations.iter().collect();
    let mut report = LintReport {
        migrations: selected.to_vec(),
        findings: Vec::new(),
        paths: Vec::new(),
        facts: true,
        shadows: Vec::new(),
    };
    let Some(first) = all.iter().position(|m| selected.contains(&m.name)) else {
        return Ok(report);
    };
    let last = all
        .iter()
        .rposition(|m| selected.contains(&m.name))
        .unwrap_or(first);
    let mut shadow = Shadow::open(settings, dialect).await?;
    report.shadows.push(shadow.strategy.clone());
    let plans = async {
        shadow.replay(&all[..first]).await?;
        // The migrations' effect on the schema, apart from rows the history inserted (a
        // seed row must not make a linted statement fail in the shadow).
        let pre = shadow.introspect().await?;
        shadow.empty_tables(&pre).await?;
        // Introspect only around the selected migrations: the others are just replayed.
        let mut current: Option<Schema> = Some(pre);
        let mut plans = Vec::new();
        for m in &all[first..=last] {
            if !selected.contains(&m.name) {
                shadow.replay(&[m]).await?;
                current = None;
                continue;
            }
            let before = match current.take() {
                Some(s) => s,
                None => shadow.introspect().await?,
            };
            shadow.replay(&[m]).await?;
            let after = shadow.introspect().await?;
            plans.push(((*m).clone(), diff_schemas(dialect, &before, &after)));
            current = Some(after);
        }
        Ok::<_, Error>(plans)
    }
    .await;
    shadow.close().await;
    for (m, plan) in plans? {
        let facts = gather(project.driver.as_mut(), &plan).await;
        let steps = splitter::split(&m.script, dialect);
        let cx = Context {
            dialect,
            name: &m.name,
            script: &m.script,
            steps: &steps,
            plan: &plan,
            no_transaction: m.directives.no_transaction,
            lock_timeout_directive: m.directives.lock_timeout.is_some(),
            facts: Some(&facts),
        };
        let found = keel_lint::lint(&cx);
        report.findings.extend(
            found
                .into_iter()
                .filter(|f| only.is_empty() || only.contains(&f.rule)),
        );
        report.paths.push((m.name.clone(), m.path.clone()));
    }
    Ok(report)
}

/// The rules that lose data: deploy refuses their findings unless `--allow-data-loss`.
pub(crate) const DATA_LOSS: [Rule; 3] = [Rule::DropTable, Rule::DropColumn, Rule::NarrowingType];

/// Whether any pending migration might lose data, from its text alone (so that deploys
/// without such statements need no shadow database).
pub(crate) fn may_lose_data(migrations: &[&Migration], dialect: Dialect) -> bool {
    migrations.iter().any(|m| {
        splitter::split(&m.script, dialect).iter().any(|s| {
            let sql = s.sql(&m.script).to_ascii_lowercase();
            let sql: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            sql.starts_with("drop table")
                || (sql.starts_with("alter table")
                    && (sql.contains(" drop ")
                        || sql.contains(" type ")
                        || sql.contains(" modify ")
                        || sql.contains(" change ")))
        })
    })
}

/// The data-loss findings of `pending`, not allowed by a directive, for the deploy gate.
pub(crate) async fn data_loss(
    project: &mut Project,
    settings: &Settings,
    pending: &[String],
) -> Result<Vec<Finding>, Error> {
    let risky: Vec<String> = pending
        .iter()
        .filter(|n| {
            project
                .dir
                .get(n)
                .is_some_and(|m| may_lose_data(&[m], project.driver.dialect()))
        })
        .cloned()
        .collect();
    let r = match lint_in(project, settings, &risky, &DATA_LOSS).await {
        Ok(r) => r,
        // A pending migration that does not replay in the shadow: deploy runs it, and it
        // fails there the same way (recorded, diagnosable).
        Err(Error::ReplayFailed { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(r.findings
        .into_iter()
        .filter(|f| f.allowed.is_none())
        .collect())
}

/// Counts on the target for what `plan` touches; each probe bounded by a statement timeout,
/// a probe that fails (the table does not exist there yet) left out.
pub(crate) async fn gather(driver: &mut dyn Driver, plan: &Plan) -> Facts {
    let d = driver.dialect();
    let mut f = Facts::default();
    let timeout = match d {
        Dialect::Postgres => Some(("SET statement_timeout = '5s'", "RESET statement_timeout")),
        Dialect::Mysql => Some((
            "SET SESSION max_statement_time = 5",
            "SET SESSION max_statement_time = DEFAULT",
        )),
        Dialect::Sqlite => None,
    };
    if let Some((set, _)) = timeout {
        let _ = driver.execute(set).await;
    }
    let (from, to) = (&plan.from, &plan.to);
    let qt = |s: &Schema, id: TableId| {
        let t = s.table(id);
        match &t.namespace {
            Some(ns) => format!("{}.{}", quote_ident(d, ns), quote_ident(d, &t.name)),
            None => quote_ident(d, &t.name),
        }
    };
    let existed = |id: TableId| {
        let t = to.table(id);
        from.table_id(t.namespace.as_deref(), &t.name)
    };
    for c in &plan.changes {
        match c {
            Change::DropTable { table } => {
                rows(driver, &mut f, from.table_name(*table), &qt(from, *table)).await;
            }
            Change::DropColumn { column } => {
                let col = from.column(*column);
                non_null(
                    driver,
                    &mut f,
                    from.table_name(col.table),
                    &qt(from, col.table),
                    &col.name,
                )
                .await;
            }
            Change::RedefineTable { from: old, .. } => {
                for (_, col) in from.table_columns(*old) {
                    non_null(
                        driver,
                        &mut f,
                        from.table_name(*old),
                        &qt(from, *old),
                        &col.name,
                    )
                    .await;
                }
                rows(driver, &mut f, from.table_name(*old), &qt(from, *old)).await;
            }
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } => {
                let col = from.column(*a);
                let (name, q) = (from.table_name(col.table), qt(from, col.table));
                if changes.data_type {
                    non_null(driver, &mut f, name.clone(), &q, &col.name).await;
                }
                if changes.nullable && !to.column(*b).nullable {
                    let c = quote_ident(d, &col.name);
                    if let Some(n) = count(
                        driver,
                        &format!("SELECT COUNT(*) FROM {q} WHERE {c} IS NULL"),
                    )
                    .await
                    {
                        f.nulls.insert((name.clone(), col.name.clone()), n);
                    }
                }
                rows(driver, &mut f, name, &q).await;
            }
            Change::AddColumn { column } => {
                let t = to.column(*column).table;
                if let Some(old) = existed(t) {
                    rows(driver, &mut f, from.table_name(old), &qt(from, old)).await;
                }
            }
            Change::CreateIndex { to: i } => {
                let ix = &to.indexes[*i];
                let Some(old) = existed(ix.table) else {
                    continue;
                };
                rows(driver, &mut f, from.table_name(old), &qt(from, old)).await;
                if !ix.unique {
                    continue;
                }
                let cols: Option<Vec<String>> = ix
                    .columns
                    .iter()
                    .map(|c| match &c.part {
                        IndexPart::Column(id) => Some(to.column(*id).name.clone()),
                        IndexPart::Expression(_) => None,
                    })
                    .collect();
                if let Some(cols) = cols {
                    let sql = crate::probe::duplicate_groups_sql(d, &qt(from, old), &cols);
                    if let Some(n) =
                        count(driver, &format!("SELECT COUNT(*) FROM ({sql}) keel_d")).await
                    {
                        f.duplicates
                            .insert((from.table_name(old), cols.join(",")), n);
                    }
                }
            }
            Change::AddPrimaryKey { table } => {
                let Some(old) = existed(*table) else { continue };
                let cols: Vec<String> = to
                    .table(*table)
                    .primary_key
                    .as_ref()
                    .map(|p| {
                        p.columns
                            .iter()
                            .map(|c| to.column(*c).name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let sql = crate::probe::duplicate_groups_sql(d, &qt(from, old), &cols);
                if let Some(n) =
                    count(driver, &format!("SELECT COUNT(*) FROM ({sql}) keel_d")).await
                {
                    f.duplicates
                        .insert((from.table_name(old), cols.join(",")), n);
                }
            }
            Change::AddForeignKey { to: i } => {
                let fk = &to.foreign_keys[*i];
                let (Some(child), Some(parent)) = (existed(fk.table), existed(fk.referenced_table))
                else {
                    continue;
                };
                let cols: Vec<String> = fk
                    .columns
                    .iter()
                    .map(|c| to.column(*c).name.clone())
                    .collect();
                let refs: Vec<String> = fk
                    .referenced_columns
                    .iter()
                    .map(|c| to.column(*c).name.clone())
                    .collect();
                let filter = crate::probe::orphans_filter(
                    d,
                    &qt(from, child),
                    &qt(from, parent),
                    &cols,
                    &refs,
                );
                if let Some(n) = count(driver, &format!("SELECT COUNT(*) {filter}")).await {
                    f.orphans
                        .insert((from.table_name(child), cols.join(",")), n);
                }
            }
            _ => {}
        }
    }
    if let Some((_, reset)) = timeout {
        let _ = driver.execute(reset).await;
    }
    f
}

async fn rows(driver: &mut dyn Driver, f: &mut Facts, name: String, quoted: &str) {
    if f.rows.contains_key(&name) {
        return;
    }
    if let Some(n) = count_or_absent(driver, &name, &format!("SELECT COUNT(*) FROM {quoted}")).await
    {
        f.rows.insert(name, n);
    }
}

async fn non_null(
    driver: &mut dyn Driver,
    f: &mut Facts,
    name: String,
    quoted: &str,
    column: &str,
) {
    let c = quote_ident(driver.dialect(), column);
    let sql = format!("SELECT COUNT(*) FROM {quoted} WHERE {c} IS NOT NULL");
    if let Some(n) = count_or_absent(driver, &name, &sql).await {
        f.non_null.insert((name, column.to_string()), n);
    }
}

/// The count, or 0 when the table does not exist on the target yet (an earlier migration of
/// the same deploy creates it: nothing there now can be lost); `None` when it cannot be
/// measured.
async fn count_or_absent(driver: &mut dyn Driver, table: &str, sql: &str) -> Option<i64> {
    match count(driver, sql).await {
        Some(n) => Some(n),
        None if !table.contains('.') && driver.table_exists(table).await.ok() == Some(false) => {
            Some(0)
        }
        None => None,
    }
}
