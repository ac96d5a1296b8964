//! Shell command analysis: what a command line would run, write, read and
//! reach, read statically and by allowlist.
//!
//! ```
//! use std::path::PathBuf;
//! use mc_governance::shell::{analyse, Effect, ShellContext};
//!
//! let context = ShellContext {
//!     cwd: PathBuf::from("/w/job"),
//!     home: Some(PathBuf::from("/home/u")),
//!     worktree: PathBuf::from("/w/job"),
//! };
//! let analysis = analyse("cd .. && FOO=1 /bin/rm -fr build", &context);
//! let rm = &analysis.sub_commands[1];
//! assert_eq!(rm.program, "rm");
//! assert!(rm.effects.contains(&Effect::WritesFile { path: PathBuf::from("/w/build") }));
//! ```
//!
//! # What is analysed
//!
//! The command line is parsed with brush-parser, or for the common subset
//! of plain words, quotes, `&&`, `||`, `;`, `|` and simple redirections, by
//! a faster front end that builds the same syntax tree. Every simple command,
//! including those inside `&&`, `||`, `;`, `|`, `&`, subshells, groups,
//! loops, `$(...)`, backticks, process substitutions, `bash -c '...'` strings
//! and `find -exec`, becomes one [`SubCommand`], in execution order. Wrappers
//! (`sudo`, `env`, `VAR=value`, `timeout`, `nice`, `nohup`, `time`,
//! `command`, `exec`, `xargs`) are removed so the sub-command names the
//! program that really runs, and each wrapper is listed as a `Runs` effect.
//! `cd` and `pushd` change the directory of the sub-commands that follow,
//! except across subshell and pipeline boundaries.
//!
//! Paths in effects are absolute, normalised against the sub-command's
//! directory and resolved through existing symlinks with [`crate::paths`].
//! Redirections to `/dev/null` and other standard streams add no effect.
//!
//! # Opaque commands
//!
//! Anything the analysis cannot read statically is reported as
//! [`Effect::Opaque`] on its sub-command, or in [`Analysis::opaque`] when it
//! concerns the whole line (a parse error, a function definition, a loader
//! variable exported for later commands). Opaque constructs include `eval`,
//! `source`, inline interpreter code, scripts run by path, programs or paths
//! held in variables, and loader variables such as `LD_PRELOAD` or `PATH`.
//! Programs are classified by allowlist, so a program that is in none of the
//! tables is opaque as well. Build and test runners (`npm test`,
//! `cargo build`, `make`) run project code and are opaque too.
//!
//! # Command patterns
//!
//! A [`CommandPattern`] such as `rm -rf *` has a program, flags and operand
//! globs; see its documentation for the matching rules.

mod archive;
mod arithmetic;
mod command;
mod front;
mod network;
mod options;
mod packages;
mod pattern;
mod programs;
mod quiet;
mod walk;
mod words;

use crate::paths::CachedDisk;
use std::path::PathBuf;

pub use pattern::{CommandPattern, PreparedCommand, ShellPatternError};

/// Where a command runs and what `~` and `$HOME` mean.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellContext {
    pub cwd: PathBuf,
    pub home: Option<PathBuf>,
    pub worktree: PathBuf,
}

/// What one sub-command does.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Runs {
        program: String,
    },
    WritesFile {
        path: PathBuf,
    },
    ReadsFile {
        path: PathBuf,
    },
    Network {
        target: String,
    },
    InstallsPackages {
        manager: String,
        packages: Vec<String>,
    },
    ChangesDirectory {
        path: PathBuf,
    },
    Opaque {
        reason: String,
    },
}

/// One simple command of a command line, wrappers removed.
#[derive(Debug, Clone, PartialEq)]
pub struct SubCommand {
    /// Program name with any directory stripped (`/usr/bin/npm` is `npm`).
    /// Empty for redirections without a command (`> f`) and for the
    /// redirections of a group (`{ ...; } > f`).
    pub program: String,
    /// Arguments after wrappers are removed, with quotes removed and `~`
    /// and `$HOME` expanded; an argument only known at run time is kept as
    /// written.
    pub args: Vec<String>,
    /// Absolute directory the command runs in, after earlier `cd`s.
    pub cwd: PathBuf,
    /// The command as written, wrappers included.
    pub text: String,
    pub effects: Vec<Effect>,
}

/// The result of analysing a whole command line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    pub sub_commands: Vec<SubCommand>,
    /// Reasons the command line as a whole cannot be read (a parse error,
    /// `eval`, ...). Any entry makes the command not provably safe.
    pub opaque: Vec<String>,
}

/// Analyses a command line into sub-commands and their effects.
///
/// `context.cwd` should be absolute and, like `context.worktree`, resolved
/// with [`crate::paths::resolve`], because effect paths are resolved.
pub fn analyse(command: &str, context: &ShellContext) -> Analysis {
    analyse_with(command, context, walk::Front::Fast)
}

/// Analyses like [`analyse`] with brush-parser alone: no fast front end and
/// no fast word expansion. The equivalence tests and the `shell_front` fuzz
/// target compare the two; it is not meant for other use.
#[doc(hidden)]
pub fn analyse_with_brush_parser(command: &str, context: &ShellContext) -> Analysis {
    analyse_with(command, context, walk::Front::BrushParser)
}

/// Like [`analyse`], also returning the file-system lookups the analysis
/// made. The caller's checks of the same paths then need no second system
/// call.
pub(crate) fn analyse_keeping_lookups(command: &str, context: &ShellContext) -> (Analysis, CachedDisk) {
    let (analysis, disk) = walk_line(command, context, walk::Front::Fast);
    (analysis, disk.unwrap_or_default())
}

fn analyse_with(command: &str, context: &ShellContext, front: walk::Front) -> Analysis {
    walk_line(command, context, front).0
}

fn walk_line(command: &str, context: &ShellContext, front: walk::Front) -> (Analysis, Option<CachedDisk>) {
    let mut walker = walk::Walker::new(context, front);
    let mut place = walk::Place {
        cwd: context.cwd.clone(),
        unknown: None,
    };
    walker.source(command, &mut place);
    walker.finish()
}

impl Analysis {
    /// Tells whether any part of the command line is opaque.
    pub fn is_opaque(&self) -> bool {
        !self.opaque.is_empty() || self.sub_commands.iter().any(SubCommand::is_opaque)
    }
}

impl SubCommand {
    /// Tells whether this sub-command has an opaque effect.
    pub fn is_opaque(&self) -> bool {
        self.effects
            .iter()
            .any(|effect| matches!(effect, Effect::Opaque { .. }))
    }

    /// Returns the reasons this sub-command cannot be read statically.
    pub fn opaque_reasons(&self) -> Vec<&str> {
        self.effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Opaque { reason } => Some(reason.as_str()),
                _ => None,
            })
            .collect()
    }
}
