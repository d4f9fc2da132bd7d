//! Diagnosis beyond the matrix: a database changed by hand after a failure (diverged) on each
//! database, repaired both ways; and the probes that explain a failure from the data (values
//! that do not cast, a NOT NULL column added to a table with rows).
#![allow(clippy::unwrap_used)]

use keel::{
    deploy, diagnose, repair, status, Classification, DeployOptions, RepairDirection,
    RepairOptions, Settings, SettingsInput,
};
use keel_core::schema::diff::diff;
use keel_test_support::{db_test, Backend, TestDb};
use std::path::Path;

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
}

fn settings(db: &TestDb, dir: &Path) -> Settings {
    Settings::resolve(
        SettingsInput {
            database_url: Some(db.url.clone()),
            migrations: Some(dir.to_path_buf()),
            deploy_lock_timeout: Some("10s".into()),
            ..Default::default()
        },
        dir,
    )
    .unwrap()
}

async fn run_deploy(s: &Settings) -> Result<keel::DeployReport, keel::Error> {
    deploy(s, &DeployOptions::default(), &mut |_| {}).await
}

async fn introspect(url: &str) -> keel_core::schema::Schema {
    let mut d = keel_driver::connect(url).await.unwrap();
    let s = d.introspect().await.unwrap();
    d.close().await;
    s
}

fn dialect(b: Backend) -> keel_core::Dialect {
    match b {
        Backend::Postgres => keel_core::Dialect::Postgres,
        Backend::Mysql => keel_core::Dialect::Mysql,
        Backend::Sqlite => keel_core::Dialect::Sqlite,
    }
}

const BASE: &str = "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(20));\n";
const GOOD: &str = "-- keel:no-transaction\nALTER TABLE t ADD COLUMN b INT;\nCREATE TABLE u (id INT PRIMARY KEY);\n";
const BAD: &str = "-- keel:no-transaction\nALTER TABLE t ADD COLUMN b INT;\nINSERT INTO nope VALUES (1);\nCREATE TABLE u (id INT PRIMARY KEY);\n";

async fn diverged_then_repaired(db: TestDb, direction: RepairDirection) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "1_base", BASE);
    let s = settings(&db, dir);
    run_deploy(&s).await.unwrap();
    db.execute("INSERT INTO t (id, a) VALUES (1, 'one'), (2, 'two')")
        .await;
    let pre = introspect(&db.url).await;
    write(dir, "2_change", BAD);
    run_deploy(&s).await.unwrap_err();
    // Someone "fixes" it by hand, wrongly.
    db.execute("CREATE TABLE extra (id INT)").await;
    let d = diagnose(&s, None).await.unwrap();
    let Classification::Diverged {
        closest,
        to_pre,
        to_post,
    } = &d[0].classification
    else {
        panic!("{:?}", d[0].classification)
    };
    assert_eq!(*closest, 1, "closest to the state after step 1");
    assert!(to_pre.iter().any(|l| l.contains("extra")), "{to_pre:?}");
    assert!(
        to_post.is_empty(),
        "step 2 fails in the shadow too: the state after is unknown"
    );
    let run = |dir: RepairDirection| {
        let s = s.clone();
        async move {
            repair(
                &s,
                "2_change",
                RepairOptions {
                    direction: dir,
                    allow_data_loss: false,
                    dry_run: false,
                },
                &mut |_| true,
            )
            .await
        }
    };
    let target = match direction {
        RepairDirection::Finish => {
            // The file is wrong whatever the data: finishing needs it fixed first.
            assert_eq!(run(direction).await.unwrap_err().code(), "K4050");
            write(dir, "2_change", GOOD);
            let r = TestDb::new(db.backend).await;
            let rt = tempfile::tempdir().unwrap();
            write(rt.path(), "1_base", BASE);
            write(rt.path(), "2_change", GOOD);
            run_deploy(&settings(&r, rt.path())).await.unwrap();
            introspect(&r.url).await
        }
        RepairDirection::Revert => pre,
    };
    let report = run(direction).await.unwrap();
    assert!(
        report.plan.source.contains("keel's plan"),
        "{}",
        report.plan.source
    );
    assert!(
        report
            .plan
            .losses
            .iter()
            .any(|l| l.object.contains("extra") && l.rows == Some(0)),
        "{:?}",
        report.plan.losses
    );
    let after = introspect(&db.url).await;
    let dd = diff(dialect(db.backend), &target, &after);
    assert!(
        dd.is_empty(),
        "{:?}",
        keel_core::schema::summary::summarize(&dd)
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM t").await, 2);
    let st = status(&s).await.unwrap();
    assert_eq!(
        st.exit_code(),
        if direction == RepairDirection::Finish {
            0
        } else {
            2
        }
    );
}

async fn diverged_finish(db: TestDb) {
    diverged_then_repaired(db, RepairDirection::Finish).await;
}
db_test!(diverged_finish);

async fn diverged_revert(db: TestDb) {
    diverged_then_repaired(db, RepairDirection::Revert).await;
}
db_test!(diverged_revert);

/// Values that do not cast to the new type are named; a NOT NULL column without a default
/// on a table with rows is counted.
async fn probes_explain_type_and_not_null_failures(backend: Backend) {
    let db = TestDb::new(backend).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    write(dir, "1_base", BASE);
    let s = settings(&db, dir);
    run_deploy(&s).await.unwrap();
    db.execute("INSERT INTO t (id, a) VALUES (1, '12'), (2, 'x1'), (3, 'y2')")
        .await;
    let cast = if backend == Backend::Postgres {
        "ALTER TABLE t ALTER COLUMN a TYPE INT USING a::int"
    } else {
        "ALTER TABLE t MODIFY a INT"
    };
    write(dir, "2_cast", &format!("{cast};\n"));
    // The deploy gate refuses the narrowing cast (K4070); accepted, it fails on the values.
    assert_eq!(run_deploy(&s).await.unwrap_err().code(), "K4070");
    let e = deploy(
        &s,
        &DeployOptions {
            allow_data_loss: true,
            ..Default::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "K3018", "{e}");
    let d = diagnose(&s, None).await.unwrap();
    assert_eq!(d[0].classification, Classification::NotApplied);
    let causes = d[0].causes.join(" | ");
    assert!(causes.contains("2 values are not numbers"), "{causes}");
    assert!(
        causes.contains("'x1'") && causes.contains("'y2'"),
        "{causes}"
    );
    keel::resolve(&s, &keel::ResolveAction::RolledBack("2_cast".into()))
        .await
        .unwrap();
    std::fs::remove_dir_all(dir.join("2_cast")).unwrap();

    write(
        dir,
        "3_not_null",
        "ALTER TABLE t ADD COLUMN c INT NOT NULL;\n",
    );
    let e = run_deploy(&s).await;
    if backend == Backend::Mysql {
        // MariaDB fills a NOT NULL INT with 0 rather than failing: nothing to explain.
        assert!(e.is_ok());
        return;
    }
    e.unwrap_err();
    let d = diagnose(&s, Some("3_not_null")).await.unwrap();
    let causes = d[0].causes.join(" | ");
    assert!(causes.contains("table \"t\" has 3 rows"), "{causes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_postgres() {
    probes_explain_type_and_not_null_failures(Backend::Postgres).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_mysql() {
    probes_explain_type_and_not_null_failures(Backend::Mysql).await;
}
