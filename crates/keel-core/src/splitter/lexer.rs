//! The splitter's token stream: sqlparser's tokenizer, run in windows over the script, with byte
//! offsets, a few dialect corrections and a fallback for input the tokenizer rejects.
//!
//! sqlparser reports positions as 1-based (line, column) pairs, columns counted in `char`s and
//! lines counted on `\n` only; [`Lexer`] turns them into byte offsets by walking the text with the
//! same rules. Tokenizing a window (not the whole rest of the script) bounds the cost of every
//! restart (after a `DELIMITER` line, a custom delimiter inside a token, a corrected comment or a
//! tokenizer error) so that no input makes splitting quadratic.

use crate::Dialect;
use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// Most bytes of script handed to the tokenizer at a time (a longer token widens the window).
const WINDOW: usize = 64 * 1024;
/// The first window, and the window after a restart; it doubles with every window read through,
/// up to [`WINDOW`], so text that needs many restarts (MySQL `--<tab>` comments) is not re-read a
/// whole window each time, and reading the first words of a long statement stays cheap.
const MIN_WINDOW: usize = 256;
/// Tokens ending this close to a window's cut are re-read in the next window: the tokenizer looks
/// a few characters ahead (`--` plus a space, `U&'`, `.` plus `_`), so their extent may depend on
/// text beyond the cut.
const GUARD: usize = 16;

/// What a token is, as far as splitting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Spaces, tabs, newlines.
    Space,
    /// `-- …`, `# …` (MySQL) or `/* … */`.
    Comment,
    /// `;`.
    Semi,
    /// An unquoted word: keyword or identifier.
    Word,
    /// A quoted identifier: `"…"`, `` `…` ``, `[…]`.
    Quoted,
    /// Any string literal, including `E'…'` and `$tag$…$tag$`.
    Str,
    /// A MySQL/MariaDB executable comment `/*! … */` or `/*M! … */`: the server runs its text.
    Exec,
    /// A string, quoted identifier or comment that is never closed; it runs to the end of input.
    Unterminated,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// `:`.
    Colon,
    /// Anything else: numbers, operators, placeholders, other punctuation.
    Other,
}

impl Kind {
    /// Whether the token is statement text (not whitespace or a comment).
    pub(crate) fn significant(self) -> bool {
        !matches!(self, Kind::Space | Kind::Comment)
    }

    /// Whether a custom `DELIMITER` inside the token (after its first character) is part of the
    /// token (quotes and comments), as in the `mysql` client.
    pub(crate) fn opaque(self) -> bool {
        matches!(
            self,
            Kind::Space
                | Kind::Comment
                | Kind::Quoted
                | Kind::Str
                | Kind::Exec
                | Kind::Unterminated
        )
    }
}

/// One token: its kind and its bytes `start..end` in the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Tok {
    /// Whether this is the unquoted word `kw` (ASCII case-insensitive).
    pub(crate) fn is_word(&self, script: &str, kw: &str) -> bool {
        self.kind == Kind::Word
            && script
                .get(self.start..self.end)
                .is_some_and(|t| t.eq_ignore_ascii_case(kw))
    }

    /// Whether this is an unquoted word among `kws`.
    pub(crate) fn is_any_word(&self, script: &str, kws: &[&str]) -> bool {
        kws.iter().any(|kw| self.is_word(script, kw))
    }
}

/// A lazily filled, restartable stream of [`Tok`]s covering the script without gaps.
pub(crate) struct Lexer<'s> {
    script: &'s str,
    dialect: Dialect,
    toks: Vec<Tok>,
    idx: usize,
    /// Where the next window starts: the end of the last buffered token.
    lex_pos: usize,
    /// The size of the next window.
    window: usize,
    /// The window after a restart, and the most a window grows to between restarts.
    min_window: usize,
    max_window: usize,
}

impl<'s> Lexer<'s> {
    /// A lexer at the start of `script`.
    pub(crate) fn new(script: &'s str, dialect: Dialect) -> Self {
        // A byte order mark (editors on Windows write one) is whitespace here; the databases
        // would read it as part of the first word.
        let bom = if script.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        Lexer {
            script,
            dialect,
            toks: if bom > 0 {
                vec![Tok {
                    kind: Kind::Space,
                    start: 0,
                    end: bom,
                }]
            } else {
                Vec::new()
            },
            idx: 0,
            lex_pos: bom,
            window: MIN_WINDOW,
            min_window: MIN_WINDOW,
            max_window: WINDOW,
        }
    }

    /// A lexer with other window sizes (`min` > [`GUARD`]), so tests can put cuts everywhere.
    #[cfg(test)]
    pub(crate) fn with_windows(script: &'s str, dialect: Dialect, min: usize, max: usize) -> Self {
        Lexer {
            window: min,
            min_window: min,
            max_window: max,
            ..Lexer::new(script, dialect)
        }
    }

    /// The next token, or `None` at the end of the script.
    pub(crate) fn next_tok(&mut self) -> Option<Tok> {
        let t = self.peek(0)?;
        self.idx += 1;
        Some(t)
    }

    /// The token `i` places ahead of the next one, without consuming anything.
    pub(crate) fn peek(&mut self, i: usize) -> Option<Tok> {
        while self.idx + i >= self.toks.len() {
            if !self.fill() {
                return None;
            }
        }
        self.toks.get(self.idx + i).copied()
    }

    /// The `n`-th (0-based) significant token ahead, looking at most `limit` tokens ahead.
    pub(crate) fn peek_significant(&mut self, n: usize, limit: usize) -> Option<Tok> {
        let mut seen = 0;
        for i in 0..limit {
            let t = self.peek(i)?;
            if t.kind.significant() {
                if seen == n {
                    return Some(t);
                }
                seen += 1;
            }
        }
        None
    }

    /// Puts `tok` back as the next token: the unread rest of the token just read, which lexes the
    /// same on its own (the tail of a word or operator after a custom delimiter inside it).
    pub(crate) fn unread(&mut self, tok: Tok) {
        if self.idx > 0 {
            self.idx -= 1;
            self.toks[self.idx] = tok;
        } else {
            self.toks.insert(0, tok);
        }
    }

    /// Continues the stream at byte `pos` (at or after the next token's start), dropping the
    /// tokens before it. Keeps the buffer when `pos` is a token boundary, else tokenizes afresh
    /// from `pos` (whose text is then read without the context before it).
    pub(crate) fn resume_at(&mut self, pos: usize) {
        while self.toks.get(self.idx).is_some_and(|t| t.start < pos) {
            self.idx += 1;
        }
        if self.toks.get(self.idx).is_some_and(|t| t.start == pos) {
            return;
        }
        if self.idx >= self.toks.len() && self.lex_pos == pos {
            return;
        }
        self.toks.clear();
        self.idx = 0;
        self.lex_pos = pos.min(self.script.len());
        self.window = self.min_window;
    }

    /// Appends at least one token to the buffer; `false` at the end of the script.
    fn fill(&mut self) -> bool {
        let len = self.script.len();
        if self.lex_pos >= len {
            return false;
        }
        if self.idx > 0 && self.idx * 2 >= self.toks.len() {
            self.toks.drain(..self.idx);
            self.idx = 0;
        }
        let p = self.lex_pos;
        let mut window = self.window;
        loop {
            let q = ceil_char_boundary(self.script, p.saturating_add(window));
            if let Some((end, interrupted)) = self.lex_window(p, q).filter(|&(end, _)| end > p) {
                self.lex_pos = end;
                self.window = if interrupted {
                    self.min_window
                } else {
                    window.saturating_mul(2).min(self.max_window)
                };
                return true;
            }
            if q >= len {
                // Every non-empty text yields a token or an error, so this is only a guarantee of
                // progress: take the rest as one lexeme.
                let (mut tok, _) = fallback_lexeme(self.script, p, self.dialect);
                if tok.end <= p {
                    tok = Tok {
                        kind: Kind::Unterminated,
                        start: p,
                        end: len,
                    };
                }
                self.toks.push(tok);
                self.lex_pos = tok.end;
                return true;
            }
            // Not one trustworthy token in the window: widen it.
            window = window.saturating_mul(2);
        }
    }

    /// Tokenizes `script[p..q]` and appends the tokens whose extent cannot depend on text after
    /// `q`. Returns the end of the last appended token and whether the window was cut short (by a
    /// correction or a tokenizer error), or `None` when nothing could be trusted.
    fn lex_window(&mut self, p: usize, q: usize) -> Option<(usize, bool)> {
        let script = self.script;
        let at_eof = q >= script.len();
        let limit = if at_eof {
            usize::MAX
        } else {
            q.saturating_sub(GUARD)
        };
        let text = script.get(p..q)?;

        let pg = PostgreSqlDialect {};
        let my = MySqlDialect {};
        let lite = SQLiteDialect {};
        let sp_dialect: &dyn sqlparser::dialect::Dialect = match self.dialect {
            Dialect::Postgres => &pg,
            Dialect::Mysql => &my,
            Dialect::Sqlite => &lite,
        };
        let mut raw = Vec::new();
        let failed = Tokenizer::new(sp_dialect, text)
            .with_unescape(false)
            .tokenize_with_location_into_buf(&mut raw)
            .is_err();

        let mut out: Vec<Tok> = Vec::with_capacity(raw.len());
        let mut walker = Walker::new(text);
        let mut pos = p;
        // A correction covers the text up to here; sqlparser's tokens before it are dropped.
        let mut skip_until = p;
        let mut restarted = false;
        for t in &raw {
            let start = pos;
            let end = p + walker.advance_to(t.span.end);
            if end <= start {
                continue;
            }
            pos = end;
            if start < skip_until {
                if end > skip_until {
                    // The correction ends inside this token: what follows must be read afresh.
                    restarted = true;
                    break;
                }
                continue;
            }
            let kind = kind_of(&t.token, script.get(start..end).unwrap_or(""), self.dialect);
            match self.correct(start, end, kind) {
                Some(fixed) => {
                    skip_until = fixed.end;
                    out.push(fixed);
                    if fixed.end < end {
                        restarted = true;
                        break;
                    }
                }
                None => out.push(Tok { kind, start, end }),
            }
        }
        // The tokens ran out (cut or tokenizer error) inside a correction: continue after it.
        restarted |= skip_until > pos;

        // Trust everything at the end of the script, else the tokens ending GUARD bytes before
        // the cut. A correction's extent comes from the whole script, its trigger from the few
        // characters at its start, so the same rule applies to it.
        let trusted = out.iter().take_while(|t| t.end <= limit).count();
        if failed && !restarted && trusted == out.len() {
            // sqlparser rejected the text at `x` (an unterminated or malformed literal): read
            // that lexeme by hand, unless it may continue past the cut (a wider window reads it).
            let x = out.last().map_or(p, |t| t.end);
            let (tok, terminated) = fallback_lexeme(script, x, self.dialect);
            if tok.end > tok.start && (at_eof || (terminated && tok.end <= limit)) {
                out.push(tok);
                return self.append(out).map(|end| (end, true));
            }
        }
        out.truncate(trusted);
        if !at_eof {
            // End the window after a token that gives the tokenizer no context: it reads a `.`
            // or a number differently after a word or a `.` (its `prev_token`), and the next
            // window starts without one. None such: a wider window.
            let context_free = |t: &Tok| {
                !matches!(t.kind, Kind::Word | Kind::Quoted)
                    && script.get(t.start..t.end) != Some(".")
            };
            let keep = out.iter().rposition(context_free).map_or(0, |k| k + 1);
            out.truncate(keep);
        }
        let interrupted = restarted || failed;
        self.append(out).map(|end| (end, interrupted))
    }

    /// Appends `out` to the buffer; returns the end of its last token (where lexing continues),
    /// `None` if it is empty.
    fn append(&mut self, out: Vec<Tok>) -> Option<usize> {
        let end = out.last().map(|t| t.end);
        self.toks.extend(out);
        end
    }

    /// A dialect correction of sqlparser's reading at token `start..end`, if one applies.
    fn correct(&self, start: usize, end: usize, kind: Kind) -> Option<Tok> {
        let script = self.script;
        let rest = script.get(start..)?;
        match self.dialect {
            // MySQL: `--` starts a comment when followed by any whitespace or control character
            // (or the end of input), not only a space as sqlparser assumes.
            // https://dev.mysql.com/doc/refman/8.4/en/ansi-diff-comments.html
            Dialect::Mysql if kind == Kind::Other && rest.starts_with("--") => {
                let comment = match rest[2..].chars().next() {
                    None => true,
                    Some(c) => c.is_whitespace() || c.is_control(),
                };
                if !comment {
                    return None;
                }
                let eol = rest
                    .find('\n')
                    .map_or(script.len(), |i| start + i)
                    .max(start + 2);
                Some(Tok {
                    kind: Kind::Comment,
                    start,
                    end: eol,
                })
            }
            // PostgreSQL dollar quotes and parameters by PostgreSQL's rules: sqlparser takes
            // `$1$` for a quote and misses tags with characters that are not alphanumeric.
            Dialect::Postgres if rest.starts_with('$') => {
                let (n, kind) = postgres_dollar(rest);
                (start + n != end).then_some(Tok {
                    kind,
                    start,
                    end: start + n,
                })
            }
            // PostgreSQL: an operator never contains `--` or `/*` (they start a comment), but
            // sqlparser's custom-operator rule swallows them (`<--x`, `+/*c*/`).
            // https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-OPERATORS
            Dialect::Postgres if kind == Kind::Other && end > start + 1 => {
                let text = script.get(start..end)?;
                let cut = [text.find("--"), text.find("/*")]
                    .into_iter()
                    .flatten()
                    .filter(|&i| i > 0)
                    .min()?;
                Some(Tok {
                    kind: Kind::Other,
                    start,
                    end: start + cut,
                })
            }
            // SQLite's `[…]` ends at the first `]` (https://www.sqlite.org/lang_keywords.html);
            // sqlparser reads `]]` as an escaped `]`.
            Dialect::Sqlite if kind == Kind::Quoted && rest.starts_with('[') => {
                let close = rest.find(']')? + 1;
                (start + close != end).then_some(Tok {
                    kind,
                    start,
                    end: start + close,
                })
            }
            // X'…' never has backslash escapes (it holds hex digits), but sqlparser reads them.
            _ if kind == Kind::Str && (rest.starts_with("x'") || rest.starts_with("X'")) => {
                let fixed = match scan_quoted(rest, 1, b'\'', false) {
                    Some(e) => Tok {
                        kind: Kind::Str,
                        start,
                        end: start + e,
                    },
                    None => Tok {
                        kind: Kind::Unterminated,
                        start,
                        end: script.len(),
                    },
                };
                (fixed.end != end).then_some(fixed)
            }
            _ => None,
        }
    }
}

/// Maps sqlparser's token to a [`Kind`]; `text` is the token's source text.
fn kind_of(token: &Token, text: &str, dialect: Dialect) -> Kind {
    match token {
        Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline) => Kind::Space,
        Token::Whitespace(Whitespace::MultiLineComment(_))
            if dialect == Dialect::Mysql
                && (text.starts_with("/*!") || text.starts_with("/*M!")) =>
        {
            Kind::Exec
        }
        Token::Whitespace(_) => Kind::Comment,
        Token::SemiColon => Kind::Semi,
        Token::Word(w) if w.quote_style.is_some() => Kind::Quoted,
        Token::Word(_) => Kind::Word,
        Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => {
            // `0x1F` is a HexStringLiteral too; only quoted forms are opaque.
            if text.contains(['\'', '"', '$']) {
                Kind::Str
            } else {
                Kind::Other
            }
        }
        Token::LParen => Kind::LParen,
        Token::RParen => Kind::RParen,
        Token::Comma => Kind::Comma,
        Token::Colon => Kind::Colon,
        _ => Kind::Other,
    }
}

/// Converts sqlparser [`Location`]s (1-based line and column, columns in `char`s, lines counted
/// on `\n`) to byte offsets, walking forward only.
struct Walker<'t> {
    text: &'t str,
    byte: usize,
    line: u64,
    col: u64,
}

impl<'t> Walker<'t> {
    fn new(text: &'t str) -> Self {
        Walker {
            text,
            byte: 0,
            line: 1,
            col: 1,
        }
    }

    /// The byte offset of `loc`, or the furthest offset reached before it.
    fn advance_to(&mut self, loc: Location) -> usize {
        while (self.line, self.col) < (loc.line, loc.column) {
            let Some(c) = self.text.get(self.byte..).and_then(|r| r.chars().next()) else {
                break;
            };
            self.byte += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.col = 1;
            } else {
                self.col += 1;
            }
        }
        self.byte
    }
}

/// The smallest char boundary of `s` at or after `i`, capped at `s.len()`.
fn ceil_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Reads one lexeme at `p` by hand, where sqlparser's tokenizer gave up: a string, quoted
/// identifier, comment or dollar-quoted string by the database's own rules, else one character.
/// Returns the token and whether it is terminated; an unterminated one runs to the end of input.
pub(crate) fn fallback_lexeme(script: &str, p: usize, dialect: Dialect) -> (Tok, bool) {
    let len = script.len();
    let rest = script.get(p..).unwrap_or("");
    let unterminated = |kind| {
        (
            Tok {
                kind,
                start: p,
                end: len,
            },
            false,
        )
    };
    let done = |kind, end: usize| {
        (
            Tok {
                kind,
                start: p,
                end,
            },
            true,
        )
    };

    if rest.starts_with("/*") {
        let nested = dialect == Dialect::Postgres;
        let bytes = rest.as_bytes();
        let (mut i, mut depth) = (2, 1u32);
        while i + 1 < bytes.len() {
            if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    let kind = if dialect == Dialect::Mysql
                        && (rest.starts_with("/*!") || rest.starts_with("/*M!"))
                    {
                        Kind::Exec
                    } else {
                        Kind::Comment
                    };
                    return done(kind, p + i);
                }
            } else if nested && bytes[i] == b'/' && bytes[i + 1] == b'*' {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        // SQLite ends an unterminated comment at the end of input without error
        // (https://www.sqlite.org/lang_comment.html); the others reject it, so it stays statement text.
        return unterminated(if dialect == Dialect::Sqlite {
            Kind::Comment
        } else {
            Kind::Unterminated
        });
    }

    // A string literal, perhaps with a prefix (E'…', U&'…', N'…', X'…', B'…').
    let prefix_len = rest
        .bytes()
        .take(3)
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'&')
        .count();
    if rest.as_bytes().get(prefix_len) == Some(&b'\'') {
        let prefix = &rest[..prefix_len];
        let backslash = match dialect {
            Dialect::Mysql => !["x", "b"].iter().any(|p| prefix.eq_ignore_ascii_case(p)),
            Dialect::Postgres => prefix.eq_ignore_ascii_case("e"),
            Dialect::Sqlite => false,
        };
        return match scan_quoted(rest, prefix_len, b'\'', backslash) {
            Some(end) => done(Kind::Str, p + end),
            None => unterminated(Kind::Unterminated),
        };
    }
    let first = rest.as_bytes().first().copied();
    match (first, dialect) {
        (Some(b'"'), Dialect::Mysql) => match scan_quoted(rest, 0, b'"', true) {
            Some(end) => done(Kind::Str, p + end),
            None => unterminated(Kind::Unterminated),
        },
        (Some(b'"'), _) | (Some(b'`'), Dialect::Mysql | Dialect::Sqlite) => {
            let q = first.unwrap_or(b'"');
            match scan_quoted(rest, 0, q, false) {
                Some(end) => done(Kind::Quoted, p + end),
                None => unterminated(Kind::Unterminated),
            }
        }
        (Some(b'['), Dialect::Sqlite) => match rest.find(']') {
            Some(i) => done(Kind::Quoted, p + i + 1),
            None => unterminated(Kind::Unterminated),
        },
        (Some(b'$'), Dialect::Postgres) => {
            let (n, kind) = postgres_dollar(rest);
            if kind == Kind::Unterminated {
                unterminated(kind)
            } else {
                done(kind, p + n)
            }
        }
        _ => {
            let n = rest.chars().next().map_or(0, char::len_utf8);
            done(Kind::Other, (p + n).min(len))
        }
    }
}

/// PostgreSQL's reading of text starting with `$`: a dollar-quoted string `$tag$ … $tag$` (tag
/// `[A-Za-z_\x80-][A-Za-z0-9_\x80-]*` or empty), a parameter `$1`, or a lone `$`. Returns the
/// lexeme's length and kind ([`Kind::Unterminated`] with the rest's length when never closed).
/// https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-DOLLAR-QUOTING
fn postgres_dollar(rest: &str) -> (usize, Kind) {
    let after = rest.get(1..).unwrap_or("");
    let tag_len = after
        .char_indices()
        .take_while(|&(i, c)| {
            c == '_' || c.is_alphabetic() || !c.is_ascii() || (i > 0 && c.is_ascii_digit())
        })
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    if after.as_bytes().get(tag_len) == Some(&b'$') {
        let tag = &rest[..tag_len + 2];
        return match rest[tag.len()..].find(tag) {
            Some(i) => (tag.len() + i + tag.len(), Kind::Str),
            None => (rest.len(), Kind::Unterminated),
        };
    }
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    (1 + digits, Kind::Other)
}

/// The end (exclusive, relative to `rest`) of the quoted lexeme whose opening `quote` is at
/// `open`: a doubled quote is an escaped quote, and with `backslash` so is `\` plus any character.
fn scan_quoted(rest: &str, open: usize, quote: u8, backslash: bool) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash && b == b'\\' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}
