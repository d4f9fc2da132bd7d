//! Differ and renderer tests: schemas built in code, plans summarized, SQL snapshotted per
//! dialect.

use super::diff::diff;
use super::plan::Change;
use super::render::render_script;
use super::summary::summarize;
use super::*;

/// A small builder for test schemas.
struct B(Schema);

impl B {
    fn new() -> B {
        B(Schema::default())
    }
    fn table(mut self, name: &str, cols: &[(&str, &str, bool)], pk: &[&str]) -> B {
        let t = self.0.push_table(None, name);
        for (n, ty, nullable) in cols {
            let mut c = Schema::column_template(t, n, ty);
            c.nullable = *nullable;
            self.0.push_column(c);
        }
        if !pk.is_empty() {
            let ids = pk
                .iter()
                .map(|n| self.0.column_id(t, n).expect("pk column"))
                .collect();
            self.0.tables[t.idx()].primary_key = Some(PrimaryKey {
                name: None,
                columns: ids,
            });
        }
        self
    }
    fn default(mut self, table: &str, col: &str, d: &str) -> B {
        let t = self.0.table_id(None, table).expect("table");
        let c = self.0.column_id(t, col).expect("column");
        self.0.columns[c.idx()].default = Some(d.into());
        self
    }
    fn index(mut self, table: &str, name: &str, cols: &[&str], unique: bool) -> B {
        let t = self.0.table_id(None, table).expect("table");
        let columns = cols
            .iter()
            .map(|n| IndexColumn {
                part: IndexPart::Column(self.0.column_id(t, n).expect("col")),
                descending: false,
                option: None,
            })
            .collect();
        self.0.indexes.push(Index {
            table: t,
            name: name.into(),
            unique,
            constraint: false,
            columns,
            method: None,
            predicate: None,
            include: vec![],
            invalid: false,
            nulls_not_distinct: false,
            storage: None,
        });
        self
    }
    fn fk(mut self, table: &str, name: &str, col: &str, target: &str, tcol: &str) -> B {
        let t = self.0.table_id(None, table).expect("table");
        let rt = self.0.table_id(None, target).expect("target");
        let fk = ForeignKey {
            table: t,
            name: Some(name.into()),
            columns: vec![self.0.column_id(t, col).expect("col")],
            referenced_table: rt,
            referenced_columns: vec![self.0.column_id(rt, tcol).expect("tcol")],
            on_delete: Action::Cascade,
            on_update: Action::NoAction,
            deferrable: None,
            not_valid: false,
        };
        self.0.foreign_keys.push(fk);
        self
    }
    fn build(self) -> Schema {
        self.0
    }
}

fn users(int: &str, text: &str) -> B {
    B::new().table(
        "users",
        &[("id", int, false), ("email", text, false)],
        &["id"],
    )
}

fn sql(d: Dialect, a: &Schema, b: &Schema) -> String {
    render_script(&diff(d, a, b)).expect("renders")
}

#[test]
fn identical_schemas_have_an_empty_plan() {
    let a = users("integer", "text")
        .index("users", "users_email_key", &["email"], true)
        .build();
    for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        assert!(diff(d, &a, &a).is_empty());
    }
}

#[test]
fn create_from_empty_orders_tables_before_foreign_keys() {
    let b = users("integer", "text")
        .table(
            "posts",
            &[
                ("id", "integer", false),
                ("user_id", "integer", false),
                ("title", "text", true),
            ],
            &["id"],
        )
        .index("posts", "posts_user_id_idx", &["user_id"], false)
        .fk("posts", "posts_user_id_fkey", "user_id", "users", "id")
        .build();
    let p = diff(Dialect::Postgres, &Schema::default(), &b);
    let ranks: Vec<u8> = p.changes.iter().map(Change::rank).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
    insta::assert_snapshot!("create_pg", sql(Dialect::Postgres, &Schema::default(), &b));
    insta::assert_snapshot!("create_mysql", sql(Dialect::Mysql, &Schema::default(), &b));
    insta::assert_snapshot!(
        "create_sqlite",
        sql(Dialect::Sqlite, &Schema::default(), &b)
    );
    insta::assert_snapshot!("create_summary", summarize(&p).join("\n"));
}

#[test]
fn column_changes_per_dialect() {
    let a = users("integer", "text")
        .table(
            "t",
            &[
                ("id", "integer", false),
                ("gone", "text", true),
                ("n", "integer", true),
            ],
            &["id"],
        )
        .build();
    let b = users("integer", "text")
        .table(
            "t",
            &[
                ("id", "integer", false),
                ("n", "bigint", false),
                ("phone", "text", true),
            ],
            &["id"],
        )
        .default("t", "n", "0")
        .build();
    let p = diff(Dialect::Postgres, &a, &b);
    insta::assert_snapshot!("alter_summary", summarize(&p).join("\n"));
    insta::assert_snapshot!("alter_pg", sql(Dialect::Postgres, &a, &b));
    insta::assert_snapshot!("alter_mysql", sql(Dialect::Mysql, &a, &b));
    // SQLite rebuilds the table (Prisma's RedefineTables).
    let s = sql(Dialect::Sqlite, &a, &b);
    assert!(
        s.contains("PRAGMA foreign_keys=OFF")
            && s.contains("INSERT INTO \"new_t\" (\"id\", \"n\")"),
        "{s}"
    );
    insta::assert_snapshot!("alter_sqlite", s);
}

#[test]
fn dropping_tables_drops_their_foreign_keys_first() {
    let a = users("integer", "text")
        .table(
            "posts",
            &[("id", "integer", false), ("user_id", "integer", false)],
            &["id"],
        )
        .fk("posts", "posts_user_id_fkey", "user_id", "users", "id")
        .build();
    let p = diff(Dialect::Postgres, &a, &Schema::default());
    assert!(
        matches!(p.changes[0], Change::DropForeignKey { .. }),
        "{:?}",
        p.changes
    );
    assert_eq!(summarize(&p).len(), 3);
}

#[test]
fn sqlite_adds_nullable_column_in_place() {
    let a = users("INTEGER", "TEXT").build();
    let b = B::new()
        .table(
            "users",
            &[
                ("id", "INTEGER", false),
                ("email", "TEXT", false),
                ("phone", "TEXT", true),
            ],
            &["id"],
        )
        .build();
    assert_eq!(
        sql(Dialect::Sqlite, &a, &b),
        "ALTER TABLE \"users\" ADD COLUMN \"phone\" TEXT;\n"
    );
}

#[test]
fn enums_values_added_and_removed_on_postgres() {
    let mut a = Schema::default();
    a.enums.push(Enum {
        namespace: None,
        name: "Status".into(),
        values: vec!["a".into(), "b".into()],
    });
    let mut b = a.clone();
    b.enums[0].values = vec!["a".into(), "b".into(), "c".into()];
    assert_eq!(
        sql(Dialect::Postgres, &a, &b),
        "ALTER TYPE \"Status\" ADD VALUE 'c' AFTER 'b';\n"
    );
    b.enums[0].values = vec!["a".into()];
    let s = sql(Dialect::Postgres, &a, &b);
    assert!(
        s.contains("RENAME TO \"Status_old\"") && s.contains("DROP TYPE \"Status_old\""),
        "{s}"
    );
    assert!(
        render_script(&diff(Dialect::Sqlite, &Schema::default(), &b)).is_err(),
        "SQLite has no enum types: an error, not a panic"
    );
}
