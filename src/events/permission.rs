//! Permission requests in the three shapes OpenCode has sent, and the tool
//! calls that tell which tool a request came from.

use super::EventError;
use serde_json::{Map, Value};

/// Which event carried a permission request. The shapes name the same things
/// differently, so the request keeps its origin for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionShape {
    /// `permission.asked`: `permission`, `patterns`, `metadata`, `always`, `tool`.
    Asked,
    /// `permission.updated`, the legacy shape: `type`, `pattern`, `title`, `metadata`.
    Updated,
    /// `permission.v2.asked`: `action`, `resources`, `metadata`, `source`.
    V2Asked,
}

impl PermissionShape {
    pub fn event_type(self) -> &'static str {
        match self {
            PermissionShape::Asked => "permission.asked",
            PermissionShape::Updated => "permission.updated",
            PermissionShape::V2Asked => "permission.v2.asked",
        }
    }
}

/// A permission request, with the three shapes mapped onto one set of fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionRequest {
    pub shape: PermissionShape,
    /// The request id that a reply names.
    pub id: String,
    pub session_id: String,
    /// What is asked for: `edit`, `bash`, `webfetch`, `external_directory`,
    /// a tool name, ... (`type` in the legacy shape, `action` in v2).
    pub permission: String,
    /// Targets as OpenCode lists them (`pattern`/`patterns`/`resources`).
    pub patterns: Vec<String>,
    pub metadata: PermissionMetadata,
    /// The legacy shape's title, which carries the command for `bash`.
    pub title: Option<String>,
    pub message_id: Option<String>,
    pub call_id: Option<String>,
}

impl PermissionRequest {
    /// Returns a string field of the metadata, if present and a string.
    /// Only the keys of [`PermissionMetadata`] are kept; any other key is `None`.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key)
    }
}

/// The metadata fields the classifier reads. Everything else in a
/// request's metadata (an edit's whole diff, for one) is dropped while
/// parsing, so it is neither copied nor kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionMetadata {
    /// `filepath`: the absolute file of an edit or read request.
    pub filepath: Option<String>,
    /// `filePath`: the legacy shape's spelling of `filepath`.
    pub file_path: Option<String>,
    /// `parentDir`: the directory of an `external_directory` request.
    pub parent_dir: Option<String>,
    /// `command`: the shell command of a `bash` or `external_directory` request.
    pub command: Option<String>,
    /// `url`: the address of a `webfetch` request.
    pub url: Option<String>,
    /// `query`: the search text of a `websearch` or `codesearch` request.
    pub query: Option<String>,
    /// `files`: the files of a multi-file `apply_patch` request.
    pub files: Option<PatchFiles>,
}

/// The `files` list of an `apply_patch` edit request. OpenCode 1.18.33 sends
/// one entry per file of the patch, `{ filePath, relativePath, type, patch,
/// additions, deletions, movePath? }`, with `filePath` and `movePath`
/// absolute, and sets `filepath` to the relative paths joined by ", ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchFiles {
    /// Entries that all had a non-empty `filePath` string.
    Listed(Vec<PatchFile>),
    /// A `files` value that is not a list of such entries. The classifier
    /// then reads `patterns` and approves none of them without a person,
    /// because it cannot tell which files the patch writes.
    Unreadable,
}

/// One file of a patch: the file it adds, updates or deletes, and the file
/// an update moves it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchFile {
    /// `filePath`: the file added, updated, deleted or moved away from.
    pub file_path: String,
    /// `movePath`, present only when the update renames the file.
    pub move_path: Option<String>,
}

impl PermissionMetadata {
    /// Returns the field OpenCode names `key`, if it was a string.
    pub fn get(&self, key: &str) -> Option<&str> {
        let field = match key {
            "filepath" => &self.filepath,
            "filePath" => &self.file_path,
            "parentDir" => &self.parent_dir,
            "command" => &self.command,
            "url" => &self.url,
            "query" => &self.query,
            _ => return None,
        };
        field.as_deref()
    }

    /// Tells whether no kept key was present.
    pub fn is_empty(&self) -> bool {
        *self == PermissionMetadata::default()
    }

    /// Keeps the string values of the known keys of a metadata object.
    fn from_map(map: &Map<String, Value>) -> PermissionMetadata {
        let text = |key: &str| match map.get(key) {
            Some(Value::String(text)) => Some(text.clone()),
            _ => None,
        };
        PermissionMetadata {
            filepath: text("filepath"),
            file_path: text("filePath"),
            parent_dir: text("parentDir"),
            command: text("command"),
            url: text("url"),
            query: text("query"),
            files: map.get("files").and_then(PatchFiles::from_value),
        }
    }
}

impl PatchFiles {
    /// Reads a `files` value. A null value returns `None`.
    fn from_value(value: &Value) -> Option<PatchFiles> {
        let entries = match value {
            Value::Null => return None,
            Value::Array(entries) => entries,
            _ => return Some(PatchFiles::Unreadable),
        };
        let files: Option<Vec<PatchFile>> = entries.iter().map(PatchFile::from_value).collect();
        Some(files.map_or(PatchFiles::Unreadable, PatchFiles::Listed))
    }
}

impl PatchFile {
    /// Reads one entry of `files`. A missing or null `movePath` means no
    /// move. Any other shape, or an empty path, returns `None`.
    fn from_value(value: &Value) -> Option<PatchFile> {
        let Value::Object(entry) = value else {
            return None;
        };
        let file_path = match entry.get("filePath") {
            Some(Value::String(path)) if !path.is_empty() => path.clone(),
            _ => return None,
        };
        let move_path = match entry.get("movePath") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) if !path.is_empty() => Some(path.clone()),
            Some(_) => return None,
        };
        Some(PatchFile { file_path, move_path })
    }
}

/// A tool call seen in a `message.part.updated` event. Its input tells the
/// classifier which tool an `external_directory` request serves and where a
/// shell command runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub session_id: String,
    pub message_id: String,
    pub call_id: String,
    pub tool: String,
    pub input: ToolInput,
}

/// The tool input fields the classifier reads, kept when they are strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolInput {
    /// A shell tool's command.
    pub command: Option<String>,
    /// A shell tool's working directory.
    pub workdir: Option<String>,
}

/// Parses the `properties` of a permission event of the given type.
pub fn parse_permission(event_type: &str, properties: &Value) -> Result<PermissionRequest, EventError> {
    let fields = Fields::new(event_type, properties)?;
    match event_type {
        "permission.asked" => parse_asked(&fields),
        "permission.updated" => parse_updated(&fields),
        _ => parse_v2_asked(&fields),
    }
}

fn parse_asked(fields: &Fields) -> Result<PermissionRequest, EventError> {
    let tool = fields.optional_object("tool")?;
    Ok(PermissionRequest {
        shape: PermissionShape::Asked,
        id: fields.required_str("id")?,
        session_id: fields.required_str("sessionID")?,
        permission: fields.required_str("permission")?,
        patterns: fields.string_list("patterns")?,
        metadata: fields.metadata()?,
        title: None,
        message_id: nested_str(tool, "messageID"),
        call_id: nested_str(tool, "callID"),
    })
}

fn parse_updated(fields: &Fields) -> Result<PermissionRequest, EventError> {
    Ok(PermissionRequest {
        shape: PermissionShape::Updated,
        id: fields.required_str("id")?,
        session_id: fields.required_str("sessionID")?,
        permission: fields.required_str("type")?,
        patterns: fields.string_list("pattern")?,
        metadata: fields.metadata()?,
        title: fields.optional_str("title")?,
        message_id: fields.optional_str("messageID")?,
        call_id: fields.optional_str("callID")?,
    })
}

fn parse_v2_asked(fields: &Fields) -> Result<PermissionRequest, EventError> {
    let source = fields.optional_object("source")?;
    Ok(PermissionRequest {
        shape: PermissionShape::V2Asked,
        id: fields.required_str("id")?,
        session_id: fields.required_str("sessionID")?,
        permission: fields.required_str("action")?,
        patterns: fields.string_list("resources")?,
        metadata: fields.metadata()?,
        title: None,
        message_id: nested_str(source, "messageID"),
        call_id: nested_str(source, "callID"),
    })
}

/// Parses the `properties` of a `message.part.updated` event whose part is a tool call.
pub fn parse_tool_call(properties: &Value) -> Result<ToolCall, EventError> {
    let event_type = "message.part.updated";
    let part = properties.get("part").unwrap_or(&Value::Null);
    let fields = Fields::new(event_type, part)?;
    let input = match part.get("state").and_then(|state| state.get("input")) {
        Some(Value::Object(input)) => ToolInput {
            command: input.get("command").and_then(Value::as_str).map(str::to_string),
            workdir: input.get("workdir").and_then(Value::as_str).map(str::to_string),
        },
        _ => ToolInput::default(),
    };

    Ok(ToolCall {
        session_id: fields.required_str("sessionID")?,
        message_id: fields.required_str("messageID")?,
        call_id: fields.required_str("callID")?,
        tool: fields.required_str("tool")?,
        input,
    })
}

fn nested_str(object: Option<&Map<String, Value>>, key: &str) -> Option<String> {
    object.and_then(|map| map.get(key)).and_then(Value::as_str).map(str::to_string)
}

/// Typed access to an event's fields, with errors that name the field.
struct Fields<'a> {
    event_type: &'a str,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn new(event_type: &'a str, value: &'a Value) -> Result<Fields<'a>, EventError> {
        match value {
            Value::Object(object) => Ok(Fields { event_type, object }),
            _ => Err(self_error(event_type, "expected \"properties\" to be an object")),
        }
    }

    fn error(&self, message: String) -> EventError {
        self_error(self.event_type, message)
    }

    fn required_str(&self, key: &str) -> Result<String, EventError> {
        match self.object.get(key) {
            Some(Value::String(text)) if !text.is_empty() => Ok(text.clone()),
            Some(Value::String(_)) => Err(self.error(format!("field \"{key}\" is empty"))),
            Some(other) => Err(self.error(format!("field \"{key}\" must be a string, got {}", kind(other)))),
            None => Err(self.error(format!("missing field \"{key}\""))),
        }
    }

    fn optional_str(&self, key: &str) -> Result<Option<String>, EventError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.error(format!("field \"{key}\" must be a string, got {}", kind(other)))),
        }
    }

    fn optional_object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, EventError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            Some(other) => Err(self.error(format!("field \"{key}\" must be an object, got {}", kind(other)))),
        }
    }

    /// Reads a list of strings; a single string counts as a list of one,
    /// because the legacy `pattern` field is either.
    fn string_list(&self, key: &str) -> Result<Vec<String>, EventError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(text)) => Ok(vec![text.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(self.error(format!("field \"{key}[{index}]\" must be a string, got {}", kind(other)))),
                })
                .collect(),
            Some(other) => Err(self.error(format!("field \"{key}\" must be a list of strings, got {}", kind(other)))),
        }
    }

    fn metadata(&self) -> Result<PermissionMetadata, EventError> {
        Ok(self.optional_object("metadata")?.map(PermissionMetadata::from_map).unwrap_or_default())
    }
}

fn self_error(event_type: &str, message: impl Into<String>) -> EventError {
    EventError::new(Some(event_type), message)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn asked_shape_maps_every_field() {
        let properties = json!({
            "id": "per_1", "sessionID": "ses_1", "permission": "edit",
            "patterns": ["src/a.ts"], "metadata": {"filepath": "/w/src/a.ts"},
            "always": ["*"], "tool": {"messageID": "msg_1", "callID": "call_1"}
        });
        let request = parse_permission("permission.asked", &properties).unwrap();
        assert_eq!(request.shape, PermissionShape::Asked);
        assert_eq!(request.id, "per_1");
        assert_eq!(request.permission, "edit");
        assert_eq!(request.patterns, vec!["src/a.ts".to_string()]);
        assert_eq!(request.metadata_str("filepath"), Some("/w/src/a.ts"));
        assert_eq!(request.call_id.as_deref(), Some("call_1"));
    }

    #[test]
    fn patch_files_keep_paths_and_moves() {
        let files = |files: Value| {
            let properties = json!({"id": "p", "sessionID": "s", "permission": "edit", "metadata": {"files": files}});
            parse_permission("permission.asked", &properties).unwrap().metadata.files
        };
        let listed = files(json!([
            {"filePath": "/w/a.ts", "relativePath": "a.ts", "type": "update", "patch": "d"},
            {"filePath": "/w/b.ts", "type": "move", "movePath": "/w/.env"}
        ]));
        let expected = vec![
            PatchFile { file_path: "/w/a.ts".into(), move_path: None },
            PatchFile { file_path: "/w/b.ts".into(), move_path: Some("/w/.env".into()) },
        ];
        assert_eq!(listed, Some(PatchFiles::Listed(expected)));
        assert_eq!(files(Value::Null), None);
        assert_eq!(files(json!("/w/a.ts")), Some(PatchFiles::Unreadable));
        assert_eq!(files(json!([{"filePath": "/w/a.ts"}, {"path": "/w/.env"}])), Some(PatchFiles::Unreadable));
    }

    #[test]
    fn legacy_pattern_may_be_one_string() {
        let properties = json!({
            "id": "per_2", "sessionID": "ses_1", "type": "bash", "pattern": "ls *",
            "messageID": "msg_1", "title": "ls -la", "metadata": {}, "time": {"created": 1}
        });
        let request = parse_permission("permission.updated", &properties).unwrap();
        assert_eq!(request.permission, "bash");
        assert_eq!(request.patterns, vec!["ls *".to_string()]);
        assert_eq!(request.title.as_deref(), Some("ls -la"));
    }

    #[test]
    fn v2_shape_reads_action_and_resources() {
        let properties = json!({
            "id": "per_3", "sessionID": "ses_1", "action": "webfetch",
            "resources": ["http://127.0.0.1:1/x"], "source": {"type": "tool", "messageID": "m", "callID": "c"}
        });
        let request = parse_permission("permission.v2.asked", &properties).unwrap();
        assert_eq!(request.shape, PermissionShape::V2Asked);
        assert_eq!(request.permission, "webfetch");
        assert_eq!(request.call_id.as_deref(), Some("c"));
        assert!(request.metadata.is_empty());
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let cases = [
            (json!({"sessionID": "s", "permission": "edit"}), "invalid permission.asked event: missing field \"id\""),
            (json!({"id": 1, "sessionID": "s", "permission": "edit"}), "invalid permission.asked event: field \"id\" must be a string, got a number"),
            (json!({"id": "p", "sessionID": "s", "permission": "edit", "patterns": [1]}), "invalid permission.asked event: field \"patterns[0]\" must be a string, got a number"),
            (json!("text"), "invalid permission.asked event: expected \"properties\" to be an object"),
        ];
        for (properties, expected) in cases {
            let error = parse_permission("permission.asked", &properties).unwrap_err();
            assert_eq!(error.to_string(), expected);
        }
    }
}
