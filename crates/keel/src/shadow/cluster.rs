//! A private, throwaway PostgreSQL cluster for the shadow database when the target's user may
//! not create databases (managed PostgreSQL; Prisma's P3014): `initdb` in a temporary
//! directory, listening on a unix socket in that directory only, stopped and removed after.
//!
//! Binaries: `KEEL_PG_BINDIR`, else `pg_config --bindir`, else the newest
//! `/usr/lib/postgresql/*/bin`. PostgreSQL refuses to run as root, so as root the cluster runs
//! as the `postgres` system user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Data directories of clusters started (or being started) and not yet stopped, for Ctrl-C
/// and SIGTERM.
static STARTED: Mutex<Vec<(PathBuf, PathBuf, bool)>> = Mutex::new(Vec::new());

/// Set when the process is interrupted: a cluster still starting does not run `pg_ctl start`.
static ABORT: AtomicBool = AtomicBool::new(false);

/// Cluster start-ups (`initdb` + `pg_ctl start`) in progress, which [`stop_all_started`]
/// waits for, so that a postmaster that comes up during the interruption is stopped too.
static STARTING: AtomicUsize = AtomicUsize::new(0);

/// A running private cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    dir: PathBuf,
    bindir: PathBuf,
    as_postgres: bool,
}

fn bindir() -> Result<PathBuf, String> {
    if let Ok(d) = std::env::var("KEEL_PG_BINDIR") {
        return Ok(PathBuf::from(d));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if d.join("initdb").is_file() {
            return Ok(d);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|d| d.join("initdb").is_file());
    found.sort();
    found.pop().ok_or_else(|| {
        "no initdb found (set KEEL_PG_BINDIR, or install the PostgreSQL server package)".to_string()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(bindir: &Path, as_postgres: bool, program: &str, args: &[&str]) -> Result<(), String> {
    let exe = bindir.join(program);
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{program} failed: {}",
            err.lines().last().unwrap_or("").trim()
        ))
    }
}

impl Cluster {
    /// Creates and starts a cluster; waits until it accepts connections (at most 30 s).
    pub(crate) async fn start() -> Result<Cluster, String> {
        let bindir = bindir()?;
        let as_postgres = is_root();
        remove_leftovers(&bindir, as_postgres);
        let dir = std::env::temp_dir().join(format!(
            "keel_shadow_cluster_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let cluster = Cluster {
            dir: dir.clone(),
            bindir: bindir.clone(),
            as_postgres,
        };
        // Known from the moment the directory exists: an interruption during start-up stops
        // and removes it too.
        if let Ok(mut v) = STARTED.lock() {
            v.push((cluster.dir.clone(), cluster.bindir.clone(), as_postgres));
        }
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                cluster.remove();
                return Err(
                    "running as root and cannot hand the directory to the postgres user".into(),
                );
            }
        }
        let data = dir.join("data");
        let (d, s) = (data.display().to_string(), dir.display().to_string());
        STARTING.fetch_add(1, Ordering::SeqCst);
        let started = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let _done = Starting;
            run(&bindir, as_postgres, "initdb", &["-D", &d, "-A", "trust", "-U", "keel", "-E", "UTF8", "--no-sync", "--no-locale"])?;
            if ABORT.load(Ordering::SeqCst) {
                return Err("interrupted".into());
            }
            let opts = format!("-c listen_addresses='' -k {s} -c fsync=off -c full_page_writes=off -c max_connections=20");
            run(&bindir, as_postgres, "pg_ctl", &["-D", &d, "-o", &opts, "-w", "-t", "30", "-l", &format!("{s}/log"), "start"])
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        if let Err(e) = started {
            cluster.stop();
            return Err(e);
        }
        Ok(cluster)
    }

    /// URL of the cluster's `postgres` database over its unix socket.
    pub(crate) fn url(&self) -> String {
        format!(
            "postgres://keel@localhost:5432/postgres?host={}",
            self.dir.display()
        )
    }

    /// For messages: the binaries used.
    pub(crate) fn describe(&self) -> String {
        format!("initdb from {}", self.bindir.display())
    }

    /// Stops the server (immediately: nothing in it is worth keeping) and removes the directory.
    pub(crate) fn stop(self) {
        stop_dir(&self.dir, &self.bindir, self.as_postgres);
        if let Ok(mut v) = STARTED.lock() {
            v.retain(|(d, _, _)| *d != self.dir);
        }
    }

    fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops and removes the clusters of earlier keel processes that died without cleaning up
/// (SIGKILL): `keel_shadow_cluster_<pid>_<time>` directories whose process is gone. Each one
/// becomes a note for the user.
fn remove_leftovers(bindir: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("keel_shadow_cluster_")
            .and_then(|r| r.split('_').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        stop_dir(&e.path(), bindir, as_postgres);
        crate::shadow::notice(format!(
            "removed private PostgreSQL cluster {}, left behind by keel process {pid}, which is gone",
            e.path().display()
        ));
    }
}

/// Counts down [`STARTING`] when a start-up ends, however it ends.
struct Starting;

impl Drop for Starting {
    fn drop(&mut self) {
        STARTING.fetch_sub(1, Ordering::SeqCst);
    }
}

fn stop_dir(dir: &Path, bindir: &Path, as_postgres: bool) {
    let data = dir.join("data");
    if data.join("postmaster.pid").exists() {
        let _ = run(
            bindir,
            as_postgres,
            "pg_ctl",
            &[
                "-D",
                &data.display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Stops every cluster this process started (Ctrl-C).
pub(crate) fn stop_all_started() {
    ABORT.store(true, Ordering::SeqCst);
    // A start-up in progress finishes (or gives up) within pg_ctl's own 30 s wait.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while STARTING.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pending: Vec<(PathBuf, PathBuf, bool)> = match STARTED.lock() {
        Ok(mut v) => std::mem::take(&mut *v),
        Err(_) => return,
    };
    for (dir, bindir, as_postgres) in pending {
        stop_dir(&dir, &bindir, as_postgres);
    }
}
