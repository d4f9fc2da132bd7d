//! Helpers for the rules' tests: schemas from tables, a context from two schemas and a script.

use crate::{Context, Facts, Finding};
use keel_core::schema::diff::diff;
use keel_core::schema::Schema;
use keel_core::Dialect;

pub(crate) const PG: Dialect = Dialect::Postgres;
pub(crate) const MYSQL: Dialect = Dialect::Mysql;
pub(crate) const SQLITE: Dialect = Dialect::Sqlite;

/// A column: (name, type, nullable).
pub(crate) type Col<'a> = (&'a str, &'a str, bool);

/// Tables of (name, [(column, type, nullable)]).
pub(crate) fn schema(tables: &[(&str, &[Col])]) -> Schema {
    let mut s = Schema::default();
    for (name, cols) in tables {
        let t = s.push_table(None, *name);
        for (c, ty, nullable) in *cols {
            let mut col = Schema::column_template(t, c, ty);
            col.nullable = *nullable;
            s.push_column(col);
        }
    }
    s
}

/// Runs `check` on the migration `script` that turns `before` into `after`.
pub(crate) fn run(
    check: fn(&Context, &mut Vec<Finding>),
    dialect: Dialect,
    before: &Schema,
    after: &Schema,
    script: &str,
    facts: Option<&Facts>,
) -> Vec<Finding> {
    let plan = diff(dialect, before, after);
    let steps = keel_core::splitter::split(script, dialect);
    let directives = keel_core::directives::parse(script).unwrap_or_default();
    let cx = Context {
        dialect,
        name: "m",
        script,
        steps: &steps,
        plan: &plan,
        no_transaction: directives.no_transaction,
        lock_timeout_directive: directives.lock_timeout.is_some(),
        facts,
    };
    let mut out = Vec::new();
    check(&cx, &mut out);
    out
}

/// `error[drop-table] m.sql:1 step 1: drops table …`, one line per finding.
pub(crate) fn render(f: &[Finding]) -> String {
    f.iter()
        .map(|f| {
            format!(
                "{}[{}] {}.sql:{} step {}: {}",
                f.severity, f.id, f.migration, f.line, f.step, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn allow_directives_are_read_from_the_header() {
    let s = "-- keel:allow drop-column reason=\"moved to profiles\"\n-- keel:allow drop-table\nALTER TABLE t DROP COLUMN c;\n-- keel:allow rename reason=\"late\"\n";
    assert_eq!(
        crate::allow_directives(s),
        vec![
            ("drop-column".to_string(), "moved to profiles".to_string()),
            ("drop-table".to_string(), String::new())
        ]
    );
}

#[test]
fn every_rule_has_a_unique_id_and_a_doc_page() {
    let mut ids: Vec<&str> = crate::Rule::ALL.iter().map(|r| r.id()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), crate::Rule::ALL.len());
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let update = std::env::var("KEEL_UPDATE_DOCS").is_ok_and(|v| v == "1");
    let mut index = String::from("# Lint rules\n\n`keel lint` and `keel deploy` (data-loss rules) check pending migrations with these rules. Errors lose data; warnings risk a failed or long-locking deploy.\n\n| rule | severity | databases | what |\n|---|---|---|---|\n");
    for r in crate::Rule::ALL {
        let page = r.markdown();
        let path = docs.join(format!("{}.md", r.id()));
        if update {
            std::fs::create_dir_all(&docs).unwrap_or_default();
            std::fs::write(&path, &page).unwrap_or_default();
        } else {
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(
                on_disk,
                page,
                "docs/rules/{}.md is out of date: run KEEL_UPDATE_DOCS=1 cargo test -p keel-lint",
                r.id()
            );
        }
        let dialects: Vec<String> = r.dialects().iter().map(|d| d.to_string()).collect();
        index.push_str(&format!(
            "| [`{}`]({}.md) | {} | {} | {} |\n",
            r.id(),
            r.id(),
            r.severity(),
            dialects.join(", "),
            r.summary()
        ));
    }
    let path = docs.join("README.md");
    if update {
        std::fs::write(&path, &index).unwrap_or_default();
    } else {
        assert_eq!(
            std::fs::read_to_string(&path).unwrap_or_default(),
            index,
            "docs/rules/README.md is out of date: run KEEL_UPDATE_DOCS=1 cargo test -p keel-lint"
        );
    }
}
