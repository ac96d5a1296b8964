//! Usage events. STUB: the cost branch replaces this.

use super::EventError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum UsageEvent {}

pub fn parse_usage(_event_type: &str, _properties: &Value) -> Result<Option<UsageEvent>, EventError> {
    Ok(None)
}
