use crate::{Context, Finding, Rule};
use keel_core::schema::plan::Change;
use keel_core::schema::Schema;

pub(crate) const DOC: &str = r#"
## What it does
Finds a PostgreSQL function or procedure the migration drops while something still calls it
(a column default, a check, an index, a trigger, a policy, a view or another function's body),
and a `DROP FUNCTION … CASCADE` that takes such callers with it.

## Why is this bad?
PostgreSQL does not track calls inside a function body: dropping `helper()` that a trigger
function calls succeeds, and every insert that fires the trigger fails afterwards. With
`CASCADE`, the defaults, triggers and indexes that use the function are dropped silently: rows
then get NULL where a generated id was, and nothing says so.

## Example
```sql
DROP FUNCTION next_order_code() CASCADE;
```

## How to fix
Change the callers first (a new default, a new trigger function), in this migration or an
earlier one, then drop the function without `CASCADE`.
"#;

/// Whether `text` calls `name(` (unqualified, schema-qualified or quoted).
fn calls(text: &str, name: &str) -> bool {
    let text = text.to_ascii_lowercase().replace('"', "");
    let needle = format!("{}(", name.to_ascii_lowercase());
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return true;
        }
        from = at + needle.len();
    }
    false
}

/// What in `s` calls `name(`, in words, leaving out the function `skip` itself.
fn callers(s: &Schema, name: &str, skip: Option<usize>) -> Vec<String> {
    let mut out = Vec::new();
    for c in &s.columns {
        if c.default.as_deref().is_some_and(|d| calls(d, name)) {
            out.push(format!(
                "the default of `{}.{}`",
                s.table(c.table).name,
                c.name
            ));
        }
    }
    for c in &s.checks {
        if calls(&c.expression, name) {
            out.push(format!("a check on `{}`", s.table(c.table).name));
        }
    }
    for i in &s.indexes {
        let expr = i.columns.iter().any(
            |p| matches!(&p.part, keel_core::schema::IndexPart::Expression(e) if calls(e, name)),
        );
        if expr || i.predicate.as_deref().is_some_and(|p| calls(p, name)) {
            out.push(format!("index `{}`", i.name));
        }
    }
    for t in &s.triggers {
        if calls(&t.definition, name) {
            out.push(format!(
                "trigger `{}` on `{}`",
                t.name,
                s.table(t.table).name
            ));
        }
    }
    for p in &s.policies {
        let uses = [&p.using, &p.with_check]
            .iter()
            .any(|e| e.as_deref().is_some_and(|e| calls(e, name)));
        if uses {
            out.push(format!("policy `{}`", p.name));
        }
    }
    for v in &s.views {
        if calls(&v.definition, name) {
            out.push(format!("view `{}`", v.name));
        }
    }
    for (i, f) in s.functions.iter().enumerate() {
        // The body, not the `CREATE … FUNCTION name(` line itself.
        let body = f.definition.split_once('\n').map_or("", |(_, b)| b);
        if Some(i) != skip && calls(body, name) {
            out.push(format!("function `{}({})`", f.name, f.arguments));
        }
    }
    out
}

pub(crate) fn check(cx: &Context, out: &mut Vec<Finding>) {
    let (from, to) = (&cx.plan.from, &cx.plan.to);
    for c in &cx.plan.changes {
        let Change::DropFunction { from: i } = c else {
            continue;
        };
        let f = &from.functions[*i];
        // An overload of the same name that stays answers the calls.
        if to.functions.iter().any(|g| g.name == f.name) {
            continue;
        }
        let at = cx.locate(&["drop", &f.name]);
        let still = callers(to, &f.name, None);
        if !still.is_empty() {
            out.push(cx.finding(
                Rule::DropFunctionInUse,
                at,
                format!(
                    "drops function `{}({})`, which {} still call{}: PostgreSQL does not track calls inside bodies, so they fail when they run",
                    f.name,
                    f.arguments,
                    still.join(", "),
                    if still.len() == 1 { "s" } else { "" }
                ),
            ));
            continue;
        }
        let cascade = cx.step_sql(at).to_ascii_lowercase().contains("cascade");
        let gone: Vec<String> = callers(from, &f.name, Some(*i))
            .into_iter()
            .filter(|u| !u.starts_with("function"))
            .collect();
        if cascade && !gone.is_empty() {
            out.push(cx.finding(
                Rule::DropFunctionInUse,
                at,
                format!(
                    "drops function `{}({})` with CASCADE, which drops {} too",
                    f.name,
                    f.arguments,
                    gone.join(", ")
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::*;
    use keel_core::schema::Function;

    fn function(name: &str, body: &str) -> Function {
        Function {
            namespace: None,
            name: name.into(),
            arguments: String::new(),
            procedure: false,
            definition: format!(
                "CREATE OR REPLACE FUNCTION {name}()\n RETURNS text\n LANGUAGE sql\nAS $function$ {body} $function$\n"
            ),
        }
    }

    #[test]
    fn flags_a_function_still_called_and_a_cascade() {
        let mut before = schema(&[("orders", &[("code", "text", false)])]);
        before.functions.push(function("next_code", "SELECT 'c'"));
        before
            .functions
            .push(function("label", "SELECT next_code() || '!'"));
        before.columns[0].default = Some("next_code()".into());
        // Dropped while `label()` still calls it (a default's drop is a separate mistake).
        let mut after = before.clone();
        after.functions.remove(0);
        after.columns[0].default = None;
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "ALTER TABLE orders ALTER COLUMN code DROP DEFAULT;\nDROP FUNCTION next_code();",
            None,
        );
        assert_eq!(
            render(&f),
            "error[drop-function-in-use] m.sql:2 step 2: drops function `next_code()`, which function `label()` still calls: PostgreSQL does not track calls inside bodies, so they fail when they run"
        );
        // With CASCADE the default went with it.
        let mut after = before.clone();
        after.functions.clear();
        after.columns[0].default = None;
        let f = run(
            super::check,
            PG,
            &before,
            &after,
            "DROP FUNCTION next_code() CASCADE;\nDROP FUNCTION label();",
            None,
        );
        assert_eq!(
            render(&f),
            "error[drop-function-in-use] m.sql:1 step 1: drops function `next_code()` with CASCADE, which drops the default of `orders.code` too"
        );
        // Callers changed first, then the function dropped: nothing to say.
        let f = run(super::check, PG, &before, &after, "ALTER TABLE orders ALTER COLUMN code DROP DEFAULT;\nDROP FUNCTION label();\nDROP FUNCTION next_code();", None);
        assert!(f.is_empty(), "{}", render(&f));
    }

    #[test]
    fn names_are_matched_as_calls_not_as_parts_of_words() {
        assert!(super::calls("public.\"next_code\"()", "next_code"));
        assert!(super::calls("EXECUTE FUNCTION touch()", "touch"));
        assert!(!super::calls("retouch()", "touch"));
        assert!(!super::calls("touch_all()", "touch"));
    }
}
