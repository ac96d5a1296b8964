//! Reads a `permissions:` section: category settings, decisions and rules.

use serde_json::Value;

use crate::decision::{Category, Decision};

use super::keys::nearest;
use super::locate::Segment;
use super::matcher::{check_pattern, PatternKind};
use super::model::{DefaultSection, PolicyLayer, Rule, ScopedSection};
use super::reader::{child, child_index, At, Reader};

const SCOPED_KEYS: [&str; 3] = ["inside_worktree", "outside_worktree", "rules"];
const DEFAULT_KEYS: [&str; 2] = ["default", "rules"];
const RULE_KEYS: [&str; 4] = ["pattern", "decision", "exception", "reason"];
const MAP_RULE_KEYS: [&str; 3] = ["decision", "exception", "reason"];
const RULE_FORM_HELP: &str = "write a rule as { pattern: \"**/.env\", decision: deny }";

/// Maps words other tools use for decisions to this policy's spelling.
fn synonym(text: &str) -> Option<&'static str> {
    match text.to_ascii_lowercase().as_str() {
        "allow" | "approve" | "auto" | "yes" | "accept" => Some(Decision::AutoApprove.as_str()),
        "ask" | "prompt" | "confirm" => Some(Decision::AskUser.as_str()),
        "block" | "reject" | "forbid" | "forbidden" | "no" | "never" => Some(Decision::Deny.as_str()),
        _ => None,
    }
}

/// Returns the keys of `permissions:`, one per category.
pub(crate) fn permission_keys() -> [&'static str; 7] {
    Category::ALL.map(Category::as_str)
}

impl Reader<'_> {
    pub(crate) fn permissions(&mut self, path: &[Segment], value: &Value) -> PolicyLayer {
        let keys = permission_keys();
        let Some(fields) = self.fields(path, value, &keys) else {
            return PolicyLayer::default();
        };
        let mut layer = PolicyLayer::default();
        for category in Category::ALL {
            let Some((raw, item)) = fields.get(category.as_str()) else {
                continue;
            };
            let item_path = child(path, raw);
            match category {
                Category::FileEdit => layer.file_edit = self.scoped(&item_path, item, category),
                Category::FileRead => layer.file_read = self.scoped(&item_path, item, category),
                Category::ShellCommand => layer.shell_command = self.scoped(&item_path, item, category),
                Category::NetworkAccess => layer.network_access = self.defaulted(&item_path, item, category),
                Category::InstallPackages => layer.install_packages = self.defaulted(&item_path, item, category),
                Category::McpTools => layer.mcp_tools = self.defaulted(&item_path, item, category),
                Category::Other => layer.other = self.defaulted(&item_path, item, category),
            }
        }
        layer
    }

    /// Reads `file_edit`-like settings. A bare decision sets both scopes.
    fn scoped(&mut self, path: &[Segment], value: &Value, category: Category) -> ScopedSection {
        if let Value::String(_) = value {
            let decision = self.decision(path, value);
            return ScopedSection { inside_worktree: decision, outside_worktree: decision, rules: Vec::new() };
        }
        if !matches!(value, Value::Object(_) | Value::Null) {
            self.type_error(path, "a decision or a mapping", value);
            return ScopedSection::default();
        }
        let Some(fields) = self.fields(path, value, &SCOPED_KEYS) else {
            return ScopedSection::default();
        };
        ScopedSection {
            inside_worktree: self.optional_decision(path, &fields, "inside_worktree"),
            outside_worktree: self.optional_decision(path, &fields, "outside_worktree"),
            rules: self.optional_rules(path, &fields, category),
        }
    }

    /// Reads `network_access`-like settings. A bare decision is the default.
    fn defaulted(&mut self, path: &[Segment], value: &Value, category: Category) -> DefaultSection {
        if let Value::String(_) = value {
            return DefaultSection { default: self.decision(path, value), rules: Vec::new() };
        }
        if !matches!(value, Value::Object(_) | Value::Null) {
            self.type_error(path, "a decision or a mapping", value);
            return DefaultSection::default();
        }
        let Some(fields) = self.fields(path, value, &DEFAULT_KEYS) else {
            return DefaultSection::default();
        };
        DefaultSection {
            default: self.optional_decision(path, &fields, "default"),
            rules: self.optional_rules(path, &fields, category),
        }
    }

    fn optional_decision(&mut self, path: &[Segment], fields: &super::reader::Fields<'_>, key: &str) -> Option<Decision> {
        let (raw, value) = fields.get(key)?;
        match value {
            Value::Null => None,
            _ => self.decision(&child(path, raw), value),
        }
    }

    fn optional_rules(&mut self, path: &[Segment], fields: &super::reader::Fields<'_>, category: Category) -> Vec<Rule> {
        match fields.get("rules") {
            Some((raw, value)) => self.rules(&child(path, raw), value, PatternKind::of(category)),
            None => Vec::new(),
        }
    }

    pub(crate) fn decision(&mut self, path: &[Segment], value: &Value) -> Option<Decision> {
        let Value::String(text) = value else {
            self.type_error(path, "a decision", value);
            return None;
        };
        if let Some(decision) = Decision::parse(text) {
            return Some(decision);
        }
        let accepted = "accepted values are auto-approve, ask-user, deny";
        let near = synonym(text).map(str::to_string).or_else(|| nearest(text, Decision::ALL.map(|d| d.as_str().to_string())));
        let help = match near {
            Some(near) => format!("did you mean \"{near}\"? {accepted}"),
            None => accepted.to_string(),
        };
        self.report(path, At::Value, format!("invalid decision \"{text}\""), Some(help));
        None
    }

    /// Reads a list of rules, or the map form `{ pattern: decision }`.
    fn rules(&mut self, path: &[Segment], value: &Value, kind: PatternKind) -> Vec<Rule> {
        match value {
            Value::Null => Vec::new(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| self.list_rule(&child_index(path, index), item, kind, index))
                .collect(),
            Value::Object(entries) => entries
                .iter()
                .filter_map(|(pattern, item)| self.map_rule(&child(path, pattern), pattern, item, kind))
                .collect(),
            other => {
                self.type_error(path, "a list of rules or a mapping from pattern to decision", other);
                Vec::new()
            }
        }
    }

    fn list_rule(&mut self, path: &[Segment], value: &Value, kind: PatternKind, index: usize) -> Option<Rule> {
        if !matches!(value, Value::Object(_)) {
            let message = format!("expected a rule mapping, found {}", super::reader::describe(value));
            self.report(path, At::Value, message, Some(RULE_FORM_HELP.to_string()));
            return None;
        }
        let fields = self.fields(path, value, &RULE_KEYS)?;
        let pattern = match fields.get("pattern") {
            Some((raw, value)) => self.pattern(&child(path, raw), At::Value, value, kind),
            None => self.missing(path, "pattern"),
        };
        let decision = match fields.get("decision") {
            Some((raw, value)) => self.decision(&child(path, raw), value),
            None => self.missing(path, "decision"),
        };
        let (exception, reason) = self.rule_extras(path, &fields)?;
        Some(Rule { pattern: pattern?, decision: decision?, exception, reason, index: Some(index) })
    }

    fn map_rule(&mut self, path: &[Segment], pattern: &str, value: &Value, kind: PatternKind) -> Option<Rule> {
        let pattern = self.pattern(path, At::Key, &Value::String(pattern.to_string()), kind);
        if let Value::String(_) = value {
            let decision = self.decision(path, value);
            return Some(Rule { pattern: pattern?, decision: decision?, exception: false, reason: None, index: None });
        }
        let fields = self.fields(path, value, &MAP_RULE_KEYS)?;
        let decision = match fields.get("decision") {
            Some((raw, value)) => self.decision(&child(path, raw), value),
            None => self.missing(path, "decision"),
        };
        let (exception, reason) = self.rule_extras(path, &fields)?;
        Some(Rule { pattern: pattern?, decision: decision?, exception, reason, index: None })
    }

    fn rule_extras(&mut self, path: &[Segment], fields: &super::reader::Fields<'_>) -> Option<(bool, Option<String>)> {
        let exception = match fields.get("exception") {
            None | Some((_, Value::Null)) => Some(false),
            Some((_, Value::Bool(flag))) => Some(*flag),
            Some((raw, other)) => {
                self.type_error(&child(path, raw), "true or false", other);
                None
            }
        };
        let reason = match fields.get("reason") {
            Some((raw, value)) => self.string(&child(path, raw), value),
            None => None,
        };
        Some((exception?, reason))
    }

    fn pattern(&mut self, path: &[Segment], at: At, value: &Value, kind: PatternKind) -> Option<String> {
        let Value::String(pattern) = value else {
            self.type_error(path, "a pattern string", value);
            return None;
        };
        match check_pattern(kind, pattern) {
            Ok(()) => Some(pattern.clone()),
            Err(error) => {
                self.report(path, at, error.message, error.help);
                None
            }
        }
    }

    fn missing<T>(&mut self, path: &[Segment], key: &str) -> Option<T> {
        self.report(path, At::Key, format!("rule is missing \"{key}\""), Some(RULE_FORM_HELP.to_string()));
        None
    }
}
