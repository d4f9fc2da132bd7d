//! Diagnosis of a failed migration (issue #4, item 4): which of its steps took effect, measured
//! by replaying its history in a shadow database and comparing the live schema with the state
//! before the migration, after each of its steps, and after all of them. Read-only on the
//! target.

use crate::error::Error;
use crate::probe;
use crate::project::Project;
use crate::run::Script;
use crate::settings::Settings;
use crate::shadow::{temp_schema_allowed, Shadow};
use keel_core::ledger::{LedgerRow, Reconciled, State};
use keel_core::migrations::Migration;
use keel_core::schema::diff::diff as diff_schemas;
use keel_core::schema::summary::summarize;
use keel_core::schema::Schema;
use serde::Serialize;

/// What state a failed migration left the database in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Classification {
    /// The live schema equals the state before the migration: nothing of it took effect.
    NotApplied,
    /// The live schema equals the state after all its steps.
    FullyApplied,
    /// The live schema equals the state after step `applied` (1 ≤ applied < steps): steps
    /// 1..=applied took effect, step applied + 1 failed.
    PartWay {
        /// Steps that took effect.
        applied: usize,
    },
    /// The live schema equals none of the states.
    Diverged {
        /// The state with the fewest differences (0 = before the migration).
        closest: usize,
        /// What differs from the state before the migration (before → live).
        to_pre: Vec<String>,
        /// What differs from the state after it (after → live); empty when that state is
        /// unknown (a step fails in the shadow too).
        to_post: Vec<String>,
    },
}

/// One step of the migration, for messages.
#[derive(Debug, Clone, Serialize)]
pub struct StepInfo {
    /// 1-based step number.
    pub step: usize,
    /// 1-based line in the migration file.
    pub line: usize,
    /// The step's first line of SQL.
    pub first_line: String,
}

/// Everything keel measured about one failed migration.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The migration.
    pub name: String,
    /// Its steps.
    pub steps: Vec<StepInfo>,
    /// Whether deploy ran it in one transaction (then nothing of it can remain, unless someone
    /// changed the schema since).
    pub transactional: bool,
    /// `applied_steps_count` of the failed ledger row.
    pub ledger_applied_steps: u32,
    /// The failed row's `logs`.
    pub logs: Option<String>,
    /// The server's error code from the logs (SQLSTATE, MySQL error number), when recorded.
    pub server_code: Option<String>,
    /// The step that failed, from the logs, else the one after the last step that took effect.
    pub failed_step: Option<usize>,
    /// Where the database is.
    pub classification: Classification,
    /// Every state the live schema equals (0 = before the migration, n = after all n steps);
    /// several when some steps change no schema (data-only steps cannot be told apart).
    pub matching_states: Vec<usize>,
    /// A step that fails in the shadow database too, with the history replayed and its tables
    /// emptied (1-based, with the server's message): the migration's SQL is wrong whatever the
    /// data, and the states after it are unknown.
    pub shadow_failure: Option<(usize, String)>,
    /// Why it failed, measured on the target (NULL counts, duplicate groups, orphans, lock
    /// holders, values that do not cast), one sentence each.
    pub causes: Vec<String>,
    /// The commands that fix it, best first.
    pub fixes: Vec<String>,
    /// The shadow databases used.
    pub shadows: Vec<String>,
    /// The schema states: 0 = before the migration, k = after step k (as far as the shadow got).
    #[serde(skip)]
    pub states: Vec<Schema>,
    /// The live schema.
    #[serde(skip)]
    pub live: Schema,
}

impl Diagnosis {
    /// The state after the whole migration, when every step ran in the shadow.
    pub fn post(&self) -> Option<&Schema> {
        (self.shadow_failure.is_none() && self.states.len() == self.steps.len() + 1)
            .then(|| self.states.last())
            .flatten()
    }

    /// The state before the migration.
    pub fn pre(&self) -> &Schema {
        &self.states[0]
    }

    /// One line: `part-way: steps 1–2 of 4 took effect; step 3 failed`.
    pub fn headline(&self) -> String {
        let n = self.steps.len();
        match &self.classification {
            Classification::NotApplied => {
                format!(
                    "not applied: none of its {n} steps took effect (the schema is as before it)"
                )
            }
            Classification::FullyApplied => {
                format!("fully applied: all {n} steps took effect (the schema is as after it)")
            }
            Classification::PartWay { applied } => format!(
                "part-way: step{} {} of {n} took effect; step {} did not",
                if *applied == 1 { "" } else { "s" },
                if *applied == 1 {
                    "1".to_string()
                } else {
                    format!("1–{applied}")
                },
                applied + 1
            ),
            Classification::Diverged { closest, .. } => format!(
                "diverged: the schema matches no state of the migration (closest: {})",
                state_name(*closest, n)
            ),
        }
    }
}

/// `before the migration`, `after step 2`, `after the migration`.
pub fn state_name(k: usize, steps: usize) -> String {
    if k == 0 {
        "before the migration".into()
    } else if k == steps {
        "after the migration".into()
    } else {
        format!("after step {k}")
    }
}

/// Diagnoses every failed migration, or only `name` when given.
///
/// # Errors
/// [`Error::NotFailed`] (K3012) when `name` is not failed, [`Error::MigrationNotFound`]
/// (K3017), shadow errors (K3014, K3006 when the history before it fails to replay), driver
/// and migrations-directory errors.
pub async fn diagnose(settings: &Settings, name: Option<&str>) -> Result<Vec<Diagnosis>, Error> {
    let mut project = Project::open(settings).await?;
    let result = async {
        let (rows, reconciled) = project.reconcile().await?;
        let names: Vec<String> = match name {
            Some(n) => vec![n.to_string()],
            None => reconciled
                .with_state(State::Failed)
                .map(|e| e.name.clone())
                .collect(),
        };
        let mut out = Vec::new();
        for n in names {
            out.push(diagnose_in(&mut project, settings, &rows, &reconciled, &n).await?);
        }
        Ok(out)
    }
    .await;
    project.close().await;
    result
}

/// Diagnoses the failed migration `name` of an open project.
pub(crate) async fn diagnose_in(
    project: &mut Project,
    settings: &Settings,
    rows: &[LedgerRow],
    reconciled: &Reconciled,
    name: &str,
) -> Result<Diagnosis, Error> {
    let Some(entry) = reconciled.get(name) else {
        return Err(Error::MigrationNotFound {
            name: name.to_string(),
            dir: project.dir.root.clone(),
        });
    };
    if entry.state != State::Failed {
        return Err(Error::NotFailed {
            name: name.to_string(),
            state: entry.state,
        });
    }
    let Some(m) = entry.file.map(|i| &project.dir.migrations[i]) else {
        return Err(Error::MigrationNotFound {
            name: name.to_string(),
            dir: project.dir.root.clone(),
        });
    };
    let dialect = project.driver.dialect();
    let row = rows
        .iter()
        .rev()
        .find(|r| r.migration_name == name && r.is_failed())
        .cloned();
    let before: Vec<&Migration> = reconciled
        .entries
        .iter()
        .filter(|e| e.name != name && matches!(e.state, State::Applied | State::Modified))
        .filter_map(|e| e.file.map(|i| &project.dir.migrations[i]))
        .collect();
    let script = Script::from_migration(m, dialect);
    let steps: Vec<StepInfo> = script
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepInfo {
            step: i + 1,
            line: s.line,
            first_line: crate::run::first_line(&s.sql),
        })
        .collect();

    // PRE, then S1..Sn, in one shadow.
    let mut with_m = before.clone();
    with_m.push(m);
    let mut shadow = Shadow::open_for(settings, dialect, temp_schema_allowed(&with_m)).await?;
    let shadows = vec![shadow.strategy.clone()];
    let replayed = async {
        shadow.replay(&before).await?;
        let pre = shadow.introspect().await?;
        // The steps' effect on the schema, apart from rows the history inserted.
        shadow.empty_tables(&pre).await?;
        let mut states = vec![pre];
        let mut failure = None;
        for (i, s) in script.steps.iter().enumerate() {
            if let Err(e) = shadow.run_step(&s.sql).await {
                failure = Some((i + 1, e.to_string()));
                break;
            }
            states.push(shadow.introspect().await?);
        }
        Ok::<_, Error>((states, failure))
    }
    .await;
    shadow.close().await;
    let (states, shadow_failure) = replayed?;

    let live = project.driver.introspect().await?;
    let matching_states: Vec<usize> = states
        .iter()
        .enumerate()
        .filter(|(_, s)| diff_schemas(dialect, s, &live).is_empty())
        .map(|(i, _)| i)
        .collect();
    let n = steps.len();
    let ledger_applied_steps = row.as_ref().map_or(0, |r| r.applied_steps_count);
    let logs = row.as_ref().and_then(|r| r.logs.clone());
    let (logged_step, server_code) = parse_logs(logs.as_deref());
    let classification = classify(
        &states,
        &live,
        &matching_states,
        ledger_applied_steps,
        n,
        dialect,
        shadow_failure.is_some(),
    );
    let applied = match &classification {
        Classification::NotApplied => Some(0),
        Classification::PartWay { applied } => Some(*applied),
        _ => None,
    };
    // The ledger's failure is stale when the schema shows that step took effect since (a
    // repair ran it, then failed at a later step): the measurement wins.
    let stale = matches!((logged_step, applied), (Some(l), Some(a)) if l <= a);
    let failed_step = if stale { None } else { logged_step }
        .or(applied.map(|k| k + 1))
        .filter(|s| *s <= n);

    let mut causes = Vec::new();
    // No error recorded: the deploy never got to write one (killed, connection or server
    // lost), so there is no cause to fix.
    let interrupted = logs.as_deref().is_none_or(|l| l.trim().is_empty());
    if interrupted {
        causes.push("no error was recorded: the deploy was interrupted (killed, or its connection or the server was lost) while this migration ran".into());
    }
    if let Some(log) = &logs {
        if let Some(msg) = server_message(log) {
            causes.push(format!(
                "{}: {msg}{}",
                match logged_step {
                    Some(l) if stale => format!("an earlier attempt failed at step {l}, which has taken effect since; the server said then"),
                    _ => "the server said".to_string(),
                },
                server_code
                    .as_ref()
                    .map(|c| format!(" (code {c})"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some((k, msg)) = &shadow_failure {
        causes.push(format!(
            "step {k} fails in the shadow database too, after the history replayed and its tables emptied ({msg}): the migration's SQL is wrong whatever the data; fix the file"
        ));
    }
    let lock_timeout = is_lock_timeout(server_code.as_deref(), logs.as_deref());
    if let Some(f) = failed_step {
        let sql = f
            .checked_sub(1)
            .and_then(|k| script.steps.get(k))
            .map_or("", |s| s.sql.as_str());
        if f < states.len() {
            let change = diff_schemas(dialect, &states[f - 1], &states[f]);
            causes.extend(
                probe::probe(project.driver.as_mut(), &live, &change, lock_timeout, sql).await,
            );
        } else if lock_timeout {
            causes.extend(
                probe::lock_holders(project.driver.as_mut(), sql, &crate::run::tables_named(sql))
                    .await,
            );
        }
        // Every later step meets the data too: all of what would stop a `--finish` at once,
        // not one cause per attempt.
        for k in f + 1..states.len() {
            let change = diff_schemas(dialect, &states[k - 1], &states[k]);
            let sql = script.steps.get(k - 1).map_or("", |s| s.sql.as_str());
            for c in probe::probe(project.driver.as_mut(), &live, &change, false, sql).await {
                causes.push(format!("step {k} would fail too: {c}"));
            }
        }
    }

    let fixes = fixes(name, &classification, shadow_failure.is_some(), interrupted);
    Ok(Diagnosis {
        name: name.to_string(),
        steps,
        transactional: script.mode(dialect).transactional(),
        ledger_applied_steps,
        logs,
        server_code,
        failed_step,
        classification,
        matching_states,
        shadow_failure,
        causes,
        fixes,
        shadows,
        states,
        live,
    })
}

/// Picks the state the database is in. When several states match (steps that change no
/// schema), the ledger's `applied_steps_count` decides if it is among them, else the earliest.
fn classify(
    states: &[Schema],
    live: &Schema,
    matching: &[usize],
    ledger_count: u32,
    steps: usize,
    dialect: keel_core::Dialect,
    post_unknown: bool,
) -> Classification {
    let ledger = ledger_count as usize;
    let chosen = if matching.contains(&ledger) {
        Some(ledger)
    } else {
        matching.first().copied()
    };
    match chosen {
        Some(0) => Classification::NotApplied,
        Some(k) if k == steps && !post_unknown => Classification::FullyApplied,
        Some(k) => Classification::PartWay { applied: k },
        None => {
            let sizes: Vec<usize> = states
                .iter()
                .map(|s| diff_schemas(dialect, s, live).changes.len())
                .collect();
            let closest = (0..sizes.len()).min_by_key(|i| sizes[*i]).unwrap_or(0);
            let to_pre = summarize(&diff_schemas(dialect, &states[0], live));
            let to_post = if post_unknown || states.len() != steps + 1 {
                Vec::new()
            } else {
                summarize(&diff_schemas(dialect, &states[steps], live))
            };
            Classification::Diverged {
                closest,
                to_pre,
                to_post,
            }
        }
    }
}

fn fixes(name: &str, c: &Classification, post_unknown: bool, interrupted: bool) -> Vec<String> {
    match c {
        Classification::NotApplied if interrupted => vec![
            format!("`keel resolve --rolled-back {name}` and `keel deploy` (nothing of it remains; it was interrupted, not rejected)"),
        ],
        Classification::NotApplied => vec![
            format!("fix the cause, then `keel resolve --rolled-back {name}` and `keel deploy` (nothing of it remains)"),
        ],
        Classification::PartWay { applied } if interrupted && !post_unknown => vec![
            format!("`keel repair {name} --finish` (runs its steps after step {applied}; it was interrupted, not rejected)"),
            format!("`keel repair {name} --revert` (undoes {}), then `keel deploy`", took_effect(*applied)),
        ],
        Classification::FullyApplied => vec![format!(
            "`keel repair {name} --finish` (records it as applied; nothing left to run), or `keel resolve --applied {name}`"
        )],
        Classification::PartWay { applied } if post_unknown => vec![
            format!("fix the migration file, then `keel repair {name} --finish` (runs its steps after step {applied})"),
            format!("`keel repair {name} --revert` (undoes {}), then fix the file and `keel deploy`", took_effect(*applied)),
        ],
        Classification::PartWay { applied } => vec![
            format!("fix the cause, then `keel repair {name} --finish` (runs its steps after step {applied})"),
            format!("`keel repair {name} --revert` (undoes {}), then fix the cause and `keel deploy`", took_effect(*applied)),
        ],
        Classification::Diverged { .. } => vec![
            format!("`keel repair {name} --finish` (runs the SQL that brings the schema to the state after the migration)"),
            format!("`keel repair {name} --revert` (runs the SQL that brings it back to the state before), then `keel deploy`"),
        ],
    }
}

/// `step 1`, `steps 1–3`.
fn took_effect(applied: usize) -> String {
    crate::events::steps_range(1, applied)
}

/// The failed step and the server's code from a ledger `logs` text keel wrote
/// (`failed at step 3 of 5`, `Database error code: 23502`); Prisma's logs give the code only.
fn parse_logs(logs: Option<&str>) -> (Option<usize>, Option<String>) {
    let Some(logs) = logs else {
        return (None, None);
    };
    let step = logs.split("failed at step ").nth(1).and_then(|rest| {
        rest.split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok())
    });
    let code = logs
        .split("Database error code: ")
        .nth(1)
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        .filter(|c| !c.is_empty() && c != "none");
    (step, code)
}

/// The server's message from a `logs` text (the line after `Database error:`).
fn server_message(logs: &str) -> Option<String> {
    let rest = logs.split("Database error:\n").nth(1)?;
    let line = rest.lines().find(|l| !l.trim().is_empty())?.trim();
    Some(line.to_string())
}

/// Whether a failure was a lock wait that timed out: PostgreSQL 55P03 (lock_not_available),
/// MySQL/MariaDB 1205 (lock wait timeout) and 1213 (deadlock), SQLite 5/6 (busy, locked), or a
/// message that says so.
pub(crate) fn is_lock_timeout(code: Option<&str>, logs: Option<&str>) -> bool {
    crate::run::is_lock_wait(code)
        || logs.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("lock timeout")
                || l.contains("lock wait timeout")
                || l.contains("database is locked")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_step_and_code_from_keel_logs() {
        let logs = "Migration `m` failed at step 3 of 5 (line 7: ALTER TABLE x)\n\nDatabase error code: 23502\n\nDatabase error:\ncolumn \"a\" contains null values\n";
        assert_eq!(parse_logs(Some(logs)), (Some(3), Some("23502".into())));
        assert_eq!(
            server_message(logs).as_deref(),
            Some("column \"a\" contains null values")
        );
        assert_eq!(
            parse_logs(Some("Database error code: none\n")),
            (None, None)
        );
        assert_eq!(parse_logs(None), (None, None));
    }

    #[test]
    fn state_names() {
        assert_eq!(state_name(0, 3), "before the migration");
        assert_eq!(state_name(2, 3), "after step 2");
        assert_eq!(state_name(3, 3), "after the migration");
    }

    #[test]
    fn classification_prefers_the_ledger_count_among_equal_states() {
        let s = Schema::default();
        let states = vec![s.clone(), s.clone(), s.clone()];
        let d = keel_core::Dialect::Sqlite;
        assert_eq!(
            classify(&states, &s, &[0, 1, 2], 1, 2, d, false),
            Classification::PartWay { applied: 1 }
        );
        assert_eq!(
            classify(&states, &s, &[0, 1, 2], 0, 2, d, false),
            Classification::NotApplied
        );
        assert_eq!(
            classify(&states, &s, &[2], 0, 2, d, false),
            Classification::FullyApplied
        );
    }
}
