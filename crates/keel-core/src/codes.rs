//! Error codes: the typed [`ErrorCode`] that every error and `keel doctor` finding of keel
//! carries, and the table of causes and fixes behind it (`codes/table.rs`), from which
//! `docs/errors.md` is generated.

/// Declares [`ErrorCode`] from `CODE { cause: "…", fix: "…", example: "…", }` entries.
macro_rules! codes {
    ($($code:ident { cause: $cause:expr, fix: $fix:expr, $(example: $example:expr,)? },)*) => {
        /// A stable error code (`K3009`), printed as `error[K3009]: …`; its cause and fix are
        /// in `docs/errors.md` (generated from the same table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum ErrorCode {
            $($code,)*
        }

        impl ErrorCode {
            /// Every code, in order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// The code as printed: `"K3009"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                }
            }

            /// What causes it (Markdown, one paragraph), as in `docs/errors.md`.
            pub fn cause(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $cause,)*
                }
            }

            /// What to do about it in general (Markdown, one paragraph); the error's own fix
            /// names the case at hand.
            pub fn fix(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => $fix,)*
                }
            }

            /// The error as keel prints it in one typical case (`error[K3009]: …` and its
            /// `fix:` line), for `keel explain`; `None` while a code has none.
            pub fn example(self) -> Option<&'static str> {
                match self {
                    $(ErrorCode::$code => None$(.or(Some($example)))?,)*
                }
            }
        }
    };
}

mod table;

pub use table::ErrorCode;

impl ErrorCode {
    /// The code for `text` (`"K3009"` or `"k3009"`), if keel has it.
    pub fn parse(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text))
    }

    /// The anchor of its row in `docs/errors.md`: `"k3009"`.
    pub fn anchor(self) -> String {
        self.as_str().to_ascii_lowercase()
    }

    /// The rows of the table in `docs/errors.md`: a header, then one row per code, `|` escaped
    /// in the cells.
    pub fn markdown_table() -> String {
        let cell = |s: &str| s.replace('|', "\\|");
        let mut out = String::from("| code | cause | fix |\n|---|---|---|\n");
        for c in ErrorCode::ALL {
            out.push_str(&format!(
                "| <a id=\"{}\"></a>{} | {} | {} |\n",
                c.anchor(),
                c.as_str(),
                cell(c.cause()),
                cell(c.fix())
            ));
        }
        out
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ErrorCode;

    const BEGIN: &str = "<!-- generated from crates/keel-core/src/codes/table.rs";
    const END: &str = "<!-- end of the generated table -->";

    /// `docs/errors.md`'s table is the code table; `KEEL_UPDATE_DOCS=1` rewrites it.
    #[test]
    fn docs_errors_md_is_generated_from_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
            panic!("docs/errors.md lost its generated-table markers");
        };
        let head_end = b + doc[b..].find('\n').unwrap() + 1;
        let want = format!(
            "{}\n{}\n",
            &doc[b..head_end - 1],
            ErrorCode::markdown_table()
        );
        let have = &doc[b..e];
        if have != want {
            if std::env::var_os("KEEL_UPDATE_DOCS").is_some() {
                let new = format!("{}{}{}", &doc[..b], want, &doc[e..]);
                std::fs::write(&path, new).unwrap();
            } else {
                panic!(
                    "docs/errors.md is out of date: run KEEL_UPDATE_DOCS=1 cargo test -p keel-core"
                );
            }
        }
    }

    #[test]
    fn codes_are_ordered_unique_and_documented() {
        for w in ErrorCode::ALL.windows(2) {
            assert!(w[0].as_str() < w[1].as_str(), "{} {}", w[0], w[1]);
        }
        for c in ErrorCode::ALL {
            assert!(c.as_str().len() == 5 && c.as_str().starts_with('K'));
            assert!(
                !c.cause().trim().is_empty() && !c.fix().trim().is_empty(),
                "{c}"
            );
            assert_eq!(ErrorCode::parse(&c.anchor()), Some(*c));
        }
        assert_eq!(ErrorCode::parse("K0000"), None);
    }
}
