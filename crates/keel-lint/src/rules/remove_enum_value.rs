use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds enum values a migration removes: a PostgreSQL enum type recreated without some values,
a MySQL `ENUM(…)` column redefined without them.

## Why is this bad?
Rows that still hold a removed value make the migration fail (PostgreSQL's cast to the new
type) or lose the value (MySQL stores `''` outside strict mode).

## Example
```sql
ALTER TABLE "orders" MODIFY "status" ENUM('new', 'paid');  -- 'cancelled' removed
```

## How to fix
Update the rows that use the value first (`UPDATE orders SET status = 'new' WHERE status = 'cancelled'`),
and deploy an application that no longer writes it.
"#;

fn enum_values(t: &str) -> Option<Vec<String>> {
    let lower = t.trim().to_ascii_lowercase();
    let inner = lower.strip_prefix("enum(")?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().trim_matches('\'').to_string())
            .collect(),
    )
}

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        match c {
            Change::AlterEnum {
                from: e, removed, ..
            } if !removed.is_empty() => {
                let name = &from.enums[*e].name;
                let at = cx.locate(&[name]);
                out.push(cx.finding(
                    Rule::RemoveEnumValue,
                    at,
                    format!(
                    "removes {} from enum `{name}`: rows that hold {} make it fail",
                    removed.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", "),
                    if removed.len() == 1 { "it" } else { "them" }
                ),
                ));
            }
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } if changes.data_type => {
                let (old, new) = (from.column(*a), to.column(*b));
                let (Some(ov), Some(nv)) =
                    (enum_values(&old.data_type), enum_values(&new.data_type))
                else {
                    continue;
                };
                let removed: Vec<&String> = ov.iter().filter(|v| !nv.contains(v)).collect();
                if removed.is_empty() {
                    continue;
                }
                let table = from.table_name(old.table);
                let at = cx.locate(&[&old.name]);
                out.push(cx.finding(Rule::RemoveEnumValue, at, format!(
                    "removes {} from `{table}.{}`: rows that hold {} fail the migration or lose the value",
                    removed.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", "),
                    old.name,
                    if removed.len() == 1 { "it" } else { "them" }
                )));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_a_mysql_enum_column_losing_a_value() {
        let before = schema(&[(
            "orders",
            &[("status", "enum('new','paid','cancelled')", false)],
        )]);
        let mut after = before.clone();
        after.columns[0].data_type = "enum('new','paid')".into();
        let f = run(
            super::check,
            MYSQL,
            &before,
            &after,
            "ALTER TABLE orders MODIFY status ENUM('new','paid') NOT NULL;",
            None,
        );
        assert_eq!(render(&f), "warning[remove-enum-value] m.sql:1 step 1: removes 'cancelled' from `orders.status`: rows that hold it fail the migration or lose the value");
    }
}
