//! Shell command analysis. STUB: signatures only, the shell branch replaces this.

use std::fmt;
use std::path::PathBuf;

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
    Runs { program: String },
    WritesFile { path: PathBuf },
    ReadsFile { path: PathBuf },
    Network { target: String },
    InstallsPackages { manager: String, packages: Vec<String> },
    ChangesDirectory { path: PathBuf },
    Opaque { reason: String },
}

/// One simple command of a command line, wrappers removed.
#[derive(Debug, Clone, PartialEq)]
pub struct SubCommand {
    /// Program name with any directory stripped (`/usr/bin/npm` is `npm`).
    pub program: String,
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
pub fn analyse(_command: &str, _context: &ShellContext) -> Analysis {
    Analysis { sub_commands: Vec::new(), opaque: vec!["shell analysis is not built yet".into()] }
}

/// A shell rule such as `git push *` or `rm -rf *`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandPattern {
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShellPatternError {
    pub pattern: String,
    pub message: String,
}

impl fmt::Display for ShellPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid command pattern \"{}\": {}", self.pattern, self.message)
    }
}

impl CommandPattern {
    pub fn parse(text: &str) -> Result<CommandPattern, ShellPatternError> {
        Ok(CommandPattern { text: text.to_string() })
    }

    pub fn matches(&self, _command: &SubCommand) -> bool {
        false
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}
