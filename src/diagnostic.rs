//! A problem found in user input, located where it was found.

use serde::Serialize;
use std::fmt;

/// One problem in a policy, plan or config file. Validation collects every
/// problem it finds instead of stopping at the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File name, or a label such as `<job override>` for input that has none.
    pub source: String,
    /// 1-based line and column, where the input has them.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted key path, for example `permissions.file_edit.inside_worktree`.
    pub path: String,
    /// One lowercase line saying what is wrong, with the value quoted.
    pub message: String,
    /// How to fix it, for example the accepted values or the nearest valid key.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// Formats a list of diagnostics one per line, as error messages carry them.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
    lines.join("\n")
}

/// A problem found inside a sub-section (such as `budget` or `pricing`) by
/// the module that owns it, before the config loader knows the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Keys from the sub-section's root, for example `["job", "usd"]`.
    pub path: Vec<String>,
    pub message: String,
    pub help: Option<String>,
}
