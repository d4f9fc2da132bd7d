//! `keel lint [MIGRATION…]` (issue #5): each migration replayed in a shadow database and
//! diffed before/after into typed changes, checked by keel-lint's rules, with facts (row
//! counts) measured on the target when it is reachable. Also the deploy gate: the data-loss
//! rules, run before `keel deploy` applies anything.

use crate::error::Error;
use crate::project::Project;
use crate::settings::Settings;
use crate::shadow::Shadow;
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::plan::Plan;
use keel_core::schema::Schema;
use keel_core::splitter;
use keel_core::Dialect;
use keel_driver::Driver;
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
    let mut shadow = Shadow::open_for(
        settings,
        dialect,
        crate::shadow::temp_schema_allowed(&all[..=last]),
    )
    .await?;
    report.shadows.push(shadow.strategy.clone());
    // The migrations' effect on the schema, apart from rows the history inserted (a seed row
    // must not make a linted statement fail in the shadow).
    let states = shadow
        .states_around(&all[..first], &all[first..=last], true, &|m| {
            selected.contains(&m.name)
        })
        .await;
    shadow.close().await;
    let picked = all[first..=last]
        .iter()
        .filter(|m| selected.contains(&m.name));
    let plans: Vec<(Migration, Plan)> = picked
        .zip(states?)
        .map(|(m, (before, after))| ((*m).clone(), diff_schemas(dialect, &before, &after)))
        .collect();
    lint_plans(project, plans, only, &mut report).await?;
    Ok(report)
}

/// Runs the rules (`only`, or all) over each migration's plan, with facts measured on the
/// target, into `report`.
async fn lint_plans(
    project: &mut Project,
    plans: Vec<(Migration, Plan)>,
    only: &[Rule],
    report: &mut LintReport,
) -> Result<(), Error> {
    let dialect = project.driver.dialect();
    // What the target holds: an object it lacks (an earlier migration of the same deploy
    // creates it) holds no data.
    let live = project.driver.introspect().await?;
    for (m, plan) in plans {
        let facts = gather(project.driver.as_mut(), &plan, &live).await;
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
    Ok(())
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

/// The data-loss findings of `pending`, not allowed by a directive, for the deploy gate:
/// from the history replayed in a shadow database when `replay` and one can be had, else
/// from the statements' own targets ([`statement_plan`]); counted on the target either way.
///
/// # Errors
/// [`Error::ShadowIsTarget`] (K3014) for a shadow URL naming the target, driver errors.
pub(crate) async fn data_loss(
    project: &mut Project,
    settings: &Settings,
    pending: &[String],
    replay: bool,
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
    let replayed = if replay {
        lint_in(project, settings, &risky, &DATA_LOSS).await
    } else {
        Err(Error::ShadowUnavailable { tried: Vec::new() })
    };
    let r = match replayed {
        Ok(r) => r,
        // A pending migration that does not replay in the shadow: deploy runs it, and it
        // fails there the same way (recorded, diagnosable).
        Err(Error::ReplayFailed { .. }) => return Ok(Vec::new()),
        // No shadow database for this user (no CREATEDB, no SHADOW_DATABASE_URL): deploy
        // never needs one. The statements' own targets, counted on the target, decide.
        Err(Error::ShadowUnavailable { .. }) => {
            let live = project.driver.introspect().await?;
            let plans: Vec<(Migration, Plan)> = risky
                .iter()
                .filter_map(|n| project.dir.get(n))
                .map(|m| {
                    let plan = statement_plan(project.driver.dialect(), &live, m);
                    (m.clone(), plan)
                })
                .collect();
            let mut report = LintReport {
                migrations: risky.clone(),
                findings: Vec::new(),
                paths: Vec::new(),
                facts: true,
                shadows: Vec::new(),
            };
            lint_plans(project, plans, &DATA_LOSS, &mut report).await?;
            report
        }
        Err(e) => return Err(e),
    };
    Ok(r.findings
        .into_iter()
        .filter(|f| f.allowed.is_none())
        .collect())
}

/// The plan of what `m` destroys, read from its statements' own targets ([`splitter::targets`])
/// against `live`, the target's schema: the tables it drops, the columns it drops, the columns
/// it retypes (to the type text as written). What `live` does not hold (a table or column that
/// an earlier pending migration creates) is left out: it holds no data yet. The deploy gate's
/// plan when no shadow database can replay the history.
pub(crate) fn statement_plan(dialect: Dialect, live: &Schema, m: &Migration) -> Plan {
    statement_plan_of(dialect, live, &m.script)
}

/// [`statement_plan`] of a script's text (`keel execute FILE`).
pub(crate) fn statement_plan_of(dialect: Dialect, live: &Schema, script: &str) -> Plan {
    use keel_core::schema::plan::{Change, ColumnChanges};
    let mut to = live.clone();
    let mut changes = Vec::new();
    let find = |t: &splitter::TableName| {
        let exact = live.table_id(t.schema.as_deref(), &t.name);
        // A name qualified with the session's own schema is held unqualified.
        let id = exact.or_else(|| live.table_id(None, &t.name))?;
        Some(id)
    };
    for step in splitter::split(script, dialect) {
        for target in splitter::targets(step.sql(script), dialect) {
            match target {
                splitter::Target::DropTable(t) => {
                    if let Some(table) = find(&t) {
                        let c = Change::DropTable { table };
                        if !changes.contains(&c) {
                            changes.push(c);
                        }
                    }
                }
                splitter::Target::DropColumn(t, c) => {
                    if let Some(column) = find(&t).and_then(|id| live.column_id(id, &c)) {
                        let c = Change::DropColumn { column };
                        if !changes.contains(&c) {
                            changes.push(c);
                        }
                    }
                }
                splitter::Target::Retype(t, c, new_type) => {
                    if let Some(column) = find(&t).and_then(|id| live.column_id(id, &c)) {
                        to.columns[column.idx()].data_type = new_type;
                        changes.push(Change::AlterColumn {
                            from: column,
                            to: column,
                            changes: ColumnChanges {
                                data_type: true,
                                ..ColumnChanges::default()
                            },
                        });
                    }
                }
            }
        }
    }
    Plan {
        dialect,
        from: live.clone(),
        to,
        changes,
    }
}

/// Counts on the target for what `plan` touches, bounded by one statement timeout; a count
/// that fails is left out, a table the target does not have yet holds nothing.
pub(crate) async fn gather(driver: &mut dyn Driver, plan: &Plan, live: &Schema) -> Facts {
    let d = driver.dialect();
    crate::measure::measure(
        driver,
        &crate::measure::Needs::from_plan(d, plan),
        Some(live),
        crate::measure::TIMEOUT,
    )
    .await
    .lint_facts()
}
