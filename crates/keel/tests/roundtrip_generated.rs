//! The round-trip property on generated schemas (proptest): for random schemas A and B built
//! from one pool of table and column names (so that they overlap and differ in types,
//! nullability, defaults, indexes, foreign keys and triggers, and on PostgreSQL a partitioned
//! table with a partition, a domain column type and materialized views with a unique index,
//! on MySQL tables with a collation of their own, and the functions the triggers call),
//! applying `diff(A, B)` to a database holding A and introspecting gives B.
#![allow(clippy::unwrap_used)]

use keel_core::schema::diff::diff;
use keel_core::schema::render::render;
use keel_core::schema::summary::summarize;
use keel_core::Dialect;
use keel_test_support::{Backend, TestDb};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Col {
    name: usize,
    ty: usize,
    nullable: bool,
    default: bool,
}

#[derive(Debug, Clone)]
struct Tbl {
    name: usize,
    cols: Vec<Col>,
    index: Option<(usize, bool)>,
    fk_to_previous: bool,
    trigger: bool,
    /// PostgreSQL: a materialized view of the table with a unique index; MySQL: the table's
    /// collation is `utf8mb4_bin`.
    option: bool,
}

fn types(d: Dialect) -> &'static [(&'static str, &'static str)] {
    match d {
        Dialect::Postgres => &[
            ("integer", "0"),
            ("bigint", "1"),
            ("text", "'x'"),
            ("varchar(20)", "'y'"),
            ("boolean", "false"),
            ("timestamp(3)", "CURRENT_TIMESTAMP"),
            ("jsonb", "'{}'"),
            ("positive", "1"),
        ],
        Dialect::Mysql => &[
            ("int", "0"),
            ("bigint", "1"),
            ("varchar(20)", "'y'"),
            ("tinyint(1)", "0"),
            ("datetime(3)", "CURRENT_TIMESTAMP(3)"),
            ("double", "1.5"),
        ],
        Dialect::Sqlite => &[
            ("INTEGER", "0"),
            ("TEXT", "'x'"),
            ("REAL", "1.5"),
            ("BOOLEAN", "false"),
            ("DATETIME", "CURRENT_TIMESTAMP"),
        ],
    }
}

fn schema_strategy() -> impl Strategy<Value = Vec<Tbl>> {
    let col = (0usize..6, 0usize..8, any::<bool>(), any::<bool>()).prop_map(
        |(name, ty, nullable, default)| Col {
            name,
            ty,
            nullable,
            default,
        },
    );
    let tbl = (
        0usize..4,
        proptest::collection::vec(col, 1..5),
        proptest::option::of((0usize..4, any::<bool>())),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(name, cols, index, fk_to_previous, trigger, option)| Tbl {
            name,
            cols,
            index,
            fk_to_previous,
            trigger,
            option,
        });
    proptest::collection::vec(tbl, 0..4)
}

fn ddl(d: Dialect, tables: &[Tbl]) -> String {
    let q = |s: &str| {
        if d == Dialect::Mysql {
            format!("`{s}`")
        } else {
            format!("\"{s}\"")
        }
    };
    let tys = types(d);
    let mut out = String::new();
    // The functions the triggers call (a stored function on MySQL too), when one is made.
    if tables.iter().any(|t| t.trigger) {
        match d {
            Dialect::Postgres => out.push_str("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;\n"),
            Dialect::Mysql => out.push_str("CREATE FUNCTION f_one() RETURNS INT DETERMINISTIC RETURN 1;\n"),
            Dialect::Sqlite => {}
        }
    }
    // The PostgreSQL domain a column type may be.
    if d == Dialect::Postgres
        && tables
            .iter()
            .any(|t| t.cols.iter().any(|c| tys[c.ty % tys.len()].0 == "positive"))
    {
        out.push_str(
            "CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);\n",
        );
    }
    // On PostgreSQL `t3` is partitioned (by its key, with one partition) in every schema that
    // has it: a change of partitioning has no statement, so A and B agree on it.
    let partitioned = |name: usize| d == Dialect::Postgres && name == 3;
    let mut made: Vec<usize> = Vec::new();
    for t in tables {
        if made.contains(&t.name) {
            continue;
        }
        let tname = format!("t{}", t.name);
        let mut cols: Vec<String> = vec![format!(
            "{} {} NOT NULL",
            q("id"),
            if d == Dialect::Sqlite {
                "INTEGER"
            } else {
                "int"
            }
        )];
        let mut names: Vec<String> = Vec::new();
        for c in &t.cols {
            let cname = format!("c{}", c.name);
            if names.contains(&cname) {
                continue;
            }
            let (ty, def) = tys[c.ty % tys.len()];
            let mut s = format!("{} {ty}", q(&cname));
            if !c.nullable {
                s.push_str(" NOT NULL");
            }
            if c.default || !c.nullable {
                s.push_str(&format!(" DEFAULT {def}"));
            }
            cols.push(s);
            names.push(cname);
        }
        let mut fk = None;
        if t.fk_to_previous {
            if let Some(prev) = made.last() {
                cols.push(format!("{} int", q("ref_id")));
                fk = Some(format!(
                    "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                    q(&format!("{tname}_ref_fkey")),
                    q("ref_id"),
                    q(&format!("t{prev}")),
                    q("id")
                ));
            }
        }
        cols.push(format!("PRIMARY KEY ({})", q("id")));
        if d == Dialect::Sqlite {
            if let Some(f) = &fk {
                cols.push(f.clone());
            }
        }
        out.push_str(&format!(
            "CREATE TABLE {} ({}){}{};\n",
            q(&tname),
            cols.join(", "),
            if partitioned(t.name) {
                format!(" PARTITION BY LIST ({})", q("id"))
            } else {
                String::new()
            },
            if t.option && d == Dialect::Mysql {
                " COLLATE=utf8mb4_bin"
            } else {
                ""
            }
        ));
        if t.option && d == Dialect::Postgres {
            out.push_str(&format!(
                "CREATE MATERIALIZED VIEW {mv} AS SELECT {id} FROM {t};\nCREATE UNIQUE INDEX {ix} ON {mv} ({id});\n",
                mv = q(&format!("{tname}_mv")),
                id = q("id"),
                t = q(&tname),
                ix = q(&format!("{tname}_mv_id")),
            ));
        }
        if partitioned(t.name) {
            out.push_str(&format!(
                "CREATE TABLE {} PARTITION OF {} FOR VALUES IN (1);\n",
                q(&format!("{tname}_p1")),
                q(&tname)
            ));
        }
        if t.trigger {
            let trigger = q(&format!("{tname}_touch"));
            out.push_str(&match d {
                Dialect::Postgres => format!("CREATE TRIGGER {trigger} BEFORE UPDATE ON {} FOR EACH ROW EXECUTE FUNCTION touch();\n", q(&tname)),
                Dialect::Mysql => format!("CREATE TRIGGER {trigger} BEFORE INSERT ON {} FOR EACH ROW SET NEW.{} = NEW.{} * f_one();\n", q(&tname), q("id"), q("id")),
                Dialect::Sqlite => format!("CREATE TRIGGER {trigger} AFTER INSERT ON {} BEGIN SELECT 1; END;\n", q(&tname)),
            });
        }
        if d != Dialect::Sqlite {
            if let Some(f) = fk {
                out.push_str(&format!("ALTER TABLE {} ADD {f};\n", q(&tname)));
            }
        }
        if let Some((c, unique)) = t.index {
            if let Some(col) = names.get(c % names.len().max(1)) {
                let indexable = d != Dialect::Mysql || !col.is_empty();
                if indexable {
                    out.push_str(&format!(
                        "CREATE {}INDEX {} ON {} ({});\n",
                        // A partitioned table's unique index must hold its partition key.
                        if unique && !partitioned(t.name) {
                            "UNIQUE "
                        } else {
                            ""
                        },
                        q(&format!("{tname}_{col}_idx")),
                        q(&tname),
                        q(col)
                    ));
                }
            }
        }
        made.push(t.name);
    }
    out
}

async fn check(backend: Backend, a: Vec<Tbl>, b: Vec<Tbl>) -> Result<(), String> {
    let d = match backend {
        Backend::Postgres => Dialect::Postgres,
        Backend::Mysql => Dialect::Mysql,
        Backend::Sqlite => Dialect::Sqlite,
    };
    let (da, db_) = (TestDb::new(backend).await, TestDb::new(backend).await);
    let (sa, sb) = (ddl(d, &a), ddl(d, &b));
    if !sa.is_empty() {
        da.execute(&sa).await;
    }
    if !sb.is_empty() {
        db_.execute(&sb).await;
    }
    let read = |url: String| async move {
        let mut c = keel_driver::connect(&url).await.unwrap();
        let s = c.introspect().await.unwrap();
        c.close().await;
        s
    };
    let (schema_a, schema_b) = (read(da.url.clone()).await, read(db_.url.clone()).await);
    let plan = diff(d, &schema_a, &schema_b);
    let stmts = render(&plan).map_err(|e| e.to_string())?;
    let mut c = keel_driver::connect(&da.url).await.unwrap();
    for s in &stmts {
        c.execute(s)
            .await
            .map_err(|e| format!("{e}\n in: {s}\nA:\n{sa}\nB:\n{sb}"))?;
    }
    c.close().await;
    let after = read(da.url.clone()).await;
    let rest = diff(d, &after, &schema_b);
    if rest.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "A + diff(A, B) != B: {:?}\nA:\n{sa}\nB:\n{sb}",
            summarize(&rest)
        ))
    }
}

fn run(backend: Backend, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // A fixed seed keeps CI deterministic; KEEL_PROPTEST_RANDOM=1 explores new cases.
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = if std::env::var("KEEL_PROPTEST_RANDOM").is_ok() {
        proptest::test_runner::TestRunner::new(config)
    } else {
        proptest::test_runner::TestRunner::new_with_rng(
            config,
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        )
    };
    let result = runner.run(&(schema_strategy(), schema_strategy()), |(a, b)| {
        let r = rt.block_on(check(backend, a, b));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn generated_round_trip_sqlite() {
    run(Backend::Sqlite, 64)
}

#[test]
fn generated_round_trip_postgres() {
    run(Backend::Postgres, 24)
}

#[test]
fn generated_round_trip_mysql() {
    run(Backend::Mysql, 24)
}

/// Cases the random exploration (KEEL_PROPTEST_RANDOM=1) found, kept: `bigint` ↔ `boolean`
/// has no cast in PostgreSQL (only `integer` ↔ `boolean`).
#[test]
fn found_cases_postgres() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let table = |ty: usize| Tbl {
        name: 2,
        cols: vec![Col {
            name: 0,
            ty,
            nullable: false,
            default: true,
        }],
        index: None,
        fk_to_previous: false,
        trigger: false,
        option: false,
    };
    // types(Postgres): 1 = bigint, 4 = boolean.
    for (a, b) in [(1, 4), (4, 1)] {
        rt.block_on(check(Backend::Postgres, vec![table(a)], vec![table(b)]))
            .unwrap();
    }
}
