//! OpenCode server events: the envelope, permission requests and tool calls.
//! Usage events (messages, step parts, sessions) are read by `usage`.

mod borrowed;
pub mod permission;
pub mod usage;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

pub use permission::{PermissionMetadata, PermissionRequest, PermissionShape, ToolCall, ToolInput};
pub use usage::{UsageError, UsageEvent};

/// Maximum event size accepted, in bytes of JSON text. An edit's diff makes
/// the largest OpenCode events, and they stay far below this. A bigger event
/// is more likely a broken stream than a real one.
pub const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// An event the governor acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Permission(PermissionRequest),
    ToolCall(ToolCall),
    Usage { event_type: String, usage: UsageEvent },
    /// Any other event type, kept by name so callers can count what they skip.
    Other { event_type: String },
}

impl Event {
    /// Returns the event type as OpenCode spells it, or the kind for parsed variants.
    pub fn type_name(&self) -> &str {
        match self {
            Event::Permission(request) => request.shape.event_type(),
            Event::ToolCall(_) => "message.part.updated",
            Event::Usage { event_type, .. } => event_type,
            Event::Other { event_type } => event_type,
        }
    }
}

/// A malformed event: what is wrong and where in the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// The event type, when it could be read.
    pub event_type: Option<String>,
    pub message: String,
}

impl EventError {
    pub fn new(event_type: Option<&str>, message: impl Into<String>) -> EventError {
        EventError { event_type: event_type.map(str::to_string), message: message.into() }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.event_type {
            Some(event_type) => write!(f, "invalid {event_type} event: {}", self.message),
            None => write!(f, "invalid event: {}", self.message),
        }
    }
}

impl std::error::Error for EventError {}

impl From<UsageError> for EventError {
    fn from(error: UsageError) -> EventError {
        let message = format!("field \"{}\" is \"{}\", expected {}", error.field, error.value, error.expected);
        EventError { event_type: Some(error.event_type), message }
    }
}

/// Parses one event from JSON text. Accepts a bare JSON object and an SSE
/// line of the form `data: {...}`.
pub fn parse_event_text(text: &str) -> Result<Event, EventError> {
    if text.len() > MAX_EVENT_BYTES {
        let message = format!("event is {} bytes, more than the limit of {MAX_EVENT_BYTES}", text.len());
        return Err(EventError::new(None, message));
    }

    let trimmed = text.trim();
    let json = trimmed.strip_prefix("data:").map(str::trim_start).unwrap_or(trimmed);
    parse_envelope_text(json, 0)
}

/// Parses event text like [`parse_event_text`], but always through a
/// `serde_json::Value`, never through the borrowed reader. Both return the
/// same result for every text, except that this one fails on nesting deeper
/// than 128 levels, numbers beyond the range of an `f64` and unpaired
/// surrogate escapes, even in fields the borrowed reader skips
/// ([`is_value_limit`] identifies those errors); tests and fuzzing compare them.
#[doc(hidden)]
pub fn parse_event_text_by_value(text: &str) -> Result<Event, EventError> {
    if text.len() > MAX_EVENT_BYTES {
        return parse_event_text(text);
    }
    let trimmed = text.trim();
    let json = trimmed.strip_prefix("data:").map(str::trim_start).unwrap_or(trimmed);
    let not_json = |error| not_json(json, error);
    parse_event(&serde_json::from_str::<Value>(json).map_err(not_json)?)
}

/// The object key serde_json reserves for raw values: building a `Value`
/// from an object whose first key is this one fails, although the JSON is
/// valid.
const RESERVED_KEY: &str = "\"$serde_json::private::RawValue\"";

/// Describes why `json` did not parse into a `Value`.
fn not_json(json: &str, error: serde_json::Error) -> EventError {
    if json.contains(RESERVED_KEY) {
        let message = format!("cannot read the event: it holds the key {RESERVED_KEY}, which serde_json reserves ({error})");
        return EventError::new(None, message);
    }
    EventError::new(None, format!("not valid JSON: {error}"))
}

/// Tells whether `error` comes from a check that building a
/// `serde_json::Value` makes and skipping a field does not: nesting deeper
/// than 128 levels, numbers beyond an `f64`, `\u` escapes that are half
/// of a surrogate pair, and serde_json's reserved raw-value key. These are
/// the only cases where the two readers may
/// disagree.
#[doc(hidden)]
pub fn is_value_limit(error: &EventError) -> bool {
    let message = &error.message;
    // serde_json reports a leading surrogate without its trailing half as
    // either of the last two.
    let limits = ["recursion limit exceeded", "number out of range", "surrogate", "unexpected end of hex escape", "serde_json reserves"];
    limits.iter().any(|limit| message.contains(limit))
}

/// Event types the governor acts on. Text events of any other type are
/// recognised from their envelope alone, without building their properties.
const GOVERNED_TYPES: [&str; 7] = [
    "permission.asked",
    "permission.updated",
    "permission.v2.asked",
    "message.updated",
    "message.part.updated",
    "session.created",
    "session.updated",
];

/// The outer fields of an event, borrowed from its text.
#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(rename = "type", borrow, default)]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

/// Parses event text through its envelope: the properties of governed event
/// types are read by `borrowed`, and become a `Value` only when that reader
/// declines them. `depth` counts `/global/event`
/// wrappers, of which one is expected.
fn parse_envelope_text(json: &str, depth: usize) -> Result<Event, EventError> {
    let not_json = |error| not_json(json, error);
    // serde reads a struct from a JSON array too, so only objects take the
    // envelope path. Anything else goes to the value parser, which says why
    // it is not an event.
    if !json.starts_with('{') {
        return parse_event(&serde_json::from_str::<Value>(json).map_err(not_json)?);
    }
    if let Some(event) = borrowed::parse_envelope(json, &GOVERNED_TYPES) {
        return Ok(event);
    }
    let parsed = serde_json::from_str::<RawEnvelope>(json).ok();
    let Some(envelope) = parsed else {
        return parse_event(&serde_json::from_str::<Value>(json).map_err(not_json)?);
    };

    let event_type = match (envelope.event_type, envelope.payload) {
        (Some(event_type), _) => event_type,
        (None, Some(payload)) if depth == 0 && payload.get().starts_with('{') => {
            return parse_envelope_text(payload.get(), depth + 1);
        }
        (None, _) => return Err(EventError::new(None, "missing string field \"type\"")),
    };
    if !GOVERNED_TYPES.contains(&event_type.as_ref()) {
        return Ok(Event::Other { event_type: event_type.into_owned() });
    }

    let raw = envelope.properties.or(envelope.data);
    if let Some(event) = raw.and_then(|raw| borrowed::parse(&event_type, raw.get())) {
        return Ok(event);
    }
    let properties = match raw.map(|raw| serde_json::from_str(raw.get())) {
        Some(Ok(properties)) => properties,
        // Parsed again whole, so that the error's line and column count
        // from the start of the event, not of its properties.
        Some(Err(_)) => return parse_event(&serde_json::from_str::<Value>(json).map_err(not_json)?),
        None => Value::Null,
    };
    parse_typed(&event_type, &properties)
}

/// Parses one event from a JSON value. Accepts the `/event` form
/// `{type, properties}` and the `/global/event` form `{directory, payload}`.
pub fn parse_event(value: &Value) -> Result<Event, EventError> {
    let envelope = unwrap_global(value)?;
    let event_type = envelope
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| EventError::new(None, "missing string field \"type\""))?;
    // `/event` carries the fields under `properties`, `/api/event` under `data`.
    let properties = envelope.get("properties").or_else(|| envelope.get("data")).unwrap_or(&Value::Null);
    parse_typed(event_type, properties)
}

/// Parses the properties of an event of a known type.
fn parse_typed(event_type: &str, properties: &Value) -> Result<Event, EventError> {
    match event_type {
        "permission.asked" | "permission.updated" | "permission.v2.asked" => {
            permission::parse_permission(event_type, properties).map(Event::Permission)
        }
        "message.part.updated" if is_tool_part(properties) => {
            permission::parse_tool_call(properties).map(Event::ToolCall)
        }
        _ => match usage::parse_usage(event_type, properties)? {
            Some(usage) => Ok(Event::Usage { event_type: event_type.to_string(), usage }),
            None => Ok(Event::Other { event_type: event_type.to_string() }),
        },
    }
}

fn unwrap_global(value: &Value) -> Result<&Value, EventError> {
    if !value.is_object() {
        return Err(EventError::new(None, "expected a JSON object"));
    }
    match value.get("payload") {
        Some(payload) if value.get("type").is_none() => Ok(payload),
        _ => Ok(value),
    }
}

fn is_tool_part(properties: &Value) -> bool {
    let part_type = properties.get("part").and_then(|part| part.get("type"));
    part_type.and_then(Value::as_str) == Some("tool")
}
