//! TLS (issue #7, item 6): keel deploys over TLS to PostgreSQL (`sslmode=require`,
//! `verify-full` with a CA file) and MariaDB (`ssl-mode=REQUIRED`, `VERIFY_IDENTITY` with a CA
//! file), and every TLS failure is K1011 with a fix that names the case: wrong host name,
//! unknown CA, a missing CA file, TLS required but not offered.
//!
//! PostgreSQL: the local server's own TLS (Debian's `ssl-cert-snakeoil`, a self-signed
//! certificate for `localhost`). MariaDB: the local server has TLS off, so a second MariaDB
//! is started on a free port with a certificate signed by a CA this test makes with
//! `openssl` (both from Debian's packages, which `.ci/run` installs).
#![allow(clippy::unwrap_used)]

use keel_test_support::{Backend, TestDb};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

fn keel(dir: &Path, url: &str, args: &[&str]) -> Output {
    // A project (without a migrations directory keel stops before connecting: K4012).
    std::fs::create_dir_all(dir.join("migrations")).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin("keel"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A project whose one migration records whether its own session is encrypted.
fn project(dialect_check: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("migrations/1_tls");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("migration.sql"),
        format!("CREATE TABLE tls_check (encrypted VARCHAR(100));\nINSERT INTO tls_check {dialect_check};\n"),
    )
    .unwrap();
    t
}

fn expect_k1011(o: &Output, says: &str, fix: &str) {
    let all = text(o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("error[K1011]"), "{all}");
    assert!(all.contains(says), "expected `{says}` in: {all}");
    assert!(all.contains(fix), "expected fix `{fix}` in: {all}");
}

fn pg_url(db: &TestDb, host: &str, query: &str) -> String {
    format!("postgres://postgres@{host}:5432/{}?{query}", db.name)
}

#[tokio::test]
async fn postgres_over_tls() {
    let db = TestDb::new(Backend::Postgres).await;
    let t = project("SELECT CASE WHEN ssl THEN 'yes' ELSE 'no' END FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    // verify-full: the CA file is the server's self-signed certificate, the host its name.
    let url = pg_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
    );
    let o = keel(t.path(), &url, &["deploy"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM tls_check WHERE encrypted = 'yes'")
            .await,
        1,
        "the migration ran over TLS"
    );
    let o = keel(
        t.path(),
        &pg_url(&db, "localhost", "sslmode=require"),
        &["status"],
    );
    assert!(o.status.success(), "{}", text(&o));

    // The certificate names localhost, not 127.0.0.1.
    let o = keel(
        t.path(),
        &pg_url(
            &db,
            "127.0.0.1",
            &format!("sslmode=verify-full&sslrootcert={SNAKEOIL}"),
        ),
        &["status"],
    );
    expect_k1011(
        &o,
        "not valid for name",
        "host name the server's certificate names",
    );
    // A CA bundle that did not sign it.
    let o = keel(
        t.path(),
        &pg_url(
            &db,
            "localhost",
            "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
        ),
        &["status"],
    );
    expect_k1011(&o, "UnknownIssuer", "sslrootcert=");
    // A CA file that does not exist.
    let o = keel(
        t.path(),
        &pg_url(
            &db,
            "localhost",
            "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
        ),
        &["status"],
    );
    expect_k1011(&o, "No such file", "fix the sslrootcert=");
}

/// TLS required, and the server says it has none: a listener that answers PostgreSQL's
/// SSLRequest with `N`, as a server without TLS does.
#[tokio::test]
async fn postgres_tls_required_but_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut s, _)) = listener.accept() {
            let mut request = [0u8; 8];
            if s.read_exact(&mut request).is_ok() {
                let _ = s.write_all(b"N");
            }
        }
    });
    let t = tempfile::tempdir().unwrap();
    let o = keel(
        t.path(),
        &format!("postgres://postgres:secret-marker@127.0.0.1:{port}/db?sslmode=require"),
        &["status"],
    );
    server.join().unwrap();
    expect_k1011(&o, "TLS", "enable TLS on the server");
    assert!(!text(&o).contains("secret-marker"));
}

/// A MariaDB server with TLS, on a free port, dropped (and its files removed) at the end.
struct TlsMariaDb {
    port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for TlsMariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", text(&o));
}

fn tls_mariadb() -> Option<TlsMariaDb> {
    for tool in [
        "/usr/sbin/mariadbd",
        "/usr/bin/mariadb-install-db",
        "/usr/bin/openssl",
    ] {
        if !Path::new(tool).exists() {
            println!("skipped: {tool} not found");
            return None;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |f: &str| dir.path().join(f);
    // A CA, and a server certificate for localhost signed by it.
    run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=keel test CA", "-keyout"])
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("server.pem"))
        .arg("-extfile")
        .arg(p("ext.cnf")));
    run(Command::new("chown").args(["-R", "mysql"]).arg(dir.path()));
    run(Command::new("mariadb-install-db")
        .args([
            "--no-defaults",
            "--user=mysql",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ])
        .arg(format!("--datadir={}", p("data").display())));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("/usr/sbin/mariadbd")
        .args(["--no-defaults", "--user=mysql", "--bind-address=127.0.0.1"])
        .args(["--skip-log-bin", "--innodb-buffer-pool-size=16M"])
        .arg(format!("--port={port}"))
        .arg(format!("--datadir={}", p("data").display()))
        .arg(format!("--socket={}", p("mysqld.sock").display()))
        .arg(format!("--ssl-cert={}", p("server.pem").display()))
        .arg(format!("--ssl-key={}", p("server.key").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = TlsMariaDb { port, dir, child };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the TLS MariaDB did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

#[tokio::test]
async fn mariadb_over_tls() {
    let Some(server) = tls_mariadb() else {
        return;
    };
    let ca = server.dir.path().join("ca.pem");
    let admin = format!("mysql://root@127.0.0.1:{}/mysql", server.port);
    // The server may take a moment to accept logins after it listens.
    let mut created = false;
    for _ in 0..50 {
        if let Ok(mut d) = keel::keel_driver::connect(&admin).await {
            d.execute("CREATE DATABASE app").await.unwrap();
            d.close().await;
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created, "cannot log in to the TLS MariaDB");
    let t = project("SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'");
    let url = format!(
        "mysql://root@localhost:{}/app?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
        server.port,
        ca.display()
    );
    let o = keel(t.path(), &url, &["deploy"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut d = keel::keel_driver::connect(&format!("mysql://root@127.0.0.1:{}/app", server.port))
        .await
        .unwrap();
    let rows = d
        .query_text("SELECT encrypted FROM tls_check")
        .await
        .unwrap();
    d.close().await;
    let cipher = rows[0][0].clone().unwrap_or_default();
    assert!(
        !cipher.is_empty(),
        "the migration's session had no TLS cipher"
    );

    let o = keel(
        t.path(),
        &format!(
            "mysql://root@127.0.0.1:{}/app?ssl-mode=REQUIRED",
            server.port
        ),
        &["status"],
    );
    assert!(o.status.success(), "{}", text(&o));
    // The certificate names localhost, not 127.0.0.1.
    let o = keel(
        t.path(),
        &format!(
            "mysql://root@127.0.0.1:{}/app?ssl-mode=VERIFY_IDENTITY&ssl-ca={}",
            server.port,
            ca.display()
        ),
        &["status"],
    );
    expect_k1011(
        &o,
        "not valid for name",
        "host name the server's certificate names",
    );
    // Another CA.
    let o = keel(
        t.path(),
        &format!(
            "mysql://root@localhost:{}/app?ssl-mode=VERIFY_CA&ssl-ca={SNAKEOIL}",
            server.port
        ),
        &["status"],
    );
    expect_k1011(&o, "certificate", "ssl-ca=");
}

/// The local MariaDB has TLS off: `ssl-mode=REQUIRED` is refused with K1011 before anything
/// is sent.
#[tokio::test]
async fn mariadb_tls_required_but_unavailable() {
    let db = TestDb::new(Backend::Mysql).await;
    let mut d = keel::keel_driver::connect(&db.url).await.unwrap();
    let have = d
        .query_text("SELECT @@have_ssl")
        .await
        .unwrap()
        .first()
        .and_then(|r| r[0].clone())
        .unwrap_or_default();
    d.close().await;
    if have == "YES" {
        println!("skipped: the local MariaDB has TLS on (mariadb_over_tls covers TLS)");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let o = keel(
        t.path(),
        &format!("{}?ssl-mode=REQUIRED", db.url),
        &["status"],
    );
    expect_k1011(&o, "does not support TLS", "enable TLS on the server");
}
