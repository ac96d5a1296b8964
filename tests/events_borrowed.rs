//! The borrowed event reader and the `Value` readers must agree on every
//! event: `parse_event_text` tries the first and falls back to the second,
//! and `parse_event_text_by_value` uses only the second. These tests feed
//! both the captured streams and mutations of them.

use mc_governance::events::{is_value_limit, parse_event_text, parse_event_text_by_value, Event};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Returns every `data:` line of every captured stream, derived ones included.
fn captured_lines() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures");
    let mut files = sse_files(&root);
    files.extend(sse_files(&root.join("derived")));
    files.sort();
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        lines.extend(text.lines().filter(|line| line.starts_with("data:")).map(str::to_string));
    }
    lines
}

fn sse_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap();
    let paths = entries.map(|entry| entry.unwrap().path());
    paths.filter(|path| path.extension().is_some_and(|ext| ext == "sse")).collect()
}

/// Returns the captured events the governor reads, as JSON values, for mutation.
fn governed_events() -> &'static [Value] {
    static EVENTS: OnceLock<Vec<Value>> = OnceLock::new();
    EVENTS.get_or_init(read_governed_events)
}

fn read_governed_events() -> Vec<Value> {
    let governed = ["permission.", "message.updated", "message.part.updated", "session.created", "session.updated"];
    let lines = captured_lines();
    let values = lines.iter().map(|line| serde_json::from_str::<Value>(line.trim_start_matches("data:").trim()).unwrap());
    values
        .filter(|value| {
            let text = value.to_string();
            governed.iter().any(|name| text.contains(name))
        })
        .collect()
}

/// Asserts that both readers agree, except where the `Value` reader alone
/// hits one of its limits (see `parse_event_text_by_value`).
fn assert_same(text: &str) {
    let by_value = parse_event_text_by_value(text);
    if by_value.as_ref().is_err_and(is_value_limit) {
        return;
    }
    assert_eq!(parse_event_text(text), by_value, "event text: {text}");
}

#[test]
fn captured_events_read_alike_both_ways() {
    let lines = captured_lines();
    assert!(lines.len() > 300, "only {} captured lines", lines.len());
    for line in &lines {
        assert_same(line);
    }
}

#[test]
fn unusual_shapes_read_alike_both_ways() {
    let cases = [
        // Properties and nested objects written as arrays.
        r#"{"type":"permission.asked","properties":["per_1","ses_1","edit"]}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit","metadata":["/etc/passwd"]}}"#,
        r#"{"type":"message.updated","properties":{"info":{"role":"assistant","id":"m","sessionID":"s","providerID":"p","modelID":"x","tokens":[1,2,3,{"read":0,"write":0}]}}}"#,
        // Null where missing means something else.
        r#"{"type":"message.part.updated","properties":{"part":{"type":"step-finish","id":"p","sessionID":"s","messageID":"m","tokens":{"input":1,"output":1,"reasoning":0,"cache":{"read":0,"write":0}},"cost":null}}}"#,
        r#"{"type":"message.updated","properties":{"sessionID":"s","info":{"role":"assistant","sessionID":null,"id":"m","providerID":"p","modelID":"x","tokens":{"input":1,"output":1,"reasoning":0,"cache":{"read":0,"write":0}}}}}"#,
        // Counts written as floats, and duplicated keys.
        r#"{"type":"message.updated","properties":{"info":{"role":"assistant","id":"m","sessionID":"s","providerID":"p","modelID":"x","tokens":{"input":12.0,"output":1,"reasoning":0,"cache":{"read":0,"write":0}}}}}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","id":"q","sessionID":"s","permission":"edit"}}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"bash","metadata":{"command":"ls","command":"rm -rf /"}}}"#,
        // Metadata values of other types, and a legacy single pattern.
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit","metadata":{"filepath":5}}}"#,
        r#"{"type":"permission.v2.asked","properties":{"id":"p","sessionID":"s","action":"webfetch","resources":"http://127.0.0.1/"}}"#,
        r#"{"type":"message.part.updated","properties":{"part":{"type":"tool","tool":"bash","sessionID":"s","messageID":"m","callID":"c","state":{"input":"ls"}}}}"#,
        r#"{"type":"session.created","properties":{"info":{"id":"s","parentID":""}}}"#,
        // Envelopes: properties before the type, keys twice, a type that is
        // not a string, trailing text, and the `data` and `payload` forms.
        r#"{"properties":{"id":"p","sessionID":"s","permission":"edit"},"type":"permission.asked"}"#,
        r#"{"type":"permission.asked","type":"session.status","properties":{"id":"p","sessionID":"s","permission":"edit"}}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit"},"properties":{"id":"q","sessionID":"s","permission":"bash"}}"#,
        r#"{"type":7,"properties":{}}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit"}} x"#,
        r#"{"type":"permission.asked","data":{"id":"p","sessionID":"s","permission":"edit"}}"#,
        r#"{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit"},"data":{"id":"q","sessionID":"s","permission":"bash"}}"#,
        r#"{"directory":"/w","payload":{"type":"permission.asked","properties":{"id":"p","sessionID":"s","permission":"edit"}}}"#,
        r#"{"type":"session.status","properties":{"sessionID":"s"},"properties":1}"#,
        // A number out of range where no reader looks, found by fuzzing: the
        // error must give the same position both ways.
        r#"{"type":"session.created","properties":{"sessionID":"s","infn":{"time":{"created":179641E132717}}}}"#,
        // Deep nesting in a field both readers use.
        &format!(r#"{{"type":"permission.asked","properties":{{"id":"p","sessionID":"s","permission":"bash","patterns":{}"ls"{}}}}}"#, "[".repeat(200), "]".repeat(200)),
    ];
    for case in cases {
        assert_same(case);
    }
}

#[test]
fn huge_numbers_are_skipped_only_where_unread() {
    // Found by fuzzing: a part with no type and a huge number beside it.
    let unread = r#"{"type":"message.part.updated","properties":{"part":{"id":"prt_1"},"tim791":6e414052229}}"#;
    assert_eq!(parse_event_text(unread).unwrap(), Event::Other { event_type: "message.part.updated".into() });

    let read = r#"{"type":"message.part.updated","properties":{"part":{"type":"step-finish"},"time":6e414052229}}"#;
    let error = parse_event_text(read).unwrap_err();
    assert!(error.message.contains("number out of range"), "{error}");
}

#[test]
fn lone_surrogates_are_skipped_only_where_unread() {
    // Found by fuzzing, in a key of an unread object.
    let unread = r#"{"type":"session.status","properties":{"part":{"c\uDD85":1}}}"#;
    assert_eq!(parse_event_text(unread).unwrap(), Event::Other { event_type: "session.status".into() });

    // A leading half followed by something else, also found by fuzzing.
    let unread = r#"{"type":"session.status","properties":{"tool":{"\uD8F6x":1}}}"#;
    assert_eq!(parse_event_text(unread).unwrap(), Event::Other { event_type: "session.status".into() });
    assert!(parse_event_text_by_value(unread).is_err_and(|error| is_value_limit(&error)));

    let read = r#"{"type":"permission.asked","properties":{"id":"p\uDD85","sessionID":"s","permission":"edit"}}"#;
    let error = parse_event_text(read).unwrap_err();
    assert!(error.message.contains("surrogate"), "{error}");
}

#[test]
fn deep_nesting_is_skipped_only_where_unread() {
    let nested = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_metadata = format!(
        r#"{{"type":"permission.asked","properties":{{"id":"p","sessionID":"s","permission":"edit","patterns":["a.ts"],"metadata":{{"diff":{}}}}}}}"#,
        nested(100_000)
    );
    let event = parse_event_text(&in_metadata).unwrap();
    assert!(matches!(event, Event::Permission(ref request) if request.patterns == ["a.ts"]));

    let in_patterns = format!(
        r#"{{"type":"permission.asked","properties":{{"id":"p","sessionID":"s","permission":"edit","patterns":[{}]}}}}"#,
        nested(200)
    );
    let error = parse_event_text(&in_patterns).unwrap_err();
    assert!(error.message.contains("recursion limit exceeded"), "{error}");
}

#[test]
fn reserved_raw_value_key_is_skipped_only_where_unread() {
    // Found by fuzzing: serde_json takes an object whose first key is this
    // one for its own raw values, so only the `Value` reader fails on it.
    let key = "\"$serde_json::private::RawValue\"";
    let in_metadata = format!(
        r#"{{"type":"permission.asked","properties":{{"id":"p","sessionID":"s","permission":"edit","patterns":["a.ts"],"metadata":{{"x":{{{key}:"v"}}}}}}}}"#
    );
    let event = parse_event_text(&in_metadata).unwrap();
    assert!(matches!(event, Event::Permission(ref request) if request.patterns == ["a.ts"]));
    for text in [format!("{{{key}:\"filePath\"}}"), in_metadata] {
        let error = parse_event_text_by_value(&text).unwrap_err();
        assert!(error.message.contains("which serde_json reserves"), "{error}");
        assert!(is_value_limit(&error));
    }
}

#[test]
fn every_read_field_mutated_reads_alike_both_ways() {
    let values = [
        None, Some(Value::Null), Some(json!(12.0)), Some(json!(-1)), Some(json!(7)), Some(json!("")),
        Some(json!("x")), Some(json!([])), Some(json!({})), Some(json!(["a"])), Some(json!(true)),
    ];
    let mut compared = 0;
    for event in governed_events() {
        let mut all = Vec::new();
        paths(event, &mut Vec::new(), &mut all);
        for path in all.iter().filter(|path| ends_in_read_field(path)) {
            for value in &values {
                let mut mutated = event.clone();
                mutate(&mut mutated, path, value.clone());
                assert_same(&mutated.to_string());
                compared += 1;
            }
        }
    }
    assert!(compared > 5_000, "only {compared} mutations compared");
}

/// Collects every path to a value inside `value`, as object keys and array indexes.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Fields the event readers look at, at any depth.
const READ_FIELDS: [&str; 28] = [
    "type", "properties", "payload", "id", "sessionID", "permission", "action", "patterns", "resources",
    "metadata", "tool", "source", "messageID", "callID", "filepath", "command", "url", "info", "role",
    "providerID", "modelID", "tokens", "cache", "cost", "time", "part", "state", "parentID",
];

fn ends_in_read_field(path: &[Step]) -> bool {
    matches!(path.last(), Some(Step::Key(key)) if READ_FIELDS.contains(&key.as_str()))
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Replaces (or, with `None`, removes) the value at `path`.
fn mutate(value: &mut Value, path: &[Step], replacement: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        if let Some(replacement) = replacement {
            *value = replacement;
        }
        return;
    };
    let mut target = value;
    for step in parents {
        target = match step {
            Step::Key(key) => &mut target[key.as_str()],
            Step::Index(index) => &mut target[*index],
        };
    }
    match (last, replacement) {
        (Step::Key(key), Some(replacement)) => target[key.as_str()] = replacement,
        (Step::Key(key), None) => {
            target.as_object_mut().map(|map| map.remove(key));
        }
        (Step::Index(index), Some(replacement)) => target[*index] = replacement,
        (Step::Index(index), None) => {
            target.as_array_mut().map(|items| items.remove(*index));
        }
    }
}

fn replacement() -> impl Strategy<Value = Option<Value>> {
    let leaf = prop_oneof![
        3 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<u64>().prop_map(|n| json!(n)),
        1 => (0.0f64..1e6).prop_map(|n| json!(n)),
        1 => (0u32..1000).prop_map(|n| json!(f64::from(n))),
        2 => prop::sample::select(vec!["", "assistant", "user", "tool", "step-finish", "text", "bash", "edit", "/etc/passwd", "ses_1"]).prop_map(|s| json!(s)),
    ];
    let value = leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..4).prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    });
    prop_oneof![4 => value.prop_map(Some), 1 => Just(None)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn mutated_events_read_alike_both_ways(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), replacement in replacement(), duplicate in any::<bool>(), read_only in any::<bool>()) {
        let events = governed_events();
        let mut event = events[pick.index(events.len())].clone();
        let mut all = Vec::new();
        paths(&event, &mut Vec::new(), &mut all);
        // Half the time, only paths ending in a field the readers use.
        let read: Vec<Vec<Step>> = all.iter().filter(|path| ends_in_read_field(path)).cloned().collect();
        let candidates = if read_only && !read.is_empty() { &read } else { &all };
        let path = candidates[at.index(candidates.len())].clone();
        mutate(&mut event, &path, replacement);
        let text = event.to_string();
        assert_same(&text);
        assert_same(&format!("data: {text}"));

        // The same key twice in one object: the `Value` reader keeps the last.
        if let (true, Some(Step::Key(key))) = (duplicate, path.last()) {
            let needle = format!("\"{key}\":");
            if let Some(position) = text.find(&needle) {
                let doubled = format!("{}{needle}null,{}", &text[..position], &text[position..]);
                assert_same(&doubled);
            }
        }
    }
}
