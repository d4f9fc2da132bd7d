use crate::facts::count;
use crate::rules::existed;
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds a column made NOT NULL, and a NOT NULL column without a default added to an existing
table.

## Why is this bad?
Any NULL in the column (or any row at all, for a new column without a default) fails the
migration; on PostgreSQL the check scans the whole table under an ACCESS EXCLUSIVE lock.

## Example
```sql
ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL;
```

## How to fix
Backfill first (`UPDATE users SET email = … WHERE email IS NULL`), or give the new column a
default. On PostgreSQL, add `CHECK (email IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT`, then
`SET NOT NULL` (which then needs no scan).
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        match c {
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } if changes.nullable && !to.column(*b).nullable => {
                let col = from.column(*a);
                let table = from.table_name(col.table);
                let stake = match cx
                    .facts
                    .and_then(|f| f.nulls.get(&(table.clone(), col.name.clone())))
                {
                    Some(0) => " (no NULLs on the target now)".to_string(),
                    Some(n) => format!(
                        ": {} row{} on the target {} NULL, so it fails",
                        count(*n),
                        if *n == 1 { "" } else { "s" },
                        if *n == 1 { "holds" } else { "hold" }
                    ),
                    None => ": it fails if any row holds NULL".to_string(),
                };
                let at = cx.locate(&[&col.name]);
                out.push(cx.finding(
                    Rule::SetNotNull,
                    at,
                    format!("makes `{table}.{}` NOT NULL{stake}", col.name),
                ));
            }
            Change::AddColumn { column } => {
                let col = to.column(*column);
                if col.nullable
                    || col.default.is_some()
                    || col.generated.is_some()
                    || col.auto_increment.is_some()
                    || !existed(cx, col.table)
                {
                    continue;
                }
                let table = to.table_name(col.table);
                let stake = match cx.facts.and_then(|f| f.rows.get(&table)) {
                    Some(0) => " (the table is empty on the target now)".to_string(),
                    Some(n) => format!(
                        ": the table holds {} row{} on the target, so it fails",
                        count(*n),
                        if *n == 1 { "" } else { "s" }
                    ),
                    None => ": it fails if the table holds any row".to_string(),
                };
                let at = cx.locate(&[&col.name]);
                out.push(cx.finding(
                    Rule::SetNotNull,
                    at,
                    format!(
                        "adds NOT NULL column `{table}.{}` without a default{stake}",
                        col.name
                    ),
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn counts_nulls_under_a_new_not_null() {
        let before = schema(&[("users", &[("email", "text", true)])]);
        let after = schema(&[("users", &[("email", "text", false)])]);
        let mut facts = crate::Facts::default();
        facts.nulls.insert(("users".into(), "email".into()), 3);
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            Some(&facts),
        );
        assert_eq!(render(&f), "warning[set-not-null] m.sql:1 step 1: makes `users.email` NOT NULL: 3 rows on the target hold NULL, so it fails");
    }

    #[test]
    fn a_new_table_is_not_at_risk() {
        let before = schema(&[]);
        let after = schema(&[("users", &[("email", "text", false)])]);
        assert!(run(
            super::check,
            PG,
            &before,
            &after,
            "CREATE TABLE users (email text NOT NULL);",
            None
        )
        .is_empty());
    }
}
