//! One vocabulary in what users read (issue #17): snapshots pin the wording of the messages
//! that said the same thing differently — "no difference" / "no drift", "sorts before" for an
//! out-of-order migration, the out-of-order warning said before anything is applied, reset's
//! "next:" line, "steps 1–2" everywhere.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, write_migration};
use std::path::Path;

fn text(o: &std::process::Output) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Replaces what changes from run to run: the temp directory, durations, timestamps.
fn filtered(s: &str, dir: &Path) -> String {
    s.replace(&dir.display().to_string(), "[DIR]")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let mut s = insta::Settings::clone_current();
        s.add_filter(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "[TIME]");
        s.add_filter(r"\b\d+ ms\b", "[MS]");
        s.bind(|| insta::assert_snapshot!($name, $value));
    }};
}

#[tokio::test]
async fn one_vocabulary_across_commands() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // A SQLite file inside the project: the one database `keel reset` may empty unasked.
    let url = format!("sqlite://{}/dev.db", dir.display());
    std::fs::write(dir.join("keel.toml"), "").unwrap();
    let mig = dir.join("migrations");
    write_migration(&mig, "20260102000000_b", "CREATE TABLE b (id INTEGER);\n");
    let o = keel(dir, &url).arg("deploy").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // No difference, no drift: the same shape.
    let o = keel(dir, &url)
        .args(["diff", "--from", "migrations", "--to", &url])
        .output()
        .unwrap();
    snapshot!("diff_no_difference", filtered(&text(&o), dir));
    let o = keel(dir, &url).arg("drift").output().unwrap();
    snapshot!("drift_no_drift", filtered(&text(&o), dir));

    // A migration merged from a branch, older than the applied one.
    write_migration(&mig, "20260101000000_a", "CREATE TABLE a (id INTEGER);\n");
    let o = keel(dir, &url).arg("deploy").output().unwrap();
    snapshot!("deploy_out_of_order_refused", filtered(&text(&o), dir));
    let o = keel(dir, &url)
        .args(["deploy", "--allow-out-of-order"])
        .output()
        .unwrap();
    let out = filtered(&text(&o), dir);
    // The warning comes before what it warns about.
    let warn = out.find("warning: out of order").unwrap();
    let applied = out.find("applied 20260101000000_a").unwrap();
    assert!(warn < applied, "{out}");
    snapshot!("deploy_out_of_order_accepted", out);

    // A migration failing at step 3 of 3, step by step: "steps 1–2" in deploy and doctor.
    write_migration(
        &mig,
        "20260103000000_c",
        "-- keel:no-transaction\nCREATE TABLE c1 (id INTEGER);\nCREATE TABLE c2 (id INTEGER);\nINSERT INTO nope VALUES (1);\n",
    );
    let o = keel(dir, &url).arg("deploy").output().unwrap();
    let deploy = filtered(&text(&o), dir);
    snapshot!("deploy_part_way", deploy);
    let o = keel(dir, &url).arg("doctor").output().unwrap();
    let doctor = filtered(&text(&o), dir);
    assert!(
        !deploy.contains("..") && !doctor.contains(".."),
        "{deploy}\n{doctor}"
    );
    assert!(doctor.contains("steps 1–2"), "{doctor}");
    let o = keel(dir, &url)
        .args(["repair", "20260103000000_c", "--revert", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // Reset of the project's own SQLite file ends with what to do next.
    let o = keel(dir, &url).args(["reset", "--yes"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    snapshot!("reset_next", filtered(&text(&o), dir));
}
