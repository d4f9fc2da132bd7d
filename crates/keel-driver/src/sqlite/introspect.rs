//! SQLite introspection: the `main` database read from `sqlite_schema` and the table-valued
//! pragma functions (`pragma_table_list`, `pragma_table_xinfo`, `pragma_index_list`,
//! `pragma_index_xinfo`, `pragma_foreign_key_list`) into keel's schema model, one query per kind
//! of object whatever the number of tables (the queries are the `.sql` files beside this
//! module).
//!
//! What the pragmas do not report is read from the stored `CREATE` statements with a small
//! tokenizer ([`parse_table`], [`parse_index`]): check constraints, a named primary key
//! (`CONSTRAINT pk PRIMARY KEY`), column collations, generated column expressions,
//! `AUTOINCREMENT`, `DEFERRABLE` foreign keys, expression key parts and partial index
//! predicates.
//!
//! Canonical choices: a rowid alias (`id INTEGER PRIMARY KEY` on a rowid table) is NOT NULL
//! whether or not the statement says so (SQLite never stores NULL there); types are as
//! declared, uppercased; foreign keys, the primary key and unique constraints are unnamed
//! (SQLite does not keep their names), unique constraints keep the generated
//! `sqlite_autoindex_<table>_<n>` name of their index. Not in the model: virtual tables.

use crate::DriverError;
use keel_core::ledger::{KEEL_TABLE, PRISMA_TABLE};
use keel_core::schema::{
    normalize, Action, AutoIncrement, Check, Column, ColumnId, ForeignKey, Generated, Index,
    IndexColumn, IndexPart, PrimaryKey, Schema, TableId, Trigger, TriggerState, View,
};
use keel_core::Dialect;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;
use std::collections::HashMap;

const TABLES: &str = include_str!("introspect/tables.sql");
const COLUMNS: &str = include_str!("introspect/columns.sql");
const INDEXES: &str = include_str!("introspect/indexes.sql");
const FOREIGN_KEYS: &str = include_str!("introspect/foreign_keys.sql");
const VIEWS: &str = include_str!("introspect/views.sql");
const TRIGGERS: &str = include_str!("introspect/triggers.sql");

/// Reads the schema of the `main` database (6 queries).
///
/// # Errors
/// A server or connection error.
pub(crate) async fn introspect(conn: &mut SqliteConnection) -> Result<Schema, DriverError> {
    let mut schema = Schema::default();
    // Lowercase name → id: SQLite matches table and column names case-insensitively.
    let mut tables: HashMap<String, TableInfo> = HashMap::new();
    let mut columns: HashMap<(TableId, String), ColumnId> = HashMap::new();

    for r in fetch(conn, TABLES).await? {
        let name: String = get(&r, 0)?;
        let without_rowid: i64 = get(&r, 1)?;
        let sql: Option<String> = get(&r, 2)?;
        let strict: i64 = get(&r, 3)?;
        let id = schema.push_table(None, name.clone());
        schema.tables[id.idx()].options = match (without_rowid != 0, strict != 0) {
            (true, true) => Some("WITHOUT ROWID, STRICT".into()),
            (true, false) => Some("WITHOUT ROWID".into()),
            (false, true) => Some("STRICT".into()),
            (false, false) => None,
        };
        let parsed = sql.as_deref().map(parse_table).unwrap_or_default();
        for (name, expression) in &parsed.checks {
            schema.checks.push(Check {
                table: id,
                name: name.clone(),
                expression: expression.clone(),
                not_valid: false,
            });
        }
        tables.insert(
            name.to_ascii_lowercase(),
            TableInfo {
                id,
                rowid: without_rowid == 0,
                parsed,
                pk: Vec::new(),
            },
        );
    }

    for r in fetch(conn, COLUMNS).await? {
        let table: String = get(&r, 0)?;
        let Some(info) = tables.get_mut(&table.to_ascii_lowercase()) else {
            continue;
        };
        let name: String = get(&r, 1)?;
        let declared: String = get::<Option<String>>(&r, 2)?.unwrap_or_default();
        let not_null: i64 = get(&r, 3)?;
        let default: Option<String> = get(&r, 4)?;
        let pk: i64 = get(&r, 5)?;
        let hidden: i64 = get(&r, 6)?;
        let parsed = info.parsed.columns.get(&name.to_ascii_lowercase());
        let generated = matches!(hidden, 2 | 3).then(|| Generated {
            expression: parsed.and_then(|c| c.generated.clone()).unwrap_or_default(),
            stored: hidden == 3,
        });
        let column = Column {
            table: info.id,
            name: name.clone(),
            data_type: normalize::data_type(Dialect::Sqlite, &declared),
            nullable: not_null == 0,
            default: default.and_then(|d| normalize::default_expr(Dialect::Sqlite, &d)),
            auto_increment: None,
            generated,
            collation: parsed.and_then(|c| c.collation.clone()),
            comment: None,
            on_update: None,
            invisible: false,
        };
        let id = schema.push_column(column);
        columns.insert((info.id, name.to_ascii_lowercase()), id);
        if pk > 0 {
            info.pk.push((pk, id));
        }
    }

    for info in tables.values_mut() {
        if info.pk.is_empty() {
            continue;
        }
        info.pk.sort_by_key(|(position, _)| *position);
        let key: Vec<ColumnId> = info.pk.iter().map(|(_, id)| *id).collect();
        if let [only] = key[..] {
            let column = &mut schema.columns[only.idx()];
            // A rowid alias: the only key column, declared exactly INTEGER, on a rowid table.
            if info.rowid && column.data_type == "INTEGER" {
                column.nullable = false;
                // AUTOINCREMENT is only allowed on a rowid alias.
                if info.parsed.autoincrement {
                    column.auto_increment = Some(AutoIncrement::AutoIncrement);
                }
            }
        }
        schema.tables[info.id.idx()].primary_key = Some(PrimaryKey {
            name: info.parsed.primary_key_name.clone(),
            columns: key,
        });
    }

    let mut current: Option<Index> = None;
    let mut parts: Vec<String> = Vec::new();
    for r in fetch(conn, INDEXES).await? {
        let table: String = get(&r, 0)?;
        let Some(info) = tables.get(&table.to_ascii_lowercase()) else {
            continue;
        };
        let name: String = get(&r, 1)?;
        let unique: i64 = get(&r, 2)?;
        let origin: String = get(&r, 3)?;
        let partial: i64 = get(&r, 4)?;
        let seqno: i64 = get(&r, 5)?;
        let cid: i64 = get(&r, 6)?;
        let column: Option<String> = get(&r, 7)?;
        let descending: i64 = get(&r, 8)?;
        let collation: Option<String> = get(&r, 9)?;
        let sql: Option<String> = get(&r, 10)?;
        // The primary key is read from the columns.
        if origin == "pk" {
            continue;
        }
        let starts = match &current {
            Some(i) => i.table != info.id || i.name != name,
            None => true,
        };
        if starts {
            if let Some(done) = current.take() {
                schema.indexes.push(done);
            }
            let parsed = sql.as_deref().map(parse_index).unwrap_or_default();
            parts = parsed.parts;
            current = Some(Index {
                table: info.id,
                name: name.clone(),
                unique: unique != 0,
                constraint: origin == "u",
                columns: Vec::new(),
                method: None,
                predicate: if partial != 0 { parsed.predicate } else { None },
                include: Vec::new(),
                invalid: false,
                nulls_not_distinct: false,
                storage: None,
            });
        }
        let (part, column_collation) = match (cid, column) {
            (-2, _) => {
                let text = usize::try_from(seqno)
                    .ok()
                    .and_then(|i| parts.get(i).cloned())
                    .unwrap_or_default();
                (IndexPart::Expression(text), None)
            }
            (_, Some(column)) => {
                let Some(&id) = columns.get(&(info.id, column.to_ascii_lowercase())) else {
                    continue;
                };
                (IndexPart::Column(id), schema.column(id).collation.clone())
            }
            // The rowid, named in a key (`CREATE INDEX i ON t(rowid)`).
            (_, None) => (IndexPart::Expression("rowid".into()), None),
        };
        // The key's collation when it is not the one it inherits: the column's, else BINARY.
        let inherited = column_collation.as_deref().unwrap_or("BINARY");
        let option = collation.filter(|c| !c.eq_ignore_ascii_case(inherited));
        if let Some(index) = current.as_mut() {
            index.columns.push(IndexColumn {
                part,
                descending: descending != 0,
                option,
            });
        }
    }
    if let Some(done) = current.take() {
        schema.indexes.push(done);
    }

    // (table, id) → foreign key under construction, in row order.
    let mut current: Option<(TableId, i64, Option<ForeignKey>)> = None;
    let rows = fetch(conn, FOREIGN_KEYS).await?;
    for r in &rows {
        let table: String = get(r, 0)?;
        let Some(info) = tables.get(&table.to_ascii_lowercase()) else {
            continue;
        };
        let id: i64 = get(r, 1)?;
        let referenced: String = get(r, 3)?;
        let column: String = get(r, 4)?;
        let referenced_column: Option<String> = get(r, 5)?;
        let on_update: String = get(r, 6)?;
        let on_delete: String = get(r, 7)?;
        let starts = match &current {
            Some((t, i, _)) => *t != info.id || *i != id,
            None => true,
        };
        if starts {
            if let Some((_, _, Some(done))) = current.take() {
                schema.foreign_keys.push(done);
            }
            // A key to a table that does not exist (SQLite allows it) cannot be modelled.
            let fk = tables
                .get(&referenced.to_ascii_lowercase())
                .map(|r| ForeignKey {
                    table: info.id,
                    name: None,
                    columns: Vec::new(),
                    referenced_table: r.id,
                    referenced_columns: Vec::new(),
                    on_delete: Action::parse(&on_delete),
                    on_update: Action::parse(&on_update),
                    deferrable: None,
                    not_valid: false,
                });
            current = Some((info.id, id, fk));
        }
        let Some((_, _, Some(fk))) = current.as_mut() else {
            continue;
        };
        let from = columns
            .get(&(info.id, column.to_ascii_lowercase()))
            .copied();
        let to = match referenced_column {
            Some(c) => columns
                .get(&(fk.referenced_table, c.to_ascii_lowercase()))
                .copied(),
            // `REFERENCES parent` names the parent's primary key, part by part.
            None => schema.tables[fk.referenced_table.idx()]
                .primary_key
                .as_ref()
                .and_then(|pk| pk.columns.get(fk.columns.len()).copied()),
        };
        match (from, to) {
            (Some(from), Some(to)) => {
                fk.columns.push(from);
                fk.referenced_columns.push(to);
            }
            // An unresolvable column: drop the whole key rather than keep part of it.
            _ => {
                if let Some((_, _, fk)) = current.as_mut() {
                    *fk = None;
                }
            }
        }
    }
    if let Some((_, _, Some(done))) = current.take() {
        schema.foreign_keys.push(done);
    }
    for info in tables.values() {
        for (cols, deferred) in &info.parsed.deferrable {
            for fk in schema
                .foreign_keys
                .iter_mut()
                .filter(|f| f.table == info.id)
            {
                let names: Vec<String> = fk
                    .columns
                    .iter()
                    .map(|c| schema.columns[c.idx()].name.to_ascii_lowercase())
                    .collect();
                if &names == cols {
                    fk.deferrable = Some(*deferred);
                }
            }
        }
    }

    for r in sqlx::query(VIEWS)
        .fetch_all(&mut *conn)
        .await
        .map_err(DriverError::from_sqlx)?
    {
        let name: String = get(&r, 0)?;
        let sql: Option<String> = get(&r, 1)?;
        schema.views.push(View {
            namespace: None,
            name,
            definition: sql.as_deref().map(view_definition).unwrap_or_default(),
            materialized: false,
            indexes: Vec::new(),
        });
    }

    // Triggers: compared by the statement SQLite stores (as written), trailing space and `;`
    // aside. A trigger of a table not in the model (the ledger) is left out.
    for r in fetch(conn, TRIGGERS).await? {
        let name: String = get(&r, 0)?;
        let table: String = get(&r, 1)?;
        let sql: Option<String> = get(&r, 2)?;
        let Some(info) = tables.get(&table.to_ascii_lowercase()) else {
            continue;
        };
        schema.triggers.push(Trigger {
            table: info.id,
            name,
            definition: sql
                .unwrap_or_default()
                .trim()
                .trim_end_matches(';')
                .trim_end()
                .to_string(),
            state: TriggerState::Enabled,
        });
    }

    Ok(schema)
}

/// A table while its schema is read.
struct TableInfo {
    id: TableId,
    /// Not `WITHOUT ROWID`.
    rowid: bool,
    parsed: ParsedTable,
    /// (position in the key, column).
    pk: Vec<(i64, ColumnId)>,
}

async fn fetch(conn: &mut SqliteConnection, sql: &str) -> Result<Vec<SqliteRow>, DriverError> {
    sqlx::query(sql)
        .bind(KEEL_TABLE)
        .bind(PRISMA_TABLE)
        .fetch_all(&mut *conn)
        .await
        .map_err(DriverError::from_sqlx)
}

fn get<'r, T>(row: &'r SqliteRow, i: usize) -> Result<T, DriverError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(i).map_err(DriverError::from_sqlx)
}

// ---------------------------------------------------------------------------------------------
// A small tokenizer for the CREATE statements SQLite stores verbatim.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A bare word: keyword, identifier or number.
    Word,
    /// `"x"`, `` `x` `` or `[x]`.
    Quoted,
    /// `'x'` (or `x'00'` blobs, whose `x` is a separate word).
    Str,
    /// One other character.
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    /// Byte range in the statement.
    start: usize,
    end: usize,
}

impl Token {
    fn is_word(&self, sql: &str, word: &str) -> bool {
        self.kind == Kind::Word && sql[self.start..self.end].eq_ignore_ascii_case(word)
    }
}

/// Splits `sql` into tokens, skipping whitespace and comments.
fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Finds `close` from `from`; a doubled `close` is an escaped one (not for `]`).
    let end_of = |from: usize, close: u8, doubling: bool| -> usize {
        let mut j = from;
        while j < bytes.len() {
            if bytes[j] == close {
                if doubling && bytes.get(j + 1) == Some(&close) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j += 1;
        }
        bytes.len()
    };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                i = end_of(i + 1, b'\'', true);
                Kind::Str
            }
            b'"' | b'`' => {
                i = end_of(i + 1, c, true);
                Kind::Quoted
            }
            b'[' => {
                i = end_of(i + 1, b']', false);
                Kind::Quoted
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                // One character (a whole UTF-8 sequence is >= 0x80 and handled above).
                i += 1;
                Kind::Punct(char::from(c))
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

/// Index of the `)` matching the `(` at `open`, or the last token.
fn matching(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len().saturating_sub(1)
}

/// Splits `tokens` at commas outside parentheses.
fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') => depth = depth.saturating_sub(1),
            Kind::Punct(',') if depth == 0 => {
                out.push(&tokens[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[from..]);
    out.retain(|item| !item.is_empty());
    out
}

/// An identifier without its quotes.
fn ident(sql: &str, t: &Token) -> String {
    let text = &sql[t.start..t.end];
    match t.kind {
        Kind::Quoted | Kind::Str if text.len() >= 2 => {
            let q = &text[..1];
            let inner = &text[1..text.len() - 1];
            if q == "[" {
                inner.to_string()
            } else {
                inner.replace(&format!("{q}{q}"), q)
            }
        }
        _ => text.to_string(),
    }
}

/// The source text from the first to the last of `tokens`.
fn text<'s>(sql: &'s str, tokens: &[Token]) -> &'s str {
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => &sql[a.start..b.end],
        _ => "",
    }
}

/// What a CREATE TABLE statement says beyond the pragmas.
#[derive(Debug, Default, PartialEq)]
struct ParsedTable {
    /// `CONSTRAINT <name> PRIMARY KEY`.
    primary_key_name: Option<String>,
    /// The statement holds `AUTOINCREMENT`.
    autoincrement: bool,
    /// (name, expression) of every `CHECK`, table-level and column-level, in order.
    checks: Vec<(Option<String>, String)>,
    /// Lowercase column name → its collation and generated expression.
    columns: HashMap<String, ParsedColumn>,
    /// The foreign keys declared `DEFERRABLE` (which `pragma foreign_key_list` does not
    /// say): their columns, lowercase, and whether `INITIALLY DEFERRED`.
    deferrable: Vec<(Vec<String>, bool)>,
}

/// What a column definition says beyond the pragmas.
#[derive(Debug, Default, PartialEq)]
struct ParsedColumn {
    collation: Option<String>,
    generated: Option<String>,
}

/// Reads checks, the primary key's name, collations, generated expressions and
/// `AUTOINCREMENT` from a `CREATE TABLE` statement. Unknown shapes give empty results.
fn parse_table(sql: &str) -> ParsedTable {
    let tokens = tokenize(sql);
    let mut out = ParsedTable {
        autoincrement: tokens.iter().any(|t| t.is_word(sql, "AUTOINCREMENT")),
        ..ParsedTable::default()
    };
    let Some(open) = tokens.iter().position(|t| t.kind == Kind::Punct('(')) else {
        return out;
    };
    let close = matching(&tokens, open);
    for item in split_commas(&tokens[open + 1..close]) {
        let first = &item[0];
        let table_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|k| first.is_word(sql, k));
        let (column, rest) = if table_constraint {
            (None, item)
        } else {
            (Some(ident(sql, first).to_ascii_lowercase()), &item[1..])
        };
        let mut parsed = ParsedColumn::default();
        let mut name: Option<String> = None;
        let mut i = 0;
        while i < rest.len() {
            let t = &rest[i];
            let next_open = rest.get(i + 1).is_some_and(|n| n.kind == Kind::Punct('('));
            if t.is_word(sql, "CONSTRAINT") {
                name = rest.get(i + 1).map(|n| ident(sql, n));
                i += 2;
                continue;
            }
            if (t.is_word(sql, "CHECK") || t.is_word(sql, "AS")) && next_open {
                let end = i + 1 + matching(&rest[i + 1..], 0);
                let expression = text(sql, &rest[i + 2..end]).trim().to_string();
                if t.is_word(sql, "CHECK") {
                    out.checks.push((name.take(), expression));
                } else {
                    parsed.generated = Some(expression);
                }
                i = end + 1;
                continue;
            }
            if t.is_word(sql, "PRIMARY") {
                out.primary_key_name = name.take().or(out.primary_key_name.take());
            } else if t.is_word(sql, "COLLATE") {
                parsed.collation = rest.get(i + 1).map(|n| ident(sql, n));
                i += 2;
                continue;
            } else if t.kind == Kind::Punct('(') {
                // Type arguments, DEFAULT (…), REFERENCES t(…), key column lists.
                i += matching(&rest[i..], 0) + 1;
                continue;
            } else if [
                "UNIQUE",
                "NOT",
                "NULL",
                "DEFAULT",
                "REFERENCES",
                "GENERATED",
                "FOREIGN",
            ]
            .iter()
            .any(|k| t.is_word(sql, k))
            {
                name = None;
            }
            i += 1;
        }
        if let Some(d) = deferrable_key(sql, rest, column.as_deref()) {
            out.deferrable.push(d);
        }
        if let Some(column) = column {
            out.columns.insert(column, parsed);
        }
    }
    out
}

/// The columns (lowercase) and `INITIALLY DEFERRED` of the foreign key that table item
/// `item` declares `DEFERRABLE`: a column definition's `REFERENCES … DEFERRABLE`, or a table
/// constraint's `FOREIGN KEY (…) REFERENCES … DEFERRABLE`. `NOT DEFERRABLE` is none.
fn deferrable_key(sql: &str, item: &[Token], column: Option<&str>) -> Option<(Vec<String>, bool)> {
    let r = item.iter().position(|t| t.is_word(sql, "REFERENCES"))?;
    let after = &item[r..];
    let d = after.iter().position(|t| t.is_word(sql, "DEFERRABLE"))?;
    if d > 0 && after[d - 1].is_word(sql, "NOT") {
        return None;
    }
    let deferred = after
        .get(d + 1)
        .is_some_and(|t| t.is_word(sql, "INITIALLY"))
        && after.get(d + 2).is_some_and(|t| t.is_word(sql, "DEFERRED"));
    let columns = match column {
        Some(c) => vec![c.to_string()],
        None => {
            let open = item[..r].iter().position(|t| t.kind == Kind::Punct('('))?;
            let close = open + matching(&item[open..], 0);
            item[open + 1..close.min(r)]
                .iter()
                .filter(|t| t.kind != Kind::Punct(','))
                .map(|t| ident(sql, t).to_ascii_lowercase())
                .collect()
        }
    };
    Some((columns, deferred))
}

/// What a CREATE INDEX statement says beyond the pragmas.
#[derive(Debug, Default, PartialEq)]
struct ParsedIndex {
    /// Each key part's text without `COLLATE`/`ASC`/`DESC`.
    parts: Vec<String>,
    /// The `WHERE` predicate.
    predicate: Option<String>,
}

/// Reads the key parts and the predicate of a `CREATE INDEX` statement.
fn parse_index(sql: &str) -> ParsedIndex {
    let tokens = tokenize(sql);
    let mut out = ParsedIndex::default();
    let Some(on) = tokens.iter().position(|t| t.is_word(sql, "ON")) else {
        return out;
    };
    let Some(open) = tokens[on..]
        .iter()
        .position(|t| t.kind == Kind::Punct('('))
        .map(|i| on + i)
    else {
        return out;
    };
    let close = matching(&tokens, open);
    for mut part in split_commas(&tokens[open + 1..close]) {
        loop {
            let n = part.len();
            if n > 1 && (part[n - 1].is_word(sql, "ASC") || part[n - 1].is_word(sql, "DESC")) {
                part = &part[..n - 1];
            } else if n > 2 && part[n - 2].is_word(sql, "COLLATE") {
                part = &part[..n - 2];
            } else {
                break;
            }
        }
        out.parts.push(text(sql, part).to_string());
    }
    if let Some(w) = tokens[close..].iter().position(|t| t.is_word(sql, "WHERE")) {
        let rest = &tokens[close + w + 1..];
        let predicate = text(sql, rest).trim_end_matches(';').trim();
        if !predicate.is_empty() {
            out.predicate = Some(predicate.to_string());
        }
    }
    out
}

/// The `SELECT` of a `CREATE VIEW` statement (the text after its first top-level `AS`).
fn view_definition(sql: &str) -> String {
    let tokens = tokenize(sql);
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Punct('(') => depth += 1,
            Kind::Punct(')') => depth = depth.saturating_sub(1),
            _ if depth == 0 && t.is_word(sql, "AS") => {
                return text(sql, &tokens[i + 1..])
                    .trim_end_matches(';')
                    .trim()
                    .to_string();
            }
            _ => {}
        }
    }
    sql.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferrable_foreign_keys_are_read_from_the_statement() {
        let p = parse_table(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, a INT REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, \
             b INT REFERENCES p(id) NOT DEFERRABLE, x INT, \"Y\" INT, \
             CONSTRAINT k FOREIGN KEY (x, \"Y\") REFERENCES q (m, n) ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE)",
        );
        assert_eq!(
            p.deferrable,
            [
                (vec!["a".to_string()], true),
                (vec!["x".to_string(), "y".to_string()], false)
            ]
        );
    }

    #[test]
    fn table_details() {
        let sql = "CREATE TABLE \"t\" (\n  id integer primary key autoincrement, -- a comment (with a paren\n  \
                   name TEXT COLLATE NOCASE NOT NULL CHECK (length(name) > 0),\n  \
                   [full] TEXT GENERATED ALWAYS AS (name || ', ' || 'x') STORED,\n  \
                   n INT DEFAULT (0) CONSTRAINT n_positive CHECK (n >= 0),\n  \
                   CONSTRAINT pair CHECK (n < 10 OR name <> 'CHECK (')\n)";
        let p = parse_table(sql);
        assert!(p.autoincrement);
        assert_eq!(p.primary_key_name, None);
        assert_eq!(
            p.checks,
            vec![
                (None, "length(name) > 0".to_string()),
                (Some("n_positive".to_string()), "n >= 0".to_string()),
                (
                    Some("pair".to_string()),
                    "n < 10 OR name <> 'CHECK ('".to_string()
                ),
            ]
        );
        assert_eq!(p.columns["name"].collation.as_deref(), Some("NOCASE"));
        assert_eq!(
            p.columns["full"].generated.as_deref(),
            Some("name || ', ' || 'x'")
        );
        assert_eq!(p.columns["n"], ParsedColumn::default());
    }

    #[test]
    fn named_primary_key() {
        let p = parse_table(
            "CREATE TABLE u(x, y, UNIQUE(x,y), CONSTRAINT \"pk\" PRIMARY KEY(y)) WITHOUT ROWID",
        );
        assert_eq!(p.primary_key_name.as_deref(), Some("pk"));
        let p = parse_table("CREATE TABLE u(x INTEGER CONSTRAINT u_pk PRIMARY KEY, y)");
        assert_eq!(p.primary_key_name.as_deref(), Some("u_pk"));
        assert!(!p.autoincrement);
    }

    #[test]
    fn index_details() {
        let p = parse_index("CREATE INDEX \"i\" ON \"t\" (lower(b) DESC, d COLLATE NOCASE ASC, a) WHERE a > 0 AND b IS NOT NULL");
        assert_eq!(p.parts, vec!["lower(b)", "d", "a"]);
        assert_eq!(p.predicate.as_deref(), Some("a > 0 AND b IS NOT NULL"));
        assert_eq!(parse_index("CREATE UNIQUE INDEX i ON t(a)").predicate, None);
    }

    #[test]
    fn views() {
        assert_eq!(
            view_definition("CREATE VIEW \"v\"(a, b) AS SELECT 1 AS a, 2 AS b"),
            "SELECT 1 AS a, 2 AS b"
        );
    }
}
