//! Shell rules such as `git push *` or `rm -rf *`.
//!
//! A pattern is split on whitespace into a program, flags and operand globs:
//!
//! - The program is compared with the sub-command's program by basename
//!   (`/usr/bin/env` is `env`) and may be a glob (`*` matches any program).
//!   A pattern naming a wrapper (`sudo *`, `env *`) also matches a
//!   sub-command that ran under that wrapper. Its remaining words are then
//!   matched against the wrapped program and its arguments.
//! - Every word starting with `-` is a flag. Flags are order-free and must all
//!   be present in the command. They are normalised per program, so for `rm`
//!   the spellings `-rf`, `-fr`, `-r -f`, `-R -f` and `--recursive --force`
//!   are the same; for programs without an alias table, clustered short
//!   flags still split (`-rf` is `-r -f`), but long and short spellings stay
//!   distinct. A `git push` refspec starting with `+` counts as `--force`.
//! - The other words are globs (`globset` syntax) matched in order against
//!   the command's operands (its arguments that are not flags). A trailing
//!   `*` matches any remaining operands, including none; elsewhere `*`
//!   matches exactly one operand. Without a trailing `*` the command must
//!   have exactly as many operands as the pattern.
//!
//! - For `git`, `npm`, `pnpm`, `yarn` and `cargo`, global options that take a
//!   value (`git -C dir`) are skipped, and for `npm`, `pnpm`, `bun` and
//!   `cargo` subcommand aliases are unified (`npm i` is `npm install`).
//!
//! NOTE: the value of any other flag, such as `-o FILE`, counts as an
//! operand.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::fmt;

use globset::{Glob, GlobMatcher};

use super::{Effect, SubCommand};

/// A shell rule such as `git push *` or `rm -rf *`.
#[derive(Debug, Clone)]
pub struct CommandPattern {
    text: String,
    program: GlobMatcher,
    flags: BTreeSet<String>,
    operands: Vec<GlobMatcher>,
    /// True when the pattern ends in `*`, which matches any remaining operands.
    open_ended: bool,
}

impl PartialEq for CommandPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A command pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellPatternError {
    pub pattern: String,
    pub message: String,
}

impl fmt::Display for ShellPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid command pattern \"{}\": {}",
            self.pattern, self.message
        )
    }
}

impl std::error::Error for ShellPatternError {}

/// Canonical names of equivalent flag spellings, per program. A one-letter
/// key is a short flag and a longer key a long flag.
const FLAG_ALIASES: &[(&str, &[(&str, &str)])] = &[
    (
        "rm",
        &[
            ("r", "recursive"),
            ("R", "recursive"),
            ("recursive", "recursive"),
            ("f", "force"),
            ("force", "force"),
            ("i", "interactive"),
            ("interactive", "interactive"),
            ("d", "dir"),
            ("dir", "dir"),
            ("v", "verbose"),
            ("verbose", "verbose"),
        ],
    ),
    (
        "cp",
        &[
            ("r", "recursive"),
            ("R", "recursive"),
            ("recursive", "recursive"),
            ("f", "force"),
            ("force", "force"),
            ("a", "archive"),
            ("archive", "archive"),
            ("n", "no-clobber"),
            ("no-clobber", "no-clobber"),
            ("v", "verbose"),
            ("verbose", "verbose"),
        ],
    ),
    (
        "mv",
        &[
            ("f", "force"),
            ("force", "force"),
            ("i", "interactive"),
            ("interactive", "interactive"),
            ("n", "no-clobber"),
            ("no-clobber", "no-clobber"),
            ("v", "verbose"),
            ("verbose", "verbose"),
        ],
    ),
    (
        "chmod",
        &[
            ("R", "recursive"),
            ("recursive", "recursive"),
            ("v", "verbose"),
            ("verbose", "verbose"),
            ("f", "silent"),
            ("silent", "silent"),
            ("quiet", "silent"),
        ],
    ),
    (
        "chown",
        &[
            ("R", "recursive"),
            ("recursive", "recursive"),
            ("v", "verbose"),
            ("verbose", "verbose"),
            ("f", "silent"),
            ("silent", "silent"),
            ("quiet", "silent"),
        ],
    ),
    (
        "chgrp",
        &[
            ("R", "recursive"),
            ("recursive", "recursive"),
            ("v", "verbose"),
            ("verbose", "verbose"),
        ],
    ),
    (
        "mkdir",
        &[
            ("p", "parents"),
            ("parents", "parents"),
            ("v", "verbose"),
            ("verbose", "verbose"),
        ],
    ),
    (
        "ln",
        &[
            ("s", "symbolic"),
            ("symbolic", "symbolic"),
            ("f", "force"),
            ("force", "force"),
        ],
    ),
    (
        "sed",
        &[
            ("i", "in-place"),
            ("in-place", "in-place"),
            ("n", "quiet"),
            ("quiet", "quiet"),
            ("silent", "quiet"),
            ("E", "regexp-extended"),
            ("r", "regexp-extended"),
            ("regexp-extended", "regexp-extended"),
        ],
    ),
    (
        "git",
        &[
            ("f", "force"),
            ("force", "force"),
            ("force-with-lease", "force"),
            ("force-if-includes", "force"),
            ("d", "delete"),
            ("delete", "delete"),
            ("u", "set-upstream"),
            ("set-upstream", "set-upstream"),
            ("n", "dry-run"),
            ("dry-run", "dry-run"),
            ("a", "all"),
            ("all", "all"),
            ("q", "quiet"),
            ("quiet", "quiet"),
        ],
    ),
    (
        "npm",
        &[
            ("g", "global"),
            ("global", "global"),
            ("D", "save-dev"),
            ("save-dev", "save-dev"),
            ("E", "save-exact"),
            ("save-exact", "save-exact"),
            ("f", "force"),
            ("force", "force"),
        ],
    ),
    (
        "pnpm",
        &[
            ("g", "global"),
            ("global", "global"),
            ("D", "save-dev"),
            ("save-dev", "save-dev"),
        ],
    ),
    ("yarn", &[("D", "dev"), ("dev", "dev")]),
    (
        "curl",
        &[
            ("s", "silent"),
            ("silent", "silent"),
            ("L", "location"),
            ("location", "location"),
            ("k", "insecure"),
            ("insecure", "insecure"),
        ],
    ),
];

fn aliases(program: &str) -> &'static [(&'static str, &'static str)] {
    FLAG_ALIASES
        .iter()
        .find(|(name, _)| *name == program)
        .map(|(_, table)| *table)
        .unwrap_or_default()
}

/// Returns the canonical names of one flag word: `-rf` gives two names.
fn canonical_flags(program: &str, word: &str) -> Vec<String> {
    let table = aliases(program);
    let lookup = |key: &str, spelled: String| {
        table
            .iter()
            .find(|(alias, _)| *alias == key)
            .map(|(_, canonical)| format!("--{canonical}"))
            .unwrap_or(spelled)
    };
    if let Some(long) = word.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or(long);
        let name = expand_abbreviation(table, name);
        return vec![lookup(name, format!("--{name}"))];
    }
    let letters = word.get(1..).unwrap_or_default();
    let mut flags = Vec::new();
    for letter in letters.chars() {
        let key = letter.to_string();
        flags.push(lookup(&key, format!("-{letter}")));
        // `sed -i.bak`: the rest of the word is a backup suffix.
        if program == "sed" && letter == 'i' {
            break;
        }
    }
    flags
}

/// Expands a long option abbreviated as getopt allows (`--rec` for
/// `--recursive`) when the prefix names exactly one long option of the table.
fn expand_abbreviation<'a>(table: &'a [(&'a str, &'a str)], name: &'a str) -> &'a str {
    if name.len() < 2 || table.iter().any(|(alias, _)| *alias == name) {
        return name;
    }
    let mut matches = table.iter().filter(|(alias, _)| alias.len() > 1 && alias.starts_with(name));
    match (matches.next(), matches.next()) {
        (Some((alias, _)), None) => alias,
        _ => name,
    }
}

fn is_flag(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-')
}

fn glob(pattern: &str, word: &str) -> Result<GlobMatcher, ShellPatternError> {
    Glob::new(word)
        .map(|glob| glob.compile_matcher())
        .map_err(|error| ShellPatternError {
            pattern: pattern.to_string(),
            message: format!("invalid glob \"{word}\": {error}"),
        })
}

fn basename(word: &str) -> &str {
    word.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(word)
}

/// A command's flags and operands, as the pattern compares them.
struct Shape {
    flags: BTreeSet<String>,
    operands: Vec<String>,
}

/// A sub-command being matched against many patterns. Its argument shapes
/// are computed on first use and then shared by every pattern.
pub struct PreparedCommand<'c> {
    command: &'c SubCommand,
    /// The shape of the program's own arguments.
    direct: OnceCell<Shape>,
    /// The shape of the whole command line, for patterns that name a
    /// program the sub-command runs under a wrapper.
    wrapped: OnceCell<Shape>,
}

impl<'c> PreparedCommand<'c> {
    pub fn new(command: &'c SubCommand) -> PreparedCommand<'c> {
        PreparedCommand { command, direct: OnceCell::new(), wrapped: OnceCell::new() }
    }
}

/// Global options that take a value and come before the subcommand, so
/// `git -C dir push` still has `push` as its first operand.
const GLOBAL_VALUE_OPTIONS: &[(&str, &[&str])] = &[
    (
        "git",
        &[
            "-C",
            "-c",
            "--git-dir",
            "--work-tree",
            "--namespace",
            "--exec-path",
            "--config-env",
        ],
    ),
    ("npm", &["--prefix", "-C", "--workspace", "-w"]),
    ("pnpm", &["--dir", "-C", "--filter", "-F"]),
    ("yarn", &["--cwd"]),
    ("cargo", &["-C", "--manifest-path", "-Z", "--config"]),
];

/// Subcommand spellings that mean the same, per program.
const SUBCOMMAND_ALIASES: &[(&str, &[(&str, &str)])] = &[
    (
        "npm",
        &[
            ("i", "install"),
            ("in", "install"),
            ("ins", "install"),
            ("inst", "install"),
            ("isntall", "install"),
            ("add", "install"),
            ("rm", "uninstall"),
            ("r", "uninstall"),
            ("un", "uninstall"),
            ("remove", "uninstall"),
            ("t", "test"),
            ("tst", "test"),
            ("run-script", "run"),
            ("x", "exec"),
        ],
    ),
    (
        "pnpm",
        &[
            ("i", "install"),
            ("rm", "remove"),
            ("un", "remove"),
            ("uninstall", "remove"),
            ("t", "test"),
        ],
    ),
    ("bun", &[("i", "install"), ("rm", "remove")]),
    (
        "cargo",
        &[
            ("b", "build"),
            ("t", "test"),
            ("r", "run"),
            ("c", "check"),
            ("d", "doc"),
            ("rm", "remove"),
        ],
    ),
];

fn canonical_subcommand(program: &str, word: &str) -> String {
    SUBCOMMAND_ALIASES
        .iter()
        .find(|(name, _)| *name == program)
        .and_then(|(_, table)| table.iter().find(|(alias, _)| *alias == word))
        .map(|(_, canonical)| canonical.to_string())
        .unwrap_or_else(|| word.to_string())
}

fn takes_global_value(program: &str, arg: &str) -> bool {
    GLOBAL_VALUE_OPTIONS
        .iter()
        .find(|(name, _)| *name == program)
        .is_some_and(|(_, options)| options.contains(&arg))
}

fn shape(program: &str, args: &[String]) -> Shape {
    let mut flags = BTreeSet::new();
    let mut operands: Vec<String> = Vec::new();
    let mut after_separator = false;
    let mut skip_value = false;
    for arg in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        if after_separator || !is_flag(arg) {
            let is_force_refspec = program == "git"
                && arg.starts_with('+')
                && operands.first().is_some_and(|first| first == "push");
            if is_force_refspec {
                flags.insert("--force".to_string());
            }
            let operand = if operands.is_empty() {
                canonical_subcommand(program, arg)
            } else {
                arg.clone()
            };
            operands.push(operand);
        } else if arg == "--" {
            after_separator = true;
        } else {
            skip_value = operands.is_empty() && takes_global_value(program, arg);
            flags.extend(canonical_flags(program, arg));
        }
    }
    Shape { flags, operands }
}

impl CommandPattern {
    /// Compiles a pattern such as `git push *`.
    pub fn parse(text: &str) -> Result<CommandPattern, ShellPatternError> {
        let mut words = text.split_whitespace();
        let Some(program_word) = words.next() else {
            return Err(ShellPatternError {
                pattern: text.to_string(),
                message: "the pattern is empty; expected a program name such as \"git push *\""
                    .into(),
            });
        };
        let program_name = basename(program_word);
        let program = glob(text, program_name)?;
        let rest: Vec<&str> = words.collect();
        let open_ended = rest.last() == Some(&"*");
        let body = if open_ended {
            rest.get(..rest.len() - 1).unwrap_or_default()
        } else {
            rest.as_slice()
        };
        let mut flags = BTreeSet::new();
        let mut operands = Vec::new();
        for word in body {
            if is_flag(word) && *word != "--" {
                flags.extend(canonical_flags(program_name, word));
            } else {
                let word = if operands.is_empty() {
                    canonical_subcommand(program_name, word)
                } else {
                    word.to_string()
                };
                operands.push(glob(text, &word)?);
            }
        }
        Ok(CommandPattern {
            text: text.to_string(),
            program,
            flags,
            operands,
            open_ended,
        })
    }

    /// Tells whether the sub-command matches; see the module documentation.
    pub fn matches(&self, command: &SubCommand) -> bool {
        self.matches_prepared(&PreparedCommand::new(command))
    }

    /// Like [`CommandPattern::matches`], reusing the argument shapes that
    /// earlier patterns computed for the same sub-command.
    pub fn matches_prepared(&self, prepared: &PreparedCommand) -> bool {
        let command = prepared.command;
        if self.program.is_match(&command.program) {
            let direct = prepared.direct.get_or_init(|| shape(&command.program, &command.args));
            return self.matches_shape(direct);
        }
        let ran_under_wrapper = command.effects.iter().any(|effect| {
            matches!(effect, Effect::Runs { program } if program != &command.program && self.program.is_match(program))
        });
        if !ran_under_wrapper {
            return false;
        }
        let wrapped = prepared.wrapped.get_or_init(|| {
            let mut words = vec![command.program.clone()];
            words.extend(command.args.iter().cloned());
            shape("", &words)
        });
        self.matches_shape(wrapped)
    }

    fn matches_shape(&self, shape: &Shape) -> bool {
        if !self.flags.is_subset(&shape.flags) {
            return false;
        }
        if shape.operands.len() < self.operands.len() {
            return false;
        }
        if !self.open_ended && shape.operands.len() != self.operands.len() {
            return false;
        }
        self.operands
            .iter()
            .zip(&shape.operands)
            .all(|(pattern, operand)| pattern.is_match(operand))
    }

    /// Returns the pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Returns the program name when the pattern names one without glob
    /// characters. Such a pattern can only match a sub-command that runs a
    /// program of exactly that name, itself or under a wrapper.
    pub fn literal_program(&self) -> Option<&str> {
        let program = self.program.glob().glob();
        let is_literal = !program.contains(['*', '?', '[', ']', '{', '}', '\\']);
        is_literal.then_some(program)
    }

    /// Returns the names of the programs `command` runs: its own and those of
    /// the wrappers' `Runs` effects, which [`CommandPattern::matches`] tries.
    pub fn programs_of(command: &SubCommand) -> impl Iterator<Item = &str> {
        let wrapped = command.effects.iter().filter_map(|effect| match effect {
            Effect::Runs { program } => Some(program.as_str()),
            _ => None,
        });
        std::iter::once(command.program.as_str()).chain(wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn command(program: &str, args: &str) -> SubCommand {
        SubCommand {
            program: program.to_string(),
            args: args.split_whitespace().map(str::to_string).collect(),
            cwd: PathBuf::from("/w"),
            text: format!("{program} {args}"),
            effects: vec![Effect::Runs {
                program: program.to_string(),
            }],
        }
    }

    #[test]
    fn patterns_match_table_cases() {
        let cases = [
            ("rm -rf *", "rm", "-rf x", true),
            ("rm -rf *", "rm", "-fr x", true),
            ("rm -rf *", "rm", "-r -f x", true),
            ("rm -rf *", "rm", "--recursive --force x", true),
            ("rm -rf *", "rm", "-R --force a b", true),
            ("rm -rf *", "rm", "-rfv", true),
            ("rm -rf *", "rm", "-r x", false),
            ("rm -rf *", "rm", "x", false),
            ("rm -rf *", "rmdir", "-rf x", false),
            ("rm *", "rm", "", true),
            ("rm", "rm", "", true),
            ("rm", "rm", "x", false),
            ("git push *", "git", "push", true),
            ("git push *", "git", "push --force origin main", true),
            ("git push *", "git", "pull origin", false),
            ("git push --force *", "git", "push -f origin", true),
            ("git push --force *", "git", "push --force-with-lease", true),
            ("git push --force *", "git", "push origin +main", true),
            ("git push --force *", "git", "push origin main", false),
            ("git push origin *", "git", "push upstream main", false),
            ("npm install *", "npm", "install lodash", true),
            ("npm install *", "npm", "run build", false),
            ("curl *", "curl", "-s https://example.com", true),
            ("/usr/bin/env *", "env", "", true),
            ("* --version", "node", "--version", true),
            ("chmod -R *", "chmod", "--recursive 755 dir", true),
            ("cp -r src/* *", "cp", "-R src/a dest", true),
            ("cp -r src/* *", "cp", "-R lib/a dest", false),
            ("mytool -rf *", "mytool", "-fr x", true),
            ("mytool --recursive *", "mytool", "-r x", false),
            ("git commit -m *", "git", "commit -m msg", true),
            ("git push *", "git", "-C /tmp/r push", true),
            ("git push *", "git", "-c a=b push origin", true),
            ("npm install *", "npm", "i lodash", true),
            ("npm i *", "npm", "install lodash", true),
            ("npm install *", "npm", "--prefix web add zod", true),
            ("cargo test *", "cargo", "t --release", true),
            ("rm -rf *", "rm", "-- -rf", false),
        ];
        for (pattern, program, args, expected) in cases {
            let compiled = CommandPattern::parse(pattern).unwrap();
            assert_eq!(
                compiled.matches(&command(program, args)),
                expected,
                "{pattern:?} against `{program} {args}`"
            );
        }
    }

    #[test]
    fn wrapper_pattern_matches_wrapped_command() {
        let mut sub = command("rm", "-rf x");
        sub.effects.insert(
            0,
            Effect::Runs {
                program: "sudo".into(),
            },
        );
        assert!(CommandPattern::parse("sudo *").unwrap().matches(&sub));
        assert!(CommandPattern::parse("sudo rm *").unwrap().matches(&sub));
        assert!(!CommandPattern::parse("sudo ls *").unwrap().matches(&sub));
        assert!(!CommandPattern::parse("env *").unwrap().matches(&sub));
    }

    #[test]
    fn empty_pattern_is_rejected() {
        let error = CommandPattern::parse("  ").unwrap_err();
        assert_eq!(error.pattern, "  ");
        assert!(error.to_string().starts_with("invalid command pattern"));
    }

    #[test]
    fn invalid_glob_is_rejected() {
        let error = CommandPattern::parse("rm [z-a").unwrap_err();
        assert!(error.message.contains("[z-a"), "{}", error.message);
    }

    #[test]
    fn as_str_returns_text() {
        assert_eq!(
            CommandPattern::parse("git push *").unwrap().as_str(),
            "git push *"
        );
    }
}
