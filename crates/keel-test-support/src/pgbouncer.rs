//! A real PgBouncer on loopback in front of the local PostgreSQL, for the tests of keel
//! behind a pooler (issue #7). Needs the `pgbouncer` binary (Debian package `pgbouncer`,
//! which `.ci/run` installs); without it [`PgBouncer::start`] says so and gives `None`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/sbin/pgbouncer";

/// A running PgBouncer, stopped when dropped.
pub struct PgBouncer {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgBouncer {
    /// Starts PgBouncer with `pool_mode` (`session`, `transaction`, `statement`) and
    /// `default_pool_size = pool_size` in front of 127.0.0.1:5432, or gives `None` (printing
    /// why) when it is not installed. Panics when it does not listen within 10 s.
    pub fn start(pool_mode: &str, pool_size: u32) -> Option<PgBouncer> {
        if !Path::new(BINARY).exists() {
            println!("skipped: {BINARY} not found (apt-get install pgbouncer)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host=127.0.0.1 port=5432\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = {pool_mode}\nmax_client_conn = 200\ndefault_pool_size = {pool_size}\nignore_startup_parameters = extra_float_digits,options\n",
                dir.path().join("users.txt").display()
            ),
        )
        .unwrap();
        // PgBouncer refuses to run as root: drop to `postgres` then.
        let mut cmd = Command::new(BINARY);
        // The owner of /proc/self is the effective user.
        let root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        if root {
            use std::os::unix::fs::PermissionsExt;
            for p in [
                dir.path().to_path_buf(),
                dir.path().join("users.txt"),
                dir.path().join("pgbouncer.ini"),
            ] {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            cmd.args(["-u", "postgres"]);
        }
        let child = cmd
            .arg(dir.path().join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(PgBouncer {
            child,
            port,
            _dir: dir,
        })
    }

    /// `url` (a test database's URL on port 5432) with this pooler's port instead.
    pub fn url_for(&self, url: &str) -> String {
        url.replace(":5432/", &format!(":{}/", self.port))
    }
}
