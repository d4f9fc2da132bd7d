//! Waiting for locks: the lock and statement timeouts of a script, and the retries of a step
//! that timed out waiting for a lock (issue #7, item 1), for every caller of the executor.

use crate::events::{Event, StepFailure};
use crate::settings::Settings;
use keel_core::migrations::Migration;
use keel_driver::Driver;
use rand::Rng;
use std::time::Duration;

/// How a script's steps wait for locks: the lock and statement timeouts (settings, then the
/// migration's `-- keel:lock-timeout=` / `-- keel:statement-timeout=`), and how many times a
/// step that timed out waiting for a lock is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LockPolicy {
    pub lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub attempts: u32,
}

/// The first wait before a retry; it doubles on each attempt (at most [`MAX_BACKOFF`]), with
/// jitter (50–100 % of it) so that concurrent deploys do not retry in step.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl LockPolicy {
    /// The settings' policy, with `m`'s directives when given.
    pub fn new(settings: &Settings, m: Option<&Migration>) -> LockPolicy {
        let d = m.map(|m| &m.directives);
        LockPolicy {
            lock_timeout: d
                .and_then(|d| d.lock_timeout)
                .unwrap_or(settings.lock_timeout),
            statement_timeout: d
                .and_then(|d| d.statement_timeout)
                .or(settings.statement_timeout),
            attempts: settings.lock_attempts.max(1),
        }
    }

    /// The wait after failed attempt `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let full = BASE_BACKOFF
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
            .min(MAX_BACKOFF);
        full.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }
}

/// Whether a server error code says a statement gave up waiting for a lock (a lock wait or a
/// deadlock, [`keel_driver::DbErrorKind::waited_for_lock`]): nothing of it took effect.
pub(crate) fn is_lock_wait(code: Option<&str>) -> bool {
    keel_driver::DbErrorKind::of(code).waited_for_lock()
}

/// The tables a step names (after `TABLE`, `ON`, `INTO`, `UPDATE`, `FROM`, `REFERENCES`,
/// `JOIN`), as written: whose locks it may wait for.
pub(crate) fn tables_named(sql: &str) -> Vec<String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let skip = [
        "IF",
        "NOT",
        "EXISTS",
        "ONLY",
        "CONCURRENTLY",
        "UNIQUE",
        "TABLE",
        "INDEX",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].to_ascii_uppercase();
        if matches!(
            w.as_str(),
            "TABLE" | "ON" | "INTO" | "UPDATE" | "FROM" | "REFERENCES" | "JOIN"
        ) {
            let mut j = i + 1;
            while j < words.len() && skip.contains(&words[j].to_ascii_uppercase().as_str()) {
                j += 1;
            }
            if let Some(name) = words.get(j) {
                let first = name.chars().next().unwrap_or(' ');
                if (first.is_alphabetic() || first == '"' || first == '`' || first == '_')
                    && !out.iter().any(|o| o == name)
                {
                    out.push((*name).to_string());
                }
            }
            i = j;
        }
        i += 1;
    }
    out
}

/// Reports a lock wait and sleeps before the next attempt.
pub(super) async fn wait_before_retry(
    driver: &mut dyn Driver,
    label: &str,
    f: &StepFailure,
    sql: &str,
    policy: LockPolicy,
    attempt: u32,
    on_event: &mut (dyn FnMut(&Event) + Send),
) {
    let holders = crate::probe::lock_holders(driver, sql, &tables_named(sql)).await;
    let retry_in = policy.backoff(attempt);
    on_event(&Event::LockWait {
        name: label.to_string(),
        step: f.step,
        attempt,
        attempts: policy.attempts,
        lock_timeout_ms: u64::try_from(policy.lock_timeout.as_millis()).unwrap_or(u64::MAX),
        retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
        holders,
    });
    tokio::time::sleep(retry_in).await;
}

/// After the last attempt of a step that waited for a lock: the sessions holding locks on
/// its tables, and the ledger's `logs` text saying what happened.
pub(super) async fn gave_up(
    driver: &mut dyn Driver,
    label: &str,
    f: &StepFailure,
    sql: &str,
    policy: LockPolicy,
    nothing_took_effect: bool,
) -> (Vec<String>, String) {
    let holders = crate::probe::lock_holders(driver, sql, &tables_named(sql)).await;
    let logs = format!(
        "{}\nGave up after {} attempt{} (lock_timeout {} ms each){}.\nLocks held by: {}\n",
        logs_text(label, f),
        policy.attempts,
        if policy.attempts == 1 { "" } else { "s" },
        policy.lock_timeout.as_millis(),
        if nothing_took_effect {
            "; nothing of the migration took effect"
        } else {
            ""
        },
        if holders.is_empty() {
            "unknown".to_string()
        } else {
            holders.join("; ")
        }
    );
    (holders, logs)
}

/// The text stored in the ledger's `logs` for a failed attempt.
pub(crate) fn logs_text(name: &str, f: &StepFailure) -> String {
    format!(
        "Migration `{name}` failed at step {} of {} (line {}: {})\n\nDatabase error code: {}\n\nDatabase error:\n{}\n",
        f.step,
        f.steps,
        f.line,
        f.first_line,
        f.server_code.as_deref().unwrap_or("none"),
        f.message
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_named_by_a_step() {
        assert_eq!(tables_named("ALTER TABLE t ADD COLUMN w INT"), vec!["t"]);
        assert_eq!(
            tables_named(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON \"public\".\"T\" (a)"
            ),
            vec!["\"public\".\"T\""]
        );
        assert_eq!(
            tables_named("ALTER TABLE IF EXISTS ONLY o ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users(id)"),
            vec!["o", "users"]
        );
        assert_eq!(
            tables_named("INSERT INTO a SELECT * FROM b JOIN c USING (id)"),
            vec!["a", "b", "c"]
        );
        assert!(tables_named("SELECT 1").is_empty());
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let p = LockPolicy {
            lock_timeout: Duration::from_secs(2),
            statement_timeout: None,
            attempts: 5,
        };
        for attempt in 1..=40 {
            let full = BASE_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            let d = p.backoff(attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn lock_wait_codes() {
        for c in ["55P03", "40P01", "1205", "1213", "5", "6"] {
            assert!(is_lock_wait(Some(c)));
        }
        assert!(!is_lock_wait(Some("23505")));
        assert!(!is_lock_wait(None));
    }
}
