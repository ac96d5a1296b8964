//! Turns config text into a JSON value: JSON for `.json` sources, YAML
//! (which also reads JSON) for everything else.

use serde_json::{Map, Number, Value};

use crate::diagnostic::Diagnostic;

/// Parses `text`. Blank text is `null`, which readers treat as "no
/// settings". Syntax errors carry the parser's line and column.
pub(crate) fn load(text: &str, source: &str) -> Result<Value, Vec<Diagnostic>> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    if source.ends_with(".json") {
        return serde_json::from_str(text).map_err(|error| vec![json_error(&error, source)]);
    }
    if let Some(at) = too_deep(text) {
        let message = format!("brackets nested more than {MAX_FLOW_DEPTH} levels deep");
        return Err(vec![syntax_error(source, message, Some(at))]);
    }
    let mut yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| vec![yaml_error(&error, source)])?;
    yaml.apply_merge().map_err(|error| vec![yaml_error(&error, source)])?;
    let mut problems = Vec::new();
    let value = yaml_to_json(yaml, "", source, &mut problems);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

/// Deepest `[` and `{` nesting read by the YAML parser. Deeper text fails
/// its recursion limit (128) anyway, but only after a scan whose time grows
/// with the square of the depth: 100,000 `[` took 12 s.
const MAX_FLOW_DEPTH: usize = 128;

/// Returns the line and column (1-based) where `[` and `{` first nest
/// deeper than [`MAX_FLOW_DEPTH`], counting brackets outside quotes.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let (mut depth, mut quote, mut line, mut column) = (0usize, None, 1, 0);
    for c in text.chars() {
        column += 1;
        match (quote, c) {
            (_, '\n') => (line, column, quote) = (line + 1, 0, None),
            (Some(open), _) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_FLOW_DEPTH {
            return Some((line, column));
        }
    }
    None
}

fn json_error(error: &serde_json::Error, source: &str) -> Diagnostic {
    syntax_error(source, error.to_string(), (error.line() > 0).then_some((error.line(), error.column())))
}

fn yaml_error(error: &serde_yaml::Error, source: &str) -> Diagnostic {
    syntax_error(source, error.to_string(), error.location().map(|at| (at.line(), at.column())))
}

/// Builds a syntax-error diagnostic, moving the position out of the
/// parser's message into the line and column fields.
fn syntax_error(source: &str, message: String, at: Option<(usize, usize)>) -> Diagnostic {
    let message = match at {
        Some((line, column)) => message.replacen(&format!(" at line {line} column {column}"), "", 1),
        None => message,
    };
    Diagnostic {
        source: source.to_string(),
        line: at.map(|(line, _)| line),
        column: at.map(|(_, column)| column).filter(|column| *column > 0),
        path: String::new(),
        message: format!("invalid syntax: {message}"),
        help: None,
    }
}

/// Converts a YAML value to JSON. Scalar keys become strings; other keys
/// and tagged values are reported, because no config field uses them.
fn yaml_to_json(value: serde_yaml::Value, path: &str, source: &str, problems: &mut Vec<Diagnostic>) -> Value {
    match value {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(flag) => Value::Bool(flag),
        serde_yaml::Value::Number(number) => yaml_number(&number).unwrap_or_else(|| {
            // JSON has no NaN or infinity; no config field accepts them.
            problems.push(unsupported(source, path, format!("\"{number}\" is not a finite number")));
            Value::Null
        }),
        serde_yaml::Value::String(text) => Value::String(text),
        serde_yaml::Value::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| yaml_to_json(item, &format!("{path}[{index}]"), source, problems))
                .collect(),
        ),
        serde_yaml::Value::Mapping(entries) => {
            let mut object = Map::new();
            for (key, item) in entries {
                let Some(key) = scalar_key(&key) else {
                    problems.push(unsupported(source, path, "a mapping key must be a string".to_string()));
                    continue;
                };
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let converted = yaml_to_json(item, &child, source, problems);
                object.insert(key, converted);
            }
            Value::Object(object)
        }
        serde_yaml::Value::Tagged(tagged) => {
            problems.push(unsupported(source, path, format!("unsupported yaml tag \"{}\"", tagged.tag)));
            Value::Null
        }
    }
}

/// Returns the number as JSON, or `None` for `.nan` and `.inf`.
fn yaml_number(number: &serde_yaml::Number) -> Option<Value> {
    if let Some(int) = number.as_i64() {
        Some(Value::Number(int.into()))
    } else if let Some(int) = number.as_u64() {
        Some(Value::Number(int.into()))
    } else {
        number.as_f64().and_then(Number::from_f64).map(Value::Number)
    }
}

fn scalar_key(key: &serde_yaml::Value) -> Option<String> {
    match key {
        serde_yaml::Value::String(text) => Some(text.clone()),
        serde_yaml::Value::Bool(flag) => Some(flag.to_string()),
        serde_yaml::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn unsupported(source: &str, path: &str, message: String) -> Diagnostic {
    Diagnostic {
        source: source.to_string(),
        line: None,
        column: None,
        path: path.to_string(),
        message,
        help: None,
    }
}
