use crate::facts::count;
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds columns the migration drops, including columns a SQLite table redefinition leaves out.

## Why is this bad?
Every value in the column is gone once the migration commits. The running version of the
application, which still selects the column, fails until the new one is deployed.

## Example
```sql
ALTER TABLE "users" DROP COLUMN "phone";
```

## How to fix
Deploy the application without the column first; copy the values if they are still needed;
then drop it and say so: `-- keel:allow drop-column reason="moved to profiles"`.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let from = &cx.plan.from;
    let mut dropped: Vec<keel_core::schema::ColumnId> = Vec::new();
    for c in &cx.plan.changes {
        match c {
            Change::DropColumn { column } => dropped.push(*column),
            Change::RedefineTable { from: old, to } => {
                for (id, col) in from.table_columns(*old) {
                    if cx
                        .plan
                        .to
                        .table_columns(*to)
                        .all(|(_, n)| n.name != col.name)
                    {
                        dropped.push(id);
                    }
                }
            }
            _ => {}
        }
    }
    for id in dropped {
        let col = from.column(id);
        if crate::rules::renamed_in_script(cx, &col.name) {
            continue;
        }
        let table = from.table_name(col.table);
        let at = cx.locate(&[&col.name]);
        let rows = cx
            .facts
            .and_then(|f| f.non_null.get(&(table.clone(), col.name.clone())))
            .copied();
        let stake = match rows.as_ref() {
            Some(n) => format!(
                ", which holds {} non-NULL value{}",
                count(*n),
                if *n == 1 { "" } else { "s" }
            ),
            None => String::new(),
        };
        let mut f = cx.finding(
            Rule::DropColumn,
            at,
            format!("drops column `{table}.{}`{stake}", col.name),
        );
        f.rows = rows;
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_a_dropped_column_with_its_values() {
        let before = schema(&[(
            "users",
            &[("id", "integer", false), ("phone", "text", true)],
        )]);
        let after = schema(&[("users", &[("id", "integer", false)])]);
        let mut facts = crate::Facts::default();
        facts
            .non_null
            .insert(("users".into(), "phone".into()), 12345);
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "ALTER TABLE users DROP COLUMN phone;",
            Some(&facts),
        );
        assert_eq!(render(&f), "error[drop-column] m.sql:1 step 1: drops column `users.phone`, which holds 12,345 non-NULL values");
    }

    #[test]
    fn flags_a_column_a_sqlite_redefinition_leaves_out() {
        let before = schema(&[(
            "users",
            &[("id", "integer", false), ("phone", "text", true)],
        )]);
        let mut after = schema(&[("users", &[("id", "integer", false)])]);
        after.columns[0].data_type = "bigint".into(); // forces a redefinition
        let f = run(
            super::check,
            SQLITE,
            &before,
            &after,
            "CREATE TABLE new_users (id bigint);\nINSERT INTO new_users SELECT id FROM users;",
            None,
        );
        assert!(
            render(&f).contains("drops column `users.phone`"),
            "{}",
            render(&f)
        );
    }
}
