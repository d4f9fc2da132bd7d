//! The JSON every command prints with `--json` follows `docs/json/keel.schema.json`: the real
//! `keel` binary runs scenarios that reach the interesting outputs (events of a deploy that
//! applies and one that fails, K3009, drift with hand changes, diffs of several change kinds,
//! plan, rollback, repair, resolve, reset, baseline, explain, execute, drift --revert and
//! --record) on SQLite and PostgreSQL, and every line it prints on stdout is validated against
//! the schema's `$defs` entry for it. The schema's `additionalProperties: false` makes an
//! undocumented key fail here.
#![allow(clippy::unwrap_used)]

use keel_test_support::{keel, output_text, write_migration, Backend, TestDb};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

// ---- the schema ---------------------------------------------------------------------------------

fn schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/json/keel.schema.json")
}

/// The schema file, parsed and checked against the 2020-12 meta-schema once.
fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = schema_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let errors: Vec<String> = jsonschema::meta::validator_for(&v)
            .unwrap_or_else(|e| panic!("no meta-schema for {}: {e}", path.display()))
            .iter_errors(&v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} is not a valid JSON Schema:\n  {}",
            path.display(),
            errors.join("\n  ")
        );
        v
    })
}

/// A validator for `#/$defs/{def}`: the whole schema with a root `$ref` to the entry, so that
/// the entry's own `$ref`s resolve.
fn validator(def: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(def) {
        return v.clone();
    }
    let mut root = schema().clone();
    assert!(
        root["$defs"].get(def).is_some(),
        "docs/json/keel.schema.json has no $defs entry `{def}`"
    );
    root.as_object_mut()
        .unwrap()
        .insert("$ref".into(), Value::String(format!("#/$defs/{def}")));
    let v = Arc::new(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("cannot compile #/$defs/{def}: {e}")),
    );
    cache.lock().unwrap().insert(def.to_string(), v.clone());
    v
}

/// Panics with the validator's messages when `value` does not follow `#/$defs/{def}`.
fn validate(def: &str, value: &Value, what: &str) {
    let v = validator(def);
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| {
            format!(
                "{e} (at `{}`, schema `{}`)",
                e.instance_path(),
                e.schema_path()
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "`{what}`: the output does not follow #/$defs/{def}:\n  {}\noutput: {}",
        errors.join("\n  "),
        serde_json::to_string_pretty(value).unwrap()
    );
}

/// The `$defs` entry of one deploy line, by its `event`.
fn event_def(event: &str) -> String {
    match event {
        "done" => "deploy_done".into(),
        "dry_run" => "deploy_dry_run".into(),
        e => format!("deploy_event_{e}"),
    }
}

#[test]
fn the_schema_is_valid_and_names_every_shape() {
    let s = schema();
    assert_eq!(
        s["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema must be draft 2020-12"
    );
    let defs = s["$defs"].as_object().unwrap();
    for name in [
        "deploy_event",
        "deploy_line",
        "deploy_done",
        "deploy_dry_run",
        "error",
        "named_change",
        "init",
        "new",
        "status",
        "resolve",
        "diff",
        "drift",
        "drift_revert",
        "drift_record",
        "execute",
        "plan",
        "rollback",
        "check",
        "inspect",
        "lint",
        "reset",
        "doctor",
        "repair",
        "baseline",
        "baseline_history",
        "explain",
        "explain_code",
        "explain_rule",
        "explain_index",
    ] {
        assert!(defs.contains_key(name), "no $defs entry `{name}`");
        validator(name);
    }
    // Every fixed-shape object refuses undocumented keys and describes each property.
    fn walk(path: &str, v: &Value, problems: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if m.get("type") == Some(&Value::String("object".into())) {
                    if m.get("additionalProperties") != Some(&Value::Bool(false)) {
                        problems.push(format!("{path}: no additionalProperties: false"));
                    }
                    if !m.contains_key("required") {
                        problems.push(format!("{path}: no required"));
                    }
                    for (k, p) in m.get("properties").and_then(Value::as_object).unwrap() {
                        if p.get("description").and_then(Value::as_str).is_none() {
                            problems.push(format!("{path}.{k}: no description"));
                        }
                    }
                }
                for (k, c) in m {
                    walk(&format!("{path}/{k}"), c, problems);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    walk(&format!("{path}/{i}"), c, problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    walk("#", s, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The change kinds are those of `Change::kind`.
    let kinds: BTreeSet<&str> = s["$defs"]["named_change"]["properties"]["change"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 48, "{kinds:?}");
    // And what the schema does not document fails: an extra key, an unknown event or change
    // kind, a number printed as a string, a timestamp that is not RFC 3339.
    let mut v = serde_json::json!({"migration": "1_a", "state": "applied"});
    assert!(validator("resolve").is_valid(&v));
    v["extra"] = Value::Bool(true);
    assert!(!validator("resolve").is_valid(&v));
    let applied = serde_json::json!({"event": "migration_applied", "index": 1, "total": 1, "name": "1_a", "duration_ms": 3, "steps": 1});
    assert!(validator("deploy_event").is_valid(&applied));
    let mut bad = applied.clone();
    bad["duration_ms"] = Value::String("3".into());
    assert!(!validator("deploy_event").is_valid(&bad));
    let mut bad = applied.clone();
    bad["event"] = Value::String("exploded".into());
    assert!(!validator("deploy_event").is_valid(&bad));
    let change = serde_json::json!({"change": "add_column", "table": "users", "column": "phone", "sql": ["ALTER TABLE users ADD COLUMN phone TEXT"], "summary": "added column"});
    assert!(validator("named_change").is_valid(&change));
    let mut bad = change.clone();
    bad["change"] = Value::String("rename_table".into());
    assert!(!validator("named_change").is_valid(&bad));
    let explain = serde_json::json!({"code": "K3009", "cause": "c", "fix": "f", "example": null});
    assert!(validator("explain").is_valid(&explain));
    let row = |started: &str| {
        serde_json::json!({
            "database": "sqlite://x.db", "dialect": "sqlite", "ledger_table": "_keel_migrations",
            "ledger_exists": true, "unmanaged_tables": [], "summary": "1 applied", "running": null,
            "migrations": [{"name": "1_a", "state": "applied", "started_at": started,
                "finished_at": null, "duration_ms": null, "applied_steps_count": 1, "attempts": 1, "logs": null}],
            "drift": null, "invalid_indexes": [],
        })
    };
    assert!(validator("status").is_valid(&row("2026-01-02T03:04:05.678Z")));
    assert!(!validator("status").is_valid(&row("yesterday")));
}

// ---- running keel -------------------------------------------------------------------------------

/// A project directory and the database its commands target.
struct Project {
    dir: tempfile::TempDir,
    url: String,
}

/// What one command printed.
struct Run {
    code: i32,
    stdout: String,
    text: String,
}

impl Project {
    fn new(url: &str) -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
            url: url.to_string(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn migration(&self, name: &str, sql: &str) {
        write_migration(&self.path().join("migrations"), name, sql);
    }

    fn file(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).unwrap();
    }

    /// `keel --json ARGS`.
    fn run(&self, args: &[&str]) -> Run {
        let o = keel(self.path(), &self.url)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            text: output_text(&o),
        }
    }

    /// `keel --json ARGS`, which must exit `code` and print exactly one line of JSON on stdout
    /// that follows `#/$defs/{def}`.
    fn json(&self, args: &[&str], def: &str, code: i32) -> Value {
        let what = format!("keel --json {}", args.join(" "));
        let r = self.run(args);
        assert_eq!(r.code, code, "`{what}` exited {}:\n{}", r.code, r.text);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "`{what}` must print one line of JSON on stdout:\n{}",
            r.stdout
        );
        let v: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| {
            panic!(
                "`{what}` printed a line that is not JSON ({e}):\n{}",
                r.stdout
            )
        });
        validate(def, &v, &what);
        v
    }

    /// `keel --json inspect ARGS`: one JSON document (pretty-printed over several lines).
    fn inspect(&self, args: &[&str]) -> Value {
        let what = format!("keel --json inspect {}", args.join(" "));
        let r = self.run(&[&["inspect"], args].concat());
        assert_eq!(r.code, 0, "`{what}`:\n{}", r.text);
        let v: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("`{what}` did not print JSON ({e}):\n{}", r.stdout));
        validate("inspect", &v, &what);
        v
    }

    /// `keel --json deploy ARGS`, which must exit `code`: every stdout line is one JSON object
    /// whose first key is `event` and which follows its `deploy_*` entry, except a last `error`
    /// line when the deploy fails. Returns the events (without the error) and the error.
    fn deploy(&self, args: &[&str], code: i32) -> (Vec<Value>, Option<Value>) {
        let what = format!("keel --json deploy {}", args.join(" "));
        let r = self.run(&[&["deploy"], args].concat());
        assert_eq!(r.code, code, "`{what}` exited {}:\n{}", r.code, r.text);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(!lines.is_empty(), "`{what}` printed nothing:\n{}", r.text);
        let mut events = Vec::new();
        let mut error = None;
        for (n, line) in lines.iter().enumerate() {
            let m: Map<String, Value> = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "`{what}`: line {} is not a JSON object ({e}): {line}",
                    n + 1
                )
            });
            let first = m.keys().next().cloned().unwrap_or_default();
            let v = Value::Object(m);
            if first == "error" {
                // A failed deploy ends with the error object every command prints.
                assert_eq!(
                    n + 1,
                    lines.len(),
                    "`{what}`: an error line before the end:\n{}",
                    r.stdout
                );
                assert_ne!(code, 0, "`{what}`: an error line on success");
                validate("error", &v, &what);
                validate("deploy_line", &v, &what);
                error = Some(v);
                continue;
            }
            assert_eq!(
                first,
                "event",
                "`{what}`: line {} does not start with \"event\": {line}",
                n + 1
            );
            let event = v["event"]
                .as_str()
                .unwrap_or_else(|| panic!("`{what}`: `event` is not a string: {line}"));
            validate(&event_def(event), &v, &what);
            validate("deploy_event", &v, &what);
            validate("deploy_line", &v, &what);
            events.push(v);
        }
        if code != 0 {
            assert!(
                error.is_some(),
                "`{what}` failed without an error line:\n{}",
                r.stdout
            );
        }
        (events, error)
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

fn change_kinds(v: &Value) -> BTreeSet<String> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap().to_string())
        .collect()
}

fn has_all(set: &BTreeSet<String>, wanted: &[&str], what: &str) {
    for w in wanted {
        assert!(set.contains(*w), "{what}: no `{w}` change in {set:?}");
    }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap()
}

// ---- SQLite -------------------------------------------------------------------------------------

/// init, new, status, deploy (dry run, applied, failed), status and doctor with a failed
/// migration, K3009, repair, resolve, drift with a failed migration.
#[tokio::test]
async fn sqlite_deploy_failure_repair_resolve() {
    let db = TestDb::new(Backend::Sqlite).await;
    let p = Project::new(&db.url);

    let v = p.json(&["init"], "init", 0);
    assert!(!v["created"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["init"], "init", 0);
    assert!(!v["kept"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["new", "users"], "new", 0);
    let created = PathBuf::from(v["created"].as_str().unwrap());
    std::fs::write(
        &created,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nCREATE INDEX users_email ON users (email);\n",
    )
    .unwrap();
    let first = created
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    p.json(&["new", "Bad Name"], "error", 1);

    let v = p.json(&["status"], "status", 2);
    assert_eq!(v["ledger_exists"], false);
    assert_eq!(v["migrations"][0]["state"], "pending");

    let (events, _) = p.deploy(&["--dry-run"], 0);
    assert_eq!(kinds(&events).last(), Some(&"dry_run"), "{events:?}");
    let (events, _) = p.deploy(&[], 0);
    assert_eq!(
        kinds(&events),
        [
            "waiting_for_lock",
            "ledger_created",
            "plan",
            "migration_started",
            "migration_applied",
            "done"
        ]
    );
    assert_eq!(
        events.last().unwrap()["applied"],
        serde_json::json!([first])
    );
    let (events, _) = p.deploy(&[], 0);
    assert_eq!(kinds(&events).last(), Some(&"done"));

    // A non-transactional migration whose second step fails: part-way.
    p.migration(
        "30000101000001_posts",
        "-- keel:no-transaction\nCREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\nINSERT INTO nope VALUES (1);\n",
    );
    let (events, error) = p.deploy(&[], 1);
    assert!(kinds(&events).contains(&"migration_failed"), "{events:?}");
    let failed = events
        .iter()
        .find(|e| e["event"] == "migration_failed")
        .unwrap();
    assert_eq!(failed["failure"]["step"], 2, "{failed}");
    assert!(error.is_some());

    let v = p.json(&["status"], "status", 3);
    let m = &v["migrations"][1];
    assert_eq!(m["state"], "failed", "{v}");
    assert!(m["logs"].is_string(), "{v}");
    let v = p.json(&["doctor"], "doctor", 3);
    assert_eq!(v["exit_code"], 3);
    assert_eq!(v["findings"][0]["severity"], "repair", "{v}");
    assert_eq!(
        v["diagnoses"][0]["classification"]["state"], "part_way",
        "{v}"
    );

    // Deploying again is refused: K3009, exit 3.
    let (_, error) = p.deploy(&[], 3);
    assert_eq!(error_code(error.as_ref().unwrap()), "K3009");
    // Drift compares the failed migration in its diagnosed state.
    let v = p.json(&["drift"], "drift", 0);
    assert!(!v["notes"].as_array().unwrap().is_empty(), "{v}");

    let v = p.json(
        &["repair", "30000101000001_posts", "--revert", "--dry-run"],
        "repair",
        0,
    );
    assert_eq!(v["executed"], false);
    assert_eq!(v["plan"]["direction"], "revert");
    assert!(
        !v["plan"]["statements"].as_array().unwrap().is_empty(),
        "{v}"
    );
    p.json(&["repair", "30000101000001_posts", "--revert"], "error", 1);
    let v = p.json(
        &["repair", "30000101000001_posts", "--revert", "--yes"],
        "repair",
        0,
    );
    assert_eq!(v["executed"], true);
    p.migration(
        "30000101000001_posts",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n",
    );
    let (events, _) = p.deploy(&[], 0);
    assert_eq!(events.last().unwrap()["applied"][0], "30000101000001_posts");

    // A transactional failure, then marked rolled back by resolve.
    p.migration(
        "30000101000002_bad",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\nINSERT INTO nope VALUES (1);\n",
    );
    let (events, _) = p.deploy(&[], 1);
    assert!(kinds(&events).contains(&"migration_failed"), "{events:?}");
    let v = p.json(&["doctor"], "doctor", 3);
    assert_eq!(
        v["diagnoses"][0]["classification"]["state"], "not_applied",
        "{v}"
    );
    let v = p.json(
        &["resolve", "--rolled-back", "30000101000002_bad"],
        "resolve",
        0,
    );
    assert_eq!(v["state"], "rolled_back");
    p.json(
        &["resolve", "--rolled-back", "30000101000002_bad"],
        "error",
        1,
    );
    // A pending migration recorded as applied without running it: drift afterwards.
    p.migration(
        "30000101000002_bad",
        "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n",
    );
    p.migration(
        "30000101000003_manual",
        "CREATE TABLE manual (id INTEGER PRIMARY KEY);\n",
    );
    let v = p.json(&["status"], "status", 2);
    assert_eq!(v["migrations"][2]["state"], "rolled_back", "{v}");
    assert_eq!(v["migrations"][2]["attempts"], 1, "{v}");
    let v = p.json(
        &["resolve", "--applied", "30000101000003_manual"],
        "resolve",
        0,
    );
    assert_eq!(v["state"], "applied");
    let (events, _) = p.deploy(&["--allow-out-of-order"], 0);
    assert_eq!(
        events.last().unwrap()["applied"][0],
        "30000101000002_bad",
        "{events:?}"
    );
    let v = p.json(&["status"], "status", 0);
    assert_eq!(v["summary"], "4 applied", "{v}");
    assert!(v["migrations"][0]["duration_ms"].is_i64(), "{v}");
    let v = p.json(&["status", "--drift"], "status", 2);
    assert!(!v["drift"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["doctor"], "doctor", 2);
    assert_eq!(v["exit_code"], 2);
    let v = p.json(&["drift"], "drift", 2);
    has_all(
        &change_kinds(&v),
        &["drop_table"],
        "drift after resolve --applied",
    );
}

/// Drift with hand changes, --record and --revert, execute, rollback with a down.sql, plan,
/// check, lint, inspect, diff, explain.
#[tokio::test]
async fn sqlite_drift_execute_rollback_plan_diff() {
    let db = TestDb::new(Backend::Sqlite).await;
    let p = Project::new(&db.url);
    p.migration(
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    std::fs::write(
        p.path().join("migrations/1_users/down.sql"),
        "DROP TABLE users;\n",
    )
    .unwrap();
    p.deploy(&[], 0);
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, NULL)")
        .await;
    let v = p.json(&["drift"], "drift", 0);
    assert_eq!(v["drift"], false);

    // Hand changes: a column, a table with rows, an index.
    db.execute("ALTER TABLE users ADD COLUMN phone TEXT; UPDATE users SET phone = '555' WHERE id = 1; CREATE TABLE notes (id INTEGER PRIMARY KEY); INSERT INTO notes VALUES (1), (2); CREATE INDEX users_email ON users (email);").await;
    let v = p.json(&["drift"], "drift", 2);
    assert_eq!(v["drift"], true);
    has_all(
        &change_kinds(&v),
        &["add_column", "create_table", "create_index"],
        "drift",
    );
    assert!(!v["revert_losses"].as_array().unwrap().is_empty(), "{v}");
    assert!(
        v["revert_sql"].is_string() && v["record_sql"].is_string(),
        "{v}"
    );
    let v = p.json(&["status", "--drift"], "status", 2);
    assert!(!v["drift"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["doctor"], "doctor", 2);
    assert!(!v["findings"].as_array().unwrap().is_empty(), "{v}");

    let v = p.json(
        &["drift", "--record", "by_hand", "--dry-run"],
        "drift_record",
        0,
    );
    assert!(
        v["dir"].is_null() && !v["up"].as_str().unwrap().is_empty(),
        "{v}"
    );
    let v = p.json(&["drift", "--revert", "--dry-run"], "drift_revert", 0);
    assert_eq!(v["executed"], false);
    assert!(!v["plan"]["losses"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["drift", "--revert", "--yes"], "error", 1);
    assert_eq!(error_code(&v), "K4100");
    let v = p.json(
        &["drift", "--revert", "--yes", "--allow-data-loss"],
        "drift_revert",
        0,
    );
    assert_eq!(v["executed"], true);
    assert_eq!(v["verified"], true);
    let v = p.json(&["drift", "--revert", "--yes"], "drift_revert", 0);
    assert_eq!(v["executed"], false);

    // Recorded drift: a new migration (with its down.sql), marked applied.
    db.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT)")
        .await;
    let v = p.json(&["drift", "--record", "add_tags"], "drift_record", 0);
    assert_eq!(v["recorded"], true);
    assert!(v["dir"].is_string(), "{v}");
    let v = p.json(&["drift", "--record", "nothing"], "drift_record", 0);
    assert_eq!(v["recorded"], false);

    // execute: a script of the user's own, then one that drops data.
    p.file(
        "audit.sql",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY);\nINSERT INTO audit VALUES (1);\n",
    );
    let v = p.json(&["execute", "audit.sql", "--dry-run"], "execute", 0);
    assert_eq!(v["executed"], false);
    assert_eq!(v["plan"]["statements"].as_array().unwrap().len(), 2, "{v}");
    let v = p.json(&["execute", "audit.sql", "--yes"], "execute", 0);
    assert_eq!(v["executed"], true);
    assert!(v["plan"]["verified_against"].is_null(), "{v}");
    p.file("drop_audit.sql", "DROP TABLE audit;\n");
    let v = p.json(&["execute", "drop_audit.sql", "--yes"], "error", 1);
    assert_eq!(error_code(&v), "K4100");
    let v = p.json(
        &["execute", "drop_audit.sql", "--yes", "--allow-data-loss"],
        "execute",
        0,
    );
    assert_eq!(v["plan"]["losses"][0]["rows"], 1, "{v}");

    // rollback: the recorded migration's down.sql, then the first one's.
    let v = p.json(&["rollback", "--dry-run"], "rollback", 0);
    assert_eq!(v["executed"], false);
    assert!(
        v["items"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with("_add_tags"),
        "{v}"
    );
    let v = p.json(&["rollback", "--yes"], "rollback", 0);
    assert_eq!(v["executed"], true);
    let v = p.json(&["rollback", "--steps", "1", "--yes"], "error", 1);
    assert_eq!(error_code(&v), "K4064", "users holds rows: {v}");
    let v = p.json(&["rollback", "--dry-run"], "rollback", 0);
    assert!(
        !v["items"][0]["losses"].as_array().unwrap().is_empty(),
        "{v}"
    );
    // The recorded migration is pending again; its table is gone.
    let (events, _) = p.deploy(&[], 0);
    assert!(events.last().unwrap()["applied"][0]
        .as_str()
        .unwrap()
        .ends_with("_add_tags"));

    // plan: the next migration from schema.sql (a table with a foreign key and an index).
    p.file(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n\
         CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT);\n\
         CREATE INDEX posts_user ON posts (user_id);\n",
    );
    let v = p.json(&["plan", "add_posts", "--create-only"], "plan", 0);
    assert!(v["dir"].is_string(), "{v}");
    assert_eq!(v["deployed"], false);
    has_all(&change_kinds(&v), &["create_table", "create_index"], "plan");
    let v = p.json(&["check"], "check", 0);
    assert!(v["schema_file"].is_string(), "{v}");
    assert!(v["lint"].is_object(), "{v}");
    // lint: the pending migration, both ways of asking for JSON.
    let a = p.json(&["lint"], "lint", 0);
    let b = p.json(&["lint", "--format", "json"], "lint", 0);
    assert_eq!(a, b);
    assert_eq!(a["migrations"].as_array().unwrap().len(), 1, "{a}");
    p.deploy(&[], 0);
    let v = p.json(&["plan", "nothing"], "plan", 0);
    assert!(v["dir"].is_null(), "{v}");
    // A plan that drops a column with values, deployed: a lint error finding and a loss.
    p.file(
        "schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n\
         CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT, body TEXT);\n\
         CREATE INDEX posts_user ON posts (user_id);\n",
    );
    let v = p.json(&["plan", "drop_email", "--create-only"], "plan", 0);
    assert!(!v["losses"].as_array().unwrap().is_empty(), "{v}");
    assert!(!v["lint"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["lint"], "lint", 1);
    assert_eq!(v["findings"][0]["severity"], "error", "{v}");
    let v = p.json(&["check"], "check", 2);
    assert!(!v["lint"]["findings"].as_array().unwrap().is_empty(), "{v}");
    let (events, _) = p.deploy(&["--dry-run"], 0);
    assert_eq!(kinds(&events), ["plan", "dry_run"]);
    assert!(
        !events[1]["data_loss"].as_array().unwrap().is_empty(),
        "{events:?}"
    );
    let (_, error) = p.deploy(&[], 1);
    assert_eq!(error_code(error.as_ref().unwrap()), "K4070");
    let (events, _) = p.deploy(&["--allow-data-loss"], 0);
    assert!(
        !events.last().unwrap()["data_loss"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{events:?}"
    );

    // inspect: --format json and --json print the same model.
    let a = p.inspect(&["--format", "json"]);
    let b = p.inspect(&[]);
    assert_eq!(a, b);
    assert!(!a["foreign_keys"].as_array().unwrap().is_empty(), "{a}");

    // diff: several kinds of change.
    p.file(
        "other.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, phone TEXT);\n\
         CREATE INDEX users_phone ON users (phone);\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT, body TEXT);\n\
         CREATE TABLE comments (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n",
    );
    let v = p.json(
        &["diff", "--from", "empty", "--to", "migrations"],
        "diff",
        0,
    );
    has_all(
        &change_kinds(&v),
        &["create_table", "create_index"],
        "diff empty → migrations",
    );
    let v = p.json(
        &[
            "diff",
            "--from",
            "migrations",
            "--to",
            "schema=other.sql",
            "--exit-code",
        ],
        "diff",
        2,
    );
    has_all(
        &change_kinds(&v),
        &[
            "create_table",
            "drop_table",
            "add_column",
            "create_index",
            "drop_index",
        ],
        "diff migrations → other.sql",
    );
    let v = p.json(&["diff", "--from", "ledger", "--to", &db.url], "diff", 0);
    assert!(v["changes"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["diff", "--from", "nowhere:", "--to", "empty"], "error", 1);
    assert!(error_code(&v).starts_with('K'));

    // explain: a code, a rule, the index, an unknown topic.
    let v = p.json(&["explain", "K3009"], "explain_code", 0);
    validate("explain", &v, "keel explain K3009");
    let v = p.json(&["explain", "drop-column"], "explain_rule", 0);
    validate("explain", &v, "keel explain drop-column");
    let v = p.json(&["explain"], "explain_index", 0);
    assert!(v["codes"].as_array().unwrap().len() > 10, "{v}");
    let v = p.json(&["explain", "nosuch"], "error", 1);
    assert_eq!(error_code(&v), "K4008");
}

/// reset of a disposable SQLite database (a file inside the project), baseline of databases
/// without a ledger (with no migrations, and with a history).
#[tokio::test]
async fn sqlite_reset_and_baseline() {
    // reset: the SQLite file is inside the project directory (where keel.toml is).
    let t = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", t.path().join("dev.db").display());
    let p = Project { dir: t, url };
    p.json(&["init"], "init", 0);
    p.migration(
        "1_users",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\nINSERT INTO users VALUES (1);\n",
    );
    p.deploy(&[], 0);
    let v = p.json(&["reset"], "error", 1);
    assert_eq!(error_code(&v), "K4072", "{v}");
    let v = p.json(&["reset", "--yes"], "reset", 0);
    assert!(v["dropped_tables"].as_u64().unwrap() >= 1, "{v}");
    // A SQLite file outside the project is not disposable.
    let other = TestDb::new(Backend::Sqlite).await;
    let q = Project::new(&other.url);
    q.json(&["init"], "init", 0);
    let v = q.json(&["reset", "--yes"], "error", 1);
    assert_eq!(error_code(&v), "K4071");

    // baseline without migrations: the database captured as a first migration.
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute("CREATE TABLE legacy (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE INDEX legacy_name ON legacy (name);").await;
    let p = Project::new(&db.url);
    std::fs::create_dir(p.path().join("migrations")).unwrap();
    let v = p.json(&["status"], "status", 2);
    assert_eq!(v["unmanaged_tables"][0], "legacy", "{v}");
    let (_, error) = p.deploy(&[], 1);
    assert_eq!(error_code(error.as_ref().unwrap()), "K3005");
    let v = p.json(&["baseline"], "baseline", 0);
    assert_eq!(v["tables"], 1, "{v}");
    let v = p.json(&["status"], "status", 0);
    assert_eq!(v["migrations"][0]["state"], "applied", "{v}");
    let v = p.json(&["baseline"], "error", 1);
    assert!(error_code(&v).starts_with('K'));

    // baseline with a history: the prefix the database has is recorded, the rest pending.
    let db = TestDb::new(Backend::Sqlite).await;
    db.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)").await;
    let p = Project::new(&db.url);
    p.migration("1_a", "CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
    p.migration("2_b", "CREATE TABLE b (id INTEGER PRIMARY KEY);\n");
    let v = p.json(&["baseline"], "baseline_history", 0);
    assert_eq!(v["recorded"], serde_json::json!(["1_a"]), "{v}");
    assert_eq!(v["pending"], serde_json::json!(["2_b"]), "{v}");
    let (events, _) = p.deploy(&[], 0);
    assert_eq!(
        events.last().unwrap()["applied"],
        serde_json::json!(["2_b"])
    );
}

// ---- PostgreSQL ---------------------------------------------------------------------------------

/// deploy (events, a lock wait, a failure, K3009), status, doctor, drift, diff, inspect,
/// plan and rollback on PostgreSQL.
#[tokio::test]
async fn postgres_deploy_status_diff_drift_doctor() {
    use sqlx::Connection;
    let db = TestDb::new(Backend::Postgres).await;
    let p = Project::new(&db.url);
    p.migration(
        "1_users",
        "CREATE TYPE role AS ENUM ('admin', 'member');\n\
         CREATE TABLE users (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email TEXT NOT NULL, role role NOT NULL DEFAULT 'member');\n\
         CREATE UNIQUE INDEX users_email_key ON users (email);\n",
    );
    p.migration(
        "2_posts",
        "CREATE TABLE posts (id SERIAL PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE, title VARCHAR(200), CHECK (length(title) > 0));\n",
    );
    std::fs::write(
        p.path().join("migrations/2_posts/down.sql"),
        "DROP TABLE posts;\n",
    )
    .unwrap();
    let v = p.json(&["status"], "status", 2);
    assert_eq!(v["dialect"], "postgresql");
    let (events, _) = p.deploy(&[], 0);
    let k = kinds(&events);
    assert_eq!(
        k.iter().filter(|e| **e == "migration_applied").count(),
        2,
        "{k:?}"
    );
    assert_eq!(k.last(), Some(&"done"));
    let v = p.json(&["status"], "status", 0);
    assert_eq!(v["summary"], "2 applied", "{v}");
    let v = p.json(&["doctor"], "doctor", 0);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
    db.execute("INSERT INTO users (email) VALUES ('a@x'), ('b@x')")
        .await;

    // A step that waits for a lock another session holds: lock_wait events, then a failure.
    p.migration("3_lock", "ALTER TABLE users ADD COLUMN nick TEXT;\n");
    let mut holder = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;")
        .execute(&mut holder)
        .await
        .unwrap();
    let (events, error) = p.deploy(&["--lock-timeout", "100ms", "--lock-attempts", "2"], 1);
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let _ = holder.close().await;
    assert!(kinds(&events).contains(&"lock_wait"), "{events:?}");
    assert_eq!(error_code(error.as_ref().unwrap()), "K4080");
    let (events, _) = p.deploy(&[], 0);
    assert_eq!(
        events.last().unwrap()["applied"],
        serde_json::json!(["3_lock"])
    );

    // A failed migration: status and doctor with it, then K3009.
    p.migration(
        "4_bad",
        "-- keel:no-transaction\nCREATE TABLE notes (id INT PRIMARY KEY);\nINSERT INTO nope VALUES (1);\n",
    );
    let (events, error) = p.deploy(&[], 1);
    let failed = events
        .iter()
        .find(|e| e["event"] == "migration_failed")
        .unwrap();
    assert_eq!(failed["failure"]["server_code"], "42P01", "{failed}");
    assert!(error.is_some());
    let v = p.json(&["status"], "status", 3);
    assert_eq!(v["migrations"][3]["state"], "failed", "{v}");
    let v = p.json(&["doctor"], "doctor", 3);
    assert_eq!(
        v["diagnoses"][0]["classification"]["state"], "part_way",
        "{v}"
    );
    let (_, error) = p.deploy(&[], 3);
    assert_eq!(error_code(error.as_ref().unwrap()), "K3009");
    let v = p.json(&["repair", "4_bad", "--revert", "--yes"], "repair", 0);
    assert_eq!(v["executed"], true);
    p.migration("4_bad", "CREATE TABLE notes (id INT PRIMARY KEY);\n");
    p.deploy(&[], 0);

    // Hand changes: a column, an index, a table with a foreign key, a check.
    db.execute(
        "ALTER TABLE users ADD COLUMN phone TEXT; CREATE INDEX users_phone ON users (phone); \
         CREATE TABLE likes (user_id BIGINT NOT NULL, post_id INT NOT NULL); \
         ALTER TABLE likes ADD CONSTRAINT likes_post_fkey FOREIGN KEY (post_id) REFERENCES posts (id); \
         ALTER TABLE notes ADD CONSTRAINT notes_id_positive CHECK (id > 0);",
    )
    .await;
    let v = p.json(&["drift"], "drift", 2);
    has_all(
        &change_kinds(&v),
        &[
            "add_column",
            "create_index",
            "create_table",
            "add_foreign_key",
            "add_check",
        ],
        "postgres drift",
    );
    let v = p.json(&["status", "--drift"], "status", 2);
    assert!(!v["drift"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["doctor"], "doctor", 2);
    assert_eq!(v["exit_code"], 2);
    let v = p.inspect(&[]);
    assert!(!v["enums"].as_array().unwrap().is_empty(), "{v}");
    assert!(!v["checks"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(
        &["drift", "--record", "by_hand", "--dry-run"],
        "drift_record",
        0,
    );
    assert!(v["up"].as_str().unwrap().contains("likes"), "{v}");
    let v = p.json(&["drift", "--revert", "--yes"], "drift_revert", 0);
    assert_eq!(v["verified"], true);

    // diff between two schema files: tables, columns, indexes, foreign keys, checks, enums.
    p.file(
        "a.sql",
        "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT, old TEXT);\n\
         CREATE INDEX users_old ON users (old);\n\
         CREATE TABLE gone (id INT PRIMARY KEY);\n",
    );
    p.file(
        "b.sql",
        "CREATE TYPE mood AS ENUM ('ok', 'meh');\n\
         CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(320) NOT NULL, mood mood);\n\
         CREATE INDEX users_email ON users (email);\n\
         CREATE TABLE posts (id INT PRIMARY KEY, user_id BIGINT NOT NULL, CONSTRAINT posts_id_check CHECK (id > 0));\n\
         ALTER TABLE posts ADD CONSTRAINT posts_user_fkey FOREIGN KEY (user_id) REFERENCES users (id);\n",
    );
    let v = p.json(
        &["diff", "--from", "schema=a.sql", "--to", "schema=b.sql"],
        "diff",
        0,
    );
    has_all(
        &change_kinds(&v),
        &[
            "create_enum",
            "create_table",
            "drop_table",
            "add_column",
            "drop_column",
            "alter_column",
            "create_index",
            "drop_index",
            "add_foreign_key",
        ],
        "postgres diff",
    );
    assert!(v["script"].is_string(), "{v}");
    let v = p.json(
        &["diff", "--from", "schema=b.sql", "--to", "schema=a.sql"],
        "diff",
        0,
    );
    has_all(
        &change_kinds(&v),
        &["drop_foreign_key", "drop_enum"],
        "postgres diff back",
    );

    // plan and rollback.
    std::fs::write(
        p.path().join("migrations/3_lock/down.sql"),
        "ALTER TABLE users DROP COLUMN nick;\n",
    )
    .unwrap();
    std::fs::write(
        p.path().join("migrations/4_bad/down.sql"),
        "DROP TABLE notes;\n",
    )
    .unwrap();
    p.file(
        "schema.sql",
        "CREATE TABLE extra (id INT PRIMARY KEY, label TEXT NOT NULL DEFAULT '');\n",
    );
    let v = p.json(
        &["diff", "--from", "migrations", "--to", "schema"],
        "diff",
        0,
    );
    assert!(!v["changes"].as_array().unwrap().is_empty(), "{v}");
    let v = p.json(&["rollback", "--to", "2_posts", "--dry-run"], "rollback", 0);
    assert_eq!(v["executed"], false);
    let v = p.json(&["rollback", "--to", "2_posts", "--yes"], "rollback", 0);
    assert_eq!(v["executed"], true);
    assert_eq!(v["items"].as_array().unwrap().len(), 2, "{v}");
    let v = p.json(&["rollback", "--to", "9_nowhere", "--yes"], "error", 1);
    assert!(error_code(&v).starts_with('K'), "{v}");
    // plan: schema.sql keeps one new table only, so the plan drops the others (and their rows).
    let v = p.json(&["plan", "only_extra", "--create-only"], "plan", 0);
    has_all(
        &change_kinds(&v),
        &["create_table", "drop_table"],
        "postgres plan",
    );
    assert!(!v["losses"].as_array().unwrap().is_empty(), "{v}");
    assert!(!v["lint"].as_array().unwrap().is_empty(), "{v}");
}
