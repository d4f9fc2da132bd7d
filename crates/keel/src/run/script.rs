//! What the executor runs: a [`Script`] (steps with their lines) and the [`Mode`] it runs in.

use keel_core::migrations::Migration;
use keel_core::splitter;
use keel_core::Dialect;

/// One statement of a script.
#[derive(Debug, Clone)]
pub(crate) struct ScriptStep {
    /// 1-based line of the statement in the script it came from; 0 for a statement keel
    /// rendered.
    pub line: usize,
    /// The statement, without its terminator.
    pub sql: String,
    /// SQLite only: `Some(on)` for `PRAGMA foreign_keys = on` (see
    /// [`splitter::StepKind::sqlite_pragma_foreign_keys`]).
    pub fk_pragma: Option<bool>,
    /// The step starts or ends a transaction itself (see
    /// [`splitter::StepKind::transaction_control`]).
    pub transaction_control: bool,
    /// `Some(true)` for a step that opens a transaction, `Some(false)` for one that ends it.
    pub transaction: Option<bool>,
    /// Why the step cannot run inside a transaction block (see
    /// [`splitter::StepKind::non_transactional`]).
    pub non_transactional: Option<&'static str>,
    /// PostgreSQL: the index a `CREATE INDEX CONCURRENTLY` step creates, which it leaves
    /// INVALID when it fails or is cancelled ([`splitter::concurrent_index`]).
    pub concurrent_index: Option<splitter::TableName>,
}

/// A script for the executor: a migration's `migration.sql`, a `down.sql`, or the statements a
/// repair rendered.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// What it is, for messages and events: the migration's name.
    pub label: String,
    /// Its statements, in order.
    pub steps: Vec<ScriptStep>,
    /// `-- keel:no-transaction`.
    pub no_transaction: bool,
}

impl Script {
    /// `text` split into steps for `dialect`.
    pub fn from_text(label: &str, text: &str, dialect: Dialect) -> Script {
        let steps = splitter::split(text, dialect)
            .iter()
            .map(|s| step(s.sql(text).to_string(), s.line, dialect))
            .collect();
        Script {
            label: label.to_string(),
            steps,
            no_transaction: false,
        }
    }

    /// A migration's up script, with its `-- keel:no-transaction` directive.
    pub fn from_migration(m: &Migration, dialect: Dialect) -> Script {
        let mut s = Script::from_text(&m.name, &m.script, dialect);
        s.no_transaction = m.directives.no_transaction;
        s
    }

    /// A migration's up script as a shadow replays it: `CONCURRENTLY` removed (meaningless in a
    /// scratch database, and it cannot run in the transaction a replay uses).
    pub fn for_replay(m: &Migration, dialect: Dialect) -> Script {
        let mut s = Script::from_migration(m, dialect);
        for st in &mut s.steps {
            let stripped = strip_concurrently(&st.sql);
            if stripped != st.sql {
                *st = step(stripped, st.line, dialect);
            }
        }
        s
    }

    /// Statements rendered by keel (a repair's plan); they have no line (0).
    pub fn from_statements(label: &str, statements: &[String], dialect: Dialect) -> Script {
        Script {
            label: label.to_string(),
            steps: statements
                .iter()
                .map(|s| step(s.clone(), 0, dialect))
                .collect(),
            no_transaction: false,
        }
    }

    /// How this script runs on `dialect`: in one transaction, or step by step and why. The one
    /// answer to "is this transactional?" for deploy, repair, rollback and replay.
    pub fn mode(&self, dialect: Dialect) -> Mode {
        let step_by_step = |reason: String| Mode::StepByStep { reason };
        if dialect == Dialect::Mysql {
            return step_by_step("MySQL/MariaDB commits DDL implicitly".into());
        }
        if self.no_transaction {
            return step_by_step("-- keel:no-transaction".into());
        }
        for s in &self.steps {
            if let Some(reason) = s.non_transactional {
                return step_by_step(format!("line {}: {reason}", s.line));
            }
            if s.transaction_control {
                return step_by_step(format!(
                    "line {}: the migration manages its own transaction",
                    s.line
                ));
            }
        }
        Mode::Transaction {
            sqlite_fk_off: dialect == Dialect::Sqlite
                && self.steps.iter().any(|s| s.fk_pragma == Some(false)),
            savepoint: false,
        }
    }
}

impl ScriptStep {
    /// Whether the step rolls back the transaction it is in (`ROLLBACK`, `ABORT`; not
    /// `ROLLBACK TO SAVEPOINT`).
    pub fn rolls_back(&self) -> bool {
        self.transaction == Some(false) && {
            let first = self
                .sql
                .split(|c: char| !c.is_ascii_alphabetic())
                .next()
                .unwrap_or("");
            first.eq_ignore_ascii_case("ROLLBACK") || first.eq_ignore_ascii_case("ABORT")
        }
    }
}

fn step(sql: String, line: usize, dialect: Dialect) -> ScriptStep {
    let kind = splitter::classify(&sql, dialect);
    ScriptStep {
        line,
        fk_pragma: kind.sqlite_pragma_foreign_keys,
        transaction_control: kind.transaction_control,
        transaction: transaction_keyword(&sql),
        non_transactional: kind.non_transactional,
        concurrent_index: splitter::concurrent_index(&sql, dialect),
        sql,
    }
}

/// How a script runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In one transaction with its record (the ledger row, or the verification and ledger
    /// write of a repair).
    Transaction {
        /// SQLite: `PRAGMA foreign_keys=OFF` found, so it is set before `BEGIN`, restored after
        /// `COMMIT`, and `PRAGMA foreign_key_check` runs before `COMMIT` (inside a transaction
        /// the pragma is a no-op; Prisma's table redefinitions rely on it).
        sqlite_fk_off: bool,
        /// Inside a transaction the caller holds open (the temporary-schema shadow): a
        /// savepoint stands in for the transaction, and nothing ends the caller's.
        savepoint: bool,
    },
    /// One step at a time, each durable when it ends (its record is written after each).
    StepByStep {
        /// Why (`MySQL/MariaDB commits DDL implicitly`, `line 3: CREATE INDEX CONCURRENTLY …`).
        reason: String,
    },
}

impl Mode {
    /// Whether the script runs in one transaction.
    pub fn transactional(&self) -> bool {
        matches!(self, Mode::Transaction { .. })
    }

    /// Why it runs step by step; `None` in a transaction.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Mode::StepByStep { reason } => Some(reason),
            Mode::Transaction { .. } => None,
        }
    }

    /// SQLite's foreign keys are set off around the transaction.
    pub fn sqlite_fk_off(&self) -> bool {
        matches!(
            self,
            Mode::Transaction {
                sqlite_fk_off: true,
                ..
            }
        )
    }
}

/// A statement's first line, at most 100 characters, for messages.
pub(crate) fn first_line(sql: &str) -> String {
    let line = sql.lines().next().unwrap_or("").trim();
    if line.chars().count() > 100 {
        format!("{}…", line.chars().take(100).collect::<String>())
    } else {
        line.to_string()
    }
}

/// `Some(true)` for a step that opens a transaction (`BEGIN`, `START TRANSACTION`),
/// `Some(false)` for one that ends it (`COMMIT`, `END`, `ROLLBACK`), else `None`.
/// Steps start at their first keyword (the splitter trims comments and whitespace).
fn transaction_keyword(sql: &str) -> Option<bool> {
    let word: String = sql
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    let rest = sql[word.len()..].trim_start().to_ascii_uppercase();
    match word.as_str() {
        "BEGIN" if !rest.starts_with("ATOMIC") => Some(true),
        "START" if rest.starts_with("TRANSACTION") => Some(true),
        "COMMIT" | "END" | "ROLLBACK" | "ABORT" if !rest.starts_with("TO") => Some(false),
        _ => None,
    }
}

/// Removes `CONCURRENTLY` from an index statement.
pub(crate) fn strip_concurrently(step: &str) -> String {
    let upper = step.to_ascii_uppercase();
    match upper.find(" CONCURRENTLY") {
        Some(i) if upper[..i].contains("INDEX") || upper.starts_with("REINDEX") => {
            format!("{}{}", &step[..i], &step[i + " CONCURRENTLY".len()..])
        }
        _ => step.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_concurrently_from_index_statements_only() {
        assert_eq!(
            strip_concurrently("CREATE INDEX CONCURRENTLY i ON t (a)"),
            "CREATE INDEX i ON t (a)"
        );
        assert_eq!(
            strip_concurrently("DROP INDEX CONCURRENTLY IF EXISTS i"),
            "DROP INDEX IF EXISTS i"
        );
        assert_eq!(
            strip_concurrently("SELECT ' CONCURRENTLY'"),
            "SELECT ' CONCURRENTLY'"
        );
    }

    #[test]
    fn one_answer_to_is_this_transactional() {
        let pg = Dialect::Postgres;
        let s = Script::from_text(
            "m",
            "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);",
            pg,
        );
        assert!(s.mode(pg).transactional());
        let s = Script::from_text(
            "m",
            "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);",
            pg,
        );
        assert_eq!(
            s.mode(pg).reason().map(|r| r.starts_with("line 2: ")),
            Some(true)
        );
        let s = Script::from_text("m", "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;", pg);
        assert!(s
            .mode(pg)
            .reason()
            .is_some_and(|r| r.contains("own transaction")));
        assert_eq!(s.steps[0].transaction, Some(true));
        assert_eq!(s.steps[2].transaction, Some(false));
        let s = Script::from_text("m", "CREATE TABLE t (a int)", Dialect::Mysql);
        assert!(!s.mode(Dialect::Mysql).transactional());
        let s = Script::from_text(
            "m",
            "PRAGMA foreign_keys=OFF;\nCREATE TABLE t (a int);\nPRAGMA foreign_keys=ON;",
            Dialect::Sqlite,
        );
        assert!(s.mode(Dialect::Sqlite).sqlite_fk_off());
        let s = Script::from_statements("m", &["CREATE INDEX CONCURRENTLY i ON t (a)".into()], pg);
        assert!(!s.mode(pg).transactional());
    }
}
