//! Secrets (issue #7, item 6): every command, on success and error paths, in human and JSON
//! output, with database URLs whose password is a unique marker: the marker appears nowhere.
//! (The local PostgreSQL trusts loopback connections, so the password is accepted unchecked.)
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel_test_support::{Backend, TestDb};

const MARKER: &str = "Zq9marker7Xsecret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_the_password() {
    let db = TestDb::new(Backend::Postgres).await;
    let url = db
        .url
        .replacen("postgres@", &format!("postgres:{MARKER}@"), 1);
    assert!(url.contains(MARKER));
    let bad_url = format!("postgres://postgres:{MARKER}@127.0.0.1:1/nope");
    let mysql_bad = format!("mysql://root:{MARKER}@127.0.0.1:3306/test");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    keel_test_support::write_migration(
        &mig,
        "1_init",
        "CREATE TABLE t (id INT PRIMARY KEY, a TEXT);\n",
    );
    std::fs::write(
        dir.join("schema.sql"),
        "CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b INT);\n",
    )
    .unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["deploy", "--dry-run"],
        vec!["deploy"],
        vec!["status", "--drift"],
        vec!["drift"],
        vec!["doctor"],
        vec!["lint", "1_init"],
        vec!["check"],
        vec!["inspect"],
        vec!["inspect", "--format", "json"],
        vec!["diff", "--from", "migrations", "--to", "schema"],
        vec!["plan", "add_b", "--create-only"],
        vec!["deploy"],
        vec!["rollback", "--dry-run"],
        vec!["repair", "1_init", "--finish"],
        vec!["resolve", "--applied", "9_nope"],
        vec!["baseline"],
        vec!["reset", "--yes"],
        vec!["deploy", "--to", "999"],
    ];
    let mut leaks = Vec::new();
    for target in [url.as_str(), bad_url.as_str(), mysql_bad.as_str()] {
        for json in [false, true] {
            for args in &runs {
                let mut c = Command::cargo_bin("keel").unwrap();
                c.current_dir(dir)
                    .env_remove("DATABASE_URL")
                    .env_remove("SHADOW_DATABASE_URL")
                    .args(["--database-url", target, "--migrations"])
                    .arg(&mig);
                if json {
                    c.arg("--json");
                }
                let o = c.args(args).output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                if text.contains(MARKER) || text.contains("panicked") {
                    leaks.push(format!(
                        "{args:?} json={json} on {}:\n{text}",
                        target.replace(MARKER, "***")
                    ));
                }
            }
        }
    }
    // The commands ran for real against the good URL: deployed, planned, shadows used.
    assert!(db.has_table("t").await);
    assert!(db.has_column("t", "b").await, "plan add_b then deploy");
    assert!(std::fs::read_dir(&mig).unwrap().count() >= 2);
    // A shadow URL with the marker, refused as the target itself.
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .args([
            "--database-url",
            &url,
            "--shadow-database-url",
            &url,
            "--migrations",
        ])
        .arg(&mig)
        .arg("drift")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("K3014") && !text.contains(MARKER), "{text}");
    // The environment variable path too.
    let o = Command::cargo_bin("keel")
        .unwrap()
        .current_dir(dir)
        .env("DATABASE_URL", &bad_url)
        .arg("status")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if text.contains(MARKER) {
        leaks.push(format!("DATABASE_URL env:\n{text}"));
    }
    assert!(
        leaks.is_empty(),
        "the password was printed:\n{}",
        leaks.join("\n---\n")
    );
}

/// URL shapes a user pastes (issue #13, item 9): passwords with unencoded `/ ? # @ : %`,
/// encoded ones, libpq keyword strings, MySQL passwords; as `--database-url`, `DATABASE_URL`,
/// `.env` and `--shadow-database-url`, human and JSON: no 6-character piece of the password is
/// ever printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_url_shape_prints_a_piece_of_the_password() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mig = dir.join("migrations");
    keel_test_support::write_migration(&mig, "1_init", "CREATE TABLE t (id INT);\n");
    let passwords: Vec<String> = ["/", "?", "#", "@", ":", "%", "/@", "?#", "@@", " "]
        .iter()
        .enumerate()
        .map(|(i, sep)| format!("Kq{i}wxyz{sep}Vt8secretJ{i}"))
        .collect();
    let mut shapes: Vec<(String, String)> = Vec::new();
    for pw in &passwords {
        let enc: String = url::form_urlencoded::byte_serialize(pw.as_bytes()).collect();
        for scheme in ["postgres", "postgresql", "mysql", "mariadb"] {
            let port = if scheme.starts_with('m') { 3306 } else { 5432 };
            shapes.push((
                pw.clone(),
                format!("{scheme}://u:{pw}@127.0.0.1:{port}/{}", db.name),
            ));
            shapes.push((
                pw.clone(),
                format!("{scheme}://u:{enc}@127.0.0.1:{port}/{}", db.name),
            ));
        }
        shapes.push((
            pw.clone(),
            format!("host=127.0.0.1 user=u password={pw} dbname=x"),
        ));
        shapes.push((
            pw.clone(),
            format!("postgres://u:{pw}@/db?host=/var/run/postgresql"),
        ));
    }
    let mut leaks = Vec::new();
    let mut runs = 0;
    for (pw, url) in &shapes {
        for (how, json) in [
            ("flag", false),
            ("env", true),
            ("dotenv", false),
            ("shadow", true),
        ] {
            let _ = std::fs::remove_file(dir.join(".env"));
            let mut c = Command::cargo_bin("keel").unwrap();
            c.current_dir(dir)
                .env_remove("DATABASE_URL")
                .env_remove("SHADOW_DATABASE_URL");
            match how {
                "flag" => {
                    c.args(["--database-url", url]);
                }
                "env" => {
                    c.env("DATABASE_URL", url);
                }
                "dotenv" => {
                    std::fs::write(dir.join(".env"), format!("DATABASE_URL='{url}'\n")).unwrap()
                }
                _ => {
                    c.args(["--database-url", &db.url, "--shadow-database-url", url]);
                }
            }
            if json {
                c.arg("--json");
            }
            let args: &[&str] = if how == "shadow" {
                &["doctor"]
            } else {
                &["status"]
            };
            let o = c.args(args).output().unwrap();
            runs += 1;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            let leaked = (0..=pw.len() - 6)
                .map(|i| &pw[i..i + 6])
                .find(|p| text.contains(p));
            if leaked.is_some() || text.contains("panicked") {
                leaks.push(format!("{how} {args:?} piece {leaked:?}:\n{text}"));
            }
        }
    }
    println!("{runs} runs, {} leaks", leaks.len());
    assert!(leaks.is_empty(), "{}", leaks.join("\n---\n"));
}
