//! A fast front end for the common subset of command lines: plain and
//! quoted words joined by `&&`, `||`, `;` and `|`, with the redirections
//! `>`, `>>`, `<` and `N>&M`. It builds the syntax tree brush-parser builds
//! for the same text, so the walker cannot tell the two apart, at a small
//! fraction of brush-parser's cost.
//!
//! A line outside the subset returns `None` and goes to brush-parser. That
//! is any line with a `$`, backquote, backslash, parenthesis, brace, glob,
//! comment, tilde, tab, newline or non-ASCII character, or with another
//! operator. So is a line with a word that could be a reserved word or an
//! assignment, and one that is not a list of simple commands. Falling back
//! is always correct, so the subset only has to be read exactly as
//! brush-parser reads it.

use brush_parser::ast::{
    AndOr, AndOrList, Command, CommandPrefix, CommandPrefixOrSuffixItem, CommandSuffix,
    CompoundList, CompoundListItem, IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline,
    Program, SeparatorOperator, SimpleCommand, Word,
};

/// Words that brush-parser or bash treat as reserved in some position. A
/// word equal to one of them sends the line to brush-parser in any
/// position, which is stricter than needed and keeps the subset simple.
const RESERVED: &[&str] = &[
    "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for", "function", "if", "in",
    "select", "then", "time", "until", "while",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    And,
    Or,
    Sequence,
    Pipe,
    Write,
    Append,
    Read,
    DuplicateOutput,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token<'t> {
    /// A word as written, quotes included. `fd` is the descriptor when the
    /// word is one digit written right against a `<` or `>`, which makes it
    /// the descriptor of that redirection (`2>`).
    Word {
        raw: &'t str,
        fd: Option<i32>,
    },
    Operator(Operator),
}

/// Parses `text` when it lies in the subset, `None` otherwise.
pub(crate) fn parse(text: &str) -> Option<Program> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens: &tokens,
        position: 0,
    };
    let list = parser.list()?;
    Some(Program {
        complete_commands: vec![list],
    })
}

fn tokenize(text: &str) -> Option<Vec<Token<'_>>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(bytes.len() / 3 + 1);
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let next = bytes.get(index + 1).copied();
        let (token, width) = match (byte, next) {
            (b' ', _) => {
                index += 1;
                continue;
            }
            (b'&', Some(b'&')) => (Operator::And, 2),
            (b'|', Some(b'|')) => (Operator::Or, 2),
            (b'|', Some(b'&')) | (b';', Some(b';' | b'&')) => return None,
            (b'|', _) => (Operator::Pipe, 1),
            (b';', _) => (Operator::Sequence, 1),
            (b'>', Some(b'>')) => (Operator::Append, 2),
            (b'>', Some(b'&')) => (Operator::DuplicateOutput, 2),
            (b'>', Some(b'|')) | (b'<', Some(b'<' | b'&' | b'>')) => return None,
            (b'>', _) => (Operator::Write, 1),
            (b'<', _) => (Operator::Read, 1),
            (b'&', _) => return None,
            _ => {
                let end = word_end(bytes, index)?;
                let raw = text.get(index..end)?;
                tokens.push(word_token(raw, bytes.get(end).copied())?);
                index = end;
                continue;
            }
        };
        tokens.push(Token::Operator(token));
        index += width;
    }
    Some(tokens)
}

/// Returns where the word starting at `start` ends, or `None` when it
/// contains a character outside the subset or an unterminated quote.
fn word_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut index = start;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'\'' => index = quote_end(bytes, index, b'\'', is_single_quoted)?,
            b'"' => index = quote_end(bytes, index, b'"', is_double_quoted)?,
            b' ' | b'&' | b'|' | b';' | b'<' | b'>' => break,
            _ if is_plain(byte) => index += 1,
            _ => return None,
        }
    }
    (index > start).then_some(index)
}

/// Returns the index after the quote closing the one at `open`.
fn quote_end(bytes: &[u8], open: usize, quote: u8, allowed: fn(u8) -> bool) -> Option<usize> {
    let mut index = open + 1;
    loop {
        let byte = *bytes.get(index)?;
        if byte == quote {
            return Some(index + 1);
        }
        if !allowed(byte) {
            return None;
        }
        index += 1;
    }
}

fn word_token(raw: &str, after: Option<u8>) -> Option<Token<'_>> {
    if RESERVED.contains(&raw) || may_be_assignment(raw) {
        return None;
    }
    let digit = match raw.as_bytes() {
        [digit] if digit.is_ascii_digit() => Some(i32::from(digit - b'0')),
        _ => None,
    };
    let against_redirection = matches!(after, Some(b'<' | b'>'));
    if !against_redirection {
        return Some(Token::Word { raw, fd: None });
    }
    // A longer run of digits against `<` or `>` is a descriptor too; leave
    // those to brush-parser rather than parse numbers here.
    if digit.is_none() && raw.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(Token::Word { raw, fd: digit })
}

/// Tells whether brush-parser could read `raw` as `NAME=value` or
/// `NAME+=value`: names start with an ASCII letter or underscore.
fn may_be_assignment(raw: &str) -> bool {
    raw.contains('=')
        && raw
            .bytes()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == b'_')
}

/// Characters that mean themselves outside quotes, in every position.
pub(crate) fn is_plain(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'_' | b'.' | b'/' | b'-' | b'+' | b',' | b':' | b'@' | b'%' | b'='
        )
}

/// Characters that mean themselves inside single quotes.
pub(crate) fn is_single_quoted(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && byte != b'\''
}

/// Characters that mean themselves inside double quotes.
pub(crate) fn is_double_quoted(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && !matches!(byte, b'"' | b'$' | b'`' | b'\\' | b'!')
}

struct Parser<'p, 't> {
    tokens: &'p [Token<'t>],
    position: usize,
}

impl<'t> Parser<'_, 't> {
    fn peek(&self) -> Option<Token<'t>> {
        self.tokens.get(self.position).copied()
    }

    fn at_operator(&self, operator: Operator) -> bool {
        self.peek() == Some(Token::Operator(operator))
    }

    /// `and_or (; and_or)* ;?` up to the end of the tokens.
    fn list(&mut self) -> Option<CompoundList> {
        let mut items = Vec::new();
        loop {
            let and_or = self.and_or()?;
            items.push(CompoundListItem(and_or, SeparatorOperator::Sequence));
            if self.peek().is_none() {
                break;
            }
            if !self.at_operator(Operator::Sequence) {
                return None;
            }
            self.position += 1;
            if self.peek().is_none() {
                break;
            }
        }
        Some(CompoundList(items))
    }

    fn and_or(&mut self) -> Option<AndOrList> {
        let first = self.pipeline()?;
        let mut additional = Vec::new();
        loop {
            let make: fn(Pipeline) -> AndOr = match self.peek() {
                Some(Token::Operator(Operator::And)) => AndOr::And,
                Some(Token::Operator(Operator::Or)) => AndOr::Or,
                _ => break,
            };
            self.position += 1;
            additional.push(make(self.pipeline()?));
        }
        Some(AndOrList { first, additional })
    }

    fn pipeline(&mut self) -> Option<Pipeline> {
        let mut seq = vec![Command::Simple(self.simple()?)];
        while self.at_operator(Operator::Pipe) {
            self.position += 1;
            seq.push(Command::Simple(self.simple()?));
        }
        Some(Pipeline {
            timed: None,
            bang: false,
            seq,
        })
    }

    /// Redirections, then the command word, then words and redirections,
    /// as brush-parser's `cmd_prefix`, `cmd_word` and `cmd_suffix` split them.
    fn simple(&mut self) -> Option<SimpleCommand> {
        let mut prefix = Vec::new();
        while let Some(redirect) = self.redirect()? {
            prefix.push(CommandPrefixOrSuffixItem::IoRedirect(redirect));
        }
        let Some(Token::Word { raw, .. }) = self.peek() else {
            if prefix.is_empty() {
                return None;
            }
            return Some(SimpleCommand {
                prefix: Some(CommandPrefix(prefix)),
                word_or_name: None,
                suffix: None,
            });
        };
        self.position += 1;
        let word_or_name = Some(Word::new(raw));
        let mut suffix = Vec::new();
        loop {
            if let Some(redirect) = self.redirect()? {
                suffix.push(CommandPrefixOrSuffixItem::IoRedirect(redirect));
                continue;
            }
            let Some(Token::Word { raw, .. }) = self.peek() else {
                break;
            };
            self.position += 1;
            suffix.push(CommandPrefixOrSuffixItem::Word(Word::new(raw)));
        }
        Some(SimpleCommand {
            prefix: (!prefix.is_empty()).then_some(CommandPrefix(prefix)),
            word_or_name,
            suffix: (!suffix.is_empty()).then_some(CommandSuffix(suffix)),
        })
    }

    /// Reads a redirection if one starts here: `Ok(None)` when none does,
    /// `None` when one starts but is outside the subset.
    fn redirect(&mut self) -> Option<Option<IoRedirect>> {
        let start = self.position;
        let fd = match self.peek() {
            Some(Token::Word { fd: Some(fd), .. }) => {
                self.position += 1;
                Some(fd)
            }
            Some(Token::Operator(_)) => None,
            _ => return Some(None),
        };
        let kind = match self.peek() {
            Some(Token::Operator(Operator::Write)) => IoFileRedirectKind::Write,
            Some(Token::Operator(Operator::Append)) => IoFileRedirectKind::Append,
            Some(Token::Operator(Operator::Read)) => IoFileRedirectKind::Read,
            Some(Token::Operator(Operator::DuplicateOutput)) => IoFileRedirectKind::DuplicateOutput,
            _ if fd.is_none() => {
                self.position = start;
                return Some(None);
            }
            _ => return None,
        };
        self.position += 1;
        let Some(Token::Word { raw, .. }) = self.peek() else {
            return None;
        };
        self.position += 1;
        let target = if matches!(kind, IoFileRedirectKind::DuplicateOutput) {
            if !raw.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            IoFileRedirectTarget::Duplicate(Word::new(raw))
        } else {
            IoFileRedirectTarget::Filename(Word::new(raw))
        };
        Some(Some(IoRedirect::File(fd, kind, target)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints the front end's tree, or returns `None` when the front end
    /// leaves the line to brush-parser.
    fn shape(text: &str) -> Option<String> {
        parse(text).map(|program| format!("{:?}", program.complete_commands))
    }

    fn brush_shape(text: &str) -> String {
        let options = brush_parser::ParserOptions::default();
        let program = brush_parser::Parser::new(std::io::BufReader::new(text.as_bytes()), &options)
            .parse_program()
            .unwrap();
        // Source locations differ (the front end records none), so compare
        // the printed trees with them removed.
        strip_locations(&format!("{:?}", program.complete_commands))
    }

    fn strip_locations(debug: &str) -> String {
        let mut out = String::new();
        let mut rest = debug;
        while let Some(at) = rest.find("loc: ") {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            let end = skip_value(rest);
            out.push_str("loc: None");
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    /// Returns the length of `loc: <value>` up to the next `,` or `}` at
    /// depth zero.
    fn skip_value(text: &str) -> usize {
        let mut depth = 0i32;
        for (index, c) in text.char_indices() {
            match c {
                '(' | '{' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '}' if depth == 0 => return index,
                '}' => depth -= 1,
                ',' if depth == 0 => return index,
                _ => {}
            }
        }
        text.len()
    }

    #[test]
    fn subset_trees_match_brush_parser() {
        let cases = [
            "ls -la src/",
            "mkdir -p build && echo hi > build/x.txt; ls | wc -l && git status --short | head -n 20",
            "npm test -- --run 2>&1 | tail -n 40; git diff --stat > ../../build/diff.txt",
            "grep -rn \"TODO\" . | wc -l; cat 'package.json' | head -5;",
            "a||b&&c|d;e",
            "> out",
            "2>err cmd <input >>log 1>&2 x",
            "echo 2 >x 3>y >4",
            "cmd --out=dist a,b:c@d%e+f",
            "echo 'a $b \\c `d`' \"x y\"z",
            "echo ''\"\"",
            "> a > b",
            "a >& 1",
        ];
        for text in cases {
            assert_eq!(
                shape(text).map(|s| strip_locations(&s)),
                Some(brush_shape(text)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lines_outside_the_subset_fall_back() {
        let cases = [
            "",
            "   ",
            "echo $HOME",
            "echo `ls`",
            "a\\ b",
            "(ls)",
            "{ ls; }",
            "ls *.rs",
            "ls ~",
            "ls # c",
            "a &",
            "a & b",
            "a |& b",
            "a ;; b",
            "a\nb",
            "a\tb",
            "FOO=1 ls",
            "ls x=1",
            "_x=1",
            "if true",
            "echo done",
            "time ls",
            "ls >| f",
            "cat <<EOF",
            "cat <<<x",
            "a <> b",
            "a <&3",
            "a >&f",
            "12>x ls",
            "echo 'open",
            "echo \"$x\"",
            "echo \"a\\b\"",
            "&& ls",
            "ls &&",
            "ls | ",
            "; ls",
            "ls ;;",
            "ls; ;",
            "ls >",
            "ls > | x",
            "echo é",
            "echo \"!x\"",
            "[[ -f x ]]",
            "! ls",
            "ls ? x",
        ];
        for text in cases {
            assert_eq!(shape(text), None, "{text:?}");
        }
    }
}
