//! Usage figures read from OpenCode events.
//!
//! Three event shapes matter to the ledger (opencode-ai 1.18.33). A
//! `message.updated` with an assistant `info` is a snapshot of one message. A
//! `message.part.updated` with a `step-finish` part has the figures of one
//! model request. A `session.created` or `session.updated` has the `parentID`
//! that ties a child session to its parent. Every other event yields `None`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Token counts of one request or message. `input` excludes cached input;
/// `output` excludes reasoning (OpenCode splits both before reporting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub reasoning: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

impl Tokens {
    /// Sum of all five counts, saturating (a sum that large is not a real bill).
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.reasoning)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Prompt size of the request: fresh input plus cache reads and writes.
    /// Context tiers compare this against their threshold.
    pub fn prompt(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Field-wise checked sum.
    pub fn checked_add(&self, other: &Tokens) -> Option<Tokens> {
        Some(Tokens {
            input: self.input.checked_add(other.input)?,
            output: self.output.checked_add(other.output)?,
            reasoning: self.reasoning.checked_add(other.reasoning)?,
            cache_read: self.cache_read.checked_add(other.cache_read)?,
            cache_write: self.cache_write.checked_add(other.cache_write)?,
        })
    }

    /// Field-wise checked difference.
    pub fn checked_sub(&self, other: &Tokens) -> Option<Tokens> {
        Some(Tokens {
            input: self.input.checked_sub(other.input)?,
            output: self.output.checked_sub(other.output)?,
            reasoning: self.reasoning.checked_sub(other.reasoning)?,
            cache_read: self.cache_read.checked_sub(other.cache_read)?,
            cache_write: self.cache_write.checked_sub(other.cache_write)?,
        })
    }
}

/// Tokens plus the USD the event reported, already in micro-dollars.
/// `cost_micros` is `None` when the event has no `cost` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub tokens: Tokens,
    pub cost_micros: Option<u64>,
}

/// The model that served a message, as OpenCode names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

impl ModelRef {
    /// Appends `provider/model`, the key of the pricing table and of the
    /// per-model totals, to `out`.
    pub fn write_key(&self, out: &mut String) {
        out.push_str(&self.provider);
        out.push('/');
        out.push_str(&self.model);
    }
}

/// A snapshot of an assistant message. In 1.18.33 `cost` is cumulative over
/// the message's steps while `tokens` are those of the last step only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSnapshot {
    pub session_id: String,
    pub message_id: String,
    pub model: ModelRef,
    pub figures: Figures,
    /// `info.time.created`, ms since the epoch.
    pub created_ms: Option<u64>,
    /// `info.time.completed`, ms since the epoch; set once the message is final.
    pub completed_ms: Option<u64>,
}

/// The figures of one model request (`step-finish` part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFinish {
    pub session_id: String,
    pub message_id: String,
    pub part_id: String,
    pub figures: Figures,
    /// `properties.time` of the event, ms since the epoch.
    pub at_ms: Option<u64>,
}

/// A session announcement; `parent_id` is set for child (subagent) sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub session_id: String,
    pub parent_id: Option<String>,
}

/// One usage-relevant event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageEvent {
    Message(MessageSnapshot),
    Step(StepFinish),
    Session(SessionInfo),
}

impl UsageEvent {
    /// Returns the session the event belongs to.
    pub fn session_id(&self) -> &str {
        match self {
            UsageEvent::Message(m) => &m.session_id,
            UsageEvent::Step(s) => &s.session_id,
            UsageEvent::Session(s) => &s.session_id,
        }
    }
}

/// A usage event with a missing or malformed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// The event type, for example `message.updated`.
    pub event_type: String,
    /// Dotted path inside `properties`, for example `info.tokens.input`.
    pub field: String,
    /// The value received, as JSON text, or `missing`.
    pub value: String,
    /// The kind of value the field must contain.
    pub expected: &'static str,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has {} = \"{}\": expected {}",
            self.event_type, self.field, self.value, self.expected
        )
    }
}

impl std::error::Error for UsageError {}

/// Reads the usage in one event. `properties` is the event's `properties`
/// object. Returns `Ok(None)` for events that carry no usage (user messages,
/// other part types, unrelated event types).
pub fn parse_usage(event_type: &str, properties: &Value) -> Result<Option<UsageEvent>, UsageError> {
    let reader = Reader { event_type };
    match event_type {
        "message.updated" => reader.message(properties),
        "message.part.updated" => reader.step(properties),
        "session.created" | "session.updated" => reader.session(properties).map(Some),
        _ => Ok(None),
    }
}

struct Reader<'a> {
    event_type: &'a str,
}

const NON_NEGATIVE_INTEGER: &str = "a non-negative integer";
/// Money is kept in `u64` micro-dollars, which end just above 9.2e12 USD.
const NON_NEGATIVE_NUMBER: &str = "a non-negative number of USD below 9.2e12";
const STRING: &str = "a non-empty string";

impl Reader<'_> {
    fn message(&self, properties: &Value) -> Result<Option<UsageEvent>, UsageError> {
        let info = self.object(properties, "info", "info")?;
        if info.get("role").and_then(Value::as_str) != Some("assistant") {
            return Ok(None);
        }
        let session_id = match info.get("sessionID") {
            Some(_) => self.string(info, "sessionID", "info.sessionID")?,
            None => self.string(properties, "sessionID", "sessionID")?,
        };
        let time = info.get("time");
        Ok(Some(UsageEvent::Message(MessageSnapshot {
            session_id,
            message_id: self.string(info, "id", "info.id")?,
            model: ModelRef {
                provider: self.string(info, "providerID", "info.providerID")?,
                model: self.string(info, "modelID", "info.modelID")?,
            },
            figures: self.figures(info, "info")?,
            created_ms: self.optional_ms(time, "created", "info.time.created")?,
            completed_ms: self.optional_ms(time, "completed", "info.time.completed")?,
        })))
    }

    fn step(&self, properties: &Value) -> Result<Option<UsageEvent>, UsageError> {
        let part = self.object(properties, "part", "part")?;
        if part.get("type").and_then(Value::as_str) != Some("step-finish") {
            return Ok(None);
        }
        Ok(Some(UsageEvent::Step(StepFinish {
            session_id: self.string(part, "sessionID", "part.sessionID")?,
            message_id: self.string(part, "messageID", "part.messageID")?,
            part_id: self.string(part, "id", "part.id")?,
            figures: self.figures(part, "part")?,
            at_ms: self.optional_ms(Some(properties), "time", "time")?,
        })))
    }

    fn session(&self, properties: &Value) -> Result<UsageEvent, UsageError> {
        let info = self.object(properties, "info", "info")?;
        let parent_id = match info.get("parentID") {
            None | Some(Value::Null) => None,
            Some(_) => Some(self.string(info, "parentID", "info.parentID")?),
        };
        Ok(UsageEvent::Session(SessionInfo {
            session_id: self.string(info, "id", "info.id")?,
            parent_id,
        }))
    }

    fn figures(&self, holder: &Value, prefix: &str) -> Result<Figures, UsageError> {
        let tokens_path = format!("{prefix}.tokens");
        let tokens = self.object(holder, "tokens", &tokens_path)?;
        let cache_path = format!("{tokens_path}.cache");
        let cache = self.object(tokens, "cache", &cache_path)?;
        let count = |value: &Value, key: &str, path: &str| self.count(value, key, path);
        let tokens = Tokens {
            input: count(tokens, "input", &format!("{tokens_path}.input"))?,
            output: count(tokens, "output", &format!("{tokens_path}.output"))?,
            reasoning: count(tokens, "reasoning", &format!("{tokens_path}.reasoning"))?,
            cache_read: count(cache, "read", &format!("{cache_path}.read"))?,
            cache_write: count(cache, "write", &format!("{cache_path}.write"))?,
        };
        let cost_micros = match holder.get("cost") {
            None => None,
            Some(value) => Some(self.usd(value, &format!("{prefix}.cost"))?),
        };
        Ok(Figures {
            tokens,
            cost_micros,
        })
    }

    fn error(&self, path: &str, value: Option<&Value>, expected: &'static str) -> UsageError {
        UsageError {
            event_type: self.event_type.to_string(),
            field: path.to_string(),
            value: value.map_or_else(|| "missing".to_string(), Value::to_string),
            expected,
        }
    }

    fn object<'v>(
        &self,
        holder: &'v Value,
        key: &str,
        path: &str,
    ) -> Result<&'v Value, UsageError> {
        match holder.get(key) {
            Some(value) if value.is_object() => Ok(value),
            other => Err(self.error(path, other, "an object")),
        }
    }

    fn string(&self, holder: &Value, key: &str, path: &str) -> Result<String, UsageError> {
        match holder.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
            other => Err(self.error(path, other, STRING)),
        }
    }

    /// Reads a token count: an integer, or a float with no fractional part,
    /// because JSON written by JavaScript may spell `12` as `12.0`.
    fn count(&self, holder: &Value, key: &str, path: &str) -> Result<u64, UsageError> {
        let value = holder.get(key);
        let parsed = value.and_then(|v| {
            v.as_u64().or_else(|| {
                let float = v.as_f64()?;
                let whole = float.is_finite() && float >= 0.0 && float.fract() == 0.0;
                // u64::MAX as f64 rounds up, so `<` keeps the cast exact.
                (whole && float < u64::MAX as f64).then_some(float as u64)
            })
        });
        parsed.ok_or_else(|| self.error(path, value, NON_NEGATIVE_INTEGER))
    }

    fn usd(&self, value: &Value, path: &str) -> Result<u64, UsageError> {
        value
            .as_f64()
            .and_then(usd_to_micros)
            .ok_or_else(|| self.error(path, Some(value), NON_NEGATIVE_NUMBER))
    }

    fn optional_ms(
        &self,
        holder: Option<&Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<u64>, UsageError> {
        match holder.and_then(|h| h.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => holder.map(|h| self.count(h, key, path)).transpose(),
        }
    }
}

/// Converts USD to micro-dollars, rounding to the nearest micro-dollar.
/// `None` for negative, NaN, infinite or unrepresentably large amounts.
pub fn usd_to_micros(usd: f64) -> Option<u64> {
    if !usd.is_finite() || usd < 0.0 {
        return None;
    }
    let micros = (usd * 1_000_000.0).round();
    // 2^63 keeps the cast exact and leaves room for checked sums.
    (micros < 9.2e18).then_some(micros as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usd_rounds_to_nearest_micro() {
        assert_eq!(usd_to_micros(0.00645), Some(6_450));
        assert_eq!(usd_to_micros(0.0000004), Some(0));
        assert_eq!(usd_to_micros(0.0000005), Some(1));
        assert_eq!(usd_to_micros(-0.1), None);
        assert_eq!(usd_to_micros(f64::NAN), None);
        assert_eq!(usd_to_micros(f64::INFINITY), None);
    }

    #[test]
    fn user_messages_carry_no_usage() {
        let props = json!({"sessionID": "s", "info": {"id": "m", "role": "user"}});
        assert_eq!(parse_usage("message.updated", &props), Ok(None));
    }

    #[test]
    fn negative_token_names_the_field() {
        let props = json!({"part": {"type": "step-finish", "id": "p", "messageID": "m", "sessionID": "s",
            "cost": 0, "tokens": {"input": -3, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}}});
        let err = parse_usage("message.part.updated", &props).unwrap_err();
        assert_eq!(err.field, "part.tokens.input");
        assert_eq!(
            err.to_string(),
            "message.part.updated has part.tokens.input = \"-3\": expected a non-negative integer"
        );
    }
}
