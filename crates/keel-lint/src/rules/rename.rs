use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;

pub(crate) const DOC: &str = r#"
## What it does
Finds renamed tables and columns, and a column (or table) dropped while one of the same type
(or shape) is added: probably a rename written as a drop and an add.

## Why is this bad?
A rename breaks the version of the application that is running while the migration deploys:
it still uses the old name. A drop and an add loses every value of the old column.

## Example
```sql
ALTER TABLE "users" RENAME COLUMN "name" TO "full_name";
```

## How to fix
Expand and contract: add the new column, write both from the application, backfill, switch
reads, then drop the old one in a later migration. For a rename written as a drop and an add,
write `RENAME COLUMN` instead (`keel plan --rename users.name=full_name`).
"#;

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    // Renames written as such (a SQLite redefinition's `RENAME TO` of its copy is not one).
    let redefined: Vec<String> = cx
        .plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::RedefineTable { to, .. } => {
                Some(cx.plan.to.table(*to).name.to_ascii_lowercase())
            }
            _ => None,
        })
        .collect();
    for i in 0..cx.steps.len() {
        let words: Vec<String> = cx
            .step_sql(i)
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.trim_matches(|c| c == '"' || c == '`')
                    .to_ascii_lowercase()
            })
            .collect();
        let Some(r) = words.iter().position(|w| w == "rename") else {
            continue;
        };
        let target = words
            .iter()
            .skip(r)
            .skip_while(|w| *w != "to")
            .nth(1)
            .cloned()
            .unwrap_or_default();
        if words.get(r + 1).map(String::as_str) == Some("to") && redefined.contains(&target) {
            continue;
        }
        out.push(cx.finding(
            Rule::Rename,
            i,
            "renames a table or column: the running application still uses the old name until it is redeployed".into(),
        ));
    }
    // A drop and an add of the same type in one table.
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        let Change::DropColumn { column } = c else {
            continue;
        };
        let old = from.column(*column);
        let table = from.table(old.table);
        let added = cx.plan.changes.iter().find_map(|c| match c {
            Change::AddColumn { column } => {
                let n = to.column(*column);
                let t = to.table(n.table);
                (t.name == table.name
                    && t.namespace == table.namespace
                    && n.data_type == old.data_type)
                    .then_some(n)
            }
            _ => None,
        });
        let written_as_rename = (0..cx.steps.len()).any(|i| {
            let t = cx.step_sql(i).to_ascii_lowercase().replace(['"', '`'], "");
            t.contains("rename") && t.contains(&old.name.to_ascii_lowercase())
        });
        if let (Some(new), false) = (added, written_as_rename) {
            let at = cx.locate(&[&old.name]);
            out.push(cx.finding(
                Rule::Rename,
                at,
                format!(
                    "drops `{}.{}` and adds `{}` of the same type: if this is a rename, every value of `{}` is lost; write RENAME COLUMN instead",
                    from.table_name(old.table), old.name, new.name, old.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;

    #[test]
    fn flags_renames_and_drop_plus_add() {
        let s = schema(&[("users", &[("name", "text", true)])]);
        let renamed = schema(&[("users", &[("full_name", "text", true)])]);
        let f = run(
            super::check,
            PG,
            &s,
            &renamed,
            "ALTER TABLE users RENAME COLUMN name TO full_name;",
            None,
        );
        assert_eq!(f.len(), 1, "{}", render(&f));
        let after = schema(&[("users", &[("full_name", "text", true)])]);
        let f = run(
            super::check,
            PG,
            &s,
            &after,
            "ALTER TABLE users DROP COLUMN name;\nALTER TABLE users ADD COLUMN full_name text;",
            None,
        );
        assert!(
            render(&f).contains("every value of `name` is lost"),
            "{}",
            render(&f)
        );
    }

    #[test]
    fn a_sqlite_redefinition_is_not_a_rename() {
        let before = schema(&[("users", &[("id", "integer", false)])]);
        let mut after = before.clone();
        after.columns[0].data_type = "bigint".into();
        let script = "CREATE TABLE new_users (id bigint);\nDROP TABLE users;\nALTER TABLE new_users RENAME TO users;";
        assert!(run(super::check, SQLITE, &before, &after, script, None).is_empty());
    }
}
