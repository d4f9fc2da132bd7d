//! The ledger: its rows and the state of each migration as a pure function of files + rows.
//!
//! The table has Prisma's `_prisma_migrations` columns exactly (DESIGN.md, "The ledger"), so
//! Prisma and keel can take turns on one database.

use crate::migrations::{compare_names, Migration};
use chrono::{DateTime, Utc};
use std::fmt;

/// keel's default ledger table.
pub const KEEL_TABLE: &str = "_keel_migrations";
/// Prisma's ledger table, used in a Prisma project.
pub const PRISMA_TABLE: &str = "_prisma_migrations";

/// One row of the ledger; same columns as Prisma's `_prisma_migrations`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LedgerRow {
    /// Random UUID (text).
    pub id: String,
    /// SHA-256 hex of `migration.sql` when the attempt started.
    pub checksum: String,
    /// When the migration completed; `None` while running or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// The migration's name (folder name).
    pub migration_name: String,
    /// The error of a failed attempt.
    pub logs: Option<String>,
    /// When the attempt was marked rolled back.
    pub rolled_back_at: Option<DateTime<Utc>>,
    /// When the attempt began.
    pub started_at: DateTime<Utc>,
    /// Steps completed (updated after each step of a non-transactional migration).
    pub applied_steps_count: u32,
}

impl LedgerRow {
    /// Finished and not rolled back.
    pub fn is_applied(&self) -> bool {
        self.finished_at.is_some() && self.rolled_back_at.is_none()
    }
    /// Started, not finished, not rolled back: Prisma's definition of a failed migration.
    pub fn is_failed(&self) -> bool {
        self.finished_at.is_none() && self.rolled_back_at.is_none()
    }
    /// Run time in milliseconds, when finished.
    pub fn duration_ms(&self) -> Option<i64> {
        self.finished_at
            .map(|f| (f - self.started_at).num_milliseconds().max(0))
    }
}

/// The state of one migration (DESIGN.md, "Vocabulary").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// On disk, not recorded in the ledger.
    Pending,
    /// Recorded as finished, and the file's checksum matches.
    Applied,
    /// Started, not finished and not rolled back.
    Failed,
    /// Every attempt is marked rolled back; deploy applies it again.
    RolledBack,
    /// Applied, but the file's checksum no longer matches the ledger.
    Modified,
    /// Applied according to the ledger, but not on disk.
    Missing,
    /// Pending (or rolled back), but a later migration is already applied.
    OutOfOrder,
}

impl State {
    /// The word shown to users (`pending`, `applied`, `failed`, `rolled back`, `modified`,
    /// `missing`, `out of order`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Applied => "applied",
            State::Failed => "failed",
            State::RolledBack => "rolled back",
            State::Modified => "modified",
            State::Missing => "missing",
            State::OutOfOrder => "out of order",
        }
    }

    /// Whether `deploy` would run this migration (pending, rolled back, out of order).
    pub fn is_to_apply(self) -> bool {
        matches!(self, State::Pending | State::RolledBack | State::OutOfOrder)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One migration's reconciled state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The migration name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Index into the files slice given to [`reconcile`], when on disk.
    pub file: Option<usize>,
    /// The row that decides the state (the applied one, else the latest attempt), when any.
    pub row: Option<LedgerRow>,
    /// How many ledger rows the name has (attempts, including failed and rolled back ones).
    pub attempts: usize,
}

/// The reconciled ledger: every migration on disk or in the ledger, in apply order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// One entry per migration name, in apply order.
    pub entries: Vec<Entry>,
}

impl Reconciled {
    /// Entries in `state`.
    pub fn with_state(&self, state: State) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |e| e.state == state)
    }
    /// Entries that deploy would apply, in order.
    pub fn to_apply(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.state.is_to_apply())
    }
    /// Number of entries in `state`.
    pub fn count(&self, state: State) -> usize {
        self.with_state(state).count()
    }
    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// Reconciles the migrations on disk (`files`, in apply order) with the ledger's `rows` (any
/// order) into one state per migration. Pure: no I/O.
///
/// Rules, per name:
/// - a finished, not rolled back row → applied (modified if no such row's checksum matches);
///   the file missing → missing;
/// - else a row neither finished nor rolled back → failed (whether or not the file exists);
/// - else rows that are all rolled back → rolled back;
/// - else no row → pending.
///
/// Finally a pending or rolled-back migration that sorts before an applied (or modified)
/// one becomes out of order.
pub fn reconcile(files: &[Migration], rows: &[LedgerRow]) -> Reconciled {
    let mut names: Vec<&str> = files.iter().map(|m| m.name.as_str()).collect();
    for r in rows {
        if !files.iter().any(|m| m.name == r.migration_name) {
            names.push(&r.migration_name);
        }
    }
    names.sort_by(|a, b| compare_names(a, b));
    names.dedup();

    let mut entries: Vec<Entry> = names
        .into_iter()
        .map(|name| {
            let file = files.iter().position(|m| m.name == name);
            let mut mine: Vec<&LedgerRow> =
                rows.iter().filter(|r| r.migration_name == name).collect();
            mine.sort_by_key(|r| r.started_at);
            let applied: Vec<&LedgerRow> =
                mine.iter().copied().filter(|r| r.is_applied()).collect();
            let (state, row) = if let Some(last) = applied.last() {
                match file {
                    None => (State::Missing, Some(*last)),
                    Some(i) => match applied
                        .iter()
                        .rev()
                        .find(|r| files[i].checksum_matches(&r.checksum))
                    {
                        Some(r) => (State::Applied, Some(*r)),
                        None => (State::Modified, Some(*last)),
                    },
                }
            } else if let Some(failed) = mine.iter().rev().find(|r| r.is_failed()) {
                (State::Failed, Some(*failed))
            } else if let Some(last) = mine.last() {
                (State::RolledBack, Some(*last))
            } else {
                (State::Pending, None)
            };
            Entry {
                name: name.to_string(),
                state,
                file,
                row: row.cloned(),
                attempts: mine.len(),
            }
        })
        .collect();

    // A rolled-back migration without a file has nothing left to do: drop it from the view.
    entries.retain(|e| !(e.state == State::RolledBack && e.file.is_none()));

    let last_applied = entries
        .iter()
        .rposition(|e| matches!(e.state, State::Applied | State::Modified | State::Missing));
    if let Some(last) = last_applied {
        for e in &mut entries[..last] {
            if e.state.is_to_apply() {
                e.state = State::OutOfOrder;
            }
        }
    }
    Reconciled { entries }
}

#[cfg(test)]
mod tests;
