#![allow(clippy::unwrap_used)]
use super::*;
use std::fs;

#[test]
fn orders_versions_numerically_then_by_name() {
    let mut names = vec!["10_x", "2_b", "2_a", "0_init", "20260101000000_y", "1_z"];
    names.sort_by(|a, b| compare_names(a, b));
    assert_eq!(
        names,
        ["0_init", "1_z", "2_a", "2_b", "10_x", "20260101000000_y"]
    );
    assert_eq!(compare_names("01_a", "1_a"), "01_a".cmp("1_a"));
    assert_eq!(compare_names("09_a", "10_a"), Ordering::Less);
}

#[test]
fn reads_prisma_folders_with_lock_file() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    for (n, sql) in [
        ("10_c", "SELECT 3;"),
        ("2_b", "SELECT 2;"),
        ("1_a", "SELECT 1;"),
    ] {
        fs::create_dir(root.join(n)).unwrap();
        fs::write(root.join(n).join("migration.sql"), sql).unwrap();
    }
    fs::write(root.join("1_a").join("down.sql"), "SELECT 0;").unwrap();
    write_lock_file(root, Dialect::Postgres).unwrap();
    let dir = read_dir(root).unwrap();
    let names: Vec<_> = dir.migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["1_a", "2_b", "10_c"]);
    assert_eq!(dir.layout, Layout::Folders);
    assert!(dir.migrations[0].down_path.is_some());
    assert_eq!(dir.lock_provider.as_deref(), Some("postgresql"));
    assert!(dir.check_provider(Dialect::Postgres).is_ok());
    let e = dir.check_provider(Dialect::Mysql).unwrap_err();
    assert_eq!(e.code(), "K3019");
}

#[test]
fn reads_flat_layouts() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    fs::write(root.join("0_initial.up.sql"), "CREATE TABLE a (id int);").unwrap();
    fs::write(root.join("0_initial.down.sql"), "DROP TABLE a;").unwrap();
    fs::write(root.join("10_more.up.sql"), "").unwrap();
    fs::write(root.join("2_two.sql"), "SELECT 1").unwrap();
    fs::write(root.join("README.md"), "x").unwrap();
    let dir = read_dir(root).unwrap();
    let names: Vec<_> = dir.migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["0_initial", "2_two", "10_more"]);
    assert_eq!(dir.layout, Layout::Flat);
    assert!(dir.migrations[0].down_path.is_some());
}

#[test]
fn folder_without_migration_sql_is_k3015() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("20260101000000_a")).unwrap();
    assert_eq!(read_dir(t.path()).unwrap_err().code(), "K3015");
}

#[test]
fn duplicate_names_are_refused() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("1_a.sql"), "").unwrap();
    fs::write(t.path().join("1_a.up.sql"), "").unwrap();
    assert_eq!(read_dir(t.path()).unwrap_err().code(), "K4013");
}

#[test]
fn non_utf8_file_is_refused_and_missing_dir_is_empty() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir(t.path().join("1_a")).unwrap();
    fs::write(t.path().join("1_a/migration.sql"), [0xff, 0xfe]).unwrap();
    assert_eq!(read_dir(t.path()).unwrap_err().code(), "K4012");
    let d = read_dir(&t.path().join("nope")).unwrap();
    assert_eq!(d.layout, Layout::Empty);
}

#[test]
fn checksum_accepts_swapped_line_endings() {
    let m = Migration::from_bytes("1_a", "x".into(), None, b"A;\r\nB;\r\n".to_vec()).unwrap();
    assert!(m.checksum_matches(&crate::checksum::sha256_hex(b"A;\nB;\n")));
    assert!(m.checksum_matches(&m.checksum));
    assert!(!m.checksum_matches("00"));
}

#[test]
fn finds_prisma_dir() {
    let t = tempfile::tempdir().unwrap();
    assert_eq!(find_dir(t.path()), t.path().join("migrations"));
    fs::create_dir_all(t.path().join("prisma/migrations")).unwrap();
    assert_eq!(find_dir(t.path()), t.path().join("prisma/migrations"));
}

proptest::proptest! {
    /// Digit versions order numerically, whatever their zero padding; the order is total and
    /// consistent (antisymmetric, and equal only for equal names).
    #[test]
    fn version_order_is_numeric_and_total(a in 0u64..1_000_000, b in 0u64..1_000_000, pad_a in 0usize..4, pad_b in 0usize..4, na in "[a-z_]{1,6}", nb in "[a-z_]{1,6}") {
        let x = format!("{}{a}_{na}", "0".repeat(pad_a));
        let y = format!("{}{b}_{nb}", "0".repeat(pad_b));
        if a != b {
            proptest::prop_assert_eq!(compare_names(&x, &y), a.cmp(&b));
        }
        proptest::prop_assert_eq!(compare_names(&x, &y), compare_names(&y, &x).reverse());
        proptest::prop_assert_eq!(compare_names(&x, &y) == Ordering::Equal, x == y);
    }
}
