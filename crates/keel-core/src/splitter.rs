//! The step splitter: a migration script in, its statements ("steps", DESIGN.md) out, as byte
//! ranges of the script.
//!
//! Built on sqlparser's tokenizer (module `lexer`), so `;` inside strings (`'…'`, `E'…'`, MySQL's
//! backslash escapes), quoted identifiers (`"…"`, `` `…` ``, `[…]`), comments (`--`, `#` on MySQL,
//! `/* */`, nested on PostgreSQL) and PostgreSQL `$tag$` bodies never ends a step. Where sqlparser
//! reads differently from the database the lexer corrects it (MySQL `--<tab>` comments, `X'…'`,
//! SQLite `[…]`, PostgreSQL `$1$` and operators running into `--`), and MySQL's executable
//! comments `/*! … */` count as statement text. On top of the tokens:
//!
//! - **Bodies with `;` inside.** In `CREATE [OR REPLACE] … TRIGGER | FUNCTION | PROCEDURE | EVENT`
//!   statements a `;` ends the step only outside `BEGIN … END`:
//!   - PostgreSQL: `BEGIN ATOMIC … END` (SQL-standard bodies), with `CASE … END` counted inside,
//!     the heuristic of psql's lexer (`psqlscan.l`, `begin_depth`) but requiring `ATOMIC` so a
//!     parameter named `begin` does not open a block.
//!   - SQLite: `BEGIN … END` of triggers, with `CASE … END` counted inside.
//!   - MySQL/MariaDB: nested `BEGIN … END`, `IF … END IF`, `CASE … END [CASE]`, `LOOP`, `WHILE`,
//!     `REPEAT … END LOOP|WHILE|REPEAT`; `IF(…, …)` and `REPEAT(…, …)` calls are told apart from
//!     the statements by their position and their top-level comma. MariaDB's top-level compound
//!     statements (`BEGIN NOT ATOMIC`, `IF …`) are bodies too.
//!
//!   Elsewhere `BEGIN` is plain text, so a transaction-control `BEGIN;` stays its own step.
//! - **PostgreSQL parentheses.** As in psql, `;` inside parentheses does not end a step
//!   (`CREATE RULE … DO ALSO (…; …)`).
//! - **MySQL `DELIMITER`.** As in the `mysql` client, `DELIMITER xx` (at a statement boundary,
//!   through the end of its line) makes `xx` the terminator, found anywhere outside quotes and
//!   comments (`END$$`); the line itself belongs to no step. Inside such a region `;` and
//!   `BEGIN … END` mean nothing to the splitter, as to the client.
//!
//! Steps never contain their terminator, nor leading or trailing whitespace and comments; a
//! script of only comments, whitespace and `;` has no steps. Text the tokenizer rejects
//! (unterminated strings, comments, dollar quotes) is read by hand; what never closes runs to
//! the end of the script and ends up inside the last step, so the database reports it.

mod classify;
mod lexer;
mod targets;
#[cfg(test)]
mod tests;

pub use classify::{classify, StepKind};
pub use targets::{
    concurrent_index, created_table, table_locks, targets, LockMode, TableName, Target,
};

use crate::Dialect;
use lexer::{Kind, Lexer, Tok};
use std::ops::Range;

/// One SQL statement of a migration script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Byte range of the statement in the script: from its first token to the end of its last
    /// one, without the terminating delimiter and without surrounding whitespace and comments.
    pub range: Range<usize>,
    /// 1-based line number where the statement starts (lines end at `\n`).
    pub line: usize,
}

impl Step {
    /// The statement's text within `script` (the script it was split from); empty if the range
    /// does not fit `script`.
    pub fn sql<'a>(&self, script: &'a str) -> &'a str {
        script.get(self.range.clone()).unwrap_or("")
    }

    /// What kind of statement this is ([`classify`] of [`Step::sql`]).
    pub fn classify(&self, script: &str, dialect: Dialect) -> StepKind {
        classify(self.sql(script), dialect)
    }
}

/// Splits `script` into its steps for `dialect`, in order.
///
/// The returned ranges are non-empty, on char boundaries, strictly increasing and
/// non-overlapping; every byte outside them is whitespace, a comment, a delimiter or a MySQL
/// `DELIMITER` line. Never panics; an empty or comment-only script gives no steps.
pub fn split(script: &str, dialect: Dialect) -> Vec<Step> {
    let mut s = Splitter {
        script,
        dialect,
        lexer: Lexer::new(script, dialect),
        delimiter: None,
        stmt: None,
        steps: Vec::new(),
        line_pos: 0,
        line: 1,
    };
    while let Some(tok) = s.lexer.next_tok() {
        match s.delimiter.clone() {
            None => s.default_token(tok),
            Some(d) => s.custom_token(tok, d),
        }
    }
    s.finish();
    s.steps
}

/// Tokens a MySQL `IF (…)` / `REPEAT (…)` lookahead reads at most before deciding.
const LOOKAHEAD: usize = 4096;
/// Significant tokens after `CREATE`/`ALTER` within which the object kind must appear.
const HEADER_TOKENS: u8 = 32;

/// Object kinds whose statements may carry a `BEGIN … END` body.
const ROUTINE_KINDS: &[&str] = &["TRIGGER", "FUNCTION", "PROCEDURE", "EVENT"];
/// Words that show a `CREATE`/`ALTER` statement is about something else.
#[rustfmt::skip]
const OTHER_KINDS: &[&str] = &[
    "ACCESS", "AS", "CAST", "COLLATION", "COLUMN", "CONVERSION", "DATABASE", "DOMAIN", "EXTENSION",
    "FOREIGN", "FULLTEXT", "GROUP", "INDEX", "LOGFILE", "MATERIALIZED", "ON", "OPERATOR", "POLICY",
    "PUBLICATION", "RESOURCE", "ROLE", "RULE", "SCHEMA", "SELECT", "SEQUENCE", "SERVER", "SPATIAL",
    "STATISTICS", "SUBSCRIPTION", "SYSTEM", "TABLE", "TABLESPACE", "TEXT", "TRANSFORM", "TYPE",
    "UNIQUE", "VIEW", "VIRTUAL",
];
/// MySQL words after which a compound statement (`IF`, `LOOP`, …) may start.
#[rustfmt::skip]
const MYSQL_STATEMENT_STARTS: &[&str] = &[
    "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", "ROW", "DETERMINISTIC", "SQL", "DATA",
    "INVOKER", "DEFINER",
];

/// How a statement's `BEGIN`/`END` words are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No bodies: `;` at depth 0 ends it.
    Plain,
    /// Began with `CREATE`/`ALTER`; the object kind is not known yet (significant tokens seen).
    Header(u8),
    /// A routine or compound statement: `BEGIN … END` nest.
    Block,
}

/// The statement being read.
#[derive(Debug)]
struct Stmt {
    start: usize,
    end: usize,
    /// Whether it has text other than `;` (a custom-delimiter step of only `;` is skipped).
    content: bool,
    shape: Shape,
    /// Open `BEGIN`/`CASE`/`IF`/… blocks.
    depth: u32,
    /// Open parentheses (PostgreSQL only).
    parens: u32,
    /// The previous significant token.
    prev: Option<Tok>,
    /// MySQL: the previous token closed a block, so `IF`/`CASE`/`LOOP`/… now is `END IF` etc.
    after_end: bool,
}

struct Splitter<'s> {
    script: &'s str,
    dialect: Dialect,
    lexer: Lexer<'s>,
    /// MySQL custom delimiter (a range of the script, where the `DELIMITER` line names it);
    /// `None` for `;`.
    delimiter: Option<Range<usize>>,
    stmt: Option<Stmt>,
    steps: Vec<Step>,
    /// Line counting: `line` is the line at byte `line_pos`.
    line_pos: usize,
    line: usize,
}

impl Splitter<'_> {
    /// A token while the delimiter is `;`.
    fn default_token(&mut self, tok: Tok) {
        if !tok.kind.significant() {
            return;
        }
        if self.stmt.is_none() {
            if tok.kind == Kind::Semi || self.delimiter_command(tok) {
                return;
            }
            let shape = self.first_shape(tok);
            self.stmt = Some(Stmt {
                start: tok.start,
                end: tok.end,
                content: false,
                shape,
                depth: 0,
                parens: 0,
                prev: None,
                after_end: false,
            });
        }
        let Some(st) = self.stmt.as_mut() else { return };
        if tok.kind == Kind::Semi && st.depth == 0 && st.parens == 0 {
            self.finish();
            return;
        }
        st.end = tok.end;
        st.content |= tok.kind != Kind::Semi;
        let script = self.script;
        match st.shape {
            Shape::Header(n) => {
                st.shape = if tok.is_any_word(script, ROUTINE_KINDS) {
                    Shape::Block
                } else if tok.is_any_word(script, OTHER_KINDS) || n >= HEADER_TOKENS {
                    Shape::Plain
                } else {
                    Shape::Header(n + 1)
                };
            }
            Shape::Block => block_token(st, tok, script, self.dialect, &mut self.lexer),
            Shape::Plain => {}
        }
        if self.dialect == Dialect::Postgres {
            match tok.kind {
                Kind::LParen => st.parens += 1,
                Kind::RParen => st.parens = st.parens.saturating_sub(1),
                _ => {}
            }
        }
        st.prev = Some(tok);
    }

    /// A token while a MySQL custom delimiter is in force.
    fn custom_token(&mut self, tok: Tok, delimiter: Range<usize>) {
        if self.stmt.is_none() && self.delimiter_command(tok) {
            return;
        }
        let script = self.script;
        let delim = script.get(delimiter).unwrap_or(";");
        if tok.kind != Kind::Space {
            // Like the client: the delimiter is looked for before a quote or comment starts, but
            // not inside one.
            let text = script.get(tok.start..tok.end).unwrap_or("");
            let found = text
                .char_indices()
                .map(|(i, _)| tok.start + i)
                .take(if tok.kind.opaque() { 1 } else { usize::MAX })
                .find(|&at| script.get(at..).is_some_and(|rest| rest.starts_with(delim)));
            if let Some(at) = found {
                if at > tok.start {
                    self.extend(tok.start, at, true);
                }
                self.finish();
                let resume = at + delim.len();
                if resume < tok.end && matches!(tok.kind, Kind::Word | Kind::Other) {
                    // The rest of a word or operator is still one: no need to tokenize it again.
                    self.lexer.unread(Tok {
                        kind: tok.kind,
                        start: resume,
                        end: tok.end,
                    });
                } else {
                    self.lexer.resume_at(resume);
                }
                return;
            }
        }
        if tok.kind.significant() {
            self.extend(tok.start, tok.end, tok.kind != Kind::Semi);
        }
    }

    /// Adds `start..end` to the statement (starting one if needed).
    fn extend(&mut self, start: usize, end: usize, content: bool) {
        match self.stmt.as_mut() {
            Some(st) => {
                st.end = end;
                st.content |= content;
            }
            None => {
                self.stmt = Some(Stmt {
                    start,
                    end,
                    content,
                    shape: Shape::Plain,
                    depth: 0,
                    parens: 0,
                    prev: None,
                    after_end: false,
                });
            }
        }
    }

    /// Ends the current statement, recording it as a step if it has content.
    fn finish(&mut self) {
        let Some(st) = self.stmt.take() else { return };
        if !st.content || st.end <= st.start {
            return;
        }
        let newlines = self
            .script
            .as_bytes()
            .get(self.line_pos..st.start)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        self.line += newlines;
        self.line_pos = st.start;
        self.steps.push(Step {
            range: st.start..st.end,
            line: self.line,
        });
    }

    /// At a statement boundary on MySQL: if `tok` starts a `DELIMITER xx` client command, applies
    /// it, skips its line and returns `true`. Like the `mysql` client, the argument is the first
    /// word of the rest of the line (or a quoted string), and the rest of the line is ignored.
    fn delimiter_command(&mut self, tok: Tok) -> bool {
        let script = self.script;
        if self.dialect != Dialect::Mysql || !tok.is_word(script, "DELIMITER") {
            return false;
        }
        let Some(after) = script.get(tok.end..) else {
            return false;
        };
        if !after.starts_with([' ', '\t']) {
            return false;
        }
        let line_end = after.find('\n').map_or(script.len(), |i| tok.end + i);
        let line = &script[tok.end..line_end];
        let lead = line.len() - line.trim_start().len();
        let arg = &line[lead..];
        let (skip, len) = match arg.chars().next() {
            Some(q @ ('\'' | '"' | '`')) => {
                let inner = &arg[1..];
                (1, inner.find(q).unwrap_or_else(|| inner.trim_end().len()))
            }
            _ => (0, arg.find(char::is_whitespace).unwrap_or(arg.len())),
        };
        if len == 0 {
            return false;
        }
        let start = tok.end + lead + skip;
        self.delimiter =
            (script.get(start..start + len) != Some(";")).then_some(start..start + len);
        self.lexer.resume_at(line_end);
        true
    }

    /// The shape of a statement starting with `tok`.
    fn first_shape(&mut self, tok: Tok) -> Shape {
        let script = self.script;
        if tok.is_any_word(script, &["CREATE", "ALTER"]) {
            return Shape::Header(0);
        }
        if self.dialect != Dialect::Mysql || tok.kind != Kind::Word {
            return Shape::Plain;
        }
        // MariaDB compound statements outside stored programs:
        // https://mariadb.com/kb/en/using-compound-statements-outside-of-stored-programs/
        let next = self.lexer.peek_significant(0, LOOKAHEAD);
        let compound = if tok.is_word(script, "BEGIN") {
            next.is_some_and(|t| t.is_word(script, "NOT"))
        } else if tok.is_any_word(script, &["IF", "CASE", "LOOP", "WHILE", "REPEAT"]) {
            true
        } else {
            // `label: BEGIN|LOOP|WHILE|REPEAT`
            next.is_some_and(|t| t.kind == Kind::Colon)
                && self
                    .lexer
                    .peek_significant(1, LOOKAHEAD)
                    .is_some_and(|t| t.is_any_word(script, &["BEGIN", "LOOP", "WHILE", "REPEAT"]))
        };
        if compound {
            Shape::Block
        } else {
            Shape::Plain
        }
    }
}

/// Updates the block depth of a [`Shape::Block`] statement for its significant token `tok`.
fn block_token(st: &mut Stmt, tok: Tok, script: &str, dialect: Dialect, lexer: &mut Lexer<'_>) {
    if tok.kind != Kind::Word {
        st.after_end = false;
        return;
    }
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => {
            if tok.is_word(script, "BEGIN") {
                // PostgreSQL bodies are `BEGIN ATOMIC`; a bare `begin` is a name there.
                let opens = dialect == Dialect::Sqlite
                    || lexer
                        .peek_significant(0, LOOKAHEAD)
                        .is_some_and(|t| t.is_word(script, "ATOMIC"));
                if opens {
                    st.depth += 1;
                }
            } else if tok.is_word(script, "CASE") && st.depth > 0 {
                st.depth += 1;
            } else if tok.is_word(script, "END") && st.depth > 0 {
                st.depth -= 1;
            }
        }
        Dialect::Mysql => {
            // https://dev.mysql.com/doc/refman/8.4/en/sql-compound-statements.html
            if std::mem::take(&mut st.after_end)
                && tok.is_any_word(script, &["IF", "CASE", "LOOP", "WHILE", "REPEAT"])
            {
                return;
            }
            if tok.is_any_word(script, &["BEGIN", "CASE"]) {
                st.depth += 1;
            } else if tok.is_word(script, "END") {
                if st.depth > 0 {
                    st.depth -= 1;
                    st.after_end = true;
                }
            } else if tok.is_any_word(script, &["LOOP", "WHILE"]) {
                if statement_position(st.prev, script) {
                    st.depth += 1;
                }
            } else if tok.is_any_word(script, &["IF", "REPEAT"])
                && statement_position(st.prev, script)
                && !call_with_arguments(lexer)
            {
                st.depth += 1;
            }
        }
    }
}

/// MySQL: whether a statement (rather than an expression) may start after `prev`.
fn statement_position(prev: Option<Tok>, script: &str) -> bool {
    match prev {
        None => true,
        Some(t) => {
            matches!(t.kind, Kind::Semi | Kind::Colon | Kind::RParen)
                || t.is_any_word(script, MYSQL_STATEMENT_STARTS)
        }
    }
}

/// MySQL: whether the next tokens are a parenthesized list with a top-level comma, i.e. the
/// `IF(cond, a, b)` / `REPEAT(str, n)` functions rather than `IF (cond) THEN`.
fn call_with_arguments(lexer: &mut Lexer<'_>) -> bool {
    let mut depth = 0u32;
    for i in 0..LOOKAHEAD {
        let Some(t) = lexer.peek(i) else { return false };
        match t.kind {
            Kind::Space | Kind::Comment => {}
            Kind::LParen => depth += 1,
            Kind::RParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            Kind::Comma if depth == 1 => return true,
            Kind::Semi => return false,
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    false
}
