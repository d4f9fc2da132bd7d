//! PostgreSQL introspection: pg_catalog into keel's schema model.
//!
//! One query per object kind (the `.sql` files in `introspect/`), whatever the number of
//! tables: the per-table queries take the table oids as one array parameter. Names, types and
//! expressions are kept as the catalog prints them (`format_type()`, `pg_get_expr()`,
//! `pg_get_indexdef()`, `pg_get_viewdef()`), then folded by [`keel_core::schema::normalize`].
//!
//! Scope: every schema but PostgreSQL's own (`pg_catalog`, `information_schema`, `pg_toast*`,
//! `pg_temp*`); objects of `current_schema()` get namespace `None`, and the other schemas are
//! listed in `Schema::namespaces`, empty ones too. Ignored: keel's and Prisma's ledger tables
//! (and what hangs only on them), and objects that belong to an extension
//! (`pg_depend.deptype = 'e'`, e.g. the views of `pg_stat_statements`).
//!
//! The output is deterministic: tables, enums, sequences and views sorted by (namespace,
//! name), columns by table then `attnum`, indexes, foreign keys and checks by (table, name),
//! extensions by name. Strings sort bytewise, not by the server's collation.

use crate::DriverError;
use keel_core::ledger::{KEEL_TABLE, PRISMA_TABLE};
use keel_core::schema::{
    normalize, Action, AutoIncrement, Check, Column, ColumnId, Enum, Event, Extension, ForeignKey,
    Function, Generated, Index, IndexColumn, IndexPart, PartitionOf, Policy, PrimaryKey,
    RowSecurity, Schema, Sequence, TableId, Trigger, TriggerState, UserType, View, ViewIndex,
};
use keel_core::Dialect;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Column as _, Row};
use std::collections::HashMap;

const NAMESPACES: &str = include_str!("introspect/namespaces.sql");
const TABLES: &str = include_str!("introspect/tables.sql");
const COLUMNS: &str = include_str!("introspect/columns.sql");
const PRIMARY_KEYS: &str = include_str!("introspect/primary_keys.sql");
const INDEXES: &str = include_str!("introspect/indexes.sql");
const OPCLASSES: &str = include_str!("introspect/opclasses.sql");
const FOREIGN_KEYS: &str = include_str!("introspect/foreign_keys.sql");
const CHECKS: &str = include_str!("introspect/checks.sql");
const ENUMS: &str = include_str!("introspect/enums.sql");
const TYPES: &str = include_str!("introspect/types.sql");
const EVENT_TRIGGERS: &str = include_str!("introspect/event_triggers.sql");
const SEQUENCES: &str = include_str!("introspect/sequences.sql");
const EXTENSIONS: &str = include_str!("introspect/extensions.sql");
const VIEWS: &str = include_str!("introspect/views.sql");
const FUNCTIONS: &str = include_str!("introspect/functions.sql");
const TRIGGERS: &str = include_str!("introspect/triggers.sql");
const POLICIES: &str = include_str!("introspect/policies.sql");
const JIT_OFF: &str = include_str!("introspect/jit_off.sql");
const JIT_RESTORE: &str = include_str!("introspect/jit_restore.sql");

/// indoption bit 0: the key column is sorted descending (`INDOPTION_DESC` in PostgreSQL's
/// `pg_index.h`).
const INDOPTION_DESC: i16 = 0x0001;

/// Reads the schema of the current database into keel's model.
///
/// Runs sixteen queries on `conn`, whatever the number of tables: fourteen catalog queries,
/// and two that turn the session's JIT compilation off and back to its previous value. It
/// opens no transaction, so it can run inside one the caller holds. Requires PostgreSQL 12
/// or later (`pg_attribute.attgenerated`).
///
/// # Errors
/// [`DriverError::Server`] or [`DriverError::ConnectionLost`] from a query, or
/// [`DriverError::Server`] without a code when the catalog contradicts itself (e.g. an index
/// key on a column that was not read), which happens only when DDL runs concurrently;
/// [`DriverError::NoCurrentSchema`] when `require_current` and the session's `search_path`
/// names no existing schema (every schema would read as another one: `public` as "added").
pub(crate) async fn introspect(
    conn: &mut PgConnection,
    require_current: bool,
) -> Result<Schema, DriverError> {
    let row = fetch(conn, JIT_OFF, sqlx::query(JIT_OFF)).await?;
    let previous: Option<String> = match row.first() {
        Some(row) => at(row, 0)?,
        None => None,
    };
    let schema = read(conn, require_current).await;
    if let Some(previous) = previous.filter(|p| p != "off") {
        let restored = fetch(conn, JIT_RESTORE, sqlx::query(JIT_RESTORE).bind(previous)).await;
        // The first error is the one to report.
        if let (Ok(_), Err(e)) = (&schema, restored) {
            return Err(e);
        }
    }
    schema
}

/// The catalog queries of [`introspect`], into a model.
async fn read(conn: &mut PgConnection, require_current: bool) -> Result<Schema, DriverError> {
    let mut schema = Schema::default();
    let namespaces = read_namespaces(conn).await?;
    if require_current && namespaces.0.values().all(Option::is_some) {
        return Err(DriverError::NoCurrentSchema {
            search_path: search_path(conn).await?,
        });
    }
    // Every schema read but the current one, empty or not, sorted.
    schema.namespaces = namespaces.0.values().flatten().cloned().collect();
    schema.namespaces.sort_unstable();
    let mut ids = read_tables(conn, &namespaces, &mut schema).await?;
    read_columns(conn, &mut ids, &mut schema).await?;
    read_primary_keys(conn, &ids, &mut schema).await?;
    read_indexes(conn, &ids, &mut schema).await?;
    read_foreign_keys(conn, &ids, &mut schema).await?;
    read_checks(conn, &ids, &mut schema).await?;
    read_enums(conn, &namespaces, &mut schema).await?;
    read_types(conn, &namespaces, &mut schema).await?;
    read_sequences(conn, &namespaces, &mut schema).await?;
    read_extensions(conn, &mut schema).await?;
    read_views(conn, &namespaces, &mut schema).await?;
    read_functions(conn, &namespaces, &mut schema).await?;
    read_triggers(conn, &ids, &mut schema).await?;
    read_policies(conn, &ids, &mut schema).await?;
    read_event_triggers(conn, &mut schema).await?;
    Ok(schema)
}

/// keel's and Prisma's ledger tables, left out of the model.
fn ledger_tables() -> Vec<String> {
    vec![KEEL_TABLE.to_string(), PRISMA_TABLE.to_string()]
}

/// The schemas read: oid → model namespace (`None` for `current_schema()`).
struct Namespaces(HashMap<Oid, Option<String>>);

impl Namespaces {
    /// The oids, the parameter of the per-namespace queries.
    fn oids(&self) -> Vec<Oid> {
        self.0.keys().copied().collect()
    }

    /// The model namespace of the schema `oid`.
    fn of(&self, oid: Oid) -> Option<String> {
        self.0.get(&oid).cloned().flatten()
    }
}

/// Model ids of the tables and columns read, by catalog oid and attnum.
struct Ids {
    tables: HashMap<Oid, TableId>,
    /// The tables' oids in model order: the parameter of the per-table queries.
    table_oids: Vec<Oid>,
    /// Per table (by `TableId`), its columns by attnum (small and dense; dropped columns
    /// leave holes).
    columns: Vec<Vec<Option<ColumnId>>>,
}

impl Ids {
    /// The table with catalog oid `oid`, if it is in the model.
    fn try_table(&self, oid: Oid) -> Option<TableId> {
        self.tables.get(&oid).copied()
    }

    /// The table with catalog oid `oid`.
    fn table(&self, oid: Oid) -> Result<TableId, DriverError> {
        self.try_table(oid)
            .ok_or_else(|| inconsistent(format!("table oid {} was not read", oid.0)))
    }

    /// Column `attnum` of the table with catalog oid `table`.
    fn column(&self, table: Oid, attnum: i16) -> Result<ColumnId, DriverError> {
        let ids = &self.columns[self.table(table)?.idx()];
        usize::try_from(attnum)
            .ok()
            .and_then(|a| ids.get(a).copied().flatten())
            .ok_or_else(|| {
                inconsistent(format!(
                    "column {attnum} of table oid {} was not read",
                    table.0
                ))
            })
    }

    /// Columns `attnums` of the table with catalog oid `table`, in that order.
    fn columns(&self, table: Oid, attnums: &[i16]) -> Result<Vec<ColumnId>, DriverError> {
        attnums.iter().map(|&a| self.column(table, a)).collect()
    }
}

/// The session's `search_path` setting, as the server prints it.
pub(crate) async fn search_path(conn: &mut PgConnection) -> Result<String, DriverError> {
    sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(conn)
        .await
        .map_err(DriverError::from_sqlx)
}

/// The schemas to read (see `namespaces.sql`).
async fn read_namespaces(conn: &mut PgConnection) -> Result<Namespaces, DriverError> {
    let rows = fetch(conn, NAMESPACES, sqlx::query(NAMESPACES)).await?;
    let [oid, name, is_current] = positions(&rows, ["oid", "name", "is_current"])?;
    let mut namespaces = HashMap::with_capacity(rows.len());
    for row in &rows {
        let current: bool = at(row, is_current)?;
        namespaces.insert(
            at(row, oid)?,
            (!current).then(|| at(row, name)).transpose()?,
        );
    }
    Ok(Namespaces(namespaces))
}

/// Tables, sorted by (namespace, name).
async fn read_tables(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<Ids, DriverError> {
    let query = sqlx::query(TABLES)
        .bind(namespaces.oids())
        .bind(ledger_tables());
    let rows = fetch(conn, TABLES, query).await?;
    let [oid, namespace, name, comment, row_security, force_row_security, partition_by, parent_namespace, parent_namespace_name, parent_name, partition_bound] =
        positions(
            &rows,
            [
                "oid",
                "namespace",
                "name",
                "comment",
                "row_security",
                "force_row_security",
                "partition_by",
                "parent_namespace",
                "parent_namespace_name",
                "parent_name",
                "partition_bound",
            ],
        )?;
    let mut tables = Vec::with_capacity(rows.len());
    for row in &rows {
        let namespace = namespaces.of(at(row, namespace)?);
        let name: String = at(row, name)?;
        let comment: Option<String> = at(row, comment)?;
        let security: (bool, bool) = (at(row, row_security)?, at(row, force_row_security)?);
        let partition_of = match (
            at::<Option<Oid>>(row, parent_namespace)?,
            at::<Option<String>>(row, parent_name)?,
            at::<Option<String>>(row, partition_bound)?,
        ) {
            (Some(ns), Some(table), Some(bound)) => Some(PartitionOf {
                // A parent in a schema keel does not read keeps its schema's name.
                namespace: if namespaces.0.contains_key(&ns) {
                    namespaces.of(ns)
                } else {
                    at::<Option<String>>(row, parent_namespace_name)?
                },
                table,
                bound,
            }),
            _ => None,
        };
        let partitioning = (at::<Option<String>>(row, partition_by)?, partition_of);
        tables.push((
            namespace,
            name,
            at::<Oid>(row, oid)?,
            comment,
            security,
            partitioning,
        ));
    }
    tables.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut ids = Ids {
        tables: HashMap::with_capacity(tables.len()),
        table_oids: Vec::with_capacity(tables.len()),
        columns: Vec::new(),
    };
    for (namespace, name, oid, comment, (enabled, forced), (partition_by, partition_of)) in tables {
        let id = schema.push_table(namespace, name);
        let t = &mut schema.tables[id.idx()];
        t.comment = comment;
        t.partition_by = partition_by;
        t.partition_of = partition_of;
        if enabled || forced {
            schema.row_security.push(RowSecurity {
                table: id,
                enabled,
                forced,
            });
        }
        ids.tables.insert(oid, id);
        ids.table_oids.push(oid);
    }
    Ok(ids)
}

/// Columns, by table then attnum.
async fn read_columns(
    conn: &mut PgConnection,
    ids: &mut Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, COLUMNS, sqlx::query(COLUMNS).bind(&ids.table_oids)).await?;
    let positions = ColumnPositions::of(&rows)?;
    let mut by_table: Vec<Vec<(i16, Column)>> = vec![Vec::new(); ids.table_oids.len()];
    let mut types = HashMap::new();
    for row in &rows {
        let table_oid: Oid = at(row, positions.table_oid)?;
        let table = ids.table(table_oid)?;
        by_table[table.idx()] = positions.read(row, table, &mut types)?;
    }
    ids.columns = Vec::with_capacity(by_table.len());
    for mut columns in by_table {
        columns.sort_unstable_by_key(|(attnum, _)| *attnum);
        let max = columns.last().map_or(0, |(attnum, _)| *attnum);
        let mut by_attnum = vec![None; usize::try_from(max).unwrap_or(0) + 1];
        for (attnum, column) in columns {
            let id = schema.push_column(column);
            if let Some(slot) = usize::try_from(attnum)
                .ok()
                .and_then(|a| by_attnum.get_mut(a))
            {
                *slot = Some(id);
            }
        }
        ids.columns.push(by_attnum);
    }
    Ok(())
}

/// Primary keys, into their tables.
async fn read_primary_keys(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(PRIMARY_KEYS).bind(&ids.table_oids);
    let rows = fetch(conn, PRIMARY_KEYS, query).await?;
    let [table_oid, name, columns] = positions(&rows, ["table_oid", "name", "columns"])?;
    for row in &rows {
        let table_oid: Oid = at(row, table_oid)?;
        let attnums: Vec<i16> = at(row, columns)?;
        schema.tables[ids.table(table_oid)?.idx()].primary_key = Some(PrimaryKey {
            name: Some(at(row, name)?),
            columns: ids.columns(table_oid, &attnums)?,
        });
    }
    Ok(())
}

/// Indexes, including those of unique constraints; by (table, name).
async fn read_indexes(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, OPCLASSES, sqlx::query(OPCLASSES)).await?;
    let [oid, name] = positions(&rows, ["oid", "name"])?;
    let mut non_default_opclasses: HashMap<Oid, String> = HashMap::with_capacity(rows.len());
    for row in &rows {
        non_default_opclasses.insert(at(row, oid)?, at(row, name)?);
    }

    let rows = fetch(conn, INDEXES, sqlx::query(INDEXES).bind(&ids.table_oids)).await?;
    let [table_oid, name, is_unique, is_constraint, key_count, keys, options, exprs, opclasses, method, predicate, invalid, nulls_not_distinct, storage] =
        positions(
            &rows,
            [
                "table_oid",
                "name",
                "is_unique",
                "is_constraint",
                "key_count",
                "keys",
                "options",
                "exprs",
                "opclasses",
                "method",
                "predicate",
                "invalid",
                "nulls_not_distinct",
                "storage",
            ],
        )?;
    let mut indexes = Vec::with_capacity(rows.len());
    for row in &rows {
        let table_oid: Oid = at(row, table_oid)?;
        let key_count = usize::try_from(at::<i32>(row, key_count)?).unwrap_or(0);
        let keys: Vec<i16> = at(row, keys)?;
        let options: Vec<i16> = at(row, options)?;
        let exprs: Option<Vec<Option<String>>> = at(row, exprs)?;
        let opclasses: Vec<Oid> = at(row, opclasses)?;
        let mut parts = Vec::with_capacity(key_count);
        let mut include = Vec::new();
        for (k, &attnum) in keys.iter().enumerate() {
            if k >= key_count {
                include.push(ids.column(table_oid, attnum)?);
                continue;
            }
            let expr = exprs.as_ref().and_then(|e| e.get(k).cloned().flatten());
            let part = match expr {
                Some(expr) if attnum == 0 => IndexPart::Expression(expr),
                _ => IndexPart::Column(ids.column(table_oid, attnum)?),
            };
            parts.push(IndexColumn {
                part,
                descending: options.get(k).is_some_and(|o| o & INDOPTION_DESC != 0),
                option: opclasses
                    .get(k)
                    .and_then(|oid| non_default_opclasses.get(oid).cloned()),
            });
        }
        let method: String = at(row, method)?;
        indexes.push(Index {
            table: ids.table(table_oid)?,
            name: at(row, name)?,
            unique: at(row, is_unique)?,
            constraint: at(row, is_constraint)?,
            columns: parts,
            method: (method != "btree").then_some(method),
            predicate: at(row, predicate)?,
            include,
            invalid: at(row, invalid)?,
            nulls_not_distinct: at(row, nulls_not_distinct)?,
            storage: at(row, storage)?,
        });
    }
    indexes.sort_unstable_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    schema.indexes = indexes;
    Ok(())
}

/// Foreign keys, by (table, name). A reference to a table outside the model (a ledger table,
/// an extension's table) cannot be expressed and is left out.
async fn read_foreign_keys(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(FOREIGN_KEYS).bind(&ids.table_oids);
    let rows = fetch(conn, FOREIGN_KEYS, query).await?;
    let [table_oid, name, columns, referenced_oid, referenced_columns, on_delete, on_update, deferrable, deferred, validated] =
        positions(
            &rows,
            [
                "table_oid",
                "name",
                "columns",
                "referenced_oid",
                "referenced_columns",
                "on_delete",
                "on_update",
                "deferrable",
                "deferred",
                "validated",
            ],
        )?;
    let mut foreign_keys = Vec::with_capacity(rows.len());
    for row in &rows {
        let table_oid: Oid = at(row, table_oid)?;
        let referenced_oid: Oid = at(row, referenced_oid)?;
        let Some(referenced_table) = ids.try_table(referenced_oid) else {
            continue;
        };
        let attnums: Vec<i16> = at(row, columns)?;
        let referenced_attnums: Vec<i16> = at(row, referenced_columns)?;
        let deferrable: bool = at(row, deferrable)?;
        let deferred: bool = at(row, deferred)?;
        foreign_keys.push(ForeignKey {
            table: ids.table(table_oid)?,
            name: Some(at(row, name)?),
            columns: ids.columns(table_oid, &attnums)?,
            referenced_table,
            referenced_columns: ids.columns(referenced_oid, &referenced_attnums)?,
            on_delete: Action::parse(&at::<String>(row, on_delete)?),
            on_update: Action::parse(&at::<String>(row, on_update)?),
            deferrable: deferrable.then_some(deferred),
            not_valid: !at::<bool>(row, validated)?,
        });
    }
    foreign_keys.sort_unstable_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    schema.foreign_keys = foreign_keys;
    Ok(())
}

/// Check constraints, by (table, name).
async fn read_checks(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, CHECKS, sqlx::query(CHECKS).bind(&ids.table_oids)).await?;
    let [table_oid, name, expression, validated] =
        positions(&rows, ["table_oid", "name", "expression", "validated"])?;
    let mut checks = Vec::with_capacity(rows.len());
    for row in &rows {
        checks.push(Check {
            table: ids.table(at(row, table_oid)?)?,
            name: Some(at(row, name)?),
            expression: at(row, expression)?,
            not_valid: !at::<bool>(row, validated)?,
        });
    }
    checks.sort_unstable_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    schema.checks = checks;
    Ok(())
}

/// Enums, by (namespace, name).
async fn read_enums(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, ENUMS, sqlx::query(ENUMS).bind(namespaces.oids())).await?;
    let [namespace, name, labels] = positions(&rows, ["namespace", "name", "labels"])?;
    for row in &rows {
        schema.enums.push(Enum {
            namespace: namespaces.of(at(row, namespace)?),
            name: at(row, name)?,
            values: at(row, labels)?,
        });
    }
    schema
        .enums
        .sort_unstable_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(())
}

/// Domains and composite types, in creation order.
async fn read_types(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, TYPES, sqlx::query(TYPES).bind(namespaces.oids())).await?;
    let [namespace, name, composite, definition] =
        positions(&rows, ["namespace", "name", "composite", "definition"])?;
    for row in &rows {
        schema.types.push(UserType {
            namespace: namespaces.of(at(row, namespace)?),
            name: at(row, name)?,
            composite: at(row, composite)?,
            definition: at(row, definition)?,
        });
    }
    Ok(())
}

/// Sequences owned by no column, by (namespace, name).
async fn read_sequences(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(SEQUENCES).bind(namespaces.oids());
    let rows = fetch(conn, SEQUENCES, query).await?;
    let [namespace, name, start, increment] =
        positions(&rows, ["namespace", "name", "start", "increment"])?;
    for row in &rows {
        schema.sequences.push(Sequence {
            namespace: namespaces.of(at(row, namespace)?),
            name: at(row, name)?,
            start: at(row, start)?,
            increment: at(row, increment)?,
        });
    }
    schema
        .sequences
        .sort_unstable_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(())
}

/// Extensions, by name.
async fn read_extensions(conn: &mut PgConnection, schema: &mut Schema) -> Result<(), DriverError> {
    let rows = fetch(conn, EXTENSIONS, sqlx::query(EXTENSIONS)).await?;
    let [name, namespace, is_current] = positions(&rows, ["name", "namespace", "is_current"])?;
    for row in &rows {
        let current: bool = at(row, is_current)?;
        schema.extensions.push(Extension {
            name: at(row, name)?,
            namespace: (!current).then(|| at(row, namespace)).transpose()?,
        });
    }
    schema
        .extensions
        .sort_unstable_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

/// Views and materialized views, by (namespace, name).
async fn read_views(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(VIEWS)
        .bind(namespaces.oids())
        .bind(ledger_tables());
    let rows = fetch(conn, VIEWS, query).await?;
    let [namespace, name, definition, materialized, index_names, index_unique, index_definitions] =
        positions(
            &rows,
            [
                "namespace",
                "name",
                "definition",
                "materialized",
                "index_names",
                "index_unique",
                "index_definitions",
            ],
        )?;
    for row in &rows {
        let definition: String = at(row, definition)?;
        let names: Vec<String> = at(row, index_names)?;
        let unique: Vec<bool> = at(row, index_unique)?;
        let definitions: Vec<String> = at(row, index_definitions)?;
        let indexes = names
            .into_iter()
            .zip(unique)
            .zip(definitions)
            .map(|((name, unique), definition)| ViewIndex {
                name,
                unique,
                definition,
            })
            .collect();
        schema.views.push(View {
            namespace: namespaces.of(at(row, namespace)?),
            name: at(row, name)?,
            definition: definition.trim().to_string(),
            materialized: at(row, materialized)?,
            indexes,
        });
    }
    schema
        .views
        .sort_unstable_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(())
}

/// Functions and procedures, by (namespace, name, arguments). The definition's name is
/// unqualified when the function is in the current namespace, so that a shadow database whose
/// current schema has another name reads the same text.
async fn read_functions(
    conn: &mut PgConnection,
    namespaces: &Namespaces,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(FUNCTIONS).bind(namespaces.oids());
    let rows = fetch(conn, FUNCTIONS, query).await?;
    let [namespace, name, arguments, procedure, definition, prefix] = positions(
        &rows,
        [
            "namespace",
            "name",
            "arguments",
            "procedure",
            "definition",
            "prefix",
        ],
    )?;
    for row in &rows {
        let ns = namespaces.of(at(row, namespace)?);
        let procedure: bool = at(row, procedure)?;
        let mut definition: String = at(row, definition)?;
        if ns.is_none() {
            let prefix: String = at(row, prefix)?;
            let kind = if procedure { "PROCEDURE" } else { "FUNCTION" };
            definition = definition.replacen(
                &format!("CREATE OR REPLACE {kind} {prefix}"),
                &format!("CREATE OR REPLACE {kind} "),
                1,
            );
        }
        schema.functions.push(Function {
            namespace: ns,
            name: at(row, name)?,
            arguments: at(row, arguments)?,
            procedure,
            definition: definition.trim_end().to_string(),
        });
    }
    schema.functions.sort_unstable_by(|a, b| {
        (&a.namespace, &a.name, &a.arguments).cmp(&(&b.namespace, &b.name, &b.arguments))
    });
    Ok(())
}

/// Triggers of the tables read, by (table, name).
async fn read_triggers(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(TRIGGERS).bind(ids.table_oids.clone());
    let rows = fetch(conn, TRIGGERS, query).await?;
    let [table_oid, name, definition, enabled] =
        positions(&rows, ["table_oid", "name", "definition", "enabled"])?;
    for row in &rows {
        let Some(table) = ids.try_table(at(row, table_oid)?) else {
            continue;
        };
        let enabled: String = at(row, enabled)?;
        schema.triggers.push(Trigger {
            table,
            name: at(row, name)?,
            definition: at(row, definition)?,
            state: match enabled.as_str() {
                "D" => TriggerState::Disabled,
                "R" => TriggerState::Replica,
                "A" => TriggerState::Always,
                _ => TriggerState::Enabled,
            },
        });
    }
    schema
        .triggers
        .sort_unstable_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    Ok(())
}

/// Event triggers of the database, by name.
async fn read_event_triggers(
    conn: &mut PgConnection,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let rows = fetch(conn, EVENT_TRIGGERS, sqlx::query(EVENT_TRIGGERS)).await?;
    let [name, definition, enabled] = positions(&rows, ["name", "definition", "enabled"])?;
    for row in &rows {
        let state = match at::<String>(row, enabled)?.as_str() {
            "D" => Some("DISABLE"),
            "R" => Some("ENABLE REPLICA"),
            "A" => Some("ENABLE ALWAYS"),
            _ => None,
        };
        schema.events.push(Event {
            name: at(row, name)?,
            definition: at(row, definition)?,
            state: state.map(String::from),
        });
    }
    Ok(())
}

/// Row-level security policies of the tables read, by (table, name).
async fn read_policies(
    conn: &mut PgConnection,
    ids: &Ids,
    schema: &mut Schema,
) -> Result<(), DriverError> {
    let query = sqlx::query(POLICIES).bind(ids.table_oids.clone());
    let rows = fetch(conn, POLICIES, query).await?;
    let [table_oid, name, permissive, command, roles, using, check] = positions(
        &rows,
        [
            "table_oid",
            "name",
            "permissive",
            "command",
            "roles",
            "using_expr",
            "check_expr",
        ],
    )?;
    for row in &rows {
        let Some(table) = ids.try_table(at(row, table_oid)?) else {
            continue;
        };
        let roles: Option<String> = at(row, roles)?;
        schema.policies.push(Policy {
            table,
            name: at(row, name)?,
            permissive: at(row, permissive)?,
            command: at(row, command)?,
            roles: roles.unwrap_or_else(|| "PUBLIC".into()),
            using: at(row, using)?,
            with_check: at(row, check)?,
        });
    }
    schema
        .policies
        .sort_unstable_by(|a, b| (a.table, &a.name).cmp(&(b.table, &b.name)));
    Ok(())
}

/// Positions of the columns of `columns.sql`.
struct ColumnPositions {
    table_oid: usize,
    attnums: usize,
    names: usize,
    data_types: usize,
    not_null: usize,
    identity: usize,
    generated: usize,
    default_exprs: usize,
    collations: usize,
    comments: usize,
    serial: usize,
}

impl ColumnPositions {
    /// The positions in the rows of `columns.sql`.
    fn of(rows: &[PgRow]) -> Result<ColumnPositions, DriverError> {
        let [table_oid, attnums, names, data_types, not_null, identity, generated, default_exprs, collations, comments, serial] =
            positions(
                rows,
                [
                    "table_oid",
                    "attnums",
                    "names",
                    "data_types",
                    "not_null",
                    "identity",
                    "generated",
                    "default_exprs",
                    "collations",
                    "comments",
                    "serial",
                ],
            )?;
        Ok(ColumnPositions {
            table_oid,
            attnums,
            names,
            data_types,
            not_null,
            identity,
            generated,
            default_exprs,
            collations,
            comments,
            serial,
        })
    }

    /// One row of `columns.sql`: the columns of `table` with their attnums, unordered.
    /// `types` memoizes [`data_type`]: a schema has few distinct types and many columns.
    fn read(
        &self,
        row: &PgRow,
        table: TableId,
        types: &mut HashMap<String, String>,
    ) -> Result<Vec<(i16, Column)>, DriverError> {
        let attnums: Vec<i16> = at(row, self.attnums)?;
        let names: Vec<String> = at(row, self.names)?;
        let data_types: Vec<String> = at(row, self.data_types)?;
        let not_null: Vec<bool> = at(row, self.not_null)?;
        let identity: Vec<String> = at(row, self.identity)?;
        let generated: Vec<String> = at(row, self.generated)?;
        let default_exprs: Vec<Option<String>> = at(row, self.default_exprs)?;
        let collations: Vec<Option<String>> = at(row, self.collations)?;
        let comments: Vec<Option<String>> = at(row, self.comments)?;
        let serial: Vec<bool> = at(row, self.serial)?;
        let n = attnums.len();
        let lengths = [
            names.len(),
            data_types.len(),
            not_null.len(),
            identity.len(),
            generated.len(),
            default_exprs.len(),
            collations.len(),
            comments.len(),
            serial.len(),
        ];
        if lengths.iter().any(|&l| l != n) {
            return Err(inconsistent(format!(
                "the column arrays of table {} differ in length",
                table.0
            )));
        }
        let mut columns = Vec::with_capacity(n);
        let fields = names
            .into_iter()
            .zip(data_types)
            .zip(default_exprs)
            .zip(collations)
            .zip(comments);
        for (i, ((((name, raw_type), raw_default), collation), comment)) in fields.enumerate() {
            let data_type = match types.get(&raw_type) {
                Some(t) => t.clone(),
                None => {
                    let t = data_type(&raw_type);
                    types.insert(raw_type, t.clone());
                    t
                }
            };
            let serial = serial[i];
            let auto_increment = match identity[i].as_str() {
                "a" => Some(AutoIncrement::IdentityAlways),
                "d" => Some(AutoIncrement::IdentityByDefault),
                _ if serial => Some(AutoIncrement::Serial),
                _ => None,
            };
            // For a generated column (attgenerated 's' stored, 'v' virtual since PostgreSQL
            // 18), pg_attrdef holds the generation expression, not a default.
            let (default, generated) = match (generated[i].as_str(), raw_default) {
                (kind @ ("s" | "v"), Some(expression)) => (
                    None,
                    Some(Generated {
                        expression,
                        stored: kind == "s",
                    }),
                ),
                // serial: the nextval() default is implied by AutoIncrement::Serial.
                _ if serial => (None, None),
                (_, raw) => (
                    raw.and_then(|d| normalize::default_expr(Dialect::Postgres, &d)),
                    None,
                ),
            };
            let column = Column {
                table,
                name,
                data_type,
                nullable: !not_null[i],
                default,
                auto_increment,
                generated,
                collation,
                comment,
                on_update: None,
                invisible: false,
            };
            columns.push((attnums[i], column));
        }
        Ok(columns)
    }
}

/// The canonical spelling of a `format_type()` result.
///
/// `format_type()` quotes a type name only when it needs quotes (`"UserRole"`, `"my type"[]`);
/// such a name is exact as printed, and lowercasing it (as [`normalize::data_type`] does to
/// the whole string) would turn `"UserRole"` into a different type. Those are kept verbatim;
/// built-in and other unquoted names go through [`normalize::data_type`].
fn data_type(raw: &str) -> String {
    if raw.contains('"') {
        raw.trim().to_string()
    } else {
        normalize::data_type(Dialect::Postgres, raw)
    }
}

/// Runs one introspection query and returns all its rows.
async fn fetch<'q>(
    conn: &mut PgConnection,
    sql: &str,
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<PgRow>, DriverError> {
    query
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| match DriverError::from_sqlx(e) {
            DriverError::Server { code, message } => DriverError::Server {
                code,
                message: format!("{message} (introspection query `{}`)", query_name(sql)),
            },
            other => other,
        })
}

/// A short name for a query in messages: its first comment line.
fn query_name(sql: &str) -> &str {
    sql.lines()
        .next()
        .and_then(|l| l.strip_prefix("-- "))
        .unwrap_or("catalog query")
}

/// The positions of the columns `names` in `rows`, looked up once per query: a lookup by
/// name for every row and column took a fifth of the time at 50,000 columns. Any positions
/// do when there are no rows.
fn positions<const N: usize>(rows: &[PgRow], names: [&str; N]) -> Result<[usize; N], DriverError> {
    let mut out = [0; N];
    if let Some(row) = rows.first() {
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = row
                .try_column(name)
                .map_err(|e| DriverError::Server {
                    code: None,
                    message: format!("introspection: no column `{name}`: {e}"),
                })?
                .ordinal();
        }
    }
    Ok(out)
}

/// Reads the column at `position` of `row`.
fn at<'r, T>(row: &'r PgRow, position: usize) -> Result<T, DriverError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(position).map_err(|e| DriverError::Server {
        code: None,
        message: format!(
            "introspection: cannot read `{}`: {e}",
            row.columns().get(position).map_or("?", |c| c.name())
        ),
    })
}

/// The error for a catalog that contradicts itself between two queries.
fn inconsistent(what: String) -> DriverError {
    DriverError::Server {
        code: None,
        message: format!(
            "introspection: {what}; the schema changed while it was being read, try again"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_types_keep_their_case() {
        assert_eq!(data_type("\"UserRole\""), "\"UserRole\"");
        assert_eq!(data_type("other.\"Mood\"[]"), "other.\"Mood\"[]");
        assert_eq!(data_type("character varying(10)"), "varchar(10)");
        assert_eq!(data_type("integer[]"), "integer[]");
    }
}
