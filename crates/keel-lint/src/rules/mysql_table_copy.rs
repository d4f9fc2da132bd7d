use crate::rules::{existed, rows_note};
use crate::types::{change, Change as TypeChange};
use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds MySQL/MariaDB ALTERs that run with `ALGORITHM=COPY`: a column type change (other than
lengthening a VARCHAR within the same length-byte size), a nullability change, adding or
dropping the primary key.

## Why is this bad?
The server copies the whole table row by row into a new one; concurrent writes are blocked
for the duration (and the copy needs the table's size again in free disk).

## Example
```sql
ALTER TABLE `orders` MODIFY `total` BIGINT NOT NULL;
```

## How to fix
Schedule it for a quiet window, or use an online schema-change tool (gh-ost, pt-online-schema-change)
for large tables. Check with `ALTER TABLE … , ALGORITHM=INPLACE` first: the server refuses
when it would have to copy.
"#;

fn varchar_len(t: &str) -> Option<u32> {
    let l = t.to_ascii_lowercase();
    let inner = l.strip_prefix("varchar(")?.strip_suffix(')')?;
    inner.trim().parse().ok()
}

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        let (table_id, what) = match c {
            Change::AlterColumn {
                from: a,
                to: b,
                changes,
            } if changes.data_type || changes.nullable => {
                let (old, new) = (from.column(*a), to.column(*b));
                if changes.data_type {
                    // VARCHAR growth within the same length-byte size is done in place.
                    if let (Some(x), Some(y)) =
                        (varchar_len(&old.data_type), varchar_len(&new.data_type))
                    {
                        if y >= x
                            && (y <= 63 || x > 63)
                            && !changes.nullable
                            && change(&old.data_type, &new.data_type) == TypeChange::Widening
                        {
                            continue;
                        }
                    }
                }
                (to.column(*b).table, format!("changes `{}`", new.name))
            }
            Change::AddPrimaryKey { table } => (*table, "adds a primary key".to_string()),
            Change::DropPrimaryKey { table } => {
                let t = from.table(*table);
                match to.table_id(t.namespace.as_deref(), &t.name) {
                    Some(id) => (id, "drops the primary key".to_string()),
                    None => continue,
                }
            }
            _ => continue,
        };
        if !existed(cx, table_id) {
            continue;
        }
        let table = to.table_name(table_id);
        let at = cx.locate(&[&to.table(table_id).name]);
        out.push(cx.finding(Rule::MysqlTableCopy, at, format!(
            "{what} on `{table}`: MySQL/MariaDB copies the whole table (ALGORITHM=COPY) while writes wait{}",
            rows_note(cx, &table)
        )));
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_a_type_change_not_a_short_varchar_growth() {
        let before = schema(&[(
            "orders",
            &[("total", "int", false), ("note", "varchar(20)", true)],
        )]);
        let mut after = before.clone();
        after.columns[0].data_type = "bigint".into();
        after.columns[1].data_type = "varchar(40)".into();
        let f = run(super::check, MYSQL, &before, &after, "ALTER TABLE orders MODIFY total BIGINT NOT NULL;\nALTER TABLE orders MODIFY note VARCHAR(40);", None);
        assert_eq!(render(&f), "warning[mysql-table-copy] m.sql:1 step 1: changes `total` on `orders`: MySQL/MariaDB copies the whole table (ALGORITHM=COPY) while writes wait");
    }
}
