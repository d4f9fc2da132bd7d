//! One file per rule: its doc, its check, its tests.

pub(crate) mod drop_column;
pub(crate) mod drop_function_in_use;
pub(crate) mod drop_table;
pub(crate) mod foreign_key_not_valid;
pub(crate) mod index_not_concurrent;
pub(crate) mod missing_lock_timeout;
pub(crate) mod mixed_non_transactional;
pub(crate) mod mysql_table_copy;
pub(crate) mod narrowing_type;
pub(crate) mod remove_enum_value;
pub(crate) mod rename;
pub(crate) mod replace_trigger;
pub(crate) mod set_not_null;
pub(crate) mod sqlite_redefine_foreign_keys;
pub(crate) mod table_rewrite;
pub(crate) mod unique_may_fail;

use crate::facts::count;
use crate::Context;
use keel_core::schema::{IndexPart, Schema, TableId};

/// Whether the table `id` of the schema after the migration existed before it (it may hold
/// rows).
pub(crate) fn existed(cx: &Context, id: TableId) -> bool {
    let t = cx.plan.to.table(id);
    cx.plan
        .from
        .table_id(t.namespace.as_deref(), &t.name)
        .is_some()
}

/// `, which holds 12,345 rows` when measured.
pub(crate) fn rows_note(cx: &Context, table: &str) -> String {
    match cx.facts.and_then(|f| f.rows.get(table)) {
        Some(n) => format!(
            " ({} row{} on the target)",
            count(*n),
            if *n == 1 { "" } else { "s" }
        ),
        None => String::new(),
    }
}

/// Column names of an index, or `None` when it has expressions.
pub(crate) fn index_columns(
    s: &Schema,
    cols: &[keel_core::schema::IndexColumn],
) -> Option<Vec<String>> {
    cols.iter()
        .map(|c| match &c.part {
            IndexPart::Column(id) => Some(s.column(*id).name.clone()),
            IndexPart::Expression(_) => None,
        })
        .collect()
}

/// Whether a step of the script renames `name` (a column or table written as renamed, which a
/// schema diff reads as a drop and an add).
pub(crate) fn renamed_in_script(cx: &Context, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    (0..cx.steps.len()).any(|i| {
        let t = cx.step_sql(i).to_ascii_lowercase().replace(['"', '`'], "");
        let words: Vec<&str> = t
            .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        words.iter().position(|w| *w == "rename").is_some_and(|r| {
            // RENAME COLUMN old TO new / RENAME TABLE old TO new / ALTER TABLE old RENAME TO new
            match words.get(r + 1).copied() {
                Some("column" | "table") => words
                    .get(r + 2)
                    .is_some_and(|w| w.rsplit('.').next() == Some(name.as_str())),
                Some("to") => r >= 1 && words[r - 1].rsplit('.').next() == Some(name.as_str()),
                Some(w) => w == name,
                None => false,
            }
        })
    })
}
