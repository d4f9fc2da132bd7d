use crate::facts::count;
use crate::types::{change, Change as TypeChange};
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds column type changes whose cast can truncate values or reject them: shorter text,
smaller integers, less numeric precision or scale, text to a number or a date, a timestamp
to a date.

## Why is this bad?
A rejected value fails the deploy part-way; a truncated one is lost silently (MySQL in a
non-strict mode, or an explicit `USING` that cuts).

## Example
```sql
ALTER TABLE "users" ALTER COLUMN "name" TYPE varchar(20);
```

## How to fix
Check the longest or largest value first (`SELECT max(length(name)) FROM users`), clean up
what does not fit, or keep the wider type.
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    let mut pairs = Vec::new();
    for c in &cx.plan.changes {
        match c {
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } if changes.data_type => pairs.push((*a, *b)),
            Change::RedefineTable { from: old, to: new } => {
                for (a, col) in from.table_columns(*old) {
                    if let Some((b, _)) = to
                        .table_columns(*new)
                        .find(|(_, n)| n.name == col.name && n.data_type != col.data_type)
                    {
                        pairs.push((a, b));
                    }
                }
            }
            _ => {}
        }
    }
    for (a, b) in pairs {
        let (old, new) = (from.column(a), to.column(b));
        if let TypeChange::Narrowing(why) = change(&old.data_type, &new.data_type) {
            let table = from.table_name(old.table);
            let rows = cx
                .facts
                .and_then(|f| f.non_null.get(&(table.clone(), old.name.clone())))
                .copied();
            let stake = match rows.as_ref() {
                Some(n) => format!(
                    " ({} non-NULL value{} to convert)",
                    count(*n),
                    if *n == 1 { "" } else { "s" }
                ),
                None => String::new(),
            };
            let at = cx.locate(&[&old.name]);
            let mut f = cx.finding(
                Rule::NarrowingType,
                at,
                format!(
                    "changes `{table}.{}` from {} to {}: {why}{stake}",
                    old.name, old.data_type, new.data_type
                ),
            );
            f.rows = rows;
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_shorter_text_and_passes_longer() {
        let before = schema(&[("users", &[("name", "character varying(50)", true)])]);
        let after = schema(&[("users", &[("name", "character varying(20)", true)])]);
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);",
            None,
        );
        assert_eq!(render(&f), "error[narrowing-type] m.sql:1 step 1: changes `users.name` from character varying(50) to character varying(20): values longer than 20 characters are cut or rejected");
        assert!(run(
            super::check,
            PG,
            &after,
            &before,
            "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);",
            None
        )
        .is_empty());
    }
}
