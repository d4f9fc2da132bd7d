//! keel's lint: rules over one migration's typed changes (the migration replayed in a shadow
//! database and diffed before/after), its steps with their lines, and optional facts measured
//! on the target (row counts). Pure: no I/O; the engine gathers the inputs.
//!
//! The rule table ([`registry`]) is declared once; the [`Rule`] enum, its ids, severities,
//! docs and the dispatch are generated from it (STYLE.md habit 6, after ruff's registry).
//! Each rule lives in `rules/<rule_id>.rs` with its doc, its check and its tests.

mod facts;
mod registry;
mod rules;
mod types;

pub use facts::{count as fmt_count, Facts};
pub use registry::Rule;

use keel_core::schema::plan::Plan;
use keel_core::splitter::Step;
use keel_core::Dialect;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Loses data (a dropped table or column, a narrowing cast): `keel lint` exits 1.
    Error,
    /// Risks a failed or long-locking deploy.
    Warning,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Everything a rule sees of one migration.
pub struct Context<'a> {
    /// The database family.
    pub dialect: Dialect,
    /// The migration's name.
    pub name: &'a str,
    /// Its script.
    pub script: &'a str,
    /// Its steps (statements) with byte ranges and lines.
    pub steps: &'a [Step],
    /// Its typed changes: the schema before it → after it.
    pub plan: &'a Plan,
    /// `-- keel:no-transaction`.
    pub no_transaction: bool,
    /// `-- keel:lock-timeout=…` was given.
    pub lock_timeout_directive: bool,
    /// Counts measured on the target, when a database was given.
    pub facts: Option<&'a Facts>,
}

impl Context<'_> {
    /// The text of step `i`.
    pub fn step_sql(&self, i: usize) -> &str {
        self.steps.get(i).map_or("", |s| s.sql(self.script))
    }

    /// The first step whose text names every one of `names` (case-insensitive, quotes
    /// ignored), else the first step.
    pub fn locate(&self, names: &[&str]) -> usize {
        let wanted: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        (0..self.steps.len())
            .find(|i| {
                let text: String = self
                    .step_sql(*i)
                    .chars()
                    .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
                    .collect::<String>()
                    .to_ascii_lowercase();
                wanted.iter().all(|w| contains_word(&text, w))
            })
            .unwrap_or(0)
    }

    /// A finding of `rule` at step `step` (0-based).
    pub fn finding(&self, rule: Rule, step: usize, message: String) -> Finding {
        Finding {
            rule,
            id: rule.id(),
            severity: rule.severity(),
            migration: self.name.to_string(),
            step: step + 1,
            line: self.steps.get(step).map_or(1, |s| s.line),
            message,
            rows: None,
            allowed: None,
        }
    }
}

/// Whether `word` occurs in `text` as a whole identifier (not inside a longer one).
fn contains_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule.
    #[serde(skip)]
    pub rule: Rule,
    /// The rule's id (`drop-column`).
    pub id: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// The migration.
    pub migration: String,
    /// 1-based step.
    pub step: usize,
    /// 1-based line of that step in the migration file.
    pub line: usize,
    /// What it does and what is at stake.
    pub message: String,
    /// Rows (or values) at stake on the target, when measured.
    pub rows: Option<i64>,
    /// The reason given by a `-- keel:allow <rule-id> reason="…"` directive, when allowed.
    pub allowed: Option<String>,
}

/// Runs every rule on `cx`, then marks the findings its `-- keel:allow` directives allow.
/// Findings come in step order.
pub fn lint(cx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in Rule::ALL {
        if rule.applies_to(cx.dialect) {
            rule.check(cx, &mut out);
        }
    }
    let allows = allow_directives(cx.script);
    for f in &mut out {
        if let Some((_, reason)) = allows.iter().find(|(id, _)| id == f.id) {
            f.allowed = Some(reason.clone());
        }
    }
    out.sort_by_key(|f| (f.step, f.severity, f.id));
    out
}

/// `-- keel:allow <rule-id> reason="…"` lines of the directive header: (rule id, reason).
pub fn allow_directives(script: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for raw in script.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("--") else {
            break;
        };
        let Some(rest) = comment.trim().strip_prefix("keel:allow") else {
            continue;
        };
        let rest = rest.trim();
        let (id, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let reason = tail
            .trim()
            .strip_prefix("reason=")
            .map(|r| r.trim().trim_matches('"').to_string())
            .unwrap_or_default();
        out.push((id.to_string(), reason));
    }
    out
}

#[cfg(test)]
mod tests;
