//! Policy engine. STUB: signatures only, the policy branch replaces this.

use crate::budget::BudgetConfig;
use crate::decision::{Action, Decision};
use crate::diagnostic::Diagnostic;
use crate::pricing::PricingConfig;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyLayer {}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobSection {
    pub trust: Option<String>,
    pub permissions: PolicyLayer,
    pub budget: Option<BudgetConfig>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    pub plan: Option<String>,
    pub trust: Option<String>,
    pub permissions: PolicyLayer,
    pub budget: Option<BudgetConfig>,
    pub jobs: BTreeMap<String, JobSection>,
    pub trust_levels: BTreeMap<String, PolicyLayer>,
    pub pricing: Option<PricingConfig>,
}

pub fn parse_config(_text: &str, _source: &str) -> Result<ConfigFile, Vec<Diagnostic>> {
    Ok(ConfigFile::default())
}

pub fn parse_config_value(_value: &serde_json::Value, _source: &str) -> Result<ConfigFile, Vec<Diagnostic>> {
    Ok(ConfigFile::default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    pub layer: LayerName,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    worktree: PathBuf,
}

impl CompiledPolicy {
    pub fn compile(
        _global: Option<&ConfigFile>,
        _plan: Option<&ConfigFile>,
        _jobs: &[&JobSection],
        worktree: &Path,
    ) -> Result<CompiledPolicy, Vec<Diagnostic>> {
        Ok(CompiledPolicy { worktree: worktree.to_path_buf() })
    }

    pub fn evaluate(&self, _action: &Action) -> Verdict {
        let _ = &self.worktree;
        Verdict { decision: Decision::AskUser, layer: LayerName::Default, rule: "stub".into(), reason: "stub".into() }
    }
}
