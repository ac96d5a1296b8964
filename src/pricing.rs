//! Model pricing. STUB: signatures only, the cost branch replaces this.

use crate::diagnostic::FieldProblem;

/// A `pricing:` section of the global config: per-model overrides and an
/// optional models.dev `api.json` file to load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PricingConfig {}

impl PricingConfig {
    pub fn from_value(_value: &serde_json::Value) -> Result<PricingConfig, Vec<FieldProblem>> {
        Ok(PricingConfig::default())
    }
}
