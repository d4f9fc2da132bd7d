use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;
use keel_core::splitter::classify;

pub(crate) const DOC: &str = r#"
## What it does
Finds a SQLite table redefinition (create a copy, copy the rows, drop the original, rename the
copy) in a migration that does not turn `PRAGMA foreign_keys` off first.

## Why is this bad?
With foreign keys enforced, dropping the original table deletes (or, with `ON DELETE
CASCADE`, cascades to) the rows that reference it, or fails; the copy's rows are not what the
other tables pointed to.

## Example
```sql
CREATE TABLE "new_users" ("id" INTEGER NOT NULL PRIMARY KEY, "email" TEXT NOT NULL);
INSERT INTO "new_users" SELECT "id", "email" FROM "users";
DROP TABLE "users";
ALTER TABLE "new_users" RENAME TO "users";
```

## How to fix
Wrap the redefinition as Prisma does: `PRAGMA defer_foreign_keys=ON; PRAGMA foreign_keys=OFF;`
before it and `PRAGMA foreign_keys=ON; PRAGMA defer_foreign_keys=OFF;` after (keel runs
`PRAGMA foreign_key_check` before committing).
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let off = (0..cx.steps.len())
        .any(|i| classify(cx.step_sql(i), cx.dialect).sqlite_pragma_foreign_keys == Some(false));
    if off {
        return;
    }
    for c in &cx.plan.changes {
        let Change::RedefineTable { from, .. } = c else {
            continue;
        };
        let name = cx.plan.from.table_name(*from);
        let referenced = cx
            .plan
            .from
            .foreign_keys
            .iter()
            .any(|f| f.referenced_table == *from || f.table == *from);
        if !referenced {
            continue;
        }
        // Only a redefinition the script writes out (`DROP TABLE x` then a copy renamed to
        // x); SQLite's own `ALTER TABLE … DROP COLUMN` keeps the table.
        let table = &cx.plan.from.table(*from).name;
        let Some(at) = (0..cx.steps.len()).find(|i| {
            let t = cx.step_sql(*i).to_ascii_lowercase().replace(['"', '`'], "");
            t.starts_with("drop table")
                && t.split_whitespace()
                    .last()
                    .is_some_and(|w| w.trim_end_matches(';') == table.to_ascii_lowercase())
        }) else {
            continue;
        };
        out.push(cx.finding(Rule::SqliteRedefineForeignKeys, at, format!(
            "redefines `{name}`, which has or is the target of foreign keys, with foreign keys enforced: add `PRAGMA foreign_keys=OFF` before the redefinition"
        )));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::{Action, ColumnId, ForeignKey, TableId};

    #[test]
    fn flags_only_without_the_pragma() {
        let mut before = schema(&[
            ("users", &[("id", "integer", false)]),
            ("posts", &[("user_id", "integer", true)]),
        ]);
        before.foreign_keys.push(ForeignKey {
            table: TableId(1),
            name: None,
            columns: vec![ColumnId(1)],
            referenced_table: TableId(0),
            referenced_columns: vec![ColumnId(0)],
            on_delete: Action::Cascade,
            on_update: Action::NoAction,
            deferrable: None,
            not_valid: false,
        });
        let mut after = before.clone();
        after.columns[0].data_type = "bigint".into();
        let script = "CREATE TABLE new_users (id bigint);\nINSERT INTO new_users SELECT id FROM users;\nDROP TABLE users;\nALTER TABLE new_users RENAME TO users;";
        assert_eq!(
            run(super::check, SQLITE, &before, &after, script, None).len(),
            1
        );
        let wrapped = format!("PRAGMA foreign_keys=OFF;\n{script}\nPRAGMA foreign_keys=ON;");
        assert!(run(super::check, SQLITE, &before, &after, &wrapped, None).is_empty());
    }
}
