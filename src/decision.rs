//! Types shared by classification, policy evaluation and the decision log.

use serde::{Deserialize, Serialize};

/// The outcome of a permission request, ordered so that the strictest
/// decision is the maximum: `AutoApprove < AskUser < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    AutoApprove,
    AskUser,
    Deny,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::AutoApprove, Decision::AskUser, Decision::Deny];

    /// Returns the spelling used in policy files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::AutoApprove => "auto-approve",
            Decision::AskUser => "ask-user",
            Decision::Deny => "deny",
        }
    }

    /// Parses the policy spelling; `None` for anything else.
    pub fn parse(text: &str) -> Option<Decision> {
        match text {
            "auto-approve" => Some(Decision::AutoApprove),
            "ask-user" => Some(Decision::AskUser),
            "deny" => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// What kind of access an action needs. Policy files name these in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    FileEdit,
    FileRead,
    ShellCommand,
    NetworkAccess,
    InstallPackages,
    McpTools,
    /// A permission OpenCode requests that none of the categories above covers
    /// (for example `doom_loop` or `task`).
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::FileEdit,
        Category::FileRead,
        Category::ShellCommand,
        Category::NetworkAccess,
        Category::InstallPackages,
        Category::McpTools,
        Category::Other,
    ];

    /// Returns the snake_case key used in policy files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::FileEdit => "file_edit",
            Category::FileRead => "file_read",
            Category::ShellCommand => "shell_command",
            Category::NetworkAccess => "network_access",
            Category::InstallPackages => "install_packages",
            Category::McpTools => "mcp_tools",
            Category::Other => "other",
        }
    }
}

/// Where a file or shell action happens relative to the job's worktree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    InsideWorktree,
    OutsideWorktree,
}

/// One thing a permission request would let the agent do. A request usually
/// yields one action; a compound shell command yields one per effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub category: Category,
    /// Set for `FileEdit`, `FileRead` and `ShellCommand`; `None` elsewhere.
    pub scope: Option<Scope>,
    /// What the action touches: an absolute normalised path, a URL or host,
    /// an MCP tool name, or a command's text.
    pub target: String,
    /// The analysed sub-command for shell and install actions, which shell
    /// rules match against.
    pub command: Option<crate::shell::SubCommand>,
    /// The reason this action cannot be read statically, if it cannot. An
    /// opaque action is never auto-approved, whatever the rules decide.
    pub opaque: Option<String>,
}
