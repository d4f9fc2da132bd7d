//! MySQL/MariaDB introspection: the current database (`DATABASE()`) read from
//! `information_schema` into keel's schema model, one query per kind of object whatever the
//! number of tables (the queries are the `.sql` files beside this module).
//!
//! MariaDB and MySQL 8 report the same schema differently; this module folds the differences
//! so that both give the same model:
//! - `COLUMN_DEFAULT`: MariaDB (10.2.7+) prints an SQL expression (`'abc'`, `0`, `NULL`,
//!   `current_timestamp()`), MySQL prints the bare value (`abc`) and flags expressions with
//!   `DEFAULT_GENERATED` in `EXTRA`. Both become a quoted literal for strings (MariaDB's own
//!   escaping, see [`quote_literal`]), an unquoted number, or the normalized expression
//!   ([`normalize::default_expr`]).
//! - Integer display widths (`int(11)` on MariaDB, `int` on MySQL 8) are dropped by
//!   [`normalize::data_type`].
//! - Check constraints: MariaDB's `CHECK_CONSTRAINTS` names the table, MySQL 8's does not
//!   (joined through `TABLE_CONSTRAINTS`); MySQL 5.7 has none.
//! - Expression key parts (`STATISTICS.EXPRESSION`) exist on MySQL 8.0.13+ only.
//!
//! - An explicit `USING BTREE` is visible in `SHOW CREATE TABLE` only ([`index_method`]).
//!
//! What the model cannot hold is left out: `ON UPDATE CURRENT_TIMESTAMP`, invisible columns and
//! indexes, index comments, table engines and charsets, MariaDB sequences.

use super::index_method;
use crate::DriverError;
use keel_core::ledger::{KEEL_TABLE, PRISMA_TABLE};
use keel_core::schema::{
    normalize, Action, AutoIncrement, Check, Column, ColumnId, ForeignKey, Function, Generated,
    Index, IndexColumn, IndexPart, PrimaryKey, Schema, TableId, Trigger, TriggerState, View,
};
use keel_core::Dialect;
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::Row;
use std::collections::HashMap;

const SERVER: &str = include_str!("introspect/server.sql");
const TABLES: &str = include_str!("introspect/tables.sql");
const COLUMNS: &str = include_str!("introspect/columns.sql");
const INDEXES: &str = include_str!("introspect/indexes.sql");
const INDEXES_EXPRESSION: &str = include_str!("introspect/indexes_expression.sql");
const FOREIGN_KEYS: &str = include_str!("introspect/foreign_keys.sql");
const CHECKS: &str = include_str!("introspect/checks.sql");
const CHECKS_JOINED: &str = include_str!("introspect/checks_joined.sql");
const VIEWS: &str = include_str!("introspect/views.sql");
const TRIGGERS: &str = include_str!("introspect/triggers.sql");
const ROUTINES: &str = include_str!("introspect/routines.sql");

/// What the server is, and which catalog columns it has.
struct Server {
    mariadb: bool,
    database: String,
    index_expressions: bool,
    checks: bool,
    checks_have_table: bool,
    /// `@@default_storage_engine`.
    default_engine: Option<String>,
    /// The database's default collation.
    default_collation: Option<String>,
}

/// Reads the schema of the current database (9 queries, and one multi-statement `SHOW CREATE
/// TABLE` request when it has secondary indexes).
///
/// # Errors
/// A server or connection error, or "no database selected" when the URL names none.
pub(crate) async fn introspect(conn: &mut MySqlConnection) -> Result<Schema, DriverError> {
    let server = server(conn).await?;
    let mut b = Builder::default();

    for r in fetch(
        conn,
        sqlx::query(TABLES).bind(KEEL_TABLE).bind(PRISMA_TABLE),
    )
    .await?
    {
        let name: String = get(&r, 0)?;
        let comment: Option<String> = get(&r, 1)?;
        let collation: Option<String> = get(&r, 2)?;
        let engine: Option<String> = get(&r, 3)?;
        let id = b.schema.push_table(None, name.clone());
        let t = &mut b.schema.tables[id.idx()];
        t.comment = comment.filter(|c| !c.is_empty());
        // Held relative to the defaults (see keel_core::schema::table_options).
        t.engine = engine.filter(|e| {
            !server
                .default_engine
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(e))
        });
        t.collation = collation
            .clone()
            .filter(|c| server.default_collation.as_ref() != Some(c));
        b.tables.insert(name, (id, collation));
    }
    b.schema.default_engine = server.default_engine.clone();
    b.schema.default_collation = server.default_collation.clone();

    for r in fetch(conn, sqlx::query(COLUMNS)).await? {
        let table: String = get(&r, 0)?;
        // Columns of views and of the ledger tables.
        let Some((table_id, table_collation)) = b.tables.get(&table).cloned() else {
            continue;
        };
        let name: String = get(&r, 1)?;
        let raw_type: String = get(&r, 2)?;
        let nullable: String = get(&r, 3)?;
        let raw_default: Option<String> = get(&r, 4)?;
        let extra: String = get::<Option<String>>(&r, 5)?.unwrap_or_default();
        let expression: Option<String> = get(&r, 6)?;
        let collation: Option<String> = get(&r, 7)?;
        let comment: Option<String> = get(&r, 8)?;

        let data_type = normalize::data_type(Dialect::Mysql, &raw_type);
        let extra_lower = extra.to_ascii_lowercase();
        let generated =
            if extra_lower.contains("generated") && !extra_lower.contains("default_generated") {
                Some(Generated {
                    expression: strip_parens(expression.as_deref().unwrap_or_default()).to_string(),
                    stored: extra_lower.contains("stored") || extra_lower.contains("persistent"),
                })
            } else {
                None
            };
        let default = if generated.is_some() {
            None
        } else {
            raw_default.and_then(|d| default_value(server.mariadb, &data_type, &d, &extra_lower))
        };
        let column = Column {
            table: table_id,
            name: name.clone(),
            data_type,
            nullable: nullable.eq_ignore_ascii_case("YES"),
            default,
            auto_increment: extra_lower
                .contains("auto_increment")
                .then_some(AutoIncrement::AutoIncrement),
            generated,
            collation: collation.filter(|c| Some(c) != table_collation.as_ref()),
            comment: comment.filter(|c| !c.is_empty()),
            on_update: on_update(&extra_lower),
            invisible: extra_lower.split_whitespace().any(|w| w == "invisible"),
        };
        let id = b.schema.push_column(column);
        b.columns.insert((table_id, name), id);
    }

    let indexes = if server.index_expressions {
        INDEXES_EXPRESSION
    } else {
        INDEXES
    };
    let mut current: Option<(TableId, String, Index)> = None;
    for r in fetch(conn, sqlx::query(indexes)).await? {
        let table: String = get(&r, 0)?;
        let Some(table_id) = b.table(&table) else {
            continue;
        };
        let name: String = get(&r, 1)?;
        let non_unique: i64 = get(&r, 2)?;
        let column: Option<String> = get(&r, 4)?;
        let collation: Option<String> = get(&r, 5)?;
        let sub_part: Option<i64> = get(&r, 6)?;
        let index_type: Option<String> = get(&r, 7)?;
        let expression: Option<String> = get(&r, 8)?;

        let part = match (column, expression) {
            (Some(c), _) => match b.columns.get(&(table_id, c)) {
                Some(id) => IndexPart::Column(*id),
                None => continue,
            },
            (None, Some(e)) => IndexPart::Expression(strip_parens(&e).to_string()),
            (None, None) => continue,
        };
        // MariaDB reports a SUB_PART of 32 (bytes) for a SPATIAL key that no definition
        // can state (`spot(32)` is refused): a prefix is a B-tree key's only.
        let whole = index_type.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case("SPATIAL") || t.eq_ignore_ascii_case("FULLTEXT")
        });
        let key_part = IndexColumn {
            part,
            descending: collation.as_deref() == Some("D"),
            option: sub_part.filter(|_| !whole).map(|n| n.to_string()),
        };
        match &mut current {
            Some((t, n, index)) if *t == table_id && *n == name => index.columns.push(key_part),
            _ => {
                if let Some((_, _, done)) = current.take() {
                    b.finish_index(done);
                }
                let method = index_type
                    .map(|t| t.to_ascii_uppercase())
                    .filter(|t| t != "BTREE");
                current = Some((
                    table_id,
                    name.clone(),
                    Index {
                        table: table_id,
                        name,
                        unique: non_unique == 0,
                        // MySQL makes no difference between `UNIQUE (a)` in a table and
                        // `CREATE UNIQUE INDEX`: both are unique indexes.
                        constraint: false,
                        columns: vec![key_part],
                        method,
                        predicate: None,
                        include: Vec::new(),
                        invalid: false,
                        nulls_not_distinct: false,
                        storage: None,
                    },
                ));
            }
        }
    }
    if let Some((_, _, done)) = current.take() {
        b.finish_index(done);
    }
    explicit_index_methods(conn, &mut b.schema).await?;

    let mut current: Option<(String, ForeignKey)> = None;
    for r in fetch(conn, sqlx::query(FOREIGN_KEYS)).await? {
        let table: String = get(&r, 0)?;
        let name: String = get(&r, 1)?;
        let column: String = get(&r, 2)?;
        let ref_table: String = get(&r, 3)?;
        let ref_column: String = get(&r, 4)?;
        let on_update: String = get(&r, 5)?;
        let on_delete: String = get(&r, 6)?;
        let (Some(table_id), Some(ref_id)) = (b.table(&table), b.table(&ref_table)) else {
            continue;
        };
        let (Some(&col), Some(&ref_col)) = (
            b.columns.get(&(table_id, column)),
            b.columns.get(&(ref_id, ref_column)),
        ) else {
            continue;
        };
        match &mut current {
            Some((n, fk)) if fk.table == table_id && *n == name => {
                fk.columns.push(col);
                fk.referenced_columns.push(ref_col);
            }
            _ => {
                if let Some((_, done)) = current.take() {
                    b.schema.foreign_keys.push(done);
                }
                current = Some((
                    name.clone(),
                    ForeignKey {
                        table: table_id,
                        name: Some(name),
                        columns: vec![col],
                        referenced_table: ref_id,
                        referenced_columns: vec![ref_col],
                        on_delete: Action::parse(&on_delete),
                        on_update: Action::parse(&on_update),
                        deferrable: None,
                        not_valid: false,
                    },
                ));
            }
        }
    }
    if let Some((_, done)) = current.take() {
        b.schema.foreign_keys.push(done);
    }

    if server.checks {
        let sql = if server.checks_have_table {
            CHECKS
        } else {
            CHECKS_JOINED
        };
        for r in fetch(conn, sqlx::query(sql)).await? {
            let table: String = get(&r, 0)?;
            let Some(table_id) = b.table(&table) else {
                continue;
            };
            let name: String = get(&r, 1)?;
            let clause: String = get(&r, 2)?;
            b.schema.checks.push(Check {
                table: table_id,
                name: Some(name),
                expression: strip_parens(&clause).to_string(),
                not_valid: false,
            });
        }
    }

    // View definitions name every table as `db`.`table`: drop the database so that the same
    // view compares equal in another database (a shadow database).
    let qualifier = format!("`{}`.", server.database.replace('`', "``"));
    for r in fetch(conn, sqlx::query(VIEWS)).await? {
        let name: String = get(&r, 0)?;
        let definition: Option<String> = get(&r, 1)?;
        b.schema.views.push(View {
            namespace: None,
            name,
            definition: definition.unwrap_or_default().replace(&qualifier, ""),
            materialized: false,
            indexes: Vec::new(),
        });
    }

    // Triggers: the statement rebuilt from its parts, names quoted, the body as written with
    // this database's name dropped (as for views). A trigger of a table not in the model (the
    // ledger) is left out.
    for r in fetch(conn, sqlx::query(TRIGGERS)).await? {
        let name: String = get(&r, 0)?;
        let table: String = get(&r, 1)?;
        let Some(id) = b.schema.table_id(None, &table) else {
            continue;
        };
        let timing: String = get(&r, 2)?;
        let event: String = get(&r, 3)?;
        let body: Option<String> = get(&r, 4)?;
        let q = |n: &str| format!("`{}`", n.replace('`', "``"));
        b.schema.triggers.push(Trigger {
            table: id,
            definition: format!(
                "CREATE TRIGGER {} {timing} {event} ON {} FOR EACH ROW {}",
                q(&name),
                q(&table),
                body.unwrap_or_default().replace(&qualifier, "").trim()
            ),
            name,
            state: TriggerState::Enabled,
        });
    }

    // Stored functions and procedures: the statement rebuilt from its parts (as for
    // triggers), the body as written with this database's name dropped.
    for r in fetch(conn, sqlx::query(ROUTINES)).await? {
        let name: String = get(&r, 0)?;
        let kind: String = get(&r, 1)?;
        let returns: Option<String> = get(&r, 2)?;
        let deterministic: Option<String> = get(&r, 3)?;
        let access: Option<String> = get(&r, 4)?;
        let security: Option<String> = get(&r, 5)?;
        let comment: Option<String> = get(&r, 6)?;
        let body: Option<String> = get(&r, 7)?;
        let params: Option<String> = get(&r, 8)?;
        let procedure = kind.eq_ignore_ascii_case("PROCEDURE");
        b.schema.functions.push(Function {
            namespace: None,
            definition: routine_statement(&RoutineParts {
                name: &name,
                procedure,
                parameters: params.as_deref().unwrap_or_default(),
                returns: returns.as_deref(),
                deterministic: deterministic.as_deref() == Some("YES"),
                sql_data_access: access.as_deref().unwrap_or("CONTAINS SQL"),
                security_definer: security.as_deref() == Some("DEFINER"),
                comment: comment.as_deref().unwrap_or_default(),
                body: &body.unwrap_or_default().replace(&qualifier, ""),
            }),
            name,
            // MySQL has no overloading: a routine is known by its name.
            arguments: String::new(),
            procedure,
        });
    }

    b.schema.events = super::events::read_events(conn, &qualifier).await?;
    Ok(b.schema)
}

/// The parts of a MySQL stored routine, as `information_schema.ROUTINES` gives them.
struct RoutineParts<'a> {
    name: &'a str,
    procedure: bool,
    parameters: &'a str,
    returns: Option<&'a str>,
    deterministic: bool,
    sql_data_access: &'a str,
    security_definer: bool,
    comment: &'a str,
    body: &'a str,
}

/// `CREATE FUNCTION `name`(params) RETURNS type [NOT] DETERMINISTIC <access> SQL SECURITY …
/// [COMMENT '…'] body`: the statement that recreates the routine, every characteristic
/// spelled out so that two routines compare equal exactly when they behave the same.
fn routine_statement(r: &RoutineParts<'_>) -> String {
    let q = |n: &str| format!("`{}`", n.replace('`', "``"));
    let returns = match (r.procedure, r.returns) {
        (false, Some(t)) => format!(" RETURNS {t}"),
        _ => String::new(),
    };
    let comment = if r.comment.is_empty() {
        String::new()
    } else {
        format!(" COMMENT {}", string_literal(r.comment))
    };
    format!(
        "CREATE {} {}({}){returns} {}DETERMINISTIC {} SQL SECURITY {}{comment} {}",
        if r.procedure { "PROCEDURE" } else { "FUNCTION" },
        q(r.name),
        r.parameters,
        if r.deterministic { "" } else { "NOT " },
        r.sql_data_access,
        if r.security_definer {
            "DEFINER"
        } else {
            "INVOKER"
        },
        r.body.trim()
    )
}

/// Sets the method of each index whose definition names one (`USING BTREE`), which
/// `INDEX_TYPE` cannot tell from the default: one multi-statement `SHOW CREATE TABLE` request
/// for the tables that have such indexes (none when there are no secondary indexes).
async fn explicit_index_methods(
    conn: &mut MySqlConnection,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let tables = index_method::tables_to_read(schema);
    if tables.is_empty() {
        return Ok(());
    }
    let sql = index_method::show_create_tables(&tables);
    // A query without arguments goes over the text protocol, which runs several statements.
    let rows = sqlx::Executor::fetch_all(&mut *conn, sql.as_str())
        .await
        .map_err(DriverError::from_sqlx)?;
    for r in rows {
        let table: String = get(&r, 0)?;
        let definition: String = get(&r, 1)?;
        let methods = index_method::explicit_methods(&definition);
        if methods.is_empty() {
            continue;
        }
        for ix in &mut schema.indexes {
            if schema.tables[ix.table.idx()].name == table {
                if let Some(m) = methods.get(&ix.name) {
                    ix.method = Some(m.clone());
                }
            }
        }
    }
    Ok(())
}

/// The schema being built, with name lookups.
#[derive(Default)]
struct Builder {
    schema: Schema,
    /// Table name → id and default collation.
    tables: HashMap<String, (TableId, Option<String>)>,
    columns: HashMap<(TableId, String), ColumnId>,
}

impl Builder {
    fn table(&self, name: &str) -> Option<TableId> {
        self.tables.get(name).map(|(id, _)| *id)
    }

    /// Stores a finished index: `PRIMARY` becomes the table's primary key.
    fn finish_index(&mut self, index: Index) {
        if index.name == "PRIMARY" {
            let columns = index
                .columns
                .iter()
                .filter_map(|c| match c.part {
                    IndexPart::Column(id) => Some(id),
                    IndexPart::Expression(_) => None,
                })
                .collect();
            self.schema.tables[index.table.idx()].primary_key = Some(PrimaryKey {
                name: None,
                columns,
            });
        } else {
            self.schema.indexes.push(index);
        }
    }
}

async fn server(conn: &mut MySqlConnection) -> Result<Server, DriverError> {
    let r = sqlx::query(SERVER)
        .fetch_one(&mut *conn)
        .await
        .map_err(DriverError::from_sqlx)?;
    let version: String = get(&r, 0)?;
    let database: Option<String> = get(&r, 1)?;
    let Some(database) = database else {
        return Err(DriverError::Server {
            code: None,
            message: "cannot introspect: the database URL names no database".into(),
        });
    };
    Ok(Server {
        mariadb: version.contains("MariaDB"),
        database,
        index_expressions: get::<i64>(&r, 2)? > 0,
        checks: get::<i64>(&r, 3)? > 0,
        checks_have_table: get::<i64>(&r, 4)? > 0,
        default_engine: get(&r, 5)?,
        default_collation: get(&r, 6)?,
    })
}

/// `s` as a MySQL string literal, for a statement rebuilt from the catalog (backslashes
/// doubled as well as quotes: the server's default `sql_mode` reads `\` as an escape).
pub(super) fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

async fn fetch(
    conn: &mut MySqlConnection,
    query: sqlx::query::Query<'_, sqlx::MySql, sqlx::mysql::MySqlArguments>,
) -> Result<Vec<MySqlRow>, DriverError> {
    query
        .fetch_all(&mut *conn)
        .await
        .map_err(DriverError::from_sqlx)
}

fn get<'r, T>(row: &'r MySqlRow, i: usize) -> Result<T, DriverError>
where
    T: sqlx::Decode<'r, sqlx::MySql> + sqlx::Type<sqlx::MySql>,
{
    row.try_get(i).map_err(DriverError::from_sqlx)
}

/// `ON UPDATE CURRENT_TIMESTAMP[(p)]` from `EXTRA` (lowercased): MariaDB says
/// `on update current_timestamp()` or `…(3)`, MySQL `DEFAULT_GENERATED on update
/// CURRENT_TIMESTAMP(3)`; canonically `CURRENT_TIMESTAMP` or `CURRENT_TIMESTAMP(3)`.
fn on_update(extra: &str) -> Option<String> {
    let rest = extra.split("on update ").nth(1)?;
    let word = rest.split_whitespace().next()?;
    let precision = word
        .strip_prefix("current_timestamp")?
        .trim_start_matches('(')
        .trim_end_matches(')');
    Some(if precision.is_empty() {
        "CURRENT_TIMESTAMP".into()
    } else {
        format!("CURRENT_TIMESTAMP({precision})")
    })
}

/// Canonical default of a column from `COLUMN_DEFAULT` (`raw`, not NULL) and `EXTRA`
/// (lowercase), for a column of the normalized type `data_type`.
fn default_value(mariadb: bool, data_type: &str, raw: &str, extra: &str) -> Option<String> {
    if mariadb {
        // MariaDB 10.2.7+: an SQL expression; a string literal is quoted with its own escapes.
        if let Some(value) = unquote_mariadb(raw) {
            return Some(quote_literal(&value));
        }
        return normalize::default_expr(Dialect::Mysql, raw);
    }
    // MySQL: the bare value unless EXTRA says DEFAULT_GENERATED (an expression, 8.0.13+).
    if extra.contains("default_generated") {
        if let Some(value) = introducer_literal(raw) {
            return Some(quote_literal(&value));
        }
        return normalize::default_expr(Dialect::Mysql, raw);
    }
    let upper = raw.trim().to_ascii_uppercase();
    // Before 8.0.13, CURRENT_TIMESTAMP carries no DEFAULT_GENERATED.
    if upper.starts_with("CURRENT_TIMESTAMP") && is_temporal(data_type) {
        return normalize::default_expr(Dialect::Mysql, raw);
    }
    if is_numeric(data_type) {
        return Some(raw.to_string());
    }
    Some(quote_literal(raw))
}

/// Whether values of the MySQL type are written without quotes (numbers, `b'1'` bits).
fn is_numeric(data_type: &str) -> bool {
    let base = data_type.split(['(', ' ']).next().unwrap_or_default();
    matches!(
        base,
        "tinyint"
            | "smallint"
            | "mediumint"
            | "int"
            | "integer"
            | "bigint"
            | "decimal"
            | "numeric"
            | "dec"
            | "fixed"
            | "float"
            | "double"
            | "real"
            | "bit"
            | "bool"
            | "boolean"
            | "year"
    )
}

/// Whether the MySQL type holds a date and time (CURRENT_TIMESTAMP defaults).
fn is_temporal(data_type: &str) -> bool {
    data_type.starts_with("timestamp") || data_type.starts_with("datetime")
}

/// A string literal as MariaDB prints it in `COLUMN_DEFAULT`: `'` doubled, `\` doubled, and
/// newline, carriage return and NUL as `\n`, `\r`, `\0`. Values from MySQL (bare) and MariaDB
/// (decoded by [`unquote_mariadb`]) go through here, so both give the same text.
fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The value of `raw` when it is exactly one quoted string literal (MariaDB's default
/// spelling), with MySQL's escapes decoded; `None` for anything else.
fn unquote_mariadb(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => match chars.next() {
                Some('\'') => out.push('\''),
                // The closing quote must end the text: `'a' 'b'` is not one literal.
                None => return Some(out),
                Some(_) => return None,
            },
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                'b' => out.push('\u{8}'),
                'Z' => out.push('\u{1a}'),
                // MySQL keeps the backslash of \% and \_ (they are LIKE escapes).
                c @ ('%' | '_') => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
    None
}

/// The value of a MySQL 8 expression default that is a string literal with a character set
/// introducer, as `COLUMN_DEFAULT` prints it: `_utf8mb4\'abc\'`.
fn introducer_literal(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix('_')?;
    let start = rest.find("\\'")?;
    if !rest[..start].chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let body = rest[start + 2..].strip_suffix("\\'")?;
    Some(body.replace("\\'", "'").replace("\\\\", "\\"))
}

/// `s` without parentheses around the whole of it (MySQL 8 prints `(`a` > 0)`, MariaDB
/// `` `a` > 0 ``).
fn strip_parens(s: &str) -> &str {
    let mut s = s.trim();
    while s.starts_with('(') && s.ends_with(')') && encloses(s) {
        s = s[1..s.len() - 1].trim();
    }
    s
}

/// Whether the `(` opening `s` is closed by its last character (quotes honoured).
fn encloses(s: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == s.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_and_mysql_defaults_agree() {
        // (type, MariaDB COLUMN_DEFAULT, MySQL 8 COLUMN_DEFAULT, MySQL EXTRA, canonical)
        let cases = [
            ("varchar(20)", "'abc'", "abc", "", "'abc'"),
            ("varchar(20)", "'it''s'", "it's", "", "'it''s'"),
            ("varchar(20)", "'a\\\\b'", "a\\b", "", "'a\\\\b'"),
            ("varchar(20)", "'x\\ny'", "x\ny", "", "'x\\ny'"),
            ("varchar(5)", "'0'", "0", "", "'0'"),
            ("varchar(5)", "''", "", "", "''"),
            ("varchar(5)", "'NULL'", "NULL", "", "'NULL'"),
            ("int", "5", "5", "", "5"),
            ("decimal(5,2)", "1.50", "1.50", "", "1.50"),
            ("float", "-1.5", "-1.5", "", "-1.5"),
            ("bit(1)", "b'1'", "b'1'", "", "b'1'"),
            ("enum('a','b')", "'a'", "a", "", "'a'"),
            (
                "datetime",
                "'2020-01-01 00:00:00'",
                "2020-01-01 00:00:00",
                "",
                "'2020-01-01 00:00:00'",
            ),
            (
                "timestamp(3)",
                "current_timestamp(3)",
                "CURRENT_TIMESTAMP(3)",
                "default_generated",
                "CURRENT_TIMESTAMP(3)",
            ),
            (
                "datetime",
                "current_timestamp()",
                "CURRENT_TIMESTAMP",
                "default_generated",
                "CURRENT_TIMESTAMP",
            ),
            (
                "timestamp",
                "current_timestamp()",
                "CURRENT_TIMESTAMP",
                "",
                "CURRENT_TIMESTAMP",
            ),
            (
                "varchar(36)",
                "uuid()",
                "uuid()",
                "default_generated",
                "uuid()",
            ),
            (
                "text",
                "'{}'",
                "_utf8mb4\\'{}\\'",
                "default_generated",
                "'{}'",
            ),
            ("int", "(1 + 2)", "(1 + 2)", "default_generated", "1 + 2"),
        ];
        for (ty, maria, mysql, extra, want) in cases {
            assert_eq!(
                default_value(true, ty, maria, "").as_deref(),
                Some(want),
                "MariaDB {maria}"
            );
            assert_eq!(
                default_value(false, ty, mysql, extra).as_deref(),
                Some(want),
                "MySQL {mysql}"
            );
        }
        assert_eq!(default_value(true, "text", "NULL", ""), None);
    }

    #[test]
    fn quoted_literal_must_be_whole() {
        assert_eq!(unquote_mariadb("'a' 'b'"), None);
        assert_eq!(unquote_mariadb("'a"), None);
        assert_eq!(unquote_mariadb("concat('a','b')"), None);
        assert_eq!(unquote_mariadb("'a''b'").as_deref(), Some("a'b"));
    }

    #[test]
    fn outer_parens() {
        assert_eq!(strip_parens("(`n` > 0)"), "`n` > 0");
        assert_eq!(
            strip_parens("(`a` > 0) and (`b` > 0)"),
            "(`a` > 0) and (`b` > 0)"
        );
        assert_eq!(strip_parens("((lower(`a`)))"), "lower(`a`)");
        assert_eq!(strip_parens("(`a` = ')')"), "`a` = ')'");
    }
}
