//! Walks brush-parser's syntax tree in execution order, tracking the working
//! directory, and hands each simple command to `command::run`.

use std::io::BufReader;
use std::path::PathBuf;
use std::rc::Rc;

use brush_parser::ast::{
    AndOr, AndOrList, Command, CommandPrefixOrSuffixItem, CompoundCommand, CompoundList,
    IoFileRedirectKind, IoFileRedirectTarget, IoRedirect, Pipeline, SeparatorOperator,
    SimpleCommand,
};
use brush_parser::{Parser, ParserOptions};

use super::arithmetic;
use super::command::{self, Invocation};
use super::programs::{path_effect, Fixed};
use super::quiet::catch_parser_panic;
use super::words::{self, count_unclosed, has_substitution, Word};
use super::{Analysis, Effect, ShellContext, SubCommand};
use crate::paths::CachedDisk;

/// Maximum nesting of `bash -c`, `$(...)` and similar before the analysis
/// stops and reports the command as opaque.
const MAX_DEPTH: usize = 8;

/// Maximum number of simple commands one analysis walks, nested ones
/// included. Some forms multiply: each root of `find a b -exec find c d
/// -exec ...` runs the inner command once, so a 600-byte line named a
/// million commands. Past the limit the analysis stops and the line is
/// opaque. At 1,024 such a line still took 40 ms, and a real line runs a
/// few dozen.
const MAX_COMMANDS: usize = 256;

/// Maximum bytes of command text that `find -exec` may repeat, summed over
/// its roots and nested clauses, before the analysis stops and the line is
/// opaque. Each root runs the clause again, so a 925-byte line of many
/// roots and long clauses took 22 ms. A real
/// `find src test -exec sed -i 's/a/b/' {} +` repeats under a hundred.
const MAX_REPEATED_BYTES: usize = 16 * 1024;

/// Maximum bytes of costly words (see `words::is_costly`) that one analysis
/// hands to brush-parser's word parser. Such a word costs up to about
/// 30 µs a byte, and the line checks do not stop distinct ones from
/// adding up: 92 variants of one 692-byte word in a 64 KiB line took
/// 1.4 s. Real lines hold a few short ones, such as
/// `"$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"` (46 bytes).
const MAX_COSTLY_WORD_BYTES: usize = 2048;

/// The working directory at one point of the command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Place {
    pub cwd: PathBuf,
    /// Why `cwd` is only a guess (after `cd -` or `cd $DIR`), if it is.
    pub unknown: Option<String>,
}

/// The parser of command lines and words.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Front {
    /// `front::parse` and `words::expand_plain` where they apply,
    /// brush-parser for the rest.
    Fast,
    /// brush-parser only.
    BrushParser,
}

pub(crate) struct Walker<'c> {
    pub context: &'c ShellContext,
    pub analysis: Analysis,
    depth: usize,
    /// Simple commands walked so far; see [`MAX_COMMANDS`].
    commands: usize,
    /// Bytes of command text repeated so far; see [`MAX_REPEATED_BYTES`].
    repeated_bytes: usize,
    /// Bytes of costly words parsed so far; see [`MAX_COSTLY_WORD_BYTES`].
    costly_word_bytes: usize,
    /// Links created so far in the command line; see `Site::links`.
    pub links: Vec<(PathBuf, PathBuf)>,
    /// The parts of every `Site` that do not change during the analysis.
    fixed: Rc<Fixed>,
    front: Front,
}

impl<'c> Walker<'c> {
    /// Counts one more simple command and returns whether to walk it: false
    /// once more than [`MAX_COMMANDS`] were walked, when the analysis has
    /// been made opaque.
    pub(crate) fn take_command(&mut self) -> bool {
        self.commands += 1;
        if self.commands == MAX_COMMANDS + 1 {
            self.analysis.opaque.push(format!("the command line runs more than {MAX_COMMANDS} commands"));
        }
        self.commands <= MAX_COMMANDS
    }

    /// Counts `bytes` more of repeated command text and returns whether to
    /// walk it: false once more than [`MAX_REPEATED_BYTES`] were counted,
    /// when the analysis has been made opaque.
    pub(crate) fn take_repeat(&mut self, bytes: usize) -> bool {
        let reason = || format!("`find -exec` repeats more than {MAX_REPEATED_BYTES} bytes of command text over its roots");
        charge(&mut self.repeated_bytes, bytes, MAX_REPEATED_BYTES, &mut self.analysis.opaque, reason)
    }

    /// Returns whether to hand `text`, a word or an expanding here-document
    /// body, to brush-parser's word parser. A costly one (see
    /// `words::is_costly`) is counted first, and false is returned once more
    /// than [`MAX_COSTLY_WORD_BYTES`] were counted, when the analysis has
    /// been made opaque.
    fn take_costly_word(&mut self, text: &str) -> bool {
        if !words::is_costly(text) {
            return true;
        }
        let reason = || {
            format!("the command line has more than {MAX_COSTLY_WORD_BYTES} bytes of words with 8 or more brackets and quotes, which the parser reads slowly")
        };
        charge(&mut self.costly_word_bytes, text.len(), MAX_COSTLY_WORD_BYTES, &mut self.analysis.opaque, reason)
    }

    pub fn new(context: &'c ShellContext, front: Front) -> Walker<'c> {
        Walker {
            context,
            analysis: Analysis::default(),
            depth: 0,
            commands: 0,
            repeated_bytes: 0,
            costly_word_bytes: 0,
            links: Vec::new(),
            fixed: Rc::new(Fixed {
                home: context.home.clone(),
                worktree: context.worktree.clone(),
                disk: CachedDisk::default(),
            }),
            front,
        }
    }

    /// Ends the walk and returns the analysis with what it read from the
    /// file system (`None` if a `Site` still shares that, which a finished
    /// walk never does).
    pub fn finish(self) -> (Analysis, Option<CachedDisk>) {
        let disk = Rc::try_unwrap(self.fixed).ok().map(|fixed| fixed.disk);
        (self.analysis, disk)
    }

    /// Parses and walks `text`; changes of directory at its top level carry
    /// over into `place`.
    pub fn source(&mut self, text: &str, place: &mut Place) {
        if self.depth >= MAX_DEPTH {
            self.analysis
                .opaque
                .push(format!("commands nested more than {MAX_DEPTH} levels deep"));
            return;
        }
        let program = match self.parse(text) {
            Ok(program) => program,
            Err(reason) => {
                self.analysis.opaque.push(reason);
                return;
            }
        };
        self.depth += 1;
        for list in &program.complete_commands {
            self.list(list, place);
        }
        self.depth -= 1;
    }

    fn parse(&self, text: &str) -> Result<brush_parser::ast::Program, String> {
        // Checked before either parser, so that both refuse the same lines.
        if let Some(reason) = beyond_parser(text) {
            return Err(format!("cannot parse command: {reason}"));
        }
        let fast = match self.front {
            Front::Fast => super::front::parse(text),
            Front::BrushParser => None,
        };
        match fast {
            Some(program) => Ok(program),
            None => parse(text),
        }
    }

    /// Walks `text` as a subshell: its changes of directory stay inside it.
    pub fn subshell(&mut self, text: &str, place: &Place) {
        let mut inner = place.clone();
        self.source(text, &mut inner);
    }

    fn list(&mut self, list: &CompoundList, place: &mut Place) {
        for item in &list.0 {
            match item.1 {
                SeparatorOperator::Sequence => self.and_or(&item.0, place),
                SeparatorOperator::Async => self.and_or(&item.0, &mut place.clone()),
            }
        }
    }

    fn and_or(&mut self, list: &AndOrList, place: &mut Place) {
        self.pipeline(&list.first, place);
        for next in &list.additional {
            match next {
                AndOr::And(pipeline) | AndOr::Or(pipeline) => self.pipeline(pipeline, place),
            }
        }
    }

    /// Each part of a multi-command pipeline runs in its own subshell.
    fn pipeline(&mut self, pipeline: &Pipeline, place: &mut Place) {
        if let [only] = pipeline.seq.as_slice() {
            self.command(only, place);
            return;
        }
        for part in &pipeline.seq {
            self.command(part, &mut place.clone());
        }
    }

    fn command(&mut self, command: &Command, place: &mut Place) {
        match command {
            Command::Simple(simple) => self.simple(simple, place),
            Command::Compound(compound, redirects) => {
                let redirects: Vec<&IoRedirect> =
                    redirects.iter().flat_map(|list| list.0.iter()).collect();
                self.redirect_carrier(&redirects, &compound.to_string(), place);
                self.compound(compound, place);
            }
            Command::Function(function) => {
                let name = &function.fname.value;
                self.analysis
                    .opaque
                    .push(format!("defines shell function `{name}`"));
                self.compound(&function.body.0, &mut place.clone());
            }
            Command::ExtendedTest(test, _) => {
                let text = test.expr.to_string();
                if has_substitution(&text) {
                    self.analysis
                        .opaque
                        .push(format!("command substitution inside `[[ {text} ]]`"));
                } else if let Some(reason) = arithmetic::hidden_in_test(&text) {
                    self.analysis.opaque.push(reason);
                }
            }
        }
    }

    fn compound(&mut self, compound: &CompoundCommand, place: &mut Place) {
        match compound {
            CompoundCommand::Arithmetic(arithmetic) => self.arithmetic(&arithmetic.expr.value),
            CompoundCommand::ArithmeticForClause(clause) => {
                for expr in [&clause.initializer, &clause.condition, &clause.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arithmetic(&expr.value);
                }
                self.branch(&clause.body.list, place);
            }
            CompoundCommand::BraceGroup(group) => self.list(&group.list, place),
            CompoundCommand::Subshell(subshell) => self.list(&subshell.list, &mut place.clone()),
            CompoundCommand::ForClause(clause) => {
                for value in clause.values.iter().flatten() {
                    self.expand(&value.value, place);
                }
                self.branch(&clause.body.list, place);
            }
            CompoundCommand::CaseClause(clause) => {
                self.expand(&clause.value.value, place);
                for item in &clause.cases {
                    if let Some(list) = &item.cmd {
                        self.branch(list, place);
                    }
                }
            }
            CompoundCommand::IfClause(clause) => {
                self.list(&clause.condition, place);
                self.branch(&clause.then, place);
                for other in clause.elses.iter().flatten() {
                    if let Some(condition) = &other.condition {
                        self.branch(condition, place);
                    }
                    self.branch(&other.body, place);
                }
            }
            CompoundCommand::WhileClause(clause) | CompoundCommand::UntilClause(clause) => {
                self.list(&clause.0, place);
                self.branch(&clause.1.list, place);
            }
            CompoundCommand::Coprocess(coprocess) => {
                self.command(&coprocess.body, &mut place.clone())
            }
        }
    }

    /// Walks a list that may or may not run; if it changes directory, the
    /// directory after it is unknown.
    fn branch(&mut self, list: &CompoundList, place: &mut Place) {
        let mut inner = place.clone();
        self.list(list, &mut inner);
        if inner != *place && place.unknown.is_none() {
            place.unknown = Some("the working directory depends on which branch ran".into());
        }
    }

    fn arithmetic(&mut self, expr: &str) {
        if has_substitution(expr) {
            self.analysis
                .opaque
                .push(format!("command substitution inside `(( {expr} ))`"));
        } else if let Some(reason) = arithmetic::hidden_in_arithmetic(expr) {
            // This also holds `( ( rm -rf x ) )`, two subshells in bash,
            // which brush-parser reads as arithmetic.
            self.analysis.opaque.push(reason);
        }
    }

    /// Expands a word and walks its command substitutions.
    fn expand(&mut self, raw: &str, place: &Place) -> Word {
        let plain = match self.front {
            Front::Fast => words::expand_plain(raw),
            Front::BrushParser => None,
        };
        let word = match plain {
            Some(word) => word,
            None => self.expand_with_parser(raw),
        };
        for substitution in &word.substitutions {
            self.subshell(substitution, place);
        }
        if let Some(reason) = &word.hidden {
            self.analysis.opaque.push(reason.clone());
        }
        word
    }

    /// Expands `raw` with brush-parser's word parser, or returns it unread
    /// and unknown once the line's budget of costly words is spent.
    fn expand_with_parser(&mut self, raw: &str) -> Word {
        if !self.take_costly_word(raw) {
            return words::unknown(raw);
        }
        words::expand(raw, self.context.home.as_deref())
    }

    fn simple(&mut self, simple: &SimpleCommand, place: &mut Place) {
        let mut invocation = Invocation {
            text: simple.to_string(),
            ..Invocation::default()
        };
        let prefix = simple.prefix.iter().flat_map(|prefix| prefix.0.iter());
        let suffix = simple.suffix.iter().flat_map(|suffix| suffix.0.iter());
        for item in prefix {
            self.item(item, &mut invocation, place);
        }
        if let Some(name) = &simple.word_or_name {
            let word = self.expand(&name.value, place);
            invocation.words.push(word);
        }
        for item in suffix {
            self.item(item, &mut invocation, place);
        }
        command::run(self, invocation, place);
    }

    fn item(
        &mut self,
        item: &CommandPrefixOrSuffixItem,
        invocation: &mut Invocation,
        place: &Place,
    ) {
        match item {
            CommandPrefixOrSuffixItem::IoRedirect(redirect) => {
                self.redirect(redirect, invocation, place)
            }
            CommandPrefixOrSuffixItem::Word(word) => {
                let word = self.expand(&word.value, place);
                invocation.words.push(word);
            }
            CommandPrefixOrSuffixItem::AssignmentWord(assignment, word) => {
                let value = self.expand(&word.value, place);
                if invocation.words.is_empty() {
                    invocation
                        .assignments
                        .push((assignment.name.to_string(), value));
                } else {
                    invocation.words.push(value);
                }
            }
            CommandPrefixOrSuffixItem::ProcessSubstitution(_, subshell) => {
                self.list(&subshell.list, &mut place.clone());
                invocation.words.push(Word {
                    known: false,
                    ..Word::literal("<(...)")
                });
            }
        }
    }

    fn redirect(&mut self, redirect: &IoRedirect, invocation: &mut Invocation, place: &Place) {
        let effects = &mut invocation.redirect_effects;
        match redirect {
            IoRedirect::File(_, kind, target) => match target {
                IoFileRedirectTarget::Filename(word) | IoFileRedirectTarget::Duplicate(word) => {
                    let word = self.expand(&word.value, place);
                    if is_descriptor(&word.text) {
                        return;
                    }
                    if let Some(target) = network_device(&word.text) {
                        effects.push(Effect::Network { target });
                        return;
                    }
                    let site = self.site(place);
                    let make = redirect_effect(kind);
                    path_effect(&word, &site, make, effects);
                }
                IoFileRedirectTarget::Fd(_) => {}
                IoFileRedirectTarget::ProcessSubstitution(_, subshell) => {
                    self.list(&subshell.list, &mut place.clone());
                }
            },
            IoRedirect::OutputAndError(word, _) => {
                let word = self.expand(&word.value, place);
                if let Some(target) = network_device(&word.text) {
                    effects.push(Effect::Network { target });
                    return;
                }
                let site = self.site(place);
                path_effect(&word, &site, |path| Effect::WritesFile { path }, effects);
            }
            IoRedirect::HereDocument(_, document) => {
                invocation.stdin_is_text = true;
                let text = &document.doc.value;
                if document.requires_expansion && self.take_costly_word(text) {
                    let body = words::heredoc_substitutions(text);
                    for substitution in &body.substitutions {
                        self.subshell(substitution, place);
                    }
                    if let Some(reason) = body.hidden {
                        self.analysis.opaque.push(reason);
                    }
                }
            }
            IoRedirect::HereString(_, word) => {
                invocation.stdin_is_text = true;
                self.expand(&word.value, place);
            }
        }
    }

    /// Records the redirections of a compound command (`{ ...; } > f`) on a
    /// sub-command of its own with an empty program name.
    fn redirect_carrier(&mut self, redirects: &[&IoRedirect], text: &str, place: &Place) {
        if redirects.is_empty() {
            return;
        }
        let mut invocation = Invocation {
            text: text.to_string(),
            ..Invocation::default()
        };
        for redirect in redirects {
            self.redirect(redirect, &mut invocation, place);
        }
        if invocation.redirect_effects.is_empty() {
            return;
        }
        self.analysis.sub_commands.push(SubCommand {
            program: String::new(),
            args: Vec::new(),
            cwd: place.cwd.clone(),
            text: invocation.text,
            effects: invocation.redirect_effects,
        });
    }

    pub fn site(&self, place: &Place) -> super::programs::Site {
        super::programs::Site {
            cwd: place.cwd.clone(),
            links: self.links.clone(),
            fixed: self.fixed.clone(),
        }
    }
}

fn redirect_effect(kind: &IoFileRedirectKind) -> fn(PathBuf) -> Effect {
    match kind {
        IoFileRedirectKind::Read | IoFileRedirectKind::DuplicateInput => {
            |path| Effect::ReadsFile { path }
        }
        IoFileRedirectKind::Write
        | IoFileRedirectKind::Append
        | IoFileRedirectKind::ReadAndWrite
        | IoFileRedirectKind::Clobber
        | IoFileRedirectKind::DuplicateOutput => |path| Effect::WritesFile { path },
    }
}

/// Returns `host:port` for bash's `/dev/tcp/HOST/PORT` and
/// `/dev/udp/HOST/PORT` redirection targets, which open a connection.
fn network_device(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("/dev/tcp/")
        .or_else(|| text.strip_prefix("/dev/udp/"))?;
    let (host, port) = rest.split_once('/').unwrap_or((rest, ""));
    Some(format!("{host}:{port}"))
}

/// Tells whether a `>&` or `<&` target names a file descriptor (`2`, `-`).
fn is_descriptor(text: &str) -> bool {
    text == "-"
        || (!text.is_empty()
            && text
                .trim_end_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit()))
}

/// Adds `bytes` to the budget `used` and returns whether it is still
/// within `max`. The first time it is not, `reason` is added to `opaque`,
/// which makes the analysis opaque.
fn charge(used: &mut usize, bytes: usize, max: usize, opaque: &mut Vec<String>, reason: impl FnOnce() -> String) -> bool {
    let before = *used;
    *used = before.saturating_add(bytes);
    let over = *used > max;
    if over && before <= max {
        opaque.push(reason());
    }
    !over
}

/// Parses a command line. brush-parser may panic on malformed input, so a
/// panic is caught and reported like a parse error. Lines that brush-parser
/// 0.4 cannot parse in bounded time or memory never reach it: `Walker::parse`
/// refuses them first (see [`beyond_parser`]).
fn parse(text: &str) -> Result<brush_parser::ast::Program, String> {
    let options = ParserOptions::default();
    let outcome = catch_parser_panic(|| Parser::new(BufReader::new(text.as_bytes()), &options).parse_program());
    match outcome {
        Some(Ok(program)) => Ok(program),
        Some(Err(error)) => Err(format!("cannot parse command: {error}")),
        None => Err("cannot parse command: the shell parser failed".into()),
    }
}

/// Most `(` left unclosed in a line handed to brush-parser. Its time doubles
/// with each one: 26 take about 2 s on a slow machine, 8 well under 1 ms.
const MAX_UNCLOSED_PARENTHESES: usize = 8;

/// Most `{` left unclosed in a line handed to brush-parser. Several open
/// `${` among extended globs and arithmetic take its word parser up to a
/// second on a slow machine.
const MAX_UNCLOSED_BRACES: usize = 2;

/// Maximum number of `[` left unclosed in a line handed to brush-parser. Its
/// parser tries a word that starts `name[` as an assignment to an array
/// element and reads an unclosed subscript with its arithmetic word parser.
/// There, each further `name[` doubles the time: 8 take 0.4 ms, and 7 among
/// other open expansions took 200 ms in a 443-byte line. Real lines seldom
/// leave more than one open (`tr '[' '{'`).
const MAX_UNCLOSED_BRACKETS: usize = 4;

/// Most parameter expansions with an array subscript (`${name[`) in a line
/// handed to brush-parser. Its word parser takes time exponential in their
/// number when a subscript is left open: on a slow machine three take 2 ms,
/// four 33 ms and six 14 s, closed or nested ones somewhat less.
const MAX_SUBSCRIPTED_EXPANSIONS: usize = 2;

/// Most such expansions in a line that also opens arithmetic or an extended
/// glob, where the word parser is slower still: two inside `$((@((@(` take
/// 27 ms, and each `$[` there doubles that.
const MAX_SUBSCRIPTED_EXPANSIONS_NESTED: usize = 1;

/// Most `$[` (the obsolete form of `$((`) in a line handed to brush-parser.
/// Inside an open `$((@(`, each one doubles its word parser's time: twelve
/// take 2 s on a slow machine.
const MAX_OLD_ARITHMETIC: usize = 1;

/// Deepest nesting of compound commands and parentheses handed to
/// brush-parser. Its parser recurses through several frames per level:
/// about 1,500 nested `{`, `if`, `case`, `while` or `(` overflow the main
/// thread's stack, which aborts the process, and a worker thread's far
/// sooner. Time grows faster than the depth too: 100 nested `case` take a
/// second. Real commands nest a few levels.
const MAX_NESTING: usize = 16;

/// Returns why brush-parser 0.4 must not see `text`, if it must not.
///
/// - Some here-documents (no body, an empty tag such as `<<'' `, `$[`
///   followed by a tab) make its tokenizer allocate until the process
///   aborts, which a panic guard cannot catch. Only plain-word tags pass.
/// - Unclosed `(` make it backtrack exponentially, and so do several
///   expansions with array subscripts or `$[`, and unclosed `{` and `[`.
/// - A subscript left open (`${a[x}`, a bad substitution for bash) makes
///   its word parser read the rest of the line at a high cost per byte.
///   `${a[X}${b[X]}` took 48 ms with 2 KiB of backslashes in each `X`. A
///   776-byte here-document body with two open ones took 46 ms.
/// - Deep nesting overflows its stack (see [`MAX_NESTING`]).
/// - An IO number past `i32::MAX` makes it panic.
/// - A NUL byte ends the command for a real shell, not for the parser.
///
/// The checks read the raw text without regard to quoting, so a quoted
/// `<<''` or many quoted `(` are refused too: such a line is held for the
/// user, never approved.
///
/// NOTE: these, with the word limit of `words::expand`, bound the families
/// of slow lines found so far, not every line. A random search of 10
/// million lines of nested expansions and extended globs
/// (`tests/shell_enumeration.rs`, ignored by default) found a 60-byte line
/// that took 350 ms before the word limit and none above 5 ms after it.
pub(crate) fn beyond_parser(text: &str) -> Option<String> {
    // A shell reads a command as a C string and stops at the first NUL, so
    // it would run less than what the parser reads.
    if text.contains('\0') {
        return Some("the command contains a NUL byte".to_string());
    }
    if let Some(reason) = heredoc_problem(text) {
        return Some(reason.to_string());
    }
    if has_huge_io_number(text) {
        return Some("a redirection names a file descriptor beyond the parser's range".to_string());
    }
    let subscripts = subscript_starts(text);
    let limit = if opens_arithmetic_or_extglob(text) { MAX_SUBSCRIPTED_EXPANSIONS_NESTED } else { MAX_SUBSCRIPTED_EXPANSIONS };
    if subscripts.len() > limit {
        return Some(format!(
            "{} expansions with array subscripts, more than the {limit} the parser handles in bounded time here",
            subscripts.len()
        ));
    }
    let old_arithmetic = text.matches("$[").count();
    if old_arithmetic > MAX_OLD_ARITHMETIC {
        return Some(format!(
            "{old_arithmetic} arithmetic expansions in the obsolete $[ ] form, more than the {MAX_OLD_ARITHMETIC} the parser handles in bounded time"
        ));
    }
    let unclosed = count_unclosed(text, b'(', b')');
    if unclosed > MAX_UNCLOSED_PARENTHESES {
        return Some(format!("{unclosed} unclosed parentheses, more than the {MAX_UNCLOSED_PARENTHESES} the parser handles in bounded time"));
    }
    let unclosed = count_unclosed(text, b'{', b'}');
    if unclosed > MAX_UNCLOSED_BRACES {
        return Some(format!("{unclosed} unclosed braces, more than the {MAX_UNCLOSED_BRACES} the parser handles in bounded time"));
    }
    let unclosed = count_unclosed(text, b'[', b']');
    if unclosed > MAX_UNCLOSED_BRACKETS {
        return Some(format!("{unclosed} unclosed brackets, more than the {MAX_UNCLOSED_BRACKETS} the parser handles in bounded time"));
    }
    if subscripts.iter().any(|&start| is_open_subscript(text, start)) {
        return Some("an expansion's array subscript is not closed with `]` before its `}`, which the parser reads in time that grows with the rest of the line".to_string());
    }
    let depth = nesting_depth(text);
    if depth > MAX_NESTING {
        return Some(format!("compound commands nested {depth} levels deep, more than the {MAX_NESTING} the parser handles safely"));
    }
    None
}

/// Returns the deepest nesting in `text` of the words that open and close
/// compound commands (`{` and `}`, `if` and `fi`, `case` and `esac`,
/// `while`, `until`, `for` or `select` and `done`) plus that of `(` and
/// `)`. Quoting is ignored, and a closer with nothing open counts for
/// nothing, so a `case` pattern's `)` cannot hide a level it did not open.
/// Words are split at blanks and at `;`, `&`, `|`, `<`, `>`, `(` and `)`.
fn nesting_depth(text: &str) -> usize {
    let (mut keywords, mut parentheses, mut deepest) = (0usize, 0usize, 0usize);
    let is_separator = |c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')');
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let length = match rest.find(is_separator) {
            Some(0) => rest.chars().next().map_or(1, char::len_utf8),
            Some(length) => length,
            None => rest.len(),
        };
        match &rest[..length] {
            "(" => parentheses += 1,
            ")" => parentheses = parentheses.saturating_sub(1),
            "{" | "if" | "case" | "while" | "until" | "for" | "select" => keywords += 1,
            "}" | "fi" | "esac" | "done" => keywords = keywords.saturating_sub(1),
            _ => {}
        }
        deepest = deepest.max(keywords + parentheses);
        rest = &rest[length..];
    }
    deepest
}

/// Tells whether ten or more digits run straight into `<` or `>`: an IO
/// number brush-parser 0.4 reads into an `i32` with `unwrap`, so one past
/// `i32::MAX` panics inside it. The panic is caught, but its message would
/// reach the host's standard error.
fn has_huge_io_number(text: &str) -> bool {
    let mut digits = 0;
    for byte in text.bytes() {
        match byte {
            b'0'..=b'9' => digits += 1,
            b'<' | b'>' if digits >= 10 => return true,
            _ => digits = 0,
        }
    }
    false
}

/// Returns the byte offsets just past the `[` of each `${name[` in `text`:
/// a parameter expansion whose name (any run of name and special-parameter
/// characters, possibly empty) is followed by `[`.
fn subscript_starts(text: &str) -> Vec<usize> {
    let is_name = |byte: &u8| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-');
    let mut starts = Vec::new();
    let mut index = 0;
    while let Some(found) = text.get(index..).and_then(|rest| rest.find("${")) {
        index += found + 2;
        let name_length = text.as_bytes().get(index..).unwrap_or_default().iter().take_while(|&byte| is_name(byte)).count();
        if text.as_bytes().get(index + name_length) == Some(&b'[') {
            starts.push(index + name_length + 1);
        }
    }
    starts
}

/// Tells whether the subscript starting at byte `start` of `text` is left
/// open: no `]` brings the bracket depth opened by its `[` back to zero
/// before a `}` ends the expansion. Braces and parentheses opened inside
/// the subscript (`${a[${i}]}`, `${a[$(f)]}`) must close first: a `]`
/// inside them does not close it. Quoting is ignored.
fn is_open_subscript(text: &str, start: usize) -> bool {
    let (mut brackets, mut braces, mut parentheses) = (1usize, 0usize, 0usize);
    for byte in text.as_bytes().get(start..).unwrap_or_default() {
        match byte {
            b'[' => brackets += 1,
            b']' if brackets == 1 && parentheses > 0 => {}
            b']' => brackets -= 1,
            b'(' => parentheses += 1,
            b')' => parentheses = parentheses.saturating_sub(1),
            b'{' => braces += 1,
            b'}' if braces == 0 => return true,
            b'}' => braces -= 1,
            _ => {}
        }
        if brackets == 0 {
            return false;
        }
    }
    true
}

/// Returns why a here-document in `text` is beyond brush-parser 0.4, if
/// one is. Its tokenizer allocates without end when the input ends while a
/// here-document is pending in some states: after an empty tag (`<<'' `),
/// a tag such as `$[` followed by a tab, or `$(<<  E `. So three forms are
/// held. The first is a here-document with no line after its operator. The
/// second is a tag other than a plain word of letters, digits, `_`, `.` and
/// `-` (bare, quoted or after a backslash). The third is a tag after two or
/// more blanks inside `$(`. Real scripts use tags like `EOF` and `'END'`
/// after at most one blank, and a body.
///
/// The operator is the end of a run of `<`: two of them (`<<`, `<<-`), or
/// any run but the three of a here-string (`<<<`). A backslash before the
/// run makes its first `<` a plain character, so `\<<<` ends in `<<`. A
/// `<<` inside `((` is a shift (see `ArithmeticShifts`).
fn heredoc_problem(text: &str) -> Option<&'static str> {
    const TAG: &str = "a here-document tag has a form the parser cannot read in bounded memory";
    const NO_BODY: &str = "a here-document has no body: no line follows its operator";
    let bytes = text.as_bytes();
    // What the checks below need of the whole line, read once: a line of
    // 64 KiB can hold thousands of operators.
    let first_substitution = first_command_substitution(text);
    let shifts = ArithmeticShifts::of(text, first_substitution.is_some());
    let last_newline = text.rfind('\n');

    let mut index = 0;
    while let Some(found) = text.get(index..).and_then(|rest| rest.find("<<")) {
        let run_start = index + found;
        let run_end = run_start + bytes.get(run_start..).unwrap_or_default().iter().take_while(|&&byte| byte == b'<').count();
        index = run_end;
        let backslashes = bytes.get(..run_start).unwrap_or_default().iter().rev().take_while(|&&byte| byte == b'\\').count();
        let operator_length = (run_end - run_start) - backslashes % 2;
        if operator_length < 2 || operator_length == 3 || shifts.is_shift_at(run_start) {
            continue;
        }

        let mut at = run_end;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        let blanks_from = at;
        while bytes.get(at).is_some_and(|byte| matches!(byte, b' ' | b'\t')) {
            at += 1;
        }
        let in_substitution = first_substitution.is_some_and(|opened| opened < run_start);
        if at - blanks_from >= 2 && in_substitution {
            return Some(TAG);
        }
        let rest = bytes.get(at..).unwrap_or_default();
        let end = rest.iter().position(|byte| is_tag_end(*byte)).unwrap_or(rest.len());
        if !is_plain_tag(rest.get(..end).unwrap_or_default()) {
            return Some(TAG);
        }
        if last_newline.is_none_or(|newline| newline < at) {
            return Some(NO_BODY);
        }
    }
    None
}

/// Where a `<<` is a shift inside `((` rather than a here-document. Only
/// lines with no quote, backslash, backtick or command substitution
/// qualify: those could hide or fake a `((`, and the guard must not take a
/// here-document for a shift.
struct ArithmeticShifts {
    /// Positions of `((` and of `))`, as `str::matches` finds them.
    openings: Vec<usize>,
    closings: Vec<usize>,
}

impl ArithmeticShifts {
    fn of(text: &str, has_substitution: bool) -> ArithmeticShifts {
        if has_substitution || text.contains(['\'', '"', '\\', '`']) {
            return ArithmeticShifts { openings: Vec::new(), closings: Vec::new() };
        }
        let positions = |pattern: &str| text.match_indices(pattern).map(|(at, _)| at).collect();
        ArithmeticShifts { openings: positions("(("), closings: positions("))") }
    }

    /// Tells whether the operator at `at` comes after more `((` than `))`.
    fn is_shift_at(&self, at: usize) -> bool {
        let opened = self.openings.partition_point(|&position| position < at);
        let closed = self.closings.partition_point(|&position| position < at);
        opened > closed
    }
}

/// Tells whether `text` opens arithmetic (`((`, `$[`) or an extended glob
/// (`@(`, `+(`, `*(`, `?(`, `!(`), regardless of quoting.
fn opens_arithmetic_or_extglob(text: &str) -> bool {
    ["((", "$[", "@(", "+(", "*(", "?(", "!("].iter().any(|opener| text.contains(opener))
}

/// Returns where the first `$(` that is not the `$((` of arithmetic starts.
fn first_command_substitution(text: &str) -> Option<usize> {
    text.match_indices("$(").map(|(at, _)| at).find(|at| text.as_bytes().get(at + 2) != Some(&b'('))
}

/// Tells whether a here-document tag is `WORD`, `'WORD'`, `"WORD"` or
/// `\WORD` for a non-empty plain word.
fn is_plain_tag(tag: &[u8]) -> bool {
    let word = match tag {
        [b'\'', inner @ .., b'\''] | [b'"', inner @ .., b'"'] => inner,
        [b'\\', inner @ ..] => inner,
        _ => tag,
    };
    !word.is_empty() && word.iter().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

/// Tells whether `byte` ends a here-document tag: white space (carriage
/// return included) or a shell operator character.
fn is_tag_end(byte: u8) -> bool {
    byte.is_ascii_whitespace() || matches!(byte, b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')')
}
