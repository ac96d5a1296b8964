//! Typed, borrowed reading of the event shapes OpenCode sends most: the
//! fields the governor needs are read straight from the event text, and
//! everything else (an edit's diff, a tool's output, streamed text) is
//! skipped without being built.
//!
//! This reader only accepts well-formed events. It returns `None` for
//! anything unusual (a missing, null, mistyped or duplicated field, a legacy
//! shape, a float where a count belongs), and the caller then reads the event
//! with the `Value` readers in `permission` and `usage`, which accept the
//! same events and report what is wrong with the others. Whenever this reader
//! returns an event, those readers return the same one, with three
//! exceptions. In fields it skips, this reader accepts nesting deeper than
//! the 128 levels a `Value` may have, numbers beyond the range of an `f64`,
//! and `\u` escapes of half a surrogate pair, where the `Value` readers
//! fail; the JSON grammar allows all three. Skipping
//! keeps its own stack on the heap, bounded by the event size limit. Tests
//! and a fuzz target compare the two readers.

use super::permission::{PatchFile, PatchFiles, PermissionMetadata, PermissionRequest, PermissionShape, ToolCall, ToolInput};
use super::usage::{usd_to_micros, Figures, MessageSnapshot, ModelRef, SessionInfo, StepFinish, Tokens, UsageEvent};
use super::Event;
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A field that may be missing, null or set: `Option` alone cannot tell
/// missing from null, and the `Value` readers treat some of those apart.
#[derive(Debug, Default)]
enum Field<T> {
    #[default]
    Missing,
    Null,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<T>, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Field::Set(value),
            None => Field::Null,
        })
    }
}

impl<T> Field<T> {
    /// Returns the value, or `None` when it is missing or null.
    fn set(self) -> Option<T> {
        match self {
            Field::Set(value) => Some(value),
            Field::Missing | Field::Null => None,
        }
    }

    /// `Some(None)` when missing or null, `Some(Some(value))` when set. The
    /// `Value` readers treat missing and null alike for these fields.
    fn optional(self) -> Option<Option<T>> {
        Some(self.set())
    }
}

/// A struct read only from a JSON object. serde reads a struct from a JSON
/// array too, by position, which the `Value` readers reject.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object<T>, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Object)
    }
}

/// A string borrowed from the event text, or owned when it had escapes.
/// serde's own `Cow<str>` always copies unless the field itself is marked
/// `borrow`, which does not reach through `Field` or `Vec`.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Str<'a>, D::Error> {
        deserializer.deserialize_str(StrVisitor(PhantomData))
    }
}

struct StrVisitor<'a>(PhantomData<&'a str>);

impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
    type Value = Str<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Borrowed(text)))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(text.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(text)))
    }
}

impl Str<'_> {
    fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

type Text<'a> = Field<Str<'a>>;
type Nested<T> = Field<Object<T>>;

impl<T> Field<Object<T>> {
    /// Returns the object's fields, with missing and null kept apart.
    fn fields(self) -> Field<T> {
        match self {
            Field::Set(Object(value)) => Field::Set(value),
            Field::Null => Field::Null,
            Field::Missing => Field::Missing,
        }
    }
}

/// Reads an object of type `T` from `deserializer`.
fn object<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    Object::<T>::deserialize(deserializer).map(|object| object.0)
}

/// Returns a required non-empty string, as the `Value` readers require it.
fn required(text: Text<'_>) -> Option<String> {
    text.set().filter(|text| !text.0.is_empty()).map(Str::into_owned)
}

/// Returns a string that may be missing or null.
fn optional(text: Text<'_>) -> Option<Option<String>> {
    text.optional().map(|text| text.map(Str::into_owned))
}

/// Reads a governed event's properties from their JSON text. `None` means
/// "read it with the `Value` readers instead", never "not an event".
pub(super) fn parse(event_type: &str, properties: &str) -> Option<Event> {
    let mut deserializer = serde_json::Deserializer::from_str(properties);
    let event = read_properties(event_type, &mut deserializer).ok()??;
    deserializer.end().ok()?;
    Some(event)
}

/// Reads the properties of an event of type `event_type` at the position
/// of `deserializer`. `Ok(None)` and errors both mean "declined".
fn read_properties<'de, D: Deserializer<'de>>(event_type: &str, deserializer: D) -> Result<Option<Event>, D::Error> {
    let event = match event_type {
        "permission.asked" => build_request(PermissionShape::Asked, object(deserializer)?).map(Event::Permission),
        "permission.v2.asked" => build_request(PermissionShape::V2Asked, object(deserializer)?).map(Event::Permission),
        "message.updated" => message(object(deserializer)?),
        "message.part.updated" => part(object(deserializer)?),
        "session.created" | "session.updated" => session(event_type, object(deserializer)?),
        _ => {
            IgnoredAny::deserialize(deserializer)?;
            None
        }
    };
    Ok(event)
}

/// Reads a whole event in one pass over its text when it has the usual
/// shape: a `type` of a governed kind before its `properties`, which this
/// module's types accept; or a type the governor ignores. `None` means the
/// two-pass reading in `mod.rs` must decide, as it does for every other
/// shape (no type, `data` or `payload` envelopes, duplicated or mistyped
/// keys, properties before the type).
pub(super) fn parse_envelope(json: &str, governed: &[&str]) -> Option<Event> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let read = deserializer.deserialize_map(EnvelopeVisitor { governed }).ok()?;
    deserializer.end().ok()?;
    match read {
        Envelope::Governed(event) => Some(event),
        Envelope::Ignored(event_type) => Some(Event::Other { event_type: event_type.into_owned() }),
        Envelope::Declined => None,
    }
}

// Built once per event and taken apart at once, so its size costs one move.
#[allow(clippy::large_enum_variant)]
enum Envelope<'de> {
    Governed(Event),
    Ignored(Str<'de>),
    Declined,
}

struct EnvelopeVisitor<'g> {
    governed: &'g [&'g str],
}

impl<'de> Visitor<'de> for EnvelopeVisitor<'_> {
    type Value = Envelope<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut event_type: Option<Str<'de>> = None;
        let mut properties: Option<Option<Event>> = None;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "type" if event_type.is_none() => event_type = Some(map.next_value()?),
                "properties" if properties.is_none() => {
                    let Some(kind) = event_type.as_deref().filter(|kind| self.governed.contains(kind)) else {
                        // Properties before the type, or of an ignored type.
                        map.next_value::<IgnoredAny>()?;
                        properties = Some(None);
                        continue;
                    };
                    properties = Some(map.next_value_seed(PropertiesSeed { event_type: kind })?);
                }
                // The two-pass reading decides duplicated keys and the other envelopes.
                "type" | "properties" | "data" | "payload" => return Ok(Envelope::Declined),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let Some(event_type) = event_type else {
            return Ok(Envelope::Declined);
        };
        if !self.governed.contains(&&*event_type) {
            return Ok(Envelope::Ignored(event_type));
        }
        Ok(match properties {
            Some(Some(event)) => Envelope::Governed(event),
            _ => Envelope::Declined,
        })
    }
}

/// Reads properties of a known event type in place, inside the envelope.
struct PropertiesSeed<'t> {
    event_type: &'t str,
}

impl<'de> DeserializeSeed<'de> for PropertiesSeed<'_> {
    type Value = Option<Event>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Event>, D::Error> {
        read_properties(self.event_type, deserializer)
    }
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow, default)]
    filepath: Text<'a>,
    #[serde(rename = "filePath", borrow, default)]
    file_path: Text<'a>,
    #[serde(rename = "parentDir", borrow, default)]
    parent_dir: Text<'a>,
    #[serde(borrow, default)]
    command: Text<'a>,
    #[serde(borrow, default)]
    url: Text<'a>,
    #[serde(borrow, default)]
    query: Text<'a>,
    #[serde(borrow, default)]
    files: Field<Vec<Object<PatchEntry<'a>>>>,
}

impl Metadata<'_> {
    fn into_metadata(self) -> Option<PermissionMetadata> {
        Some(PermissionMetadata {
            filepath: optional(self.filepath)?,
            file_path: optional(self.file_path)?,
            parent_dir: optional(self.parent_dir)?,
            command: optional(self.command)?,
            url: optional(self.url)?,
            query: optional(self.query)?,
            files: patch_files(self.files)?,
        })
    }
}

/// An entry of an `apply_patch` request's `files`, without its diff.
#[derive(Deserialize)]
struct PatchEntry<'a> {
    #[serde(rename = "filePath", borrow, default)]
    file_path: Text<'a>,
    #[serde(rename = "movePath", borrow, default)]
    move_path: Text<'a>,
}

/// Returns `Some(None)` when `files` is missing or null and the listed files
/// when every entry is well-formed. Any entry the `Value` reader would call
/// unreadable declines the event, so that reader reports it.
fn patch_files(files: Field<Vec<Object<PatchEntry<'_>>>>) -> Option<Option<PatchFiles>> {
    let Some(entries) = files.set() else {
        return Some(None);
    };
    let files = entries.into_iter().map(|Object(entry)| patch_file(entry)).collect::<Option<Vec<PatchFile>>>()?;
    Some(Some(PatchFiles::Listed(files)))
}

fn patch_file(entry: PatchEntry<'_>) -> Option<PatchFile> {
    let move_path = match entry.move_path {
        Field::Set(path) if path.0.is_empty() => return None,
        move_path => move_path.set().map(Str::into_owned),
    };
    Some(PatchFile { file_path: required(entry.file_path)?, move_path })
}

/// The origin of a request: `tool` in `permission.asked`, `source` in v2.
/// The `Value` reader keeps these ids only when they are strings.
#[derive(Deserialize)]
struct Origin<'a> {
    #[serde(rename = "messageID", borrow, default)]
    message_id: Text<'a>,
    #[serde(rename = "callID", borrow, default)]
    call_id: Text<'a>,
}

/// The fields of both current permission shapes under their own names.
#[derive(Deserialize)]
struct Permission<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(rename = "sessionID", borrow, default)]
    session_id: Text<'a>,
    #[serde(borrow, default)]
    permission: Text<'a>,
    #[serde(borrow, default)]
    action: Text<'a>,
    #[serde(borrow, default)]
    patterns: Field<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    resources: Field<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    metadata: Nested<Metadata<'a>>,
    #[serde(borrow, default)]
    tool: Nested<Origin<'a>>,
    #[serde(borrow, default)]
    source: Nested<Origin<'a>>,
}

fn build_request(shape: PermissionShape, fields: Permission<'_>) -> Option<PermissionRequest> {
    let (permission, patterns, origin) = match shape {
        PermissionShape::V2Asked => (fields.action, fields.resources, fields.source),
        PermissionShape::Asked | PermissionShape::Updated => (fields.permission, fields.patterns, fields.tool),
    };
    let (id, session_id, metadata) = (fields.id, fields.session_id, fields.metadata);
    let patterns = patterns.set().unwrap_or_default().into_iter().map(Str::into_owned).collect();
    let (message_id, call_id) = match origin.fields().set() {
        Some(origin) => (optional(origin.message_id)?, optional(origin.call_id)?),
        None => (None, None),
    };
    let metadata = match metadata.fields().set() {
        Some(metadata) => metadata.into_metadata()?,
        None => PermissionMetadata::default(),
    };
    Some(PermissionRequest {
        shape,
        id: required(id)?,
        session_id: required(session_id)?,
        permission: required(permission)?,
        patterns,
        metadata,
        title: None,
        message_id,
        call_id,
    })
}

#[derive(Deserialize)]
struct Cache {
    read: u64,
    write: u64,
}

#[derive(Deserialize)]
struct TokenCounts {
    input: u64,
    output: u64,
    reasoning: u64,
    cache: Object<Cache>,
}

impl TokenCounts {
    fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input,
            output: self.output,
            reasoning: self.reasoning,
            cache_read: self.cache.0.read,
            cache_write: self.cache.0.write,
        }
    }
}

/// Tokens and cost as both `info` and a `step-finish` part carry them. A
/// missing cost means the event reported none; a null one is an error the
/// `Value` reader names.
fn figures(tokens: Nested<TokenCounts>, cost: Field<f64>) -> Option<Figures> {
    let cost_micros = match cost {
        Field::Missing => None,
        Field::Null => return None,
        Field::Set(usd) => Some(usd_to_micros(usd)?),
    };
    Some(Figures { tokens: tokens.fields().set()?.tokens(), cost_micros })
}

#[derive(Deserialize)]
struct Times {
    #[serde(default)]
    created: Field<u64>,
    #[serde(default)]
    completed: Field<u64>,
}

#[derive(Deserialize)]
struct MessageInfo<'a> {
    #[serde(borrow, default)]
    role: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(rename = "sessionID", borrow, default)]
    session_id: Text<'a>,
    #[serde(rename = "providerID", borrow, default)]
    provider_id: Text<'a>,
    #[serde(rename = "modelID", borrow, default)]
    model_id: Text<'a>,
    #[serde(default)]
    tokens: Nested<TokenCounts>,
    #[serde(default)]
    cost: Field<f64>,
    #[serde(default)]
    time: Nested<Times>,
}

#[derive(Deserialize)]
struct MessageProperties<'a> {
    #[serde(borrow, default)]
    info: Nested<MessageInfo<'a>>,
    #[serde(rename = "sessionID", borrow, default)]
    session_id: Text<'a>,
}

fn message(fields: MessageProperties<'_>) -> Option<Event> {
    let info = fields.info.fields().set()?;
    let is_assistant = matches!(&info.role, Field::Set(role) if &**role == "assistant");
    if !is_assistant {
        return Some(usage_or_other("message.updated", None));
    }

    // The `Value` reader takes the session from `info` whenever the key is
    // there, even when null (and then rejects it).
    let session_id = match info.session_id {
        Field::Missing => required(fields.session_id)?,
        other => required(other)?,
    };
    let (created_ms, completed_ms) = match info.time.fields() {
        Field::Set(times) => (times.created.set(), times.completed.set()),
        Field::Missing | Field::Null => (None, None),
    };
    let snapshot = MessageSnapshot {
        session_id,
        message_id: required(info.id)?,
        model: ModelRef { provider: required(info.provider_id)?, model: required(info.model_id)? },
        figures: figures(info.tokens, info.cost)?,
        created_ms,
        completed_ms,
    };
    Some(usage_or_other("message.updated", Some(UsageEvent::Message(snapshot))))
}

#[derive(Deserialize)]
struct State<'a> {
    #[serde(borrow, default)]
    input: Nested<Input<'a>>,
}

#[derive(Deserialize)]
struct Input<'a> {
    #[serde(borrow, default)]
    command: Text<'a>,
    #[serde(borrow, default)]
    workdir: Text<'a>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(rename = "type", borrow, default)]
    part_type: Text<'a>,
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(rename = "sessionID", borrow, default)]
    session_id: Text<'a>,
    #[serde(rename = "messageID", borrow, default)]
    message_id: Text<'a>,
    #[serde(rename = "callID", borrow, default)]
    call_id: Text<'a>,
    #[serde(borrow, default)]
    tool: Text<'a>,
    #[serde(borrow, default)]
    state: Nested<State<'a>>,
    #[serde(default)]
    tokens: Nested<TokenCounts>,
    #[serde(default)]
    cost: Field<f64>,
}

#[derive(Deserialize)]
struct PartProperties<'a> {
    #[serde(borrow, default)]
    part: Nested<Part<'a>>,
    #[serde(default)]
    time: Field<u64>,
}

fn part(fields: PartProperties<'_>) -> Option<Event> {
    let part = fields.part.fields().set()?;
    let Field::Set(part_type) = &part.part_type else {
        return Some(usage_or_other("message.part.updated", None));
    };
    match &**part_type {
        "tool" => tool_call(part).map(Event::ToolCall),
        "step-finish" => {
            let step = StepFinish {
                session_id: required(part.session_id)?,
                message_id: required(part.message_id)?,
                part_id: required(part.id)?,
                figures: figures(part.tokens, part.cost)?,
                at_ms: fields.time.set(),
            };
            Some(usage_or_other("message.part.updated", Some(UsageEvent::Step(step))))
        }
        _ => Some(usage_or_other("message.part.updated", None)),
    }
}

fn tool_call(part: Part<'_>) -> Option<ToolCall> {
    let input = match part.state.fields().set().map(|state| state.input.fields()) {
        Some(Field::Set(input)) => ToolInput { command: optional(input.command)?, workdir: optional(input.workdir)? },
        _ => ToolInput::default(),
    };
    Some(ToolCall {
        session_id: required(part.session_id)?,
        message_id: required(part.message_id)?,
        call_id: required(part.call_id)?,
        tool: required(part.tool)?,
        input,
    })
}

#[derive(Deserialize)]
struct SessionFields<'a> {
    #[serde(borrow, default)]
    id: Text<'a>,
    #[serde(rename = "parentID", borrow, default)]
    parent_id: Text<'a>,
}

#[derive(Deserialize)]
struct SessionProperties<'a> {
    #[serde(borrow, default)]
    info: Nested<SessionFields<'a>>,
}

fn session(event_type: &str, fields: SessionProperties<'_>) -> Option<Event> {
    let info = fields.info.fields().set()?;
    let parent_id = match info.parent_id {
        Field::Missing | Field::Null => None,
        set => Some(required(set)?),
    };
    let usage = UsageEvent::Session(SessionInfo { session_id: required(info.id)?, parent_id });
    Some(usage_or_other(event_type, Some(usage)))
}

fn usage_or_other(event_type: &str, usage: Option<UsageEvent>) -> Event {
    let event_type = event_type.to_string();
    match usage {
        Some(usage) => Event::Usage { event_type, usage },
        None => Event::Other { event_type },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;
    use serde_json::value::RawValue;
    use std::path::Path;

    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(rename = "type", borrow)]
        event_type: Cow<'a, str>,
        #[serde(borrow, default)]
        properties: Option<&'a RawValue>,
        #[serde(default)]
        #[allow(dead_code)]
        id: IgnoredAny,
    }

    /// The captured streams must not fall back to the `Value` readers, or
    /// the speed this reader exists for is silently lost.
    #[test]
    fn captured_governed_events_take_this_reader() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures");
        let mut read = 0;
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|ext| ext != "sse") || path.to_string_lossy().contains("global-event") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter_map(|line| line.strip_prefix("data: ")) {
                let envelope: Envelope = serde_json::from_str(line).unwrap();
                let Some(properties) = envelope.properties else { continue };
                let governed = ["permission.asked", "message.updated", "message.part.updated", "session.created", "session.updated"];
                if !governed.contains(&envelope.event_type.as_ref()) {
                    continue;
                }
                assert!(parse(&envelope.event_type, properties.get()).is_some(), "fell back on {line}");
                assert!(parse_envelope(line, &super::super::GOVERNED_TYPES).is_some(), "took two passes on {line}");
                read += 1;
            }
        }
        assert!(read > 200, "only {read} governed events read");
    }

    /// Wraps `files` in an `apply_patch` edit request as OpenCode 1.18.33 sends it.
    fn patch_event(files: &str) -> String {
        format!(
            r#"{{"id":"p","sessionID":"s","permission":"edit","patterns":["src/a.ts"],"metadata":{{"filepath":"src/a.ts","diff":"d","files":{files}}},"always":["*"]}}"#
        )
    }

    #[test]
    fn patch_files_read_alike_both_ways() {
        let entry = r#"{"filePath":"/w/src/a.ts","relativePath":"src/a.ts","type":"update","patch":"d","additions":1,"deletions":0}"#;
        let moved = r#"{"filePath":"/w/src/a.ts","relativePath":".env","type":"move","patch":"d","movePath":"/w/.env"}"#;
        let well_formed = [
            format!("[{entry}]"),
            format!("[{entry},{moved}]"),
            r#"[{"filePath":"/w/a","movePath":null}]"#.to_string(),
            "[]".to_string(),
            "null".to_string(),
        ];
        for files in &well_formed {
            let properties = patch_event(files);
            let borrowed = parse("permission.asked", &properties);
            assert!(borrowed.is_some(), "fell back on files {files}");
            let by_value = super::super::parse_event(&serde_json::json!({
                "type": "permission.asked",
                "properties": serde_json::from_str::<serde_json::Value>(&properties).unwrap(),
            }));
            assert_eq!(borrowed, by_value.ok(), "files {files}");
        }

        // Shapes the `Value` reader calls unreadable, and a duplicated key,
        // must fall back to that reader.
        let unreadable = [
            r#""src/a.ts""#,
            r#"{"filePath":"/w/a"}"#,
            r#"["/w/a"]"#,
            r#"[{"relativePath":"a"}]"#,
            r#"[{"filePath":""}]"#,
            r#"[{"filePath":7}]"#,
            r#"[{"filePath":null}]"#,
            r#"[{"filePath":"/w/a","movePath":""}]"#,
            r#"[{"filePath":"/w/a","movePath":["/w/.env"]}]"#,
            r#"[{"filePath":"/w/a","filePath":"/w/b"}]"#,
        ];
        for files in unreadable {
            assert!(parse("permission.asked", &patch_event(files)).is_none(), "read files {files}");
        }
    }
}
