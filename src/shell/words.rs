//! Static expansion of one shell word: quotes removed, `~` and `$HOME`
//! expanded, and anything only known at run time flagged.

use std::path::Path;

use brush_parser::word::{
    self, Parameter, ParameterExpr, TildeExpr, WordPiece, WordPieceWithSource,
};
use brush_parser::ParserOptions;

use super::arithmetic;
use super::quiet::catch_parser_panic;
use super::front::{is_double_quoted, is_plain, is_single_quoted};

/// One word after static expansion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    /// The expanded value when `known`, otherwise the word as written.
    pub text: String,
    /// False when the value depends on a variable, a command substitution,
    /// brace expansion or anything else only known at run time.
    pub known: bool,
    /// Commands inside `$(...)`, backticks and `<(...)`, which run before the
    /// word's command.
    pub substitutions: Vec<String>,
    /// Why a substitution could not be extracted (for example one nested in
    /// `${x:-...}`), if so.
    pub hidden: Option<String>,
}

impl Word {
    pub fn literal(text: &str) -> Word {
        Word {
            text: text.to_string(),
            known: true,
            substitutions: Vec::new(),
            hidden: None,
        }
    }

    pub fn is_option(&self) -> bool {
        self.text.len() > 1 && self.text.starts_with('-')
    }
}

/// Expands a word as brush-parser tokenised it (quotes still in place).
pub(crate) fn expand(raw: &str, home: Option<&Path>) -> Word {
    if let Some(reason) = beyond_word_parser(raw) {
        return hidden(raw, reason);
    }
    let options = ParserOptions::default();
    // brush-parser may panic on malformed input; such a word is unknown.
    let parsed = catch_parser_panic(|| word::parse(raw, &options));
    let Some(Ok(pieces)) = parsed else {
        return unreadable(raw);
    };
    let mut expansion = Expansion {
        raw,
        home,
        value: String::new(),
        word: unknown(raw),
        at_start: true,
    };
    expansion.word.known = true;
    expansion.pieces(&pieces, false);
    let mut result = expansion.word;
    if result.known {
        result.text = expansion.value;
    } else {
        result.text = raw.to_string();
    }
    result
}

/// Expands a word written only with characters that mean themselves (see
/// `front::is_plain`) and quotes holding no expansion, without brush-parser.
/// Returns `None` for any other word; `expand` then handles it. For every
/// word it accepts, the result equals `expand`'s.
pub(crate) fn expand_plain(raw: &str) -> Option<Word> {
    let bytes = raw.as_bytes();
    let mut value = String::with_capacity(raw.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let (close, allowed): (u8, fn(u8) -> bool) = match byte {
            b'\'' => (b'\'', is_single_quoted),
            b'"' => (b'"', is_double_quoted),
            _ if is_plain(byte) => {
                value.push(char::from(byte));
                index += 1;
                continue;
            }
            _ => return None,
        };
        let inner_start = index + 1;
        let length = bytes
            .get(inner_start..)?
            .iter()
            .position(|&inner| inner == close)?;
        let inner = raw.get(inner_start..inner_start + length)?;
        if !inner.bytes().all(allowed) {
            return None;
        }
        value.push_str(inner);
        index = inner_start + length + 1;
    }
    if raw.is_empty() {
        return None;
    }
    Some(Word {
        text: value,
        known: true,
        substitutions: Vec::new(),
        hidden: None,
    })
}

/// Collects the command substitutions of a here-document body that the shell
/// expands (an unquoted delimiter).
pub(crate) fn heredoc_substitutions(body: &str) -> Word {
    if let Some(reason) = beyond_heredoc_parser(body) {
        return hidden(body, reason);
    }
    let options = ParserOptions::default();
    let parsed = catch_parser_panic(|| word::parse_heredoc(body, &options));
    let Some(Ok(pieces)) = parsed else {
        return unreadable(body);
    };
    let mut expansion = Expansion {
        raw: body,
        home: None,
        value: String::new(),
        word: unknown(body),
        at_start: false,
    };
    expansion.pieces(&pieces, true);
    expansion.word
}

/// Maximum number of brackets, braces, parentheses, backquotes and double
/// quotes in a word handed to brush-parser's word parser. That parser
/// backtracks without memoising. It can read some openers in more than one
/// way: `$((` as arithmetic or as `$(` and a subshell, `@(` as an extended
/// glob or text, an unclosed `"`. A word that nests them costs time
/// exponential in their number: a 640-byte word with 47 took 110 ms, and
/// shorter ones took seconds before the line checks of
/// `walk::beyond_parser`. Real words
/// that need the parser have few: `"$(dirname "$(readlink -f
/// "${BASH_SOURCE[0]}")")"` has 10. Words whose quotes hold no expansion
/// never reach the limit (see [`beyond_word_parser`]).
const MAX_WORD_OPENERS: usize = 16;

/// Minimum number of brackets and quotes that makes a word costly for
/// brush-parser's word parser. In the 26,000 kept fuzzing inputs, every
/// word that took more than 0.6 ms had at least 8, and most real words
/// have fewer.
const COSTLY_WORD_OPENERS: usize = 8;

/// Tells whether `raw` goes to brush-parser's word parser with enough
/// brackets and quotes to cost it up to tens of microseconds a byte. The
/// walker limits how many bytes of such words one command line may hold.
pub(crate) fn is_costly(raw: &str) -> bool {
    count_openers(raw) >= COSTLY_WORD_OPENERS && expand_plain(raw).is_none()
}

/// Returns why brush-parser's word parser must not see `raw`, if it must
/// not. A word that `expand_plain` reads has no expansion for the parser to
/// try in several ways, however many brackets its quotes hold (an inline
/// `node -e "..."` script), so only other words are limited.
fn beyond_word_parser(raw: &str) -> Option<String> {
    let openers = count_openers(raw);
    if openers <= MAX_WORD_OPENERS || expand_plain(raw).is_some() {
        return None;
    }
    Some(format!(
        "a word with expansions has {openers} brackets and quotes, more than the {MAX_WORD_OPENERS} the parser reads in bounded time"
    ))
}

/// Maximum number of `(` left unclosed in a here-document body that
/// expands. Unlike a command line, whose tokenizer rejects an unclosed
/// `$(`, a body reaches the word parser with them, and each one about
/// triples its time: alternating `$(` and `?(`, eight take 1.6 ms and ten
/// 14 ms. For bash an unclosed `$(` in a body is a syntax error.
const MAX_HEREDOC_UNCLOSED_PARENTHESES: usize = 2;

/// Returns why brush-parser must not read the here-document `body`, if it
/// must not. The parser reads a `$(...)` in a body with its word parser, so
/// a body that expands anything is limited like a word.
// NOTE: this counts the body's literal text too, so a long JSON or code
// body with one `$VAR` and many brackets is held although only its
// expansions cost time. A body whose delimiter is quoted is never parsed.
fn beyond_heredoc_parser(body: &str) -> Option<String> {
    let expands = body.contains('$') || body.contains('`');
    if !expands {
        return None;
    }
    let openers = count_openers(body);
    if openers > MAX_WORD_OPENERS {
        return Some(format!(
            "a here-document with expansions has {openers} brackets and quotes, more than the {MAX_WORD_OPENERS} the parser reads in bounded time"
        ));
    }
    let unclosed = count_unclosed(body, b'(', b')');
    if unclosed > MAX_HEREDOC_UNCLOSED_PARENTHESES {
        return Some(format!(
            "a here-document with expansions leaves {unclosed} parentheses unclosed, more than the {MAX_HEREDOC_UNCLOSED_PARENTHESES} the parser reads in bounded time"
        ));
    }
    None
}

/// Counts the bytes of `text` that the word parser may read as the start of
/// a nested construct: brackets, braces, parentheses, backquotes and double
/// quotes.
fn count_openers(text: &str) -> usize {
    text.bytes().filter(|byte| matches!(byte, b'(' | b'{' | b'[' | b'`' | b'"')).count()
}

/// Counts the `open` bytes in `text` beyond its `close` bytes, quoted or
/// not.
pub(crate) fn count_unclosed(text: &str, open: u8, close: u8) -> usize {
    let opened = text.bytes().filter(|&byte| byte == open).count();
    let closed = text.bytes().filter(|&byte| byte == close).count();
    opened.saturating_sub(closed)
}

/// Tells whether `text` may contain a command substitution: `$(`, a
/// backquote, or a process substitution.
pub(crate) fn has_substitution(text: &str) -> bool {
    text.contains("$(") || text.contains('`') || text.contains("<(") || text.contains(">(")
}

/// Marks a word the analysis will not read, with the reason to hold its
/// command.
fn hidden(raw: &str, reason: String) -> Word {
    Word { hidden: Some(reason), ..unknown(raw) }
}

/// Marks a word or here-document that brush-parser rejected or panicked on
/// as unknown. If it may contain a command substitution, which the shell
/// would run but the analysis cannot list, its command is held too.
fn unreadable(raw: &str) -> Word {
    if has_substitution(raw) {
        return hidden(raw, format!("cannot read `{raw}`, which may run a command substitution"));
    }
    unknown(raw)
}

/// Returns `raw` as a word whose value is unknown, without reading it.
pub(crate) fn unknown(raw: &str) -> Word {
    Word {
        text: raw.to_string(),
        known: false,
        substitutions: Vec::new(),
        hidden: None,
    }
}

struct Expansion<'a> {
    raw: &'a str,
    home: Option<&'a Path>,
    value: String,
    word: Word,
    at_start: bool,
}

impl Expansion<'_> {
    fn pieces(&mut self, pieces: &[WordPieceWithSource], quoted: bool) {
        for piece in pieces {
            let source = self
                .raw
                .get(piece.start_index..piece.end_index)
                .unwrap_or_default();
            self.piece(&piece.piece, source, quoted);
            self.at_start = false;
        }
    }

    fn piece(&mut self, piece: &WordPiece, source: &str, quoted: bool) {
        match piece {
            WordPiece::Text(text) => {
                if !quoted && is_brace_expansion(text) {
                    self.word.known = false;
                }
                self.value.push_str(text);
            }
            WordPiece::SingleQuotedText(text) => self.value.push_str(text),
            WordPiece::AnsiCQuotedText(text) => {
                // `$'...'` escapes such as `\x2f` would need decoding; treat
                // any escape as unknown rather than guess its value.
                if text.contains('\\') {
                    self.word.known = false;
                }
                self.value.push_str(text);
            }
            WordPiece::DoubleQuotedSequence(inner)
            | WordPiece::GettextDoubleQuotedSequence(inner) => {
                self.pieces(inner, true);
            }
            WordPiece::TildeExpansion(tilde) => self.tilde(tilde),
            WordPiece::ParameterExpansion(parameter) => self.parameter(parameter, source),
            WordPiece::CommandSubstitution(command)
            | WordPiece::BackquotedCommandSubstitution(command) => {
                self.word.known = false;
                self.word.substitutions.push(command.clone());
            }
            WordPiece::EscapeSequence(escaped) => {
                let literal = escaped.strip_prefix('\\').unwrap_or(escaped);
                self.value.push_str(literal);
            }
            WordPiece::ArithmeticExpression(_) => {
                self.word.known = false;
                self.flag_hidden_substitution(source);
                self.flag_hidden_arithmetic(source);
            }
        }
    }

    fn tilde(&mut self, tilde: &TildeExpr) {
        match (tilde, self.home, self.at_start) {
            (TildeExpr::Home, Some(home), true) => self.value.push_str(&home.to_string_lossy()),
            _ => self.word.known = false,
        }
    }

    fn parameter(&mut self, parameter: &ParameterExpr, source: &str) {
        let is_home = matches!(
            parameter,
            ParameterExpr::Parameter { parameter: Parameter::Named(name), indirect: false } if name == "HOME"
        );
        match (is_home, self.home) {
            (true, Some(home)) => self.value.push_str(&home.to_string_lossy()),
            _ => {
                self.word.known = false;
                self.flag_hidden_substitution(source);
                self.flag_hidden_arithmetic(source);
            }
        }
    }

    /// Marks arithmetic in an expansion that reads a variable: bash
    /// evaluates the value, which can run commands (see `arithmetic`).
    fn flag_hidden_arithmetic(&mut self, source: &str) {
        if self.word.hidden.is_none() {
            self.word.hidden = arithmetic::hidden_in_expansion(source);
        }
    }

    /// Marks substitutions that brush-parser leaves unparsed inside
    /// `${name:-...}` or `$((...))`: they run, but we cannot list them.
    fn flag_hidden_substitution(&mut self, source: &str) {
        let body = source.get(1..).unwrap_or_default();
        if has_substitution(body) {
            self.word.hidden = Some(format!("command substitution nested in `{source}`"));
        }
    }
}

/// Tells whether unquoted text contains a `{a,b}` or `{1..3}` brace expansion.
fn is_brace_expansion(text: &str) -> bool {
    let Some(open) = text.find('{') else {
        return false;
    };
    let Some(close) = text.rfind('}') else {
        return false;
    };
    let inner = text.get(open + 1..close).unwrap_or_default();
    close > open && (inner.contains(',') || inner.contains(".."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_handles_word_forms() {
        let home = Some(Path::new("/home/u"));
        let cases = [
            ("plain", "plain", true),
            ("'a b'\"c\"\\d", "a bcd", true),
            ("~/x", "/home/u/x", true),
            ("$HOME/x", "/home/u/x", true),
            ("\"${HOME}\"/x", "/home/u/x", true),
            ("a~", "a~", true),
            ("$USER", "$USER", false),
            ("$(pwd)/x", "$(pwd)/x", false),
            ("{a,b}", "{a,b}", false),
            ("'{a,b}'", "{a,b}", true),
            ("{}", "{}", true),
            ("*.rs", "*.rs", true),
        ];
        for (raw, text, known) in cases {
            let word = expand(raw, home);
            assert_eq!(word.text, text, "text of {raw:?}");
            assert_eq!(word.known, known, "known of {raw:?}");
        }
    }

    #[test]
    fn substitutions_are_collected() {
        let word = expand("\"$(rm -rf x)\"`ls`", None);
        assert_eq!(
            word.substitutions,
            vec!["rm -rf x".to_string(), "ls".to_string()]
        );
        assert!(!word.known);
    }

    #[test]
    fn nested_substitution_is_hidden() {
        let word = expand("${X:-$(rm -rf y)}", None);
        assert!(word.hidden.is_some());
    }

    proptest::proptest! {
        /// Every word `expand_plain` accepts expands as brush-parser expands it.
        #[test]
        fn plain_expansion_matches_brush_parser(raw in "([a-z0-9_./+,:@%=~{}*$-]|'[ -~]{0,6}'|\"[ -~]{0,6}\"){1,6}") {
            if let Some(plain) = expand_plain(&raw) {
                proptest::prop_assert_eq!(plain, expand(&raw, Some(Path::new("/home/u"))), "word {:?}", raw);
            }
        }
    }

    #[test]
    fn plain_expansion_declines_expansions() {
        for raw in [
            "", "~/x", "$HOME", "{a,b}", "*.rs", "a\\b", "\"$x\"", "'open", "\"a`b`\"", "\"!x\"",
        ] {
            assert_eq!(expand_plain(raw), None, "word {raw:?}");
        }
        assert_eq!(
            expand_plain("'a b'\"c\"d").map(|word| word.text),
            Some("a bcd".to_string())
        );
    }

    #[test]
    fn tilde_without_home_is_unknown() {
        assert!(!expand("~/x", None).known);
    }
}
