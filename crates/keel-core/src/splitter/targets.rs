//! What a statement may destroy, read from its own words: the tables it drops, the columns it
//! drops and the columns it gives a new type. The deploy gate counts these on the target when
//! no shadow database is at hand to replay the history (a least-privilege migration user), so
//! the statements' own targets are all it has to go on.
//!
//! Read with the splitter's tokenizer: comments, case and quoting do not matter; anything not
//! recognised yields nothing (the gate then has nothing to count for that statement).

use super::lexer::{Kind, Lexer, Tok};
use crate::Dialect;

/// A table as a statement names it: an optional schema and the name, unquoted (an unquoted
/// PostgreSQL name folded to lower case, as the server folds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// The schema (`s` of `s.t`), when given.
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
}

/// Something a statement destroys or may destroy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `DROP TABLE [IF EXISTS] t, …`: every row of `t`.
    DropTable(TableName),
    /// `ALTER TABLE t DROP [COLUMN] [IF EXISTS] c`: every value of `t.c`.
    DropColumn(TableName, String),
    /// `ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE x` (PostgreSQL), `MODIFY [COLUMN] c x`
    /// and `CHANGE [COLUMN] c d x` (MySQL): the values of `t.c` are cast to `x` (the type's
    /// text, as written).
    Retype(TableName, String, String),
}

/// The [`Target`]s of one statement `sql` for `dialect`, in the order the statement names
/// them. Never panics; a statement of another kind gives none.
pub fn targets(sql: &str, dialect: Dialect) -> Vec<Target> {
    let toks = significant(sql, dialect, usize::MAX);
    let r = Reader {
        sql,
        toks: &toks,
        dialect,
    };
    if r.is(0, "DROP") && r.is(1, "TABLE") {
        return r.drop_tables(2);
    }
    if r.is(0, "ALTER") && r.is(1, "TABLE") {
        return r.alter_table(2);
    }
    Vec::new()
}

/// The index a PostgreSQL `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON
/// [ONLY] [s.]t …` creates: its name, in the schema of its table (an index lives in its
/// table's schema). `None` for any other statement, and for an unnamed index (the server
/// picks the name).
pub fn concurrent_index(sql: &str, dialect: Dialect) -> Option<TableName> {
    if dialect != Dialect::Postgres {
        return None;
    }
    // The name and the table come within the first dozen tokens.
    let toks = significant(sql, dialect, 16);
    let r = Reader {
        sql,
        toks: &toks,
        dialect,
    };
    let mut i = 1;
    if !r.is(0, "CREATE") {
        return None;
    }
    if r.is(i, "UNIQUE") {
        i += 1;
    }
    if !(r.is(i, "INDEX") && r.is(i + 1, "CONCURRENTLY")) {
        return None;
    }
    i += 2;
    if r.is(i, "IF") && r.is(i + 1, "NOT") && r.is(i + 2, "EXISTS") {
        i += 3;
    }
    if r.is(i, "ON") {
        return None;
    }
    let (name, i) = r.ident(i)?;
    if !r.is(i, "ON") {
        return None;
    }
    let i = if r.is(i + 1, "ONLY") { i + 2 } else { i + 1 };
    let (table, _) = r.table(i)?;
    Some(TableName {
        schema: table.schema,
        name,
    })
}

/// A PostgreSQL table lock mode a statement takes
/// (<https://www.postgresql.org/docs/current/explicit-locking.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// `INSERT`, `UPDATE`, `DELETE`.
    RowExclusive,
    /// `CREATE INDEX` (without `CONCURRENTLY`).
    Share,
    /// The table a new foreign key references, and the table that gets it.
    ShareRowExclusive,
    /// `ALTER TABLE`, `DROP TABLE`, `TRUNCATE`.
    AccessExclusive,
}

impl LockMode {
    /// The mode as `LOCK TABLE … IN … MODE` spells it.
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Whether a transaction holding `self` on a table takes `other` on it without waiting:
    /// every mode that conflicts with `other` conflicts with `self` too, so no other session
    /// can hold one (the conflict table of the PostgreSQL documentation).
    pub fn covers(self, other: LockMode) -> bool {
        self == other
            || self == LockMode::AccessExclusive
            || (self == LockMode::ShareRowExclusive && other != LockMode::AccessExclusive)
    }
}

/// The table a PostgreSQL `CREATE [TEMP | TEMPORARY | UNLOGGED] TABLE t …` statement creates;
/// `None` for `CREATE TABLE IF NOT EXISTS` (the table may be an existing one) and for any
/// other statement.
pub fn created_table(sql: &str, dialect: Dialect) -> Option<TableName> {
    let toks = significant(sql, dialect, 12);
    let r = Reader {
        sql,
        toks: &toks,
        dialect,
    };
    if !r.is(0, "CREATE") {
        return None;
    }
    let mut i = 1;
    if ["TEMP", "TEMPORARY", "UNLOGGED"].iter().any(|w| r.is(i, w)) {
        i += 1;
    }
    if !r.is(i, "TABLE") || (r.is(i + 1, "IF") && r.is(i + 2, "NOT")) {
        return None;
    }
    r.table(i + 1).map(|(t, _)| t)
}

/// The table locks a PostgreSQL statement takes, as far as its words tell: `ALTER TABLE t`,
/// `DROP TABLE t`, `TRUNCATE t` (ACCESS EXCLUSIVE), `CREATE INDEX … ON t` (SHARE),
/// `REFERENCES u` in `CREATE TABLE` / `ALTER TABLE` (SHARE ROW EXCLUSIVE on `u`), `INSERT INTO t`,
/// `UPDATE t`, `DELETE FROM t` (ROW EXCLUSIVE). In the order the statement names them;
/// other statements give none (they are left to take their own locks).
pub fn table_locks(sql: &str, dialect: Dialect) -> Vec<(TableName, LockMode)> {
    if dialect != Dialect::Postgres {
        return Vec::new();
    }
    let toks = significant(sql, dialect, usize::MAX);
    let r = Reader {
        sql,
        toks: &toks,
        dialect,
    };
    let mut out = Vec::new();
    let at = |i: usize, mode: LockMode, out: &mut Vec<(TableName, LockMode)>| {
        if let Some((t, _)) = r.table(i) {
            out.push((t, mode));
        }
    };
    let skip_only = |i: usize| if r.is(i, "ONLY") { i + 1 } else { i };
    if r.is(0, "ALTER") && r.is(1, "TABLE") {
        at(
            skip_only(r.if_exists(2)),
            LockMode::AccessExclusive,
            &mut out,
        );
    } else if r.is(0, "DROP") && r.is(1, "TABLE") {
        for t in r.drop_tables(2) {
            if let Target::DropTable(t) = t {
                out.push((t, LockMode::AccessExclusive));
            }
        }
    } else if r.is(0, "TRUNCATE") {
        let i = if r.is(1, "TABLE") { 2 } else { 1 };
        at(skip_only(i), LockMode::AccessExclusive, &mut out);
    } else if r.is(0, "CREATE") && (r.is(1, "INDEX") || (r.is(1, "UNIQUE") && r.is(2, "INDEX"))) {
        if let Some(on) = (1..toks.len().min(16)).find(|&i| r.is(i, "ON")) {
            if !(1..on).any(|i| r.is(i, "CONCURRENTLY")) {
                at(skip_only(on + 1), LockMode::Share, &mut out);
            }
        }
    } else if r.is(0, "INSERT") && r.is(1, "INTO") {
        at(2, LockMode::RowExclusive, &mut out);
    } else if r.is(0, "UPDATE") {
        at(skip_only(1), LockMode::RowExclusive, &mut out);
    } else if r.is(0, "DELETE") && r.is(1, "FROM") {
        at(skip_only(2), LockMode::RowExclusive, &mut out);
    }
    if (r.is(0, "ALTER") || r.is(0, "CREATE")) && r.is(1, "TABLE") {
        for i in 2..toks.len() {
            if r.is(i, "REFERENCES") {
                at(i + 1, LockMode::ShareRowExclusive, &mut out);
            }
        }
    }
    out
}

/// The first `limit` significant tokens of `sql` (no whitespace, no comments).
fn significant(sql: &str, dialect: Dialect, limit: usize) -> Vec<Tok> {
    let mut lexer = Lexer::new(sql, dialect);
    let mut toks = Vec::new();
    while toks.len() < limit {
        match lexer.next_tok() {
            Some(t) if t.kind.significant() => toks.push(t),
            Some(_) => {}
            None => break,
        }
    }
    toks
}

struct Reader<'a> {
    sql: &'a str,
    toks: &'a [Tok],
    dialect: Dialect,
}

impl Reader<'_> {
    fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| t.is_word(self.sql, kw))
    }

    fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn text(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .and_then(|t| self.sql.get(t.start..t.end))
            .unwrap_or("")
    }

    /// Skips `IF EXISTS` at `i`.
    fn if_exists(&self, i: usize) -> usize {
        if self.is(i, "IF") && self.is(i + 1, "EXISTS") {
            i + 2
        } else {
            i
        }
    }

    /// The identifier at `i`, unquoted, and the index after it.
    fn ident(&self, i: usize) -> Option<(String, usize)> {
        let text = self.text(i);
        match self.kind(i)? {
            Kind::Word => Some((
                if self.dialect == Dialect::Postgres {
                    text.to_lowercase()
                } else {
                    text.to_string()
                },
                i + 1,
            )),
            Kind::Quoted => {
                let mut chars = text.chars();
                let open = chars.next()?;
                let close = if open == '[' { ']' } else { open };
                let inner = text.get(open.len_utf8()..text.len().checked_sub(close.len_utf8())?)?;
                let doubled: String = [close, close].iter().collect();
                Some((inner.replace(&doubled, &close.to_string()), i + 1))
            }
            _ => None,
        }
    }

    /// A possibly schema-qualified table name at `i`, and the index after it.
    fn table(&self, i: usize) -> Option<(TableName, usize)> {
        let (first, next) = self.ident(i)?;
        if self.text(next) == "." {
            let (name, after) = self.ident(next + 1)?;
            return Some((
                TableName {
                    schema: Some(first),
                    name,
                },
                after,
            ));
        }
        Some((
            TableName {
                schema: None,
                name: first,
            },
            next,
        ))
    }

    fn drop_tables(&self, i: usize) -> Vec<Target> {
        let mut i = self.if_exists(i);
        let mut out = Vec::new();
        while let Some((t, next)) = self.table(i) {
            out.push(Target::DropTable(t));
            if self.kind(next) != Some(Kind::Comma) {
                break;
            }
            i = next + 1;
        }
        out
    }

    fn alter_table(&self, i: usize) -> Vec<Target> {
        let mut i = self.if_exists(i);
        if self.is(i, "ONLY") {
            i += 1;
        }
        let Some((table, mut i)) = self.table(i) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // One action per top-level comma.
        while i < self.toks.len() {
            let end = self.action_end(i);
            if let Some(t) = self.action(&table, i, end) {
                out.push(t);
            }
            i = end + 1;
        }
        out
    }

    /// The index of the comma that ends the action starting at `i` (or the end).
    fn action_end(&self, i: usize) -> usize {
        let mut depth = 0usize;
        for j in i..self.toks.len() {
            match self.kind(j) {
                Some(Kind::LParen) => depth += 1,
                Some(Kind::RParen) => depth = depth.saturating_sub(1),
                Some(Kind::Comma) if depth == 0 => return j,
                _ => {}
            }
        }
        self.toks.len()
    }

    fn action(&self, table: &TableName, i: usize, end: usize) -> Option<Target> {
        let column = |j: usize| -> Option<(String, usize)> {
            let j = if self.is(j, "COLUMN") { j + 1 } else { j };
            let j = self.if_exists(j);
            self.ident(j).filter(|(_, n)| *n <= end)
        };
        if self.is(i, "DROP") {
            // DROP CONSTRAINT / INDEX / PRIMARY KEY / FOREIGN KEY / … drop no values.
            if [
                "CONSTRAINT",
                "INDEX",
                "KEY",
                "PRIMARY",
                "FOREIGN",
                "CHECK",
                "PARTITION",
            ]
            .iter()
            .any(|k| self.is(i + 1, k))
                || (self.is(i + 1, "DEFAULT") || self.is(i + 1, "NOT"))
            {
                return None;
            }
            let (c, _) = column(i + 1)?;
            return Some(Target::DropColumn(table.clone(), c));
        }
        if self.is(i, "ALTER") {
            let (c, j) = column(i + 1)?;
            let j = if self.is(j, "SET") && self.is(j + 1, "DATA") {
                j + 2
            } else {
                j
            };
            if !self.is(j, "TYPE") {
                return None;
            }
            return Some(Target::Retype(table.clone(), c, self.type_text(j + 1, end)));
        }
        if self.dialect == Dialect::Mysql && self.is(i, "MODIFY") {
            let (c, j) = column(i + 1)?;
            return Some(Target::Retype(table.clone(), c, self.type_text(j, end)));
        }
        if self.dialect == Dialect::Mysql && self.is(i, "CHANGE") {
            let (c, j) = column(i + 1)?;
            let (_, j) = self.ident(j)?;
            return Some(Target::Retype(table.clone(), c, self.type_text(j, end)));
        }
        None
    }

    /// The type's text from `i`: its words and parenthesised arguments, up to what no longer
    /// belongs to a type (`USING`, `NOT`, `NULL`, `DEFAULT`, `COLLATE`, …) or `end`.
    fn type_text(&self, i: usize, end: usize) -> String {
        const STOP: [&str; 14] = [
            "USING",
            "NOT",
            "NULL",
            "DEFAULT",
            "COLLATE",
            "CHARACTER",
            "CHARSET",
            "COMMENT",
            "AUTO_INCREMENT",
            "PRIMARY",
            "UNIQUE",
            "FIRST",
            "AFTER",
            "ON",
        ];
        let (Some(first), mut last) = (self.toks.get(i), None) else {
            return String::new();
        };
        let mut depth = 0usize;
        for j in i..end {
            match self.kind(j) {
                Some(Kind::LParen) => depth += 1,
                Some(Kind::RParen) => depth = depth.saturating_sub(1),
                _ if depth == 0 && j > i && STOP.iter().any(|k| self.is(j, k)) => break,
                _ => {}
            }
            last = self.toks.get(j);
        }
        let end_byte = last.map_or(first.end, |t| t.end);
        self.sql
            .get(first.start..end_byte)
            .unwrap_or("")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(schema: Option<&str>, name: &str) -> TableName {
        TableName {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn drop_table_names_every_table() {
        assert_eq!(
            targets(
                "DROP TABLE IF EXISTS \"Users\", public.orders CASCADE",
                Dialect::Postgres
            ),
            vec![
                Target::DropTable(t(None, "Users")),
                Target::DropTable(t(Some("public"), "orders"))
            ]
        );
        assert_eq!(
            targets("drop /* x */ table `a``b`", Dialect::Mysql),
            vec![Target::DropTable(t(None, "a`b"))]
        );
    }

    #[test]
    fn alter_table_actions() {
        assert_eq!(
            targets(
                "ALTER TABLE ONLY \"t\" DROP COLUMN \"a\", DROP IF EXISTS b, ADD COLUMN c int, DROP CONSTRAINT k, ALTER COLUMN \"d\" SET DATA TYPE VARCHAR(10) USING d::varchar(10), ALTER COLUMN e TYPE numeric(10, 2), ALTER COLUMN f SET NOT NULL, ALTER COLUMN g DROP DEFAULT",
                Dialect::Postgres
            ),
            vec![
                Target::DropColumn(t(None, "t"), "a".into()),
                Target::DropColumn(t(None, "t"), "b".into()),
                Target::Retype(t(None, "t"), "d".into(), "VARCHAR(10)".into()),
                Target::Retype(t(None, "t"), "e".into(), "numeric(10, 2)".into()),
            ]
        );
        assert_eq!(
            targets(
                "ALTER TABLE `t` MODIFY `a` VARCHAR(5) NOT NULL, CHANGE COLUMN b c INT UNSIGNED DEFAULT 0, DROP PRIMARY KEY, DROP INDEX i, DROP `x`",
                Dialect::Mysql
            ),
            vec![
                Target::Retype(t(None, "t"), "a".into(), "VARCHAR(5)".into()),
                Target::Retype(t(None, "t"), "b".into(), "INT UNSIGNED".into()),
                Target::DropColumn(t(None, "t"), "x".into()),
            ]
        );
    }

    #[test]
    fn the_index_a_concurrent_create_makes() {
        let pg = Dialect::Postgres;
        assert_eq!(
            concurrent_index(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"Users_email_key\" ON \"app\".\"Users\" (email)",
                pg
            ),
            Some(t(Some("app"), "Users_email_key"))
        );
        assert_eq!(
            concurrent_index("create index concurrently i on only t using gin (a)", pg),
            Some(t(None, "i"))
        );
        for sql in [
            "CREATE INDEX CONCURRENTLY ON t (a)",
            "CREATE INDEX i ON t (a)",
            "DROP INDEX CONCURRENTLY i",
            "CREATE INDEX CONCURRENTLY",
        ] {
            assert_eq!(concurrent_index(sql, pg), None, "{sql}");
        }
        assert_eq!(
            concurrent_index("CREATE INDEX CONCURRENTLY i ON t (a)", Dialect::Mysql),
            None
        );
    }

    #[test]
    fn the_locks_a_statement_takes() {
        let pg = Dialect::Postgres;
        assert_eq!(
            table_locks(
                "ALTER TABLE ONLY \"t\" ADD CONSTRAINT f FOREIGN KEY (u_id) REFERENCES public.u (id)",
                pg
            ),
            vec![
                (t(None, "t"), LockMode::AccessExclusive),
                (t(Some("public"), "u"), LockMode::ShareRowExclusive)
            ]
        );
        assert_eq!(
            table_locks("CREATE UNIQUE INDEX i ON t (a)", pg),
            vec![(t(None, "t"), LockMode::Share)]
        );
        assert!(table_locks("CREATE INDEX CONCURRENTLY i ON t (a)", pg).is_empty());
        assert_eq!(
            table_locks("CREATE TABLE c (id int, p int REFERENCES p (id))", pg),
            vec![(t(None, "p"), LockMode::ShareRowExclusive)]
        );
        assert_eq!(
            table_locks("UPDATE t SET a = 1", pg),
            vec![(t(None, "t"), LockMode::RowExclusive)]
        );
        assert_eq!(table_locks("DROP TABLE a, b", pg).len(), 2);
        assert!(table_locks("SELECT 1", pg).is_empty());
        assert!(table_locks("ALTER TABLE t ADD COLUMN a int", Dialect::Mysql).is_empty());
    }

    #[test]
    fn created_table_is_the_new_table_only() {
        let pg = Dialect::Postgres;
        assert_eq!(
            created_table("CREATE TABLE \"A\".b (id int)", pg),
            Some(t(Some("A"), "b"))
        );
        assert_eq!(
            created_table("create unlogged table x as select 1", pg),
            Some(t(None, "x"))
        );
        assert_eq!(
            created_table("CREATE TABLE IF NOT EXISTS x (id int)", pg),
            None
        );
        assert_eq!(created_table("CREATE INDEX i ON t (a)", pg), None);
        assert_eq!(created_table("CREATE", pg), None);
    }

    #[test]
    fn lock_modes_cover_as_the_conflict_table_says() {
        use LockMode::*;
        assert!(AccessExclusive.covers(Share));
        assert!(ShareRowExclusive.covers(RowExclusive));
        assert!(ShareRowExclusive.covers(Share));
        assert!(!ShareRowExclusive.covers(AccessExclusive));
        assert!(!Share.covers(RowExclusive));
        assert!(!RowExclusive.covers(Share));
    }

    #[test]
    fn other_statements_and_junk_give_nothing() {
        for sql in [
            "SELECT 1",
            "CREATE TABLE t (a int)",
            "ALTER TABLE",
            "DROP TABLE",
            "ALTER TABLE t",
            "ALTER TABLE t DROP",
            "\u{0}",
            "ALTER TABLE t ALTER COLUMN",
        ] {
            assert!(targets(sql, Dialect::Postgres).is_empty(), "{sql}");
        }
    }
}
