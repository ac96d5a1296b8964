//! Policy types: the contents of a validated config file, and the
//! result of an evaluation.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::budget::BudgetConfig;
use crate::decision::{Category, Decision};
use crate::pricing::PricingConfig;

/// A 1-based line and column in a config file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One entry of a `rules:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A path glob, host or URL glob, tool-name glob or command pattern,
    /// depending on the category.
    pub pattern: String,
    pub decision: Decision,
    /// An exception rule overrides the non-exception rules that match the
    /// same action.
    pub exception: bool,
    /// Text shown to the user along with the decision.
    pub reason: Option<String>,
    /// Position in a list-form `rules:` section; `None` in the map form
    /// (`rules: { "**/.env": deny }`), whose rules are named by pattern.
    pub index: Option<usize>,
}

/// Settings of a category that distinguishes the worktree from the rest of
/// the file system: `file_edit`, `file_read` and `shell_command`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopedSection {
    pub inside_worktree: Option<Decision>,
    pub outside_worktree: Option<Decision>,
    pub rules: Vec<Rule>,
}

/// Settings of a category with one default: `network_access`,
/// `install_packages`, `mcp_tools` and `other`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultSection {
    pub default: Option<Decision>,
    pub rules: Vec<Rule>,
}

/// One `permissions:` section. `None` fields are left to lower layers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyLayer {
    pub file_edit: ScopedSection,
    pub file_read: ScopedSection,
    pub shell_command: ScopedSection,
    pub network_access: DefaultSection,
    pub install_packages: DefaultSection,
    pub mcp_tools: DefaultSection,
    pub other: DefaultSection,
}

/// A borrowed view of one category's section, for code that treats all
/// categories alike.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SectionRef<'a> {
    Scoped(&'a ScopedSection),
    Default(&'a DefaultSection),
}

impl<'a> SectionRef<'a> {
    pub(crate) fn rules(self) -> &'a [Rule] {
        match self {
            SectionRef::Scoped(section) => &section.rules,
            SectionRef::Default(section) => &section.rules,
        }
    }
}

impl PolicyLayer {
    pub(crate) fn section(&self, category: Category) -> SectionRef<'_> {
        match category {
            Category::FileEdit => SectionRef::Scoped(&self.file_edit),
            Category::FileRead => SectionRef::Scoped(&self.file_read),
            Category::ShellCommand => SectionRef::Scoped(&self.shell_command),
            Category::NetworkAccess => SectionRef::Default(&self.network_access),
            Category::InstallPackages => SectionRef::Default(&self.install_packages),
            Category::McpTools => SectionRef::Default(&self.mcp_tools),
            Category::Other => SectionRef::Default(&self.other),
        }
    }
}

/// A named preset under `trust_levels:` in the global config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustLevel {
    pub description: Option<String>,
    /// A built-in preset this one starts from; its own `permissions` are
    /// merged over it.
    pub trust: Option<String>,
    pub permissions: PolicyLayer,
}

/// One entry of `jobs:`, or a job override given at registration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSection {
    /// File name or label used in diagnostics about this section.
    pub source: String,
    /// Key path of this section in its file, such as `jobs.fix-typo`;
    /// empty for a standalone job override.
    pub path: String,
    pub trust: Option<String>,
    /// Position of the `trust:` value, so that an unknown name found at
    /// compile time is reported with its line.
    pub trust_location: Option<Location>,
    pub permissions: PolicyLayer,
    pub budget: Option<BudgetConfig>,
}

/// A validated global or plan config file. An empty file is all defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    /// File name or label used in diagnostics.
    pub source: String,
    /// The plan's name, for display.
    pub plan: Option<String>,
    pub trust: Option<String>,
    pub trust_location: Option<Location>,
    pub permissions: PolicyLayer,
    pub budget: Option<BudgetConfig>,
    pub jobs: BTreeMap<String, JobSection>,
    /// User presets; read only from the global config.
    pub trust_levels: BTreeMap<String, TrustLevel>,
    /// Read only from the global config.
    pub pricing: Option<PricingConfig>,
}

/// The layer of the merged policy a setting or rule came from, lowest
/// priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerName {
    Default,
    Global,
    Plan,
    Job,
}

impl LayerName {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerName::Default => "default",
            LayerName::Global => "global",
            LayerName::Plan => "plan",
            LayerName::Job => "job",
        }
    }

    /// Names the layer in a sentence: "the plan policy".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            LayerName::Default => "the built-in default policy",
            LayerName::Global => "the global policy",
            LayerName::Plan => "the plan policy",
            LayerName::Job => "the job policy",
        }
    }
}

impl fmt::Display for LayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of evaluating one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    /// The layer of the rule or scope default that decided.
    pub layer: LayerName,
    /// The deciding setting, for example
    /// `file_edit.rules[0] "**/.env" (plan)` or
    /// `file_edit.outside_worktree (default)`.
    pub rule: String,
    /// A sentence for the person reviewing the decision.
    pub reason: String,
}
