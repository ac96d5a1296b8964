//! The validating reader's toolkit: key paths, positions, key lookup with
//! camelCase aliases, and diagnostics.

use serde_json::Value;

use crate::diagnostic::Diagnostic;

use super::keys::{canonical_key, nearest_key};
use super::locate::{Segment, SourceMap};
use super::model::Location;

/// The position of a key path that a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// The key itself, for unknown or duplicate keys.
    Key,
    /// The value under the key, for wrong types and values.
    Value,
    /// The key, or its nearest written ancestor if it is missing.
    Nearest,
}

/// Collects diagnostics while walking one document.
pub(crate) struct Reader<'a> {
    pub(crate) source: &'a str,
    map: Option<SourceMap>,
    diagnostics: Vec<Diagnostic>,
}

/// The recognised keys of one mapping, each with its spelling as written.
pub(crate) struct Fields<'v> {
    entries: Vec<(&'static str, &'v str, &'v Value)>,
}

impl<'v> Fields<'v> {
    /// Returns the key as written and its value, for a canonical key.
    pub(crate) fn get(&self, key: &str) -> Option<(&'v str, &'v Value)> {
        self.entries.iter().find(|(canonical, _, _)| *canonical == key).map(|(_, raw, value)| (*raw, *value))
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(source: &'a str, map: Option<SourceMap>) -> Reader<'a> {
        Reader { source, map, diagnostics: Vec::new() }
    }

    pub(crate) fn location(&self, path: &[Segment], at: At) -> Option<Location> {
        let map = self.map.as_ref()?;
        match at {
            At::Key => map.key(path),
            At::Value => map.value(path),
            At::Nearest => map.nearest(path),
        }
    }

    pub(crate) fn report(&mut self, path: &[Segment], at: At, message: String, help: Option<String>) {
        let location = self.location(path, at);
        self.diagnostics.push(Diagnostic {
            source: self.source.to_string(),
            line: location.map(|at| at.line),
            column: location.map(|at| at.column),
            path: render_path(path),
            message,
            help,
        });
    }

    /// Returns `value` if nothing was reported, otherwise every diagnostic
    /// in source order.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Vec<Diagnostic>> {
        if self.diagnostics.is_empty() {
            return Ok(value);
        }
        self.diagnostics.sort_by_key(|d| (d.line.unwrap_or(usize::MAX), d.column.unwrap_or(0)));
        Err(self.diagnostics)
    }

    pub(crate) fn type_error(&mut self, path: &[Segment], expected: &str, found: &Value) {
        self.report(path, At::Value, format!("expected {expected}, found {}", describe(found)), None);
    }

    /// Reads a mapping whose keys must be among `keys` (snake_case or their
    /// camelCase aliases). Reports unknown and duplicate keys; `null` reads
    /// as an empty mapping.
    pub(crate) fn fields<'v>(&mut self, path: &[Segment], value: &'v Value, keys: &[&'static str]) -> Option<Fields<'v>> {
        let object = match value {
            Value::Null => return Some(Fields { entries: Vec::new() }),
            Value::Object(object) => object,
            other => {
                self.type_error(path, "a mapping", other);
                return None;
            }
        };
        let mut entries: Vec<(&'static str, &'v str, &'v Value)> = Vec::new();
        for (raw, item) in object {
            let child = child(path, raw);
            match canonical_key(raw, keys) {
                Some(key) if entries.iter().any(|(seen, _, _)| *seen == key) => {
                    let first = entries.iter().find(|(seen, _, _)| *seen == key).map_or("", |(_, first, _)| *first);
                    let message = format!("\"{first}\" and \"{raw}\" set the same key");
                    self.report(&child, At::Key, message, Some("keep one of them".to_string()));
                }
                Some(key) => entries.push((key, raw.as_str(), item)),
                None => self.unknown_key(&child, raw, keys),
            }
        }
        Some(Fields { entries })
    }

    fn unknown_key(&mut self, path: &[Segment], raw: &str, keys: &[&'static str]) {
        let help = match nearest_key(raw, keys) {
            Some(near) => format!("did you mean \"{near}\"?"),
            None => format!("valid keys are {}", keys.join(", ")),
        };
        self.report(path, At::Key, format!("unknown key \"{raw}\""), Some(help));
    }

    /// Reads an optional string; `null` means absent.
    pub(crate) fn string(&mut self, path: &[Segment], value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(text) => Some(text.clone()),
            other => {
                self.type_error(path, "a string", other);
                None
            }
        }
    }
}

/// Extends a key path by one mapping key.
pub(crate) fn child(path: &[Segment], key: &str) -> Vec<Segment> {
    let mut child = path.to_vec();
    child.push(Segment::Key(key.to_string()));
    child
}

/// Extends a key path by one list index.
pub(crate) fn child_index(path: &[Segment], index: usize) -> Vec<Segment> {
    let mut child = path.to_vec();
    child.push(Segment::Index(index));
    child
}

/// Writes a key path as `permissions.file_edit.rules[0]`, quoting keys that
/// are not plain identifiers: `rules."**/.env"`.
pub(crate) fn render_path(path: &[Segment]) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Index(index) => text.push_str(&format!("[{index}]")),
            Segment::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
                if plain {
                    text.push_str(key);
                } else {
                    text.push_str(&format!("{key:?}"));
                }
            }
        }
    }
    text
}

/// Describes a value for a type error: `string "deny"`, `a list`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => format!("boolean {flag}"),
        Value::Number(number) => format!("number {number}"),
        Value::String(text) => format!("string {text:?}"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}
