use crate::rules::{existed, rows_note};
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds `CREATE INDEX` without `CONCURRENTLY` on a PostgreSQL table that existed before the
migration.

## Why is this bad?
A plain index build holds a SHARE lock: every INSERT, UPDATE and DELETE on the table waits
until the whole index is built, minutes on a large table.

## Example
```sql
CREATE INDEX "orders_created_at_idx" ON "orders" ("created_at");
```

## How to fix
`CREATE INDEX CONCURRENTLY …` in a migration of its own (it cannot run in a transaction;
keel runs such a migration step by step).
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let to = &cx.plan.to;
    for c in &cx.plan.changes {
        let Change::CreateIndex { to: i } = c else {
            continue;
        };
        let ix = &to.indexes[*i];
        if ix.constraint || !existed(cx, ix.table) {
            continue;
        }
        let at = cx.locate(&[&ix.name]);
        if cx
            .step_sql(at)
            .to_ascii_lowercase()
            .contains("concurrently")
        {
            continue;
        }
        let table = to.table_name(ix.table);
        out.push(cx.finding(
            Rule::IndexNotConcurrent,
            at,
            format!("creates index `{}` on `{table}` without CONCURRENTLY: writes to the table wait until it is built{}", ix.name, rows_note(cx, &table)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::{ColumnId, Index, IndexColumn, IndexPart, TableId};

    #[test]
    fn flags_a_plain_index_on_an_existing_table() {
        let before = schema(&[("orders", &[("created_at", "timestamp", true)])]);
        let mut after = before.clone();
        after.indexes.push(Index {
            table: TableId(0),
            name: "orders_created_at_idx".into(),
            unique: false,
            constraint: false,
            columns: vec![IndexColumn {
                part: IndexPart::Column(ColumnId(0)),
                descending: false,
                option: None,
            }],
            method: None,
            predicate: None,
            include: vec![],
            invalid: false,
            nulls_not_distinct: false,
            storage: None,
        });
        let mut facts = crate::Facts::default();
        facts.rows.insert("orders".into(), 2_000_000);
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "CREATE INDEX orders_created_at_idx ON orders (created_at);",
            Some(&facts),
        );
        assert_eq!(render(&f), "warning[index-not-concurrent] m.sql:1 step 1: creates index `orders_created_at_idx` on `orders` without CONCURRENTLY: writes to the table wait until it is built (2,000,000 rows on the target)");
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);",
            None,
        );
        assert!(f.is_empty());
    }
}
