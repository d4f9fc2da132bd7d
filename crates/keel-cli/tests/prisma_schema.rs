//! `schema.prisma` as the desired schema, checked against Prisma itself and against the
//! histories Prisma wrote.
//!
//! - Parity (PostgreSQL): for keel's feature matrix (`fixtures/prisma/features_pg.prisma`) and
//!   every PostgreSQL `schema.prisma` of `$KEEL_CORPORA`, Prisma 6.19's own DDL
//!   (`tools/prisma-peer/diff-datamodel.sh --from-empty`) is applied to one database and
//!   keel's (`keel diff --from empty --to schema=… --script`) to another; the two must
//!   introspect equal, and keel's reading of the schema must equal the first. Skipped with a
//!   printed reason when the peer cannot run (no npm registry, no node).
//! - MySQL and SQLite: the peer cannot run them here (its WASM schema engine fails with
//!   `RuntimeError: unreachable` on every MySQL schema; the SQLite adapter needs a native
//!   module that cannot be built), so keel's DDL is round-tripped (applied, introspected,
//!   equal to the schema read) and the SQLite corpora's Prisma-written histories must
//!   reproduce their schema.
//! - Histories: `keel check` of each corpus's history against its `schema.prisma`.
//! - `keel inspect --format prisma` of each of those databases reads back as the same schema.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, Backend, TestDb};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prisma")
        .join(name)
}

fn corpora() -> Option<PathBuf> {
    match std::env::var("KEEL_CORPORA") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            eprintln!(
                "skipped: KEEL_CORPORA is not set (set it to ../shared/corpora; .ci/run does)"
            );
            None
        }
    }
}

/// The `migration.sql` of the migration in `dir` whose folder name ends with `suffix` (empty
/// when there is none).
fn written_migration(dir: &Path, suffix: &str) -> String {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(suffix))
        .map(|e| std::fs::read_to_string(e.path().join("migration.sql")).unwrap())
        .unwrap_or_default()
}

/// `shared/tools/prisma-peer/diff-datamodel.sh`, beside the corpora.
fn peer_script() -> Option<PathBuf> {
    let root = std::env::var("KEEL_CORPORA").ok().filter(|p| !p.is_empty());
    let Some(root) = root else {
        eprintln!("skipped: KEEL_CORPORA is not set, so ../shared/tools/prisma-peer is not known");
        return None;
    };
    let script = Path::new(&root).join("../tools/prisma-peer/diff-datamodel.sh");
    if !script.exists() {
        eprintln!("skipped: {} is missing", script.display());
        return None;
    }
    Some(script)
}

/// Prisma's DDL for `schema` (`--from-empty`), or why the peer could not give it (then the
/// caller skips).
fn prisma_ddl(script: &Path, schema: &Path, db_url: &str) -> Result<String, String> {
    let out = Command::new(script)
        .arg("--from-empty")
        .arg(schema)
        .env("DATABASE_URL", db_url)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        return Err(format!(
            "the Prisma peer failed on {}: {}",
            schema.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether the peer runs at all here (npm reachable, node present): one tiny schema.
fn peer_runs(script: &Path, db_url: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(
        &schema,
        "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n}\n",
    )
    .unwrap();
    match prisma_ddl(script, &schema, db_url) {
        Ok(sql) if sql.contains("CREATE TABLE \"A\"") => true,
        Ok(sql) => {
            eprintln!("skipped: the Prisma peer printed no DDL: {sql}");
            false
        }
        Err(e) => {
            eprintln!("skipped: the Prisma peer does not run here: {e}");
            false
        }
    }
}

/// Prisma's DDL and keel's for `schema`, each applied to its own database (after
/// `prelude`); returns keel's `diff` between them and keel's diff from Prisma's database to
/// the schema read (both must print "no difference").
async fn parity(script: &Path, schema: &Path, prelude: &str) -> Result<(), String> {
    let prisma_db = TestDb::new(Backend::Postgres).await;
    let keel_db = TestDb::new(Backend::Postgres).await;
    let ddl = prisma_ddl(script, schema, &prisma_db.url)?;
    if !prelude.is_empty() {
        prisma_db.execute(prelude).await;
        keel_db.execute(prelude).await;
    }
    prisma_db.execute(&ddl).await;
    let dir = tempfile::tempdir().unwrap();
    let ours = keel(dir.path(), &keel_db.url)
        .args(["diff", "--from", "empty", "--strict", "--script", "--to"])
        .arg(format!("schema={}", schema.display()))
        .output()
        .unwrap();
    if !ours.status.success() {
        return Err(format!("keel's script: {}", output_text(&ours)));
    }
    keel_db
        .execute(&String::from_utf8_lossy(&ours.stdout))
        .await;
    let same = keel(dir.path(), &prisma_db.url)
        .args([
            "diff",
            "--exit-code",
            "--from",
            &prisma_db.url,
            "--to",
            &keel_db.url,
        ])
        .output()
        .unwrap();
    if same.status.code() != Some(0) {
        return Err(format!(
            "Prisma's DDL and keel's differ:\n{}",
            output_text(&same)
        ));
    }
    let read = keel(dir.path(), &prisma_db.url)
        .args(["diff", "--exit-code", "--from", &prisma_db.url, "--to"])
        .arg(format!("schema={}", schema.display()))
        .output()
        .unwrap();
    if read.status.code() != Some(0) {
        return Err(format!(
            "keel's reading differs from Prisma's DDL:\n{}",
            output_text(&read)
        ));
    }
    pull_round_trip(&prisma_db.url)
}

/// `keel inspect --format prisma` of the database at `url` reads back (strictly, bar what
/// the Prisma schema language cannot say) as the same schema.
fn pull_round_trip(url: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let pulled = keel(dir.path(), url)
        .args(["inspect", "--format", "prisma"])
        .output()
        .unwrap();
    if !pulled.status.success() {
        return Err(format!("inspect --format prisma: {}", output_text(&pulled)));
    }
    let file = dir.path().join("pulled.prisma");
    std::fs::write(&file, &pulled.stdout).unwrap();
    let back = keel(dir.path(), url)
        .args(["diff", "--exit-code", "--from", url, "--to"])
        .arg(format!("schema={}", file.display()))
        .output()
        .unwrap();
    if back.status.code() != Some(0) {
        return Err(format!(
            "the pulled schema.prisma reads back differently:\n{}\n{}",
            output_text(&back),
            String::from_utf8_lossy(&pulled.stdout)
        ));
    }
    Ok(())
}

#[tokio::test]
async fn the_feature_matrix_matches_prisma_on_postgres() {
    let Some(script) = peer_script() else { return };
    let probe = TestDb::new(Backend::Postgres).await;
    if !peer_runs(&script, &probe.url) {
        return;
    }
    let features = fixture("features_pg.prisma");
    let text = std::fs::read_to_string(&features).unwrap();
    assert!(
        features_named(&text, 'F') >= 70,
        "the matrix names too few features"
    );
    parity(
        &script,
        &features,
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    )
    .await
    .unwrap();
}

/// How many distinct features (`F12`, with `letter` = `F`) a matrix file names.
fn features_named(text: &str, letter: char) -> usize {
    let mut seen = std::collections::BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let starts = *c == letter && (i == 0 || !chars[i - 1].is_alphanumeric());
        let digits: String = chars[i + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .collect();
        if starts && !digits.is_empty() {
            seen.insert(digits);
        }
    }
    seen.len()
}

/// The PostgreSQL `schema.prisma` files of the corpora, with what their databases need
/// before Prisma's DDL runs (rallly's `@db.Citext` columns need the extension its history
/// creates).
const PG_SCHEMAS: &[(&str, &str)] = &[
    (
        "triggerdotdev__trigger.dev/internal-packages/database/prisma/schema.prisma",
        "",
    ),
    (
        "lukevella__rallly/packages/database/prisma",
        "CREATE EXTENSION IF NOT EXISTS citext;",
    ),
    (
        "hoppscotch__hoppscotch/packages/hoppscotch-backend/prisma/schema.prisma",
        "",
    ),
    ("umami-software__umami/prisma/schema.prisma", ""),
    (
        "teableio__teable/packages/db-main-prisma/prisma/postgres/schema.prisma",
        "",
    ),
];

#[tokio::test]
async fn every_corpus_schema_matches_prisma_on_postgres() {
    let Some(root) = corpora() else { return };
    let Some(script) = peer_script() else { return };
    let probe = TestDb::new(Backend::Postgres).await;
    if !peer_runs(&script, &probe.url) {
        return;
    }
    let mut failures = Vec::new();
    for (rel, prelude) in PG_SCHEMAS {
        if let Err(e) = parity(&script, &root.join(rel), prelude).await {
            failures.push(format!("{rel}: {e}"));
        }
    }
    eprintln!(
        "parity with Prisma 6.19 on PostgreSQL: {} of {} corpus schemas",
        PG_SCHEMAS.len() - failures.len(),
        PG_SCHEMAS.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// keel's DDL for `schema`, applied to a fresh `backend` database, introspects as the schema
/// read (strictly).
async fn round_trip(backend: Backend, schema: &Path) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let ours = keel(dir.path(), &db.url)
        .args(["diff", "--from", "empty", "--script", "--to"])
        .arg(format!("schema={}", schema.display()))
        .output()
        .unwrap();
    assert!(ours.status.success(), "{}", output_text(&ours));
    let ddl = String::from_utf8_lossy(&ours.stdout).into_owned();
    db.execute(&ddl).await;
    let back = keel(dir.path(), &db.url)
        .args(["diff", "--exit-code", "--strict", "--from", &db.url, "--to"])
        .arg(format!("schema={}", schema.display()))
        .output()
        .unwrap();
    assert_eq!(back.status.code(), Some(0), "{}\n{ddl}", output_text(&back));
    pull_round_trip(&db.url).unwrap();
}

#[tokio::test]
async fn the_mysql_feature_matrix_round_trips_with_prismas_types() {
    let schema = fixture("features_mysql.prisma");
    let text = std::fs::read_to_string(&schema).unwrap();
    assert!(features_named(&text, 'M') >= 24);
    round_trip(Backend::Mysql, &schema).await;
    // Prisma's spellings (its documentation's type table; its MySQL DDL).
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Mysql).await;
    let out = keel(dir.path(), &db.url)
        .args(["diff", "--from", "empty", "--script", "--to"])
        .arg(format!("schema={}", schema.display()))
        .output()
        .unwrap();
    let ddl = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "`email` varchar(191) NOT NULL",
        "`createdAt` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)",
        "`balance` decimal(65,30) NOT NULL DEFAULT 0",
        "`status` enum('ACTIVE','closed') NOT NULL DEFAULT 'ACTIVE'",
        "`_ArticleToTag_AB_unique`",
        "`_ArticleToTag_B_index`",
        "`Article_accountId_fkey`",
        "`accounts_name_idx`",
    ] {
        assert!(ddl.contains(expected), "{expected} is missing from\n{ddl}");
    }
}

#[tokio::test]
async fn the_sqlite_feature_matrix_round_trips() {
    let schema = fixture("features_sqlite.prisma");
    let text = std::fs::read_to_string(&schema).unwrap();
    assert!(features_named(&text, 'S') >= 15);
    round_trip(Backend::Sqlite, &schema).await;
}

/// `keel check --json` of a corpus history against its schema: (differences, kept).
async fn check(backend: Backend, migrations: &Path, schema: &Path) -> (Vec<String>, Vec<String>) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let out = keel(dir.path(), &db.url)
        .timeout(std::time::Duration::from_secs(900))
        .args(["--json", "check", "--migrations"])
        .arg(migrations)
        .arg("--schema")
        .arg(schema)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", output_text(&out)));
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap_or_else(|| panic!("no {k}: {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    (list("schema_differences"), list("kept"))
}

#[tokio::test]
async fn corpus_histories_reproduce_their_schema_as_prisma_says() {
    let Some(root) = corpora() else { return };
    // hoppscotch: the history matches except hand-written indexes, which Prisma's diff drops
    // and keel keeps (and lists).
    let h = root.join("hoppscotch__hoppscotch/packages/hoppscotch-backend/prisma");
    let (diffs, kept) = check(
        Backend::Postgres,
        &h.join("migrations"),
        &h.join("schema.prisma"),
    )
    .await;
    assert!(diffs.is_empty(), "hoppscotch: {diffs:?}");
    for name in [
        "TeamCollection_title_trgm_idx",
        "TeamRequest_title_trgm_idx",
        "idx_mock_examples_team_requests_gin",
        "idx_mock_examples_user_requests_gin",
    ] {
        assert!(
            kept.iter().any(|k| k.contains(name)),
            "hoppscotch: {name} not kept: {kept:?}"
        );
    }
    // umami (PostgreSQL): the history lacks one index the schema declares.
    let u = root.join("umami-software__umami/prisma");
    let (diffs, _) = check(
        Backend::Postgres,
        &u.join("migrations"),
        &u.join("schema.prisma"),
    )
    .await;
    assert_eq!(
        diffs,
        ["added index `session_replay_visit_id_idx` on `session_replay`"],
        "umami"
    );
    // teable (PostgreSQL and SQLite) and pingvin-share (SQLite): reproduced.
    for (backend, rel) in [
        (
            Backend::Postgres,
            "teableio__teable/packages/db-main-prisma/prisma/postgres",
        ),
        (
            Backend::Sqlite,
            "teableio__teable/packages/db-main-prisma/prisma/sqlite",
        ),
        (Backend::Sqlite, "stonith404__pingvin-share/backend/prisma"),
    ] {
        let d = root.join(rel);
        let (diffs, _) = check(backend, &d.join("migrations"), &d.join("schema.prisma")).await;
        assert!(diffs.is_empty(), "{rel}: {diffs:?}");
    }
    // rallly (Prisma's engine crashes on it): one index the history left behind after a
    // table rename, which the schema no longer has.
    let r = root.join("lukevella__rallly/packages/database/prisma");
    let (diffs, kept) = check(Backend::Postgres, &r.join("migrations"), &r).await;
    assert_eq!(diffs, ["dropped index `User_email_key`"], "rallly");
    assert!(
        kept.iter().any(|k| k.contains("function \"nanoid\"")),
        "{kept:?}"
    );
}

#[tokio::test]
async fn trigger_dev_history_against_its_schema() {
    if std::env::var("KEEL_SLOW_TESTS").is_err() {
        eprintln!("skipped: set KEEL_SLOW_TESTS=1 (replays trigger.dev's 820 migrations)");
        return;
    }
    let Some(root) = corpora() else { return };
    let t = root.join("triggerdotdev__trigger.dev/internal-packages/database/prisma");
    let (diffs, kept) = check(
        Backend::Postgres,
        &t.join("migrations"),
        &t.join("schema.prisma"),
    )
    .await;
    // What Prisma 6 would change too (see the note of issue #16): the join tables' Prisma 6
    // primary keys, an index name cut by an older Prisma, `@updatedAt` defaults, and foreign
    // keys the history dropped by hand while the schema keeps its relations.
    for expected in [
        "added primary key on `_BackgroundWorkerToTaskQueue` (A, B)",
        "dropped index `_BackgroundWorkerToTaskQueue_AB_unique`",
        "dropped index `BackgroundWorkerTask_runtimeEnvironmentId_slug_triggerSource_id`",
        "changed column `FeatureFlag.updatedAt`: default CURRENT_TIMESTAMP → none",
        "added foreign key `TaskRun` (runtimeEnvironmentId) → `RuntimeEnvironment`",
    ] {
        assert!(
            diffs.iter().any(|d| d == expected),
            "{expected} not in {diffs:#?}"
        );
    }
    assert!(
        kept.iter()
            .any(|k| k.contains("schema \"triggerdotdev_events\"")),
        "{kept:?}"
    );
    assert!(
        !diffs.iter().any(|d| d.contains("changed enum")),
        "enum value order is Prisma's to ignore: {diffs:#?}"
    );
    // The two tables the history partitions by hand (PSL cannot say it) keep their partitioning.
    let partitioned = kept
        .iter()
        .filter(|k| k.contains("its partitioning (PARTITION BY RANGE (\"createdAt\"))"))
        .count();
    assert_eq!(partitioned, 2, "{kept:#?}");
    assert!(
        !diffs.iter().any(|d| d.contains("partitioning")),
        "{diffs:#?}"
    );
}

#[tokio::test]
async fn a_prisma_project_plans_and_checks_without_prisma() {
    // A Prisma project on SQLite: prisma/schema.prisma and prisma/migrations, no keel.toml.
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("prisma/migrations")).unwrap();
    std::fs::write(
        p.join("prisma/migrations/migration_lock.toml"),
        "provider = \"sqlite\"\n",
    )
    .unwrap();
    let schema = "datasource db {\n  provider = \"sqlite\"\n  url = env(\"DATABASE_URL\")\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n}\n";
    std::fs::write(p.join("prisma/schema.prisma"), schema).unwrap();
    let out = keel(p, &db.url)
        .args(["plan", "init", "--migrations", "prisma/migrations"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(output_text(&out).contains("User"), "{}", output_text(&out));
    // A hand-written partial index in a later migration is kept, not dropped, by the next plan.
    // Its version is the next second after init's, so that the next plan sorts after it.
    let init = std::fs::read_dir(p.join("prisma/migrations"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with("_init"))
        .unwrap();
    let version: u64 = init.trim_end_matches("_init").parse().unwrap();
    keel_test_support::write_migration(
        &p.join("prisma/migrations"),
        &format!("{}_hand_written", version + 1),
        "CREATE INDEX \"user_example_email\" ON \"User\" (\"email\") WHERE \"email\" LIKE '%@example.com';\n",
    );
    // Two seconds on, so that the next plan's version sorts after the hand-written one.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = keel(p, &db.url)
        .args(["deploy", "--migrations", "prisma/migrations"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    std::fs::write(
        p.join("prisma/schema.prisma"),
        schema.replace(
            "email String @unique\n",
            "email String @unique\n  name  String?\n",
        ),
    )
    .unwrap();
    let out = keel(p, &db.url)
        .args([
            "plan",
            "add_name",
            "--create-only",
            "--migrations",
            "prisma/migrations",
        ])
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("kept: not described by schema.prisma"),
        "{text}"
    );
    assert!(text.contains("user_example_email"), "{text}");
    let written = written_migration(&p.join("prisma/migrations"), "_add_name");
    assert!(written.contains("\"name\""), "{written}");
    assert!(!written.contains("DROP INDEX"), "{written}");
    // The CI gate: the history (with the new migration) reproduces the schema.
    let out = keel(p, &db.url)
        .args(["check", "--migrations", "prisma/migrations"])
        .output()
        .unwrap();
    assert!(
        output_text(&out).contains("ok: the migrations reproduce"),
        "{}",
        output_text(&out)
    );
}

#[tokio::test]
async fn a_bad_schema_prisma_is_k1012_at_its_line_and_column() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let cases: &[(&str, &str, &str)] = &[
        (
            "typo.prisma",
            "datasource db {\n  provider = \"postgresql\"\n}\n\nmodel A {\n  id Int @id\n  b  Strng\n}\n",
            "typo.prisma:7:3: `Strng` is not a scalar type",
        ),
        (
            "syntax.prisma",
            "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n  = oops\n}\n",
            "syntax.prisma:6:3:",
        ),
        (
            "provider.prisma",
            "datasource db {\n  provider = \"sqlite\"\n}\nmodel A {\n  id Int @id\n}\n",
            "provider is SQLite, but the database is PostgreSQL",
        ),
        (
            "relation.prisma",
            "datasource db {\n  provider = \"postgresql\"\n}\nmodel A {\n  id Int @id\n  b  B @relation(fields: [bId], references: [id])\n}\nmodel B {\n  id Int @id\n  a  A[]\n}\n",
            "`bId` is not a scalar field of `A`",
        ),
        (
            "nul.prisma",
            "datasource db {\n  provider = \"postgresql\"\n}\n\0",
            "holds a NUL byte",
        ),
    ];
    for (file, text, expected) in cases {
        std::fs::write(p.join(file), text).unwrap();
        let out = keel(p, &db.url)
            .args(["diff", "--from", "empty", "--to"])
            .arg(format!("schema={file}"))
            .output()
            .unwrap();
        let t = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {t}");
        assert!(t.contains("error[K1012]"), "{file}: {t}");
        assert!(t.contains(expected), "{file}: expected {expected:?} in {t}");
        assert!(!t.contains("panicked"), "{t}");
    }
    // With no database URL the schema's own error is the one reported (it was K1013, "no
    // database URL"), and a schema nested past reason is an error, not a crash.
    let deep = format!(
        "datasource db {{\n  provider = \"postgresql\"\n}}\nmodel A {{\n  id Int @id @default({})\n}}\n",
        "[".repeat(100_000)
    );
    std::fs::write(p.join("deep.prisma"), deep).unwrap();
    for file in ["typo.prisma", "deep.prisma"] {
        let out = assert_cmd::Command::new(assert_cmd::cargo::cargo_bin("keel"))
            .current_dir(p)
            .env_remove("DATABASE_URL")
            .args(["diff", "--from", "empty", "--script", "--to"])
            .arg(format!("schema={file}"))
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let t = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {t}");
        assert!(
            t.contains("error[K1012]") && t.contains(file),
            "{file}: {t}"
        );
    }
}

#[tokio::test]
async fn the_drift_gate_names_a_hand_change_and_keeps_hand_written_objects() {
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.prisma");
    std::fs::write(
        &schema,
        "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n\nmodel Order {\n  id     Int    @id @default(autoincrement())\n  status String @default(\"new\")\n  @@index([status])\n  @@map(\"orders\")\n}\n",
    )
    .unwrap();
    let target = format!("schema={}", schema.display());
    let ddl = keel(dir.path(), &db.url)
        .args(["diff", "--from", "empty", "--script", "--to", &target])
        .output()
        .unwrap();
    db.execute(&String::from_utf8_lossy(&ddl.stdout)).await;
    let gate = |args: &[&str]| {
        keel(dir.path(), &db.url)
            .args(["diff", "--exit-code", "--from", &db.url, "--to", &target])
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(
        gate(&[]).status.code(),
        Some(0),
        "{}",
        output_text(&gate(&[]))
    );
    // Hand-written objects a Prisma schema cannot describe: kept, no drift.
    db.execute(
        "CREATE INDEX orders_open ON orders (id) WHERE status <> 'done';
         CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';",
    )
    .await;
    let out = gate(&[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("index \"orders_open\" on \"orders\" (a WHERE clause)"),
        "{text}"
    );
    assert!(text.contains("function \"order_count\"()"), "{text}");
    // --strict compares them.
    assert_eq!(gate(&["--strict"]).status.code(), Some(2));
    // A hand change the schema can describe is drift, named.
    db.execute("ALTER TABLE orders ADD COLUMN note text; DROP INDEX orders_status_idx;")
        .await;
    let out = gate(&[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("dropped column `orders.note`"), "{text}");
    assert!(
        text.contains("added index `orders_status_idx` on `orders`"),
        "{text}"
    );
    // The SQL offered removes the drift and leaves the hand-written objects alone.
    let fix = keel(dir.path(), &db.url)
        .args(["diff", "--script", "--from", &db.url, "--to", &target])
        .output()
        .unwrap();
    let sql = String::from_utf8_lossy(&fix.stdout).into_owned();
    assert!(
        !sql.contains("orders_open") && !sql.contains("order_count"),
        "{sql}"
    );
    db.execute(&sql).await;
    assert_eq!(
        gate(&[]).status.code(),
        Some(0),
        "{}",
        output_text(&gate(&[]))
    );
    assert_eq!(
        db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_open'")
            .await,
        1
    );
}

#[tokio::test]
async fn external_tables_of_prisma_config_are_left_to_their_owner() {
    // A Prisma project whose `users` table and `role` enum belong to an auth service:
    // prisma.config.ts names them external and creates them in the shadow (initShadowDb).
    let db = TestDb::new(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let owner_sql = "CREATE TYPE role AS ENUM ('admin', 'member', 'guest');\nCREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, provider text, role role NOT NULL);";
    std::fs::write(
        p.join("prisma.config.ts"),
        format!(
            "import {{ defineConfig, env }} from \"prisma/config\";\nexport default defineConfig({{\n  experimental: {{ externalTables: true }},\n  tables: {{ external: [\"users\"] }},\n  enums: {{ external: [\"role\"] }},\n  migrations: {{\n    path: \"prisma/migrations\",\n    initShadowDb: `\n{owner_sql}\n`,\n  }},\n  datasource: {{ url: env(\"DATABASE_URL\") }},\n}});\n"
        ),
    )
    .unwrap();
    // The models show part of the owner's table (no `provider`), and the enum without `guest`.
    let schema = "datasource db {\n  provider = \"postgresql\"\n}\n\nmodel users {\n  id    Int    @id\n  email String\n  role  role\n  posts Post[]\n}\n\nenum role {\n  admin\n  member\n}\n\nmodel Post {\n  id       Int   @id @default(autoincrement())\n  authorId Int\n  author   users @relation(fields: [authorId], references: [id])\n}\n";
    std::fs::create_dir_all(p.join("prisma/migrations")).unwrap();
    std::fs::write(p.join("prisma/schema.prisma"), schema).unwrap();
    std::fs::write(
        p.join("prisma/migrations/migration_lock.toml"),
        "provider = \"postgresql\"\n",
    )
    .unwrap();
    db.execute(owner_sql).await;
    let out = keel(p, &db.url).args(["plan", "init"]).output().unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("not compared: external in prisma.config.ts"),
        "{text}"
    );
    let written = written_migration(&p.join("prisma/migrations"), "_init");
    // Post and its foreign key to the owner's table; nothing of the owner's objects.
    assert!(written.contains("CREATE TABLE \"Post\""), "{written}");
    assert!(written.contains("REFERENCES \"users\""), "{written}");
    assert!(!written.contains("TABLE \"users\""), "{written}");
    assert!(!written.contains("TYPE \"role\""), "{written}");
    // The plan deployed it to the development database; the CI gates agree.
    let out = keel(p, &db.url).args(["check"]).output().unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("table \"users\""), "{text}");
    assert!(text.contains("enum \"role\""), "{text}");
    let gate = keel(p, &db.url)
        .args([
            "diff",
            "--exit-code",
            "--json",
            "--from",
            &db.url,
            "--to",
            "schema=prisma/schema.prisma",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&gate.stdout).unwrap();
    assert_eq!(gate.status.code(), Some(0), "{}", output_text(&gate));
    assert_eq!(json["external"][0], "table \"users\"", "{json}");
    // The owner changes their table: still not keel's business.
    db.execute(
        "ALTER TABLE users ADD COLUMN last_seen timestamptz; ALTER TYPE role ADD VALUE 'owner';",
    )
    .await;
    let gate = keel(p, &db.url)
        .args([
            "diff",
            "--exit-code",
            "--from",
            &db.url,
            "--to",
            "schema=prisma/schema.prisma",
        ])
        .output()
        .unwrap();
    assert_eq!(gate.status.code(), Some(0), "{}", output_text(&gate));
    // Nor drift: the history (replayed after initShadowDb) against the live schema offers no
    // SQL that would undo the owner's change.
    let out = keel(p, &db.url).args(["drift"]).output().unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("external in prisma.config.ts"), "{text}");
    // A hand change to a managed table still is drift.
    db.execute("ALTER TABLE \"Post\" ADD COLUMN note text;")
        .await;
    let out = keel(p, &db.url).args(["drift", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "{json}");
    let revert = json["revert_sql"].as_str().unwrap_or_default();
    assert!(revert.contains("\"note\""), "{json}");
    assert!(!revert.contains("last_seen"), "{json}");
    // A name in the wrong form is refused as Prisma refuses it (P3024), a computed list too.
    let config = std::fs::read_to_string(p.join("prisma.config.ts")).unwrap();
    for (bad, says) in [
        ("[\"public.users\"]", "bare name"),
        ("externalNames", "computed by code"),
    ] {
        std::fs::write(
            p.join("prisma.config.ts"),
            config.replace("[\"users\"]", bad),
        )
        .unwrap();
        let out = keel(p, &db.url).args(["check"]).output().unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("K4020") && text.contains(says), "{text}");
    }
}

#[tokio::test]
async fn prisma_migrate_dev_without_a_shadow_database_right() {
    // Prisma's P3014: `migrate dev` needs to create a shadow database, which a managed
    // PostgreSQL's application role may not. keel plans from schema.prisma with such a role
    // (no CREATEDB, no local server binaries; CREATE on its own database, as the role that
    // owns an application's database has) and verifies in a temporary schema.
    let db = TestDb::new(Backend::Postgres).await;
    let user = format!("keel_p3014_{}", db.name.trim_start_matches("keel_test_"));
    db.execute(&format!(
        "CREATE ROLE {user} LOGIN NOCREATEDB; GRANT CREATE ON DATABASE {} TO {user}; GRANT USAGE, CREATE ON SCHEMA public TO {user}",
        db.name
    ))
    .await;
    let url = db.url.replacen("postgres@", &format!("{user}@"), 1);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("prisma/migrations")).unwrap();
    std::fs::write(
        p.join("prisma/schema.prisma"),
        "datasource db {\n  provider = \"postgresql\"\n  url = env(\"DATABASE_URL\")\n}\n\nmodel User {\n  id    Int    @id @default(autoincrement())\n  email String @unique\n  posts Post[]\n}\n\nmodel Post {\n  id       Int  @id @default(autoincrement())\n  authorId Int\n  author   User @relation(fields: [authorId], references: [id], onDelete: Cascade)\n}\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        keel(p, &url)
            .env("KEEL_PG_BINDIR", "/nonexistent/bin")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["plan", "init"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("temporary schema"), "{text}");
    // As Prisma's first `migrate dev`: migration_lock.toml, so `_prisma_migrations` is the
    // ledger and `prisma migrate deploy` reads the same history.
    let lock = std::fs::read_to_string(p.join("prisma/migrations/migration_lock.toml")).unwrap();
    assert!(lock.contains("provider = \"postgresql\""), "{lock}");
    let out = run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(
        db.scalar("SELECT count(*) FROM \"_prisma_migrations\" WHERE finished_at IS NOT NULL")
            .await,
        1
    );
    db.execute(&format!("DROP OWNED BY {user}; DROP ROLE {user}"))
        .await;
}
