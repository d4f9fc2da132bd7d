//! Facts about one step that decide how it can be run: does it control the transaction itself,
//! can it run inside a transaction block, does it switch SQLite's foreign keys.

use super::lexer::{Kind, Lexer, Tok};
use crate::Dialect;

/// What [`classify`] found out about one step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepKind {
    /// The step starts or ends a transaction itself: `BEGIN`, `START TRANSACTION`, `COMMIT`,
    /// `END`, `ROLLBACK` (not `ROLLBACK TO` a savepoint), PostgreSQL's `ABORT` and
    /// `PREPARE TRANSACTION`. A migration with such steps carries its own transaction (Prisma's
    /// enum migrations wrap themselves in `BEGIN; … COMMIT;`), so keel must not open one around it.
    pub transaction_control: bool,
    /// Why the step cannot run inside a transaction block on this dialect, e.g.
    /// `"CREATE INDEX CONCURRENTLY cannot run inside a transaction block"`; `None` if it can.
    /// MySQL never says so (its DDL commits implicitly instead of failing).
    pub non_transactional: Option<&'static str>,
    /// SQLite only: `Some(on)` when the step is `PRAGMA [schema.]foreign_keys = <bool>` (or
    /// `foreign_keys(<bool>)`; values `ON`/`OFF`, `TRUE`/`FALSE`, `YES`/`NO`, integers, any case,
    /// optionally quoted). SQLite ignores it inside a transaction
    /// (<https://www.sqlite.org/pragma.html#pragma_foreign_keys>), which is why it matters.
    pub sqlite_pragma_foreign_keys: Option<bool>,
}

/// Classifies the statement `sql` (one step, without its terminator) for `dialect`, reading its
/// leading keywords with the splitter's tokenizer (comments and case do not matter).
/// Never panics; text that is no statement gives `StepKind::default()`.
pub fn classify(sql: &str, dialect: Dialect) -> StepKind {
    // Every rule looks at the statement's first few words.
    const MAX_TOKENS: usize = 64;
    let mut lexer = Lexer::new(sql, dialect);
    let mut toks = Vec::new();
    while toks.len() < MAX_TOKENS {
        match lexer.next_tok() {
            Some(t) if t.kind.significant() => toks.push(t),
            Some(_) => {}
            None => break,
        }
    }
    let w = Words { sql, toks: &toks };
    StepKind {
        transaction_control: transaction_control(&w, dialect),
        non_transactional: match dialect {
            Dialect::Postgres => postgres_non_transactional(&w),
            Dialect::Sqlite => w
                .is(0, "VACUUM")
                .then_some("VACUUM cannot run inside a transaction"),
            Dialect::Mysql => None,
        },
        sqlite_pragma_foreign_keys: if dialect == Dialect::Sqlite {
            pragma_foreign_keys(&w)
        } else {
            None
        },
    }
}

/// The significant tokens of a statement, with keyword tests.
struct Words<'a> {
    sql: &'a str,
    toks: &'a [Tok],
}

impl Words<'_> {
    /// Whether token `i` is the unquoted word `kw`.
    fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_word(self.sql, kw))
    }

    /// The first index at or after `from` holding the word `kw`.
    fn find(&self, from: usize, kw: &str) -> Option<usize> {
        (from..self.toks.len()).find(|&i| self.is(i, kw))
    }

    /// The text of token `i`.
    fn text(&self, i: usize) -> Option<&str> {
        self.toks.get(i).and_then(|t| self.sql.get(t.start..t.end))
    }
}

fn transaction_control(w: &Words<'_>, dialect: Dialect) -> bool {
    if w.is(0, "BEGIN") {
        // MariaDB's `BEGIN NOT ATOMIC` starts a compound statement, not a transaction.
        return !(dialect == Dialect::Mysql && w.is(1, "NOT"));
    }
    if w.is(0, "START") && w.is(1, "TRANSACTION") {
        return dialect != Dialect::Sqlite;
    }
    if w.is(0, "COMMIT") {
        return !w.is(1, "PREPARED");
    }
    if w.is(0, "END") {
        return dialect != Dialect::Mysql;
    }
    if w.is(0, "ROLLBACK") {
        // `ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] x` stays inside the transaction.
        return !(w.is(1, "PREPARED") || w.is(1, "TO") || w.is(2, "TO"));
    }
    dialect == Dialect::Postgres
        && (w.is(0, "ABORT") || (w.is(0, "PREPARE") && w.is(1, "TRANSACTION")))
}

/// PostgreSQL statements that fail with "cannot run inside a transaction block" (SQLSTATE
/// 25001), per the manual page of each command.
fn postgres_non_transactional(w: &Words<'_>) -> Option<&'static str> {
    if w.is(0, "CREATE") {
        let i = if w.is(1, "UNIQUE") { 2 } else { 1 };
        if w.is(i, "INDEX") && w.is(i + 1, "CONCURRENTLY") {
            return Some("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
        }
        if w.is(1, "DATABASE") {
            return Some("CREATE DATABASE cannot run inside a transaction block");
        }
        if w.is(1, "TABLESPACE") {
            return Some("CREATE TABLESPACE cannot run inside a transaction block");
        }
        if w.is(1, "SUBSCRIPTION") {
            return Some("CREATE SUBSCRIPTION cannot run inside a transaction block when it creates a replication slot");
        }
        return None;
    }
    if w.is(0, "DROP") {
        if w.is(1, "INDEX") && w.is(2, "CONCURRENTLY") {
            return Some("DROP INDEX CONCURRENTLY cannot run inside a transaction block");
        }
        if w.is(1, "DATABASE") {
            return Some("DROP DATABASE cannot run inside a transaction block");
        }
        if w.is(1, "TABLESPACE") {
            return Some("DROP TABLESPACE cannot run inside a transaction block");
        }
        if w.is(1, "SUBSCRIPTION") {
            return Some("DROP SUBSCRIPTION cannot run inside a transaction block when the subscription has a replication slot");
        }
        return None;
    }
    if w.is(0, "REINDEX") {
        if w.find(1, "CONCURRENTLY").is_some() {
            return Some("REINDEX CONCURRENTLY cannot run inside a transaction block");
        }
        // Skip an option list: REINDEX (VERBOSE) SCHEMA s
        let mut i = 1;
        if w.toks.get(1).is_some_and(|t| t.kind == Kind::LParen) {
            i = (1..w.toks.len())
                .find(|&j| w.toks[j].kind == Kind::RParen)
                .map_or(w.toks.len(), |j| j + 1);
        }
        if w.is(i, "SCHEMA") || w.is(i, "DATABASE") || w.is(i, "SYSTEM") {
            return Some(
                "REINDEX SCHEMA, DATABASE and SYSTEM cannot run inside a transaction block",
            );
        }
        return None;
    }
    if w.is(0, "ALTER") {
        if w.is(1, "SYSTEM") {
            return Some("ALTER SYSTEM cannot run inside a transaction block");
        }
        if w.is(1, "DATABASE") && w.is(3, "SET") && w.is(4, "TABLESPACE") {
            return Some("ALTER DATABASE … SET TABLESPACE cannot run inside a transaction block");
        }
        if w.is(1, "TABLE") {
            if let Some(d) = w.find(2, "DETACH") {
                if w.is(d + 1, "PARTITION") && w.find(d + 2, "CONCURRENTLY").is_some() {
                    return Some("ALTER TABLE … DETACH PARTITION … CONCURRENTLY cannot run inside a transaction block");
                }
            }
        }
        return None;
    }
    if w.is(0, "VACUUM") {
        return Some("VACUUM cannot run inside a transaction block");
    }
    if w.is(0, "CLUSTER") {
        // Only the form without a table: CLUSTER [VERBOSE] / CLUSTER (options)
        let rest = &w.toks[1..];
        let without_table = match rest.first() {
            None => true,
            Some(t) if t.kind == Kind::LParen => {
                rest.last().is_some_and(|t| t.kind == Kind::RParen)
            }
            Some(_) => rest.len() == 1 && w.is(1, "VERBOSE"),
        };
        return without_table
            .then_some("CLUSTER without a table cannot run inside a transaction block");
    }
    if w.is(0, "DISCARD") && w.is(1, "ALL") {
        return Some("DISCARD ALL cannot run inside a transaction block");
    }
    if (w.is(0, "COMMIT") || w.is(0, "ROLLBACK")) && w.is(1, "PREPARED") {
        return Some("COMMIT PREPARED and ROLLBACK PREPARED cannot run inside a transaction block");
    }
    None
}

/// `PRAGMA [schema.]foreign_keys = v` / `PRAGMA [schema.]foreign_keys(v)`.
fn pragma_foreign_keys(w: &Words<'_>) -> Option<bool> {
    if !w.is(0, "PRAGMA") {
        return None;
    }
    let name = if w.text(2) == Some(".") { 3 } else { 1 };
    if !unquote(w, name)?.eq_ignore_ascii_case("foreign_keys") {
        return None;
    }
    let value = match w.text(name + 1)? {
        "=" if w.toks.len() == name + 3 => unquote(w, name + 2)?,
        "(" if w.toks.len() == name + 4 && w.text(name + 3) == Some(")") => unquote(w, name + 2)?,
        _ => return None,
    };
    // sqlite3GetBoolean: https://www.sqlite.org/pragma.html ("boolean values")
    match value.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => Some(true),
        "off" | "no" | "false" => Some(false),
        v => v.parse::<i64>().ok().map(|n| n != 0),
    }
}

/// The text of token `i` without its quotes, if it is a word, quoted identifier, string or number.
fn unquote<'a>(w: &Words<'a>, i: usize) -> Option<&'a str> {
    let t = w.toks.get(i)?;
    let text = w.sql.get(t.start..t.end)?;
    match t.kind {
        Kind::Word | Kind::Other => Some(text),
        Kind::Quoted | Kind::Str if text.len() >= 2 => text.get(1..text.len() - 1),
        _ => None,
    }
}
