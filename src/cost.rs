//! Cost tracking facade. STUB: the cost branch replaces this.

use crate::budget::BudgetConfig;
use crate::events::UsageEvent;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PricingTable {}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAction {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Extension {
    pub usd: Option<f64>,
    pub tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostError {
    pub message: String,
}

impl fmt::Display for CostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct CostTracker {}

impl CostTracker {
    pub fn new(_pricing: PricingTable) -> CostTracker {
        CostTracker {}
    }
    pub fn configure_job(&mut self, _job: &str, _plan: Option<&str>, _budget: Option<&BudgetConfig>) {}
    pub fn configure_plan(&mut self, _plan: &str, _budget: Option<&BudgetConfig>) {}
    pub fn attach_session(&mut self, _session: &str, _job: &str, _parent: Option<&str>) {}
    pub fn account(&mut self, _job: &str, _usage: &UsageEvent) -> Result<Vec<BudgetAction>, CostError> {
        Ok(Vec::new())
    }
    pub fn extend_job(&mut self, _job: &str, _extension: Extension) -> Result<Vec<BudgetAction>, CostError> {
        Ok(Vec::new())
    }
    pub fn extend_plan(&mut self, _plan: &str, _extension: Extension) -> Result<Vec<BudgetAction>, CostError> {
        Ok(Vec::new())
    }
    pub fn report(&self) -> CostReport {
        CostReport {}
    }
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({"version": 1})
    }
    pub fn restore(_snapshot: &serde_json::Value, pricing: PricingTable) -> Result<CostTracker, CostError> {
        Ok(CostTracker::new(pricing))
    }
}
