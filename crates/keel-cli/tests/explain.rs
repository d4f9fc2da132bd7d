//! `keel explain` with only the binary at hand: no repository, no project, no database URL,
//! and a `keel.toml` that does not parse in the working directory (issue #17).
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use keel::keel_lint::Rule;
use keel_core::codes::ErrorCode;

/// `keel` run in an empty directory outside the repository, with no `DATABASE_URL`.
fn keel(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("keel").unwrap();
    c.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SHADOW_DATABASE_URL")
        .env("NO_COLOR", "1");
    c
}

fn stdout(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn every_code_and_rule_is_explained_without_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    // A broken project file must not stand in the way: explain reads no settings.
    std::fs::write(dir.path().join("keel.toml"), "this is [not toml").unwrap();
    for code in ErrorCode::ALL {
        let (rc, out, err) = stdout(keel(dir.path()).args(["explain", code.as_str()]));
        assert_eq!(rc, 0, "{code}: {err}");
        assert!(out.starts_with(&format!("{code}\n")), "{code}: {out}");
        assert!(
            out.contains("Cause: ") && out.contains("Fix: "),
            "{code}: {out}"
        );
        assert!(!out.contains("](#"), "{code}: a docs link in {out}");
        if let Some(example) = code.example() {
            assert!(
                example.starts_with(&format!("error[{code}]")) || example.contains(code.as_str()),
                "{code}: the example does not show the code: {example}"
            );
        }
    }
    for rule in Rule::ALL {
        let (rc, out, err) = stdout(keel(dir.path()).args(["explain", rule.id()]));
        assert_eq!(rc, 0, "{}: {err}", rule.id());
        assert!(out.starts_with(rule.id()), "{out}");
        assert!(out.contains("## How to fix"), "{out}");
    }
}

#[test]
fn explain_alone_lists_everything_and_json_is_one_object() {
    let dir = tempfile::tempdir().unwrap();
    let (rc, out, _) = stdout(keel(dir.path()).arg("explain"));
    assert_eq!(rc, 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  K")).count(),
        ErrorCode::ALL.len()
    );
    for rule in Rule::ALL {
        assert!(out.contains(&format!("  {}", rule.id())), "{}", rule.id());
    }
    let (rc, out, _) = stdout(keel(dir.path()).args(["--json", "explain", "K3009"]));
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["code"], "K3009");
    assert!(v["fix"].as_str().unwrap().contains("keel doctor"));
}

#[test]
fn an_unknown_topic_is_k4008_and_errors_point_to_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (rc, out, err) = stdout(keel(dir.path()).args(["explain", "nope\u{7}"]));
    assert_eq!(rc, 1);
    assert!(out.is_empty());
    assert!(err.starts_with("error[K4008]: `nope"), "{err}");
    assert!(
        !err.contains('\u{7}'),
        "a control character reached the terminal: {err:?}"
    );
    assert!(err.contains("more: keel explain K4008"), "{err}");
    // Any other error's hint names the command too, never a file of the repository.
    let (rc, _, err) = stdout(keel(dir.path()).arg("status"));
    assert_eq!(rc, 1);
    assert!(err.contains("more: keel explain K"), "{err}");
    assert!(!err.contains("docs/errors.md"), "{err}");
    // Prisma's number for the same meaning.
    let (rc, out, _) = stdout(keel(dir.path()).args(["explain", "P3009"]));
    assert_eq!(rc, 0);
    assert!(out.starts_with("K3009\n"), "{out}");
}
