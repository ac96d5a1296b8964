//! Budgets. STUB: signatures only, the cost branch replaces this.

use crate::diagnostic::FieldProblem;

/// Caps, warning thresholds and the response to exceeding them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetConfig {}

impl BudgetConfig {
    /// Reads a `budget:` section (snake_case or camelCase keys).
    pub fn from_value(_value: &serde_json::Value) -> Result<BudgetConfig, Vec<FieldProblem>> {
        Ok(BudgetConfig::default())
    }
}
