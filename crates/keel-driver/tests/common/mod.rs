//! Helpers shared by the introspection tests: read a test database, find objects by name.
#![allow(dead_code, clippy::unwrap_used)]

use keel_core::schema::diff::diff;
use keel_core::schema::render::render;
use keel_core::schema::{Column, Index, IndexPart, Schema, TableId};
use keel_core::Dialect;
use keel_test_support::TestDb;

/// The schema of `db`, introspected.
pub async fn introspect(db: &TestDb) -> Schema {
    let mut driver = keel_driver::connect(&db.url).await.unwrap();
    let schema = driver.introspect().await.unwrap();
    driver.close().await;
    schema
}

pub fn table(s: &Schema, name: &str) -> TableId {
    s.table_id(None, name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

pub fn column<'s>(s: &'s Schema, t: &str, name: &str) -> &'s Column {
    let id = s
        .column_id(table(s, t), name)
        .unwrap_or_else(|| panic!("no column {t}.{name}"));
    s.column(id)
}

pub fn index<'s>(s: &'s Schema, name: &str) -> &'s Index {
    s.indexes
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no index {name}"))
}

pub fn names(s: &Schema, ids: &[keel_core::schema::ColumnId]) -> Vec<String> {
    ids.iter().map(|id| s.column(*id).name.clone()).collect()
}

/// Key parts as text: column names, or expressions in brackets.
pub fn parts(s: &Schema, i: &Index) -> Vec<String> {
    i.columns
        .iter()
        .map(|c| match &c.part {
            IndexPart::Column(id) => s.column(*id).name.clone(),
            IndexPart::Expression(e) => format!("[{e}]"),
        })
        .collect()
}

/// Runs each statement of `plan` from `from` to `to` on `db`, then requires `to`.
pub async fn apply_and_compare(db: &TestDb, dialect: Dialect, from: &Schema, to: &Schema) {
    let plan = diff(dialect, from, to);
    // One script, one session (as keel runs a migration): session settings hold across it.
    let script = render(&plan).unwrap().join(";\n");
    if !script.is_empty() {
        db.execute(&script).await;
    }
    let live = introspect(db).await;
    let left = diff(dialect, &live, to);
    assert!(
        left.is_empty(),
        "after applying the plan: {:?}",
        keel_core::schema::summary::summarize(&left)
    );
}
