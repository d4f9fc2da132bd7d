//! The splitter's case tables (one per dialect), classification table and property tests
//! (STYLE.md, "Tests that matter most here": never panics; steps cover the input).

#![allow(clippy::unwrap_used)]

use super::lexer::{Kind, Lexer};
use super::*;
use proptest::prelude::*;

const PG: Dialect = Dialect::Postgres;
const MY: Dialect = Dialect::Mysql;
const LITE: Dialect = Dialect::Sqlite;

/// The steps' texts, after checking the invariants every split must keep.
fn texts(script: &str, d: Dialect) -> Vec<&str> {
    let steps = split(script, d);
    check_invariants(script, d, &steps);
    steps.iter().map(|s| s.sql(script)).collect()
}

/// In-bounds, non-empty, on char boundaries, increasing, non-overlapping, correct line numbers,
/// no leading whitespace, and every byte outside the steps a separator ([`check_gaps`]).
fn check_invariants(script: &str, d: Dialect, steps: &[Step]) {
    let mut prev_end = 0;
    for s in steps {
        let r = s.range.clone();
        assert!(r.start < r.end, "empty step {r:?} in {script:?}");
        assert!(
            r.end <= script.len(),
            "step {r:?} out of bounds in {script:?}"
        );
        assert!(
            script.is_char_boundary(r.start) && script.is_char_boundary(r.end),
            "{r:?} not on char boundaries in {script:?}"
        );
        assert!(
            r.start >= prev_end,
            "step {r:?} overlaps the previous one in {script:?}"
        );
        prev_end = r.end;
        assert_eq!(
            s.line,
            1 + script[..r.start].matches('\n').count(),
            "line of {r:?} in {script:?}"
        );
        assert!(
            !s.sql(script).starts_with(|c: char| c.is_ascii_whitespace()),
            "{r:?} starts with whitespace in {script:?}"
        );
    }
    check_gaps(script, d, steps);
}

/// Every byte outside the steps is whitespace, a comment, a `;`, the current MySQL custom
/// delimiter or a MySQL `DELIMITER` line: each gap is re-read on its own, token by token.
fn check_gaps(script: &str, d: Dialect, steps: &[Step]) {
    let mut delimiter = String::from(";");
    let mut gap_start = 0;
    let ends = steps
        .iter()
        .map(|s| (s.range.start, s.range.end))
        .chain([(script.len(), script.len())]);
    for (gap_end, next_start) in ends {
        let mut i = gap_start;
        while i < gap_end {
            let rest = &script[i..gap_end];
            if d == MY
                && rest
                    .get(..9)
                    .is_some_and(|w| w.eq_ignore_ascii_case("delimiter"))
                && rest[9..].starts_with([' ', '\t'])
            {
                let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
                let arg = line[9..].trim_start();
                delimiter = match arg.chars().next() {
                    Some(q @ ('\'' | '"' | '`')) => {
                        arg[1..].split(q).next().unwrap().trim_end().to_string()
                    }
                    _ => arg.split(char::is_whitespace).next().unwrap().to_string(),
                };
                i += line.len();
                continue;
            }
            if rest.starts_with(delimiter.as_str()) {
                i += delimiter.len();
                continue;
            }
            let tok = Lexer::new(rest, d).next_tok().unwrap();
            assert!(
                matches!(tok.kind, Kind::Space | Kind::Comment | Kind::Semi),
                "{d:?}: {:?} at byte {i} is outside every step but is {:?}; script {script:?}, steps {steps:?}",
                &rest[tok.start..tok.end],
                tok.kind
            );
            i += tok.end;
        }
        gap_start = next_start;
    }
}

/// One row of a case table: a script and the steps it must give.
struct Case {
    name: &'static str,
    script: &'static str,
    steps: &'static [&'static str],
}

fn run_table(d: Dialect, table: &[Case]) {
    for c in table {
        assert_eq!(texts(c.script, d), c.steps, "{d:?} case {:?}", c.name);
    }
}

const PRISMA_ENUM_SWAP: &str = r#"-- AlterEnum
BEGIN;
CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN');
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
COMMIT;
"#;

const POSTGRES_CASES: &[Case] = &[
    Case { name: "empty", script: "", steps: &[] },
    Case { name: "whitespace only", script: " \n\t\r\n ", steps: &[] },
    Case { name: "comments only", script: "-- only a comment;\n/* and; a block */\n", steps: &[] },
    Case { name: "only semicolons", script: ";; ;\n;", steps: &[] },
    Case { name: "no trailing semicolon", script: "SELECT 1;\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "trailing whitespace and comments trimmed", script: "  SELECT 1 /* c */ -- d\n ;\n", steps: &["SELECT 1"] },
    Case { name: "inner comments kept", script: "SELECT /* ; */ 1 -- ;\n, 2;", steps: &["SELECT /* ; */ 1 -- ;\n, 2"] },
    Case { name: "string with ;", script: "INSERT INTO t VALUES ('a;b', 'it''s; ok'); SELECT 2", steps: &["INSERT INTO t VALUES ('a;b', 'it''s; ok')", "SELECT 2"] },
    Case { name: "backslash is literal in standard strings", script: r"SELECT 'C:\'; SELECT 2", steps: &[r"SELECT 'C:\'", "SELECT 2"] },
    Case { name: "E string with escaped quote", script: r"SELECT E'it\'s; fine'; SELECT 2", steps: &[r"SELECT E'it\'s; fine'", "SELECT 2"] },
    Case { name: "E string the tokenizer rejects", script: r"SELECT E'\xC3\xA9;'; SELECT 2", steps: &[r"SELECT E'\xC3\xA9;'", "SELECT 2"] },
    Case { name: "U& string", script: r"SELECT U&'d\0061t\+000061;'; SELECT 2", steps: &[r"SELECT U&'d\0061t\+000061;'", "SELECT 2"] },
    Case { name: "quoted identifiers with ;", script: r#"CREATE TABLE "a;b" ("c"";d" int); SELECT 2"#, steps: &[r#"CREATE TABLE "a;b" ("c"";d" int)"#, "SELECT 2"] },
    Case { name: "nested block comments", script: "/* outer /* inner; */ still; */ SELECT 1; /* a /* b */ c; */", steps: &["SELECT 1"] },
    Case { name: "operator then comment", script: "SELECT 5 -/* c; */ 3; SELECT 1 <-- c;\n;", steps: &["SELECT 5 -/* c; */ 3", "SELECT 1 <"] },
    Case {
        name: "$$ function body",
        script: "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 'x;';\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT 1;",
        steps: &["CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 'x;';\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql", "SELECT 1"],
    },
    Case {
        name: "$fn$ body containing $$",
        script: "CREATE FUNCTION f() RETURNS text AS $fn$ SELECT $$a;b$$; $fn$ LANGUAGE sql; SELECT 1",
        steps: &["CREATE FUNCTION f() RETURNS text AS $fn$ SELECT $$a;b$$; $fn$ LANGUAGE sql", "SELECT 1"],
    },
    Case { name: "DO block", script: "DO $$ BEGIN PERFORM 1; END $$;\nCOMMIT;", steps: &["DO $$ BEGIN PERFORM 1; END $$", "COMMIT"] },
    Case {
        name: "BEGIN ATOMIC body with CASE",
        script: "CREATE OR REPLACE FUNCTION g(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 END;\n  SELECT 2;\nEND;\nSELECT g(1);",
        steps: &["CREATE OR REPLACE FUNCTION g(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN 1 END;\n  SELECT 2;\nEND", "SELECT g(1)"],
    },
    Case {
        name: "procedure with BEGIN ATOMIC",
        script: "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; CALL p();",
        steps: &["CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", "CALL p()"],
    },
    Case {
        name: "parameter named begin opens nothing",
        script: "CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN CASE WHEN begin > 0 THEN 1 END; SELECT 1;",
        steps: &["CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN CASE WHEN begin > 0 THEN 1 END", "SELECT 1"],
    },
    Case {
        name: "trigger executing a function",
        script: "CREATE TRIGGER t BEFORE DELETE ON x FOR EACH ROW EXECUTE FUNCTION f(); SELECT 1",
        steps: &["CREATE TRIGGER t BEFORE DELETE ON x FOR EACH ROW EXECUTE FUNCTION f()", "SELECT 1"],
    },
    Case {
        name: "Prisma enum swap keeps its own transaction",
        script: PRISMA_ENUM_SWAP,
        steps: &[
            "BEGIN",
            r#"CREATE TYPE "Role_new" AS ENUM ('USER', 'ADMIN')"#,
            r#"ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new")"#,
            r#"ALTER TYPE "Role" RENAME TO "Role_old""#,
            r#"ALTER TYPE "Role_new" RENAME TO "Role""#,
            r#"DROP TYPE "Role_old""#,
            "COMMIT",
        ],
    },
    Case { name: "BEGIN TRANSACTION", script: "BEGIN TRANSACTION; END;", steps: &["BEGIN TRANSACTION", "END"] },
    Case {
        name: "rule with statements in parentheses",
        script: "CREATE RULE r AS ON DELETE TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3",
        steps: &["CREATE RULE r AS ON DELETE TO t DO ALSO (SELECT 1; SELECT 2)", "SELECT 3"],
    },
    Case { name: "positional parameters", script: "PREPARE p AS SELECT $1; EXECUTE p(1)", steps: &["PREPARE p AS SELECT $1", "EXECUTE p(1)"] },
    Case { name: "$ inside identifiers", script: "SELECT a$b; SELECT 2", steps: &["SELECT a$b", "SELECT 2"] },
    Case { name: "CONCURRENTLY", script: "CREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY j;", steps: &["CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY j"] },
    Case { name: "CRLF line endings", script: "SELECT 1;\r\n-- c\r\nSELECT 'a\r\nb';\r\n", steps: &["SELECT 1", "SELECT 'a\r\nb'"] },
    Case { name: "byte order mark", script: "\u{feff}SELECT 1;", steps: &["SELECT 1"] },
    Case {
        name: "non-ASCII text",
        script: "-- café;\nINSERT INTO \"tåble\" VALUES ('naïve; 日本語');\n/* ü; */ SELECT '€'",
        steps: &["INSERT INTO \"tåble\" VALUES ('naïve; 日本語')", "SELECT '€'"],
    },
    Case { name: "$1$ is a parameter and a $", script: "SELECT $1$; SELECT $2$", steps: &["SELECT $1$", "SELECT $2$"] },
    Case { name: "dollar tag of any non-ASCII characters", script: "SELECT $🦀$a;b$🦀$; SELECT 2", steps: &["SELECT $🦀$a;b$🦀$", "SELECT 2"] },
    Case { name: "X string has no backslash escapes", script: r"SELECT X'\'; SELECT 2", steps: &[r"SELECT X'\'", "SELECT 2"] },
    Case { name: "DELIMITER is no PostgreSQL command", script: "DELIMITER //\nSELECT 1;", steps: &["DELIMITER //\nSELECT 1"] },
    Case { name: "unterminated string runs to the end", script: "SELECT 1; SELECT 'abc; SELECT 2\n", steps: &["SELECT 1", "SELECT 'abc; SELECT 2\n"] },
    Case { name: "unterminated dollar quote runs to the end", script: "SELECT 1; SELECT $$abc; SELECT 2", steps: &["SELECT 1", "SELECT $$abc; SELECT 2"] },
    Case { name: "unterminated quoted identifier runs to the end", script: "SELECT 1; SELECT \"abc; SELECT 2", steps: &["SELECT 1", "SELECT \"abc; SELECT 2"] },
    Case { name: "unterminated comment is statement text", script: "SELECT 1; /* abc; SELECT 2", steps: &["SELECT 1", "/* abc; SELECT 2"] },
];

const SQLITE_CASES: &[Case] = &[
    Case { name: "empty", script: "", steps: &[] },
    Case { name: "comments only", script: "-- a;\n/* b; */\n", steps: &[] },
    Case { name: "no trailing semicolon", script: "SELECT 1;\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case {
        name: "trigger with BEGIN END",
        script: "CREATE TRIGGER trg AFTER INSERT ON t\nBEGIN\n  INSERT INTO log VALUES ('ins;');\n  UPDATE t SET a = 1;\nEND;\nSELECT 1;",
        steps: &["CREATE TRIGGER trg AFTER INSERT ON t\nBEGIN\n  INSERT INTO log VALUES ('ins;');\n  UPDATE t SET a = 1;\nEND", "SELECT 1"],
    },
    Case {
        name: "trigger with CASE in the body and in WHEN",
        script: "CREATE TEMP TRIGGER IF NOT EXISTS trg BEFORE UPDATE ON t WHEN CASE WHEN new.a THEN 1 END BEGIN UPDATE t SET b = CASE WHEN new.a = 1 THEN 'one;' ELSE 'x' END; SELECT RAISE(ABORT, 'no;'); END; SELECT 2",
        steps: &[
            "CREATE TEMP TRIGGER IF NOT EXISTS trg BEFORE UPDATE ON t WHEN CASE WHEN new.a THEN 1 END BEGIN UPDATE t SET b = CASE WHEN new.a = 1 THEN 'one;' ELSE 'x' END; SELECT RAISE(ABORT, 'no;'); END",
            "SELECT 2",
        ],
    },
    Case { name: "columns named begin and end", script: "CREATE TABLE t (begin INT, end INT); SELECT 1", steps: &["CREATE TABLE t (begin INT, end INT)", "SELECT 1"] },
    Case {
        name: "bracket, backtick and double-quoted identifiers",
        script: "CREATE TABLE [a;b] (`c;d` INT, \"e;f\" INT); SELECT 1",
        steps: &["CREATE TABLE [a;b] (`c;d` INT, \"e;f\" INT)", "SELECT 1"],
    },
    Case { name: "backslash is literal", script: r"SELECT 'a\'; SELECT 2", steps: &[r"SELECT 'a\'", "SELECT 2"] },
    Case {
        name: "plain BEGIN stays a step",
        script: "BEGIN IMMEDIATE;\nINSERT INTO t VALUES (1);\nEND TRANSACTION;\nBEGIN; COMMIT;",
        steps: &["BEGIN IMMEDIATE", "INSERT INTO t VALUES (1)", "END TRANSACTION", "BEGIN", "COMMIT"],
    },
    Case { name: "dollar is a parameter, not a quote", script: "SELECT $a; SELECT $$; SELECT 2", steps: &["SELECT $a", "SELECT $$", "SELECT 2"] },
    Case { name: "brackets do not escape", script: "SELECT [x]]; SELECT 2", steps: &["SELECT [x]]", "SELECT 2"] },
    Case { name: "block comments do not nest", script: "/* a /* b */ SELECT 1; */", steps: &["SELECT 1", "*/"] },
    Case { name: "unterminated block comment is a comment", script: "SELECT 1; /* open; SELECT 2", steps: &["SELECT 1"] },
    Case { name: "unterminated string runs to the end", script: "SELECT 1; SELECT 'x; SELECT 2", steps: &["SELECT 1", "SELECT 'x; SELECT 2"] },
    Case {
        name: "Prisma RedefineTables",
        script: "-- RedefineTables\r\nPRAGMA defer_foreign_keys=ON;\r\nPRAGMA foreign_keys=OFF;\r\nCREATE TABLE \"new_U\" (\"id\" TEXT NOT NULL PRIMARY KEY);\r\nINSERT INTO \"new_U\" (\"id\") SELECT \"id\" FROM \"U\";\r\nDROP TABLE \"U\";\r\nALTER TABLE \"new_U\" RENAME TO \"U\";\r\nPRAGMA foreign_keys=ON;\r\nPRAGMA defer_foreign_keys=OFF;\r\n",
        steps: &[
            "PRAGMA defer_foreign_keys=ON",
            "PRAGMA foreign_keys=OFF",
            "CREATE TABLE \"new_U\" (\"id\" TEXT NOT NULL PRIMARY KEY)",
            "INSERT INTO \"new_U\" (\"id\") SELECT \"id\" FROM \"U\"",
            "DROP TABLE \"U\"",
            "ALTER TABLE \"new_U\" RENAME TO \"U\"",
            "PRAGMA foreign_keys=ON",
            "PRAGMA defer_foreign_keys=OFF",
        ],
    },
    Case { name: "non-ASCII text", script: "/* ñ; */ INSERT INTO t VALUES ('ü; 日本');\n-- é\nSELECT 'ß'", steps: &["INSERT INTO t VALUES ('ü; 日本')", "SELECT 'ß'"] },
];

const MYSQL_PROCEDURE: &str = "DELIMITER $$
CREATE PROCEDURE p(IN n INT)
BEGIN
  IF n > 0 THEN
    BEGIN
      SELECT 'pos;';
    END;
  ELSE
    SELECT 'neg';
  END IF;
END$$
DELIMITER ;
CALL p(1);
";

const MYSQL_TRIGGER: &str = "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW
BEGIN
  DECLARE x INT DEFAULT 0;
  IF NEW.a IS NULL THEN
    SET NEW.a = IF(NEW.id > 10, 1, 2);
  ELSEIF NEW.a < 0 THEN
    BEGIN
      SET NEW.a = 0;
    END;
  ELSE
    SET NEW.note = REPEAT('x', 3);
  END IF;
  CASE WHEN NEW.a = 1 THEN SET NEW.note = 'one;'; ELSE SET NEW.note = CASE NEW.a WHEN 2 THEN 'two' ELSE 'other' END; END CASE;
  lbl: LOOP
    SET x = x + 1;
    IF x > 3 THEN LEAVE lbl; END IF;
  END LOOP lbl;
  WHILE x < 10 DO SET x = x + 1; END WHILE;
  REPEAT SET x = x - 1; UNTIL x < 5 END REPEAT;
END";

const MYSQL_CASES: &[Case] = &[
    Case { name: "empty", script: "", steps: &[] },
    Case { name: "comments only", script: "-- a;\n# b;\n/* c; */\n--\n--\tt'\n", steps: &[] },
    Case { name: "no trailing semicolon", script: "SELECT 1;\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case {
        name: "backslash escapes",
        script: r#"SELECT 'it\'s; ok', "say \"hi;\""; SELECT 2"#,
        steps: &[r#"SELECT 'it\'s; ok', "say \"hi;\"""#, "SELECT 2"],
    },
    Case { name: "backtick identifiers", script: "CREATE TABLE `a;b` (`c``;` INT); SELECT 1", steps: &["CREATE TABLE `a;b` (`c``;` INT)", "SELECT 1"] },
    Case { name: "-- needs whitespace after it", script: "SELECT 1--2;\nSELECT 3", steps: &["SELECT 1--2", "SELECT 3"] },
    Case { name: "-- with a tab or newline is a comment", script: "SELECT 1 --\tit's; here\n;SELECT 2 --\n;", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "hash comment with quote", script: "SELECT 1; # it's; here\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "executable comment is a statement", script: "/*!40101 SET NAMES utf8mb4 */;\n/* plain */", steps: &["/*!40101 SET NAMES utf8mb4 */"] },
    Case {
        name: "DELIMITER with IF and nested BEGIN",
        script: MYSQL_PROCEDURE,
        steps: &[
            "CREATE PROCEDURE p(IN n INT)\nBEGIN\n  IF n > 0 THEN\n    BEGIN\n      SELECT 'pos;';\n    END;\n  ELSE\n    SELECT 'neg';\n  END IF;\nEND",
            "CALL p(1)",
        ],
    },
    Case {
        name: "DELIMITER //",
        script: "DELIMITER //\nCREATE FUNCTION g() RETURNS INT DETERMINISTIC\nBEGIN\n  RETURN 1;\nEND //\nDELIMITER ;\nSELECT g();",
        steps: &["CREATE FUNCTION g() RETURNS INT DETERMINISTIC\nBEGIN\n  RETURN 1;\nEND", "SELECT g()"],
    },
    Case {
        name: "mysqldump trigger",
        script: "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\nDELIMITER ;\n",
        steps: &["/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */"],
    },
    Case { name: "custom delimiter inside a string", script: "DELIMITER $$\nSELECT 'a$$b'$$\nDELIMITER ;", steps: &["SELECT 'a$$b'"] },
    Case { name: "custom delimiter that starts a comment", script: "DELIMITER #\nSELECT 1#SELECT 2 # c\n#", steps: &["SELECT 1", "SELECT 2", "c"] },
    Case { name: "custom delimiter glued to words", script: "DELIMITER $$\nSELECT 1 AS x$$SELECT 2$$", steps: &["SELECT 1 AS x", "SELECT 2"] },
    Case { name: "custom delimiter at the end is optional", script: "DELIMITER $$\nSELECT 1$$\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "custom-delimiter step of only ; is skipped", script: "DELIMITER $$\n;$$ SELECT 1; SELECT 2;$$", steps: &["SELECT 1; SELECT 2;"] },
    Case { name: "DELIMITER in any case, rest of line ignored", script: "delimiter $$ # set it\nSELECT 1$$\nDeLiMiTeR ; -- back\nSELECT 2;", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "quoted DELIMITER argument", script: "DELIMITER '//'\nSELECT 1//\nDELIMITER ;\nSELECT 2", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "DELIMITER without argument is statement text", script: "DELIMITER\nSELECT 1;", steps: &["DELIMITER\nSELECT 1"] },
    Case { name: "DELIMITER only at a statement boundary", script: "SELECT 1,\ndelimiter FROM t;", steps: &["SELECT 1,\ndelimiter FROM t"] },
    Case { name: "DELIMITER with CRLF", script: "DELIMITER $$\r\nSELECT 1$$\r\nDELIMITER ;\r\nSELECT 2;\r\n", steps: &["SELECT 1", "SELECT 2"] },
    Case { name: "trigger with nested blocks, no DELIMITER", script: MYSQL_TRIGGER, steps: &[MYSQL_TRIGGER] },
    Case {
        name: "IF() and REPEAT() are functions",
        script: "CREATE FUNCTION f(n INT) RETURNS TEXT DETERMINISTIC RETURN IF(n > 0, REPEAT('x', n), ''); SELECT 1",
        steps: &["CREATE FUNCTION f(n INT) RETURNS TEXT DETERMINISTIC RETURN IF(n > 0, REPEAT('x', n), '')", "SELECT 1"],
    },
    Case {
        name: "single-statement trigger bodies",
        script: "CREATE TRIGGER a BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1;\nCREATE TRIGGER b BEFORE UPDATE ON x FOR EACH ROW SET NEW.a = CASE WHEN NEW.b THEN 1 ELSE 2 END; SELECT 1",
        steps: &[
            "CREATE TRIGGER a BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 1",
            "CREATE TRIGGER b BEFORE UPDATE ON x FOR EACH ROW SET NEW.a = CASE WHEN NEW.b THEN 1 ELSE 2 END",
            "SELECT 1",
        ],
    },
    Case {
        name: "IF statement as a routine body",
        script: "CREATE DEFINER=`root`@`%` PROCEDURE p() IF (SELECT COUNT(*) FROM t) > 1 THEN SELECT 1; ELSE SELECT 2; END IF; CALL p()",
        steps: &["CREATE DEFINER=`root`@`%` PROCEDURE p() IF (SELECT COUNT(*) FROM t) > 1 THEN SELECT 1; ELSE SELECT 2; END IF", "CALL p()"],
    },
    Case {
        name: "IF NOT EXISTS statement and DDL IF EXISTS in a procedure",
        script: "CREATE PROCEDURE p() BEGIN IF NOT EXISTS (SELECT 1 FROM t) THEN CREATE TABLE IF NOT EXISTS u (a INT); DROP TABLE IF EXISTS v; END IF; END; SELECT 1",
        steps: &["CREATE PROCEDURE p() BEGIN IF NOT EXISTS (SELECT 1 FROM t) THEN CREATE TABLE IF NOT EXISTS u (a INT); DROP TABLE IF EXISTS v; END IF; END", "SELECT 1"],
    },
    Case {
        name: "handler and event bodies",
        script: "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END; DELETE FROM t; END; SELECT 1",
        steps: &["CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; END; DELETE FROM t; END", "SELECT 1"],
    },
    Case { name: "MariaDB BEGIN NOT ATOMIC", script: "BEGIN NOT ATOMIC\n  DECLARE y INT DEFAULT 1;\n  SELECT y;\nEND;\nSELECT 2", steps: &["BEGIN NOT ATOMIC\n  DECLARE y INT DEFAULT 1;\n  SELECT y;\nEND", "SELECT 2"] },
    Case { name: "MariaDB top-level IF", script: "IF (SELECT 1) THEN SELECT 2; END IF; SELECT 3", steps: &["IF (SELECT 1) THEN SELECT 2; END IF", "SELECT 3"] },
    Case { name: "plain BEGIN is transaction control", script: "BEGIN; INSERT INTO t VALUES (1); COMMIT;", steps: &["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"] },
    Case { name: "views with IF() and CASE", script: "CREATE VIEW v AS SELECT IF(a, 1, 2), CASE WHEN b THEN 1 END FROM t; SELECT 1", steps: &["CREATE VIEW v AS SELECT IF(a, 1, 2), CASE WHEN b THEN 1 END FROM t", "SELECT 1"] },
    Case { name: "non-ASCII text", script: "# ü;\nINSERT INTO t VALUES ('naïve; 日本語', \"é;\");\nSELECT '€'", steps: &["INSERT INTO t VALUES ('naïve; 日本語', \"é;\")", "SELECT '€'"] },
    Case { name: "unterminated string runs to the end", script: "SELECT 1; SELECT 'a\\'; SELECT 2", steps: &["SELECT 1", "SELECT 'a\\'; SELECT 2"] },
];

#[test]
fn postgres_cases() {
    run_table(PG, POSTGRES_CASES);
}

#[test]
fn sqlite_cases() {
    run_table(LITE, SQLITE_CASES);
}

#[test]
fn mysql_cases() {
    run_table(MY, MYSQL_CASES);
}

#[test]
fn empty_and_comment_only_scripts_have_no_steps_on_every_database() {
    for d in [PG, MY, LITE] {
        for script in [
            "",
            "\n\n",
            "-- nothing to do\n",
            "/* nothing */",
            "-- a\r\n/* b */\r\n;\r\n",
        ] {
            assert_eq!(texts(script, d), Vec::<&str>::new(), "{d:?} {script:?}");
        }
    }
}

#[test]
fn ranges_are_bytes_and_lines_are_counted() {
    let script = "-- é\nSELECT 'ü';\r\n/* ß\n */ SELECT '日本'\n;\nSELECT 3";
    let steps = split(script, PG);
    let starts: Vec<usize> = ["SELECT 'ü'", "SELECT '日本'", "SELECT 3"]
        .iter()
        .map(|s| script.find(s).unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            Step {
                range: starts[0]..starts[0] + "SELECT 'ü'".len(),
                line: 2
            },
            Step {
                range: starts[1]..starts[1] + "SELECT '日本'".len(),
                line: 4
            },
            Step {
                range: starts[2]..script.len(),
                line: 6
            },
        ]
    );
    // Columns are counted in chars by the tokenizer; the byte offsets must not drift after them.
    assert_eq!(starts[0], "-- é\n".len());
}

#[test]
fn line_numbers_with_mysql_delimiters() {
    let steps = split(MYSQL_PROCEDURE, MY);
    assert_eq!(steps.iter().map(|s| s.line).collect::<Vec<_>>(), [2, 13]);
}

#[test]
fn sql_of_a_foreign_range_is_empty_not_a_panic() {
    let step = Step {
        range: 3..100,
        line: 1,
    };
    assert_eq!(step.sql("short"), "");
    let step = Step {
        range: 1..2,
        line: 1,
    };
    assert_eq!(step.sql("é"), "");
}

#[test]
fn long_tokens_cross_tokenizer_windows() {
    // Bodies and strings longer than the tokenizer window, and many statements around them.
    let body = "x := 1; -- ;\n".repeat(20_000);
    let pad = "SELECT 'a;b', \"c;d\" /* ; */;\n".repeat(5_000);
    let script = format!("{pad}CREATE FUNCTION f() RETURNS void AS $body$\n{body}$body$ LANGUAGE plpgsql;\n{pad}SELECT '{}';", "s;".repeat(50_000));
    let steps = texts(&script, PG);
    assert_eq!(steps.len(), 10_002);
    assert!(
        steps[5_000].starts_with("CREATE FUNCTION f()")
            && steps[5_000].ends_with("$body$ LANGUAGE plpgsql")
    );
    assert_eq!(steps[10_001].len(), "SELECT ''".len() + 100_000);
}

#[test]
fn many_tokenizer_restarts_stay_linear() {
    // Each line needs a restart of the tokenizer (a MySQL `--<tab>` comment, a rejected escape,
    // a custom delimiter inside a word); 20,000 of them must not take quadratic time.
    let n = 20_000;
    assert_eq!(split(&"--\tit's\nSELECT 1;\n".repeat(n), MY).len(), n);
    assert_eq!(split(&r"SELECT E'\x80';".repeat(n), PG).len(), n);
    assert_eq!(
        split(&format!("DELIMITER x\n{}", "ax".repeat(n)), MY).len(),
        n
    );
    assert_eq!(
        split(&format!("DELIMITER x\n{}", "x".repeat(n)), MY).len(),
        0
    );
}

#[test]
fn windowed_lexing_matches_tokenizing_at_once() {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::Tokenizer;
    let script = "CREATE TABLE \"t\" (id int DEFAULT nextval('s'::regclass), b text DEFAULT $$x$$);\n-- c ü\nSELECT a.b, 1.5e3, x::int /* é */ FROM t WHERE a <> 'q';\n".repeat(3_000);
    let whole = Tokenizer::new(&PostgreSqlDialect {}, &script)
        .tokenize_with_location()
        .unwrap();
    let mut lexer = Lexer::new(&script, PG);
    let mut n = 0;
    while lexer.next_tok().is_some() {
        n += 1;
    }
    assert_eq!(n, whole.len());
}

struct KindCase {
    dialect: Dialect,
    sql: &'static str,
    tx: bool,
    non_tx: bool,
    fk: Option<bool>,
}

const fn kc(
    dialect: Dialect,
    sql: &'static str,
    tx: bool,
    non_tx: bool,
    fk: Option<bool>,
) -> KindCase {
    KindCase {
        dialect,
        sql,
        tx,
        non_tx,
        fk,
    }
}

const KIND_CASES: &[KindCase] = &[
    // Transaction control.
    kc(PG, "BEGIN", true, false, None),
    kc(
        PG,
        "begin transaction isolation level serializable",
        true,
        false,
        None,
    ),
    kc(PG, "/* c */ START TRANSACTION", true, false, None),
    kc(PG, "COMMIT", true, false, None),
    kc(PG, "END", true, false, None),
    kc(PG, "ABORT", true, false, None),
    kc(PG, "ROLLBACK", true, false, None),
    kc(PG, "ROLLBACK TO SAVEPOINT s", false, false, None),
    kc(PG, "ROLLBACK TRANSACTION TO s", false, false, None),
    kc(PG, "SAVEPOINT s", false, false, None),
    kc(PG, "RELEASE SAVEPOINT s", false, false, None),
    kc(PG, "PREPARE TRANSACTION 'x'", true, false, None),
    kc(PG, "COMMIT PREPARED 'x'", false, true, None),
    kc(MY, "BEGIN", true, false, None),
    kc(MY, "BEGIN WORK", true, false, None),
    kc(MY, "BEGIN NOT ATOMIC SELECT 1; END", false, false, None),
    kc(MY, "START TRANSACTION READ ONLY", true, false, None),
    kc(MY, "COMMIT AND NO CHAIN", true, false, None),
    kc(MY, "ROLLBACK WORK TO SAVEPOINT s", false, false, None),
    kc(MY, "END", false, false, None),
    kc(LITE, "BEGIN EXCLUSIVE TRANSACTION", true, false, None),
    kc(LITE, "END TRANSACTION", true, false, None),
    kc(LITE, "COMMIT", true, false, None),
    kc(LITE, "ROLLBACK TO s", false, false, None),
    kc(LITE, "START TRANSACTION", false, false, None),
    // Cannot run inside a transaction block.
    kc(
        PG,
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        false,
        true,
        None,
    ),
    kc(
        PG,
        "create unique index concurrently if not exists i on t (a)",
        false,
        true,
        None,
    ),
    kc(PG, "CREATE INDEX i ON t (a)", false, false, None),
    kc(PG, "DROP INDEX CONCURRENTLY IF EXISTS i", false, true, None),
    kc(PG, "DROP INDEX i", false, false, None),
    kc(PG, "REINDEX INDEX CONCURRENTLY i", false, true, None),
    kc(PG, "REINDEX (VERBOSE) SCHEMA s", false, true, None),
    kc(PG, "REINDEX TABLE t", false, false, None),
    kc(PG, "ALTER SYSTEM SET work_mem = '64MB'", false, true, None),
    kc(PG, "VACUUM (ANALYZE) t", false, true, None),
    kc(PG, "CREATE DATABASE d", false, true, None),
    kc(PG, "DROP DATABASE IF EXISTS d", false, true, None),
    kc(PG, "CREATE TABLESPACE s LOCATION '/x'", false, true, None),
    kc(PG, "DROP TABLESPACE s", false, true, None),
    kc(
        PG,
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
        false,
        true,
        None,
    ),
    kc(PG, "ALTER DATABASE d SET TABLESPACE s", false, true, None),
    kc(
        PG,
        "ALTER DATABASE d SET search_path = x",
        false,
        false,
        None,
    ),
    kc(
        PG,
        "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
        false,
        true,
        None,
    ),
    kc(PG, "ALTER TABLE p DETACH PARTITION c", false, false, None),
    kc(PG, "ALTER TYPE \"Role\" ADD VALUE 'X'", false, false, None),
    kc(
        PG,
        "REFRESH MATERIALIZED VIEW CONCURRENTLY v",
        false,
        false,
        None,
    ),
    kc(PG, "CLUSTER", false, true, None),
    kc(PG, "CLUSTER t USING i", false, false, None),
    kc(PG, "DISCARD ALL", false, true, None),
    kc(PG, "CREATE TABLE \"VACUUM\" (a int)", false, false, None),
    kc(LITE, "VACUUM", false, true, None),
    kc(MY, "CREATE INDEX i ON t (a)", false, false, None),
    kc(MY, "CREATE DATABASE d", false, false, None),
    // SQLite's PRAGMA foreign_keys.
    kc(LITE, "PRAGMA foreign_keys=OFF", false, false, Some(false)),
    kc(LITE, "pragma FOREIGN_KEYS = on", false, false, Some(true)),
    kc(
        LITE,
        "PRAGMA main.foreign_keys = 0",
        false,
        false,
        Some(false),
    ),
    kc(LITE, "PRAGMA foreign_keys(1)", false, false, Some(true)),
    kc(
        LITE,
        "PRAGMA foreign_keys = 'false'",
        false,
        false,
        Some(false),
    ),
    kc(LITE, "PRAGMA foreign_keys = yes", false, false, Some(true)),
    kc(LITE, "PRAGMA foreign_keys", false, false, None),
    kc(LITE, "PRAGMA defer_foreign_keys = ON", false, false, None),
    kc(LITE, "PRAGMA foreign_key_check", false, false, None),
    kc(PG, "PRAGMA foreign_keys = ON", false, false, None),
    // Not statements at all.
    kc(PG, "", false, false, None),
    kc(MY, "-- BEGIN", false, false, None),
    kc(LITE, "'unterminated", false, false, None),
];

#[test]
fn classification() {
    for c in KIND_CASES {
        let k = classify(c.sql, c.dialect);
        assert_eq!(
            (
                k.transaction_control,
                k.non_transactional.is_some(),
                k.sqlite_pragma_foreign_keys
            ),
            (c.tx, c.non_tx, c.fk),
            "{:?} {:?} -> {k:?}",
            c.dialect,
            c.sql
        );
    }
    assert_eq!(
        classify("CREATE INDEX CONCURRENTLY i ON t (a)", PG).non_transactional,
        Some("CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
    );
}

#[test]
fn classify_steps_of_a_script() {
    let kinds: Vec<bool> = split(PRISMA_ENUM_SWAP, PG)
        .iter()
        .map(|s| s.classify(PRISMA_ENUM_SWAP, PG).transaction_control)
        .collect();
    assert_eq!(kinds, [true, false, false, false, false, false, true]);
}

// ---------------------------------------------------------------------------------------------
// Property tests.

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(PG), Just(MY), Just(LITE)]
}

/// Pieces of SQL that stress the lexer and the block tracking when glued together at random.
const FRAGMENTS: &[&str] = &[
    "'",
    "\"",
    "`",
    "[",
    "]",
    "$$",
    "$a$",
    "$",
    "$1",
    "$1$",
    "$é$",
    "$_$",
    "X'\\'",
    ";",
    ";;",
    "--",
    "-",
    "-- ",
    "--\t",
    "/*",
    "*/",
    "/*!",
    "#",
    "\\",
    "\\'",
    "''",
    "E'",
    "e'",
    "U&'",
    "x'",
    "N'",
    "B'",
    "._",
    ".",
    "1.5e",
    "BEGIN",
    "begin",
    "END",
    "ATOMIC",
    "NOT",
    "CASE",
    "IF",
    "IF(",
    "REPEAT",
    "LOOP",
    "WHILE",
    "THEN",
    "ELSE",
    "END IF",
    "CREATE TRIGGER t ",
    "CREATE FUNCTION f() ",
    "CREATE PROCEDURE p() ",
    "CREATE OR REPLACE FUNCTION g() ",
    "CREATE TABLE x ",
    "SELECT ",
    "a",
    "1",
    "(",
    ")",
    ",",
    ":",
    "=",
    "<",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\t",
    "DELIMITER $$\n",
    "DELIMITER ;\n",
    "DELIMITER //\n",
    "delimiter x\n",
    "DELIMITER '$'\n",
    "DELIMITER",
    "//",
    "é",
    "日本",
    "\u{feff}",
    "\u{a0}",
    "\u{2003}",
    "\0",
    "🦀",
];

fn sqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|v| v.concat())
}

/// Tokens of one generated statement, per dialect: none is a comment at either end, none holds a
/// `;` outside a string, quoted identifier, comment or body.
fn atoms(d: Dialect) -> Vec<&'static str> {
    let mut v = vec![
        "x",
        "t1",
        "a_b",
        "42",
        "1.5",
        "+",
        "=",
        ",",
        "f(x)",
        "(1, 2)",
        "'a;b'",
        "'it''s;'",
        "'--x'",
        "'/*'",
        "''",
        "'ü; é'",
        "\"q;\"",
        "\"x\"\"y\"",
        "/* c; ' */",
        "-- c; 'x\n",
        "\n",
        "\t",
        "\r\n",
        "END",
        "CASE",
        "IF",
    ];
    match d {
        Dialect::Postgres => v.extend([
            r"E'a\';b'",
            r"E'\xC3;'",
            "$$x;y$$",
            "$t$a;$$b$t$",
            "/* a /* ; */ b */",
            "$1",
            "x::int",
        ]),
        Dialect::Mysql => v.extend([
            r"'a\';b'",
            r#""q\";""#,
            "`a;b`",
            "`c``;`",
            "# c; '\n",
            "--\tc; '\n",
            "@v",
            "IF(1, 2, 3)",
        ]),
        Dialect::Sqlite => v.extend(["[a;b]", "`c;d`", "$v", "?1", r"'a\'"]),
    }
    v
}

/// Whole statements with `;` inside that must stay one step.
fn bodies(d: Dialect) -> Vec<&'static str> {
    match d {
        Dialect::Postgres => vec![
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)",
            "BEGIN",
            "COMMIT",
        ],
        Dialect::Mysql => vec![
            "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; ELSE BEGIN SELECT 2; END; END IF; END",
            "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = IF(1, 2, 3)",
            "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN DECLARE i INT DEFAULT 0; l: LOOP SET i = i + 1; IF i > 3 THEN LEAVE l; END IF; END LOOP l; RETURN i; END",
            "BEGIN NOT ATOMIC SELECT 1; END",
            "BEGIN",
            "COMMIT",
        ],
        Dialect::Sqlite => vec![
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; UPDATE t SET a = CASE WHEN 1 THEN 2 END; END",
            "BEGIN",
            "COMMIT",
        ],
    }
}

/// A statement: `SELECT`, random atoms, and a final non-comment token.
fn statement(d: Dialect) -> impl Strategy<Value = String> {
    let body = prop::sample::select(bodies(d)).prop_map(String::from);
    let simple = prop::collection::vec(prop::sample::select(atoms(d)), 0..12)
        .prop_map(|a| format!("SELECT {} 1", a.join(" ")));
    prop_oneof![3 => simple, 1 => body]
}

const SEPARATORS: &[&str] = &[
    ";",
    ";\n",
    " ;\n\n",
    ";\r\n",
    "\n;\n-- between; 'x\n",
    "; /* gap; */ ",
    ";;\n",
];

/// A script of statements with random separators; on MySQL some are wrapped in `DELIMITER $$`.
fn script_of(d: Dialect) -> impl Strategy<Value = (String, Vec<String>)> {
    let piece = (
        statement(d),
        prop::sample::select(SEPARATORS),
        any::<bool>(),
    );
    let lead =
        prop::sample::select(&["", "-- head; 'x\n", "/* head; */\n", "\u{feff}", "\n\n"][..]);
    let tail = prop::sample::select(&["", ";", ";\n-- tail", ";\n/* tail */\n"][..]);
    (lead, prop::collection::vec(piece, 1..8), tail).prop_map(move |(lead, pieces, tail)| {
        let mut script = String::from(lead);
        let mut stmts = Vec::new();
        let last = pieces.len() - 1;
        for (i, (stmt, sep, custom)) in pieces.into_iter().enumerate() {
            if d == Dialect::Mysql && custom {
                script.push_str(&format!("DELIMITER $$\n{stmt}$$\nDELIMITER ;\n"));
            } else {
                script.push_str(&stmt);
                script.push_str(if i == last { tail } else { sep });
            }
            stmts.push(stmt);
        }
        (script, stmts)
    })
}

proptest! {
    // No regression files: they would land outside this module's directory.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(s in any::<String>(), d in dialect()) {
        let steps = split(&s, d);
        check_invariants(&s, d, &steps);
        for step in &steps {
            let _ = step.classify(&s, d);
        }
    }

    #[test]
    fn never_panics_on_sqlish_text(s in sqlish(), d in dialect()) {
        let steps = split(&s, d);
        check_invariants(&s, d, &steps);
        for step in &steps {
            let _ = step.classify(&s, d);
        }
    }

    #[test]
    fn windows_do_not_change_tokens(s in sqlish(), d in dialect()) {
        let all = |mut l: Lexer<'_>| std::iter::from_fn(move || l.next_tok()).collect::<Vec<_>>();
        prop_assert_eq!(all(Lexer::with_windows(&s, d, 20, 40)), all(Lexer::new(&s, d)));
    }

    #[test]
    fn postgres_statements_round_trip((script, stmts) in script_of(PG)) {
        prop_assert_eq!(texts(&script, PG), stmts);
    }

    #[test]
    fn mysql_statements_round_trip((script, stmts) in script_of(MY)) {
        prop_assert_eq!(texts(&script, MY), stmts);
    }

    #[test]
    fn sqlite_statements_round_trip((script, stmts) in script_of(LITE)) {
        prop_assert_eq!(texts(&script, LITE), stmts);
    }
}
