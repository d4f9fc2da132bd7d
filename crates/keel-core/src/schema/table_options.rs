//! MySQL/MariaDB table options that change behaviour: the storage engine and the table's
//! default collation (which names its character set). Each is held relative to its default
//! (the server's engine, the database's collation), so that a history replayed in a shadow
//! database whose defaults differ from production's compares equal when the history named
//! no option. Where the two sides' relative values differ, the effective values decide:
//! a side's own value, else its default, else the other side's default (a model read from
//! `schema.prisma` knows no default). The same rule as Atlas's, which keeps a table's
//! charset and collation only where they differ from its schema's.

use super::{Schema, Table};

/// Which table options differ between `a` (of `from`) and `b` (of `to`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Differs {
    /// The storage engine.
    pub engine: bool,
    /// The default collation.
    pub collation: bool,
}

impl Differs {
    /// Whether any option differs.
    pub fn any(self) -> bool {
        self.engine || self.collation
    }
}

/// The engine table `t` of `side` has: its own, else `side`'s default, else `other`'s.
pub fn engine<'s>(side: &'s Schema, other: &'s Schema, t: &'s Table) -> Option<&'s str> {
    t.engine
        .as_deref()
        .or(side.default_engine.as_deref())
        .or(other.default_engine.as_deref())
}

/// The default collation table `t` of `side` has: its own, else `side`'s database default,
/// else `other`'s.
pub fn collation<'s>(side: &'s Schema, other: &'s Schema, t: &'s Table) -> Option<&'s str> {
    t.collation
        .as_deref()
        .or(side.default_collation.as_deref())
        .or(other.default_collation.as_deref())
}

/// The character set a MySQL collation belongs to: the part before its first `_`
/// (`utf8mb4_unicode_ci` → `utf8mb4`, `binary` → `binary`), as every MySQL and MariaDB
/// collation is named.
pub fn charset(collation: &str) -> &str {
    collation.split('_').next().unwrap_or(collation)
}

/// Which options of table `a` of `from` and `b` of `to` differ in effect. Engine names are
/// compared without case (`innodb` is `InnoDB`).
pub fn differs(from: &Schema, a: &Table, to: &Schema, b: &Table) -> Differs {
    let same = |x: Option<&str>, y: Option<&str>| match (x, y) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => x.is_none() && y.is_none(),
    };
    Differs {
        engine: a.engine != b.engine && !same(engine(from, to, a), engine(to, from, b)),
        collation: a.collation != b.collation
            && !same(collation(from, to, a), collation(to, from, b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(default: Option<&str>, own: Option<&str>) -> Schema {
        let mut s = Schema {
            default_collation: default.map(String::from),
            default_engine: default.map(|_| "InnoDB".to_string()),
            ..Schema::default()
        };
        let t = s.push_table(None, "t");
        s.tables[t.idx()].collation = own.map(String::from);
        s
    }

    fn collation_differs(a: &Schema, b: &Schema) -> bool {
        differs(a, &a.tables[0], b, &b.tables[0]).collation
    }

    #[test]
    fn a_history_that_names_no_collation_matches_whatever_the_defaults() {
        let shadow = side(Some("utf8mb4_general_ci"), None);
        let prod = side(Some("utf8mb4_unicode_ci"), None);
        assert!(!collation_differs(&shadow, &prod));
    }

    #[test]
    fn a_named_collation_that_is_one_side_s_default_matches() {
        let shadow = side(Some("utf8mb4_unicode_ci"), None);
        let prod = side(Some("latin1_swedish_ci"), Some("utf8mb4_unicode_ci"));
        assert!(!collation_differs(&shadow, &prod));
        // schema.prisma knows no default: Prisma's utf8mb4_unicode_ci against a database
        // whose default it is.
        let prisma = side(None, Some("utf8mb4_unicode_ci"));
        assert!(!collation_differs(&shadow, &prisma));
        assert!(!collation_differs(&prisma, &shadow));
    }

    #[test]
    fn a_hand_change_differs() {
        let shadow = side(Some("utf8mb4_general_ci"), None);
        let prod = side(Some("utf8mb4_general_ci"), Some("utf8mb3_general_ci"));
        assert!(collation_differs(&shadow, &prod));
        let mut myisam = side(Some("utf8mb4_general_ci"), None);
        myisam.tables[0].engine = Some("MyISAM".into());
        assert!(differs(&shadow, &shadow.tables[0], &myisam, &myisam.tables[0]).engine);
        let mut lower = side(Some("utf8mb4_general_ci"), None);
        lower.tables[0].engine = Some("innodb".into());
        assert!(!differs(&shadow, &shadow.tables[0], &lower, &lower.tables[0]).any());
    }

    #[test]
    fn the_charset_is_the_collation_s_prefix() {
        assert_eq!(charset("utf8mb4_unicode_ci"), "utf8mb4");
        assert_eq!(charset("binary"), "binary");
    }
}
