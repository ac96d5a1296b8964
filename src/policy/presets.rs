//! The built-in safe default and the built-in trust levels. Each is a full
//! policy: every scope default is set, and none has rules.

use crate::decision::Decision::{self, AskUser, AutoApprove, Deny};

use super::model::{DefaultSection, PolicyLayer, ScopedSection};

/// Names of the built-in trust levels, least trusting first.
pub const BUILTIN_TRUST_LEVELS: [&str; 3] = ["restricted", "standard", "elevated"];

/// Returns the policy that applies when no config sets anything (layer
/// `default`). It equals the `standard` trust level.
pub fn safe_default() -> PolicyLayer {
    standard()
}

/// Returns the built-in trust level called `name`, if there is one.
pub fn builtin_trust_level(name: &str) -> Option<PolicyLayer> {
    match name {
        "restricted" => Some(restricted()),
        "standard" => Some(standard()),
        "elevated" => Some(elevated()),
        _ => None,
    }
}

/// For small, well-understood jobs such as a typo fix: edits stay in the
/// worktree, every command is reviewed, and nothing is fetched or installed.
fn restricted() -> PolicyLayer {
    PolicyLayer {
        file_edit: scoped(AutoApprove, Deny),
        file_read: scoped(AutoApprove, Deny),
        shell_command: scoped(AskUser, Deny),
        network_access: fixed(Deny),
        install_packages: fixed(Deny),
        mcp_tools: fixed(AskUser),
        other: fixed(AskUser),
    }
}

fn standard() -> PolicyLayer {
    PolicyLayer {
        file_edit: scoped(AutoApprove, Deny),
        file_read: scoped(AutoApprove, AskUser),
        shell_command: scoped(AutoApprove, AskUser),
        network_access: fixed(Deny),
        install_packages: fixed(AskUser),
        mcp_tools: fixed(AutoApprove),
        other: fixed(AskUser),
    }
}

/// For feature work that needs new dependencies: installs go through, and
/// network access and edits outside the worktree are asked about instead of
/// denied.
fn elevated() -> PolicyLayer {
    PolicyLayer {
        file_edit: scoped(AutoApprove, AskUser),
        file_read: scoped(AutoApprove, AskUser),
        shell_command: scoped(AutoApprove, AskUser),
        network_access: fixed(AskUser),
        install_packages: fixed(AutoApprove),
        mcp_tools: fixed(AutoApprove),
        other: fixed(AskUser),
    }
}

fn scoped(inside: Decision, outside: Decision) -> ScopedSection {
    ScopedSection { inside_worktree: Some(inside), outside_worktree: Some(outside), rules: Vec::new() }
}

fn fixed(decision: Decision) -> DefaultSection {
    DefaultSection { default: Some(decision), rules: Vec::new() }
}
