//! Leftovers of killed runs (issue #13, item 13): keel drops the shadow databases that earlier
//! runs left behind and says so. Alone in its test binary: any keel process sweeps the whole
//! server, so a concurrent test's keel could take the leftover (and its note) first.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text as text, write_migration, Backend, TestDb};

fn rand_fraction() -> f64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    f64::from(n % 1_000_000) / 1_000_000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftovers_of_killed_runs_are_removed_and_reported() {
    let db = TestDb::new(Backend::Postgres).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let suffix = format!("{:08x}", rand_fraction().to_bits() as u32);
    let old = format!("keel_shadow_{:x}_{suffix}", now - 3600);
    let fresh = format!("keel_shadow_{:x}_{suffix}", now);
    db.execute(&format!("CREATE DATABASE {old}")).await;
    db.execute(&format!("CREATE DATABASE {fresh}")).await;
    let t = tempfile::tempdir().unwrap();
    write_migration(
        &t.path().join("migrations"),
        "1_a",
        "CREATE TABLE a (id INT);\n",
    );
    let o = keel(t.path(), &db.url).arg("drift").output().unwrap();
    let out = text(&o);
    let exists = |n: &str| format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{n}'");
    let old_left = db.scalar(&exists(&old)).await;
    let fresh_left = db.scalar(&exists(&fresh)).await;
    db.execute(&format!("DROP DATABASE IF EXISTS {fresh}"))
        .await;
    db.execute(&format!("DROP DATABASE IF EXISTS {old}")).await;
    assert_eq!(old_left, 0, "{out}");
    assert!(
        out.contains(&format!("removed shadow database {old}")),
        "{out}"
    );
    // A shadow created a moment ago may belong to a run about to connect to it: kept.
    assert_eq!(fresh_left, 1, "{out}");
}
