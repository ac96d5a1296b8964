//! Malformed OpenCode events: each one is rejected with an error that names
//! the problem, nothing panics, and no malformed permission request is
//! decided, logged or approved.

use mc_governance::decision::Decision;
use mc_governance::events::{self, MAX_EVENT_BYTES};
use mc_governance::governor::{Governor, GovernorOptions, JobRegistration};
use serde_json::{json, Value};
use std::path::PathBuf;

const JOB_ID: &str = "robust-job";

fn governor() -> Governor {
    // A fixed name, reused by every run: the folder holds only empty folders.
    let worktree = std::env::temp_dir().join("mcg-robustness-events");
    std::fs::create_dir_all(worktree.join("src")).unwrap();
    let mut governor = Governor::new(GovernorOptions::default());
    let registration = JobRegistration {
        job_id: JOB_ID.to_string(),
        worktree: std::fs::canonicalize(&worktree).unwrap(),
        home: Some(PathBuf::from("/home/robust")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).unwrap();
    governor
}

fn parse_error(text: &str) -> String {
    match events::parse_event_text(text) {
        Ok(event) => panic!("parsed {text:?} as {event:?}"),
        Err(error) => error.to_string(),
    }
}

/// Builds a well-formed `permission.asked` edit request with one property replaced.
fn asked_with(key: &str, value: Value) -> Value {
    let mut event = json!({
        "type": "permission.asked",
        "properties": {
            "id": "per_1", "sessionID": "ses_1", "permission": "edit",
            "patterns": ["src/a.ts"], "metadata": { "filepath": "src/a.ts" },
            "always": ["*"], "tool": { "messageID": "msg_1", "callID": "call_1" }
        }
    });
    event["properties"][key] = value;
    event
}

fn asked_without(key: &str) -> Value {
    let mut event = asked_with("id", json!("per_1"));
    event["properties"].as_object_mut().unwrap().remove(key);
    event
}

#[test]
fn empty_and_blank_lines_are_rejected() {
    let cases = ["", " ", "\n", "data:", "data: ", "data:\t\n", ":keepalive"];
    for text in cases {
        assert!(parse_error(text).starts_with("invalid event: not valid JSON"), "{text:?}");
    }
}

#[test]
fn envelope_problems_are_named() {
    let cases = [
        ("[]", "invalid event: expected a JSON object"),
        ("\"permission.asked\"", "invalid event: expected a JSON object"),
        ("42", "invalid event: expected a JSON object"),
        ("null", "invalid event: expected a JSON object"),
        ("{}", "invalid event: missing string field \"type\""),
        ("{\"type\": 7}", "invalid event: missing string field \"type\""),
        ("{\"type\": null, \"properties\": {}}", "invalid event: missing string field \"type\""),
        ("{\"payload\": 3}", "invalid event: missing string field \"type\""),
        ("{\"type\": \"permission.asked\", \"properties\": []}", "invalid permission.asked event: expected \"properties\" to be an object"),
        ("{\"type\": \"permission.updated\"}", "invalid permission.updated event: expected \"properties\" to be an object"),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_error(text), expected, "{text}");
    }
}

#[test]
fn truncated_json_is_rejected() {
    let line = "data: {\"type\":\"permission.asked\",\"properties\":{\"id\":\"per_1\",\"sessionID\":\"ses_1\"";
    for end in 6..line.len() {
        let message = parse_error(&line[..end]);
        assert!(message.starts_with("invalid event: not valid JSON"), "{end}: {message}");
    }
}

#[test]
fn missing_permission_fields_are_named() {
    let cases = [
        ("id", "invalid permission.asked event: missing field \"id\""),
        ("sessionID", "invalid permission.asked event: missing field \"sessionID\""),
        ("permission", "invalid permission.asked event: missing field \"permission\""),
    ];
    for (key, expected) in cases {
        let error = events::parse_event(&asked_without(key)).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn mistyped_permission_fields_are_named() {
    let cases = [
        ("id", json!(12), "field \"id\" must be a string, got a number"),
        ("id", json!(""), "field \"id\" is empty"),
        ("sessionID", json!(["ses_1"]), "field \"sessionID\" must be a string, got a list"),
        ("permission", json!({"edit": true}), "field \"permission\" must be a string, got an object"),
        ("permission", json!(null), "field \"permission\" must be a string, got null"),
        ("patterns", json!(true), "field \"patterns\" must be a list of strings, got a boolean"),
        ("patterns", json!(["a", 2]), "field \"patterns[1]\" must be a string, got a number"),
        ("metadata", json!("filepath"), "field \"metadata\" must be an object, got a string"),
        ("tool", json!(5), "field \"tool\" must be an object, got a number"),
    ];
    for (key, value, expected) in cases {
        let error = events::parse_event(&asked_with(key, value)).unwrap_err();
        assert_eq!(error.to_string(), format!("invalid permission.asked event: {expected}"), "{key}");
    }
}

#[test]
fn legacy_and_v2_shapes_name_their_fields() {
    let cases = [
        (json!({"type": "permission.updated", "properties": {"id": "p", "sessionID": "s"}}), "invalid permission.updated event: missing field \"type\""),
        (json!({"type": "permission.updated", "properties": {"id": "p", "sessionID": "s", "type": "bash", "title": 3}}), "invalid permission.updated event: field \"title\" must be a string, got a number"),
        (json!({"type": "permission.v2.asked", "properties": {"id": "p", "sessionID": "s"}}), "invalid permission.v2.asked event: missing field \"action\""),
        (json!({"type": "permission.v2.asked", "properties": {"id": "p", "sessionID": "s", "action": "edit", "resources": {}}}), "invalid permission.v2.asked event: field \"resources\" must be a list of strings, got an object"),
        (json!({"type": "permission.v2.asked", "properties": {"id": "p", "sessionID": "s", "action": "edit", "source": "tool"}}), "invalid permission.v2.asked event: field \"source\" must be an object, got a string"),
    ];
    for (event, expected) in cases {
        assert_eq!(events::parse_event(&event).unwrap_err().to_string(), expected);
    }
}

#[test]
fn malformed_tool_calls_are_named() {
    let part = |part: Value| json!({"type": "message.part.updated", "properties": {"part": part}});
    let cases = [
        (part(json!({"type": "tool", "messageID": "m", "callID": "c", "tool": "bash"})), "missing field \"sessionID\""),
        (part(json!({"type": "tool", "sessionID": "s", "messageID": "m", "callID": 9, "tool": "bash"})), "field \"callID\" must be a string, got a number"),
        (part(json!({"type": "tool", "sessionID": "s", "messageID": "m", "callID": "c"})), "missing field \"tool\""),
    ];
    for (event, expected) in cases {
        let error = events::parse_event(&event).unwrap_err();
        assert_eq!(error.to_string(), format!("invalid message.part.updated event: {expected}"));
    }
}

#[test]
fn oversized_event_is_rejected_before_parsing() {
    let padding = "x".repeat(MAX_EVENT_BYTES);
    let text = format!("{{\"type\":\"server.heartbeat\",\"properties\":{{\"pad\":\"{padding}\"}}}}");
    let expected = format!("invalid event: event is {} bytes, more than the limit of {MAX_EVENT_BYTES}", text.len());
    assert_eq!(parse_error(&text), expected);
}

#[test]
fn huge_strings_under_the_limit_parse() {
    let command = "echo ".to_string() + &"a".repeat(2 * 1024 * 1024);
    let event = json!({"type": "permission.asked", "properties": {
        "id": "per_big", "sessionID": "ses_1", "permission": "bash", "patterns": [], "metadata": {"command": command}
    }});
    let mut governor = governor();
    let outcome = governor.handle_event(JOB_ID, &event).unwrap();
    let permission = outcome.permission.unwrap();
    assert_ne!(permission.decision, Decision::AutoApprove, "a 2 MiB command is too long to analyse");
    assert!(permission.reason.len() < 4096, "the reason repeats the whole command");
}

#[test]
fn deep_nesting_is_rejected_without_overflow() {
    for depth in [200, 10_000, 1_000_000] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let message = parse_error(&text);
        assert!(message.contains("recursion limit exceeded"), "{depth}: {message}");

        let nested = format!(
            "{{\"type\":\"permission.asked\",\"properties\":{{\"id\":\"p\",\"sessionID\":\"s\",\"permission\":\"edit\",\"metadata\":{}{}}}}}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        );
        let message = parse_error(&nested);
        assert!(message.contains("recursion limit exceeded"), "{depth}: {message}");
    }
}

#[test]
fn invalid_utf8_is_replaced_or_rejected() {
    let inside_string = b"{\"type\":\"session.status\",\"properties\":{\"status\":\"b\xff\xfesy\"}}";
    let text = String::from_utf8_lossy(inside_string);
    let event = events::parse_event_text(&text).unwrap();
    assert_eq!(event.type_name(), "session.status");

    let in_type = b"{\"type\":\"permission.ask\xc3\x28ed\",\"properties\":{}}";
    let event = events::parse_event_text(&String::from_utf8_lossy(in_type)).unwrap();
    assert_eq!(event.type_name(), "permission.ask\u{fffd}(ed", "an unknown type is not a permission request");

    let in_structure = b"{\"type\":\"session.status\",\xff\"properties\":{}}";
    let message = parse_error(&String::from_utf8_lossy(in_structure));
    assert!(message.starts_with("invalid event: not valid JSON"), "{message}");
}

#[test]
fn malformed_request_is_never_decided() {
    let mut governor = governor();
    let cases = [
        asked_without("id"),
        asked_without("sessionID"),
        asked_with("patterns", json!([1])),
        asked_with("metadata", json!([])),
        asked_with("tool", json!("call_1")),
        asked_with("sessionID", json!("")),
    ];
    for event in &cases {
        assert!(governor.handle_event(JOB_ID, event).is_err(), "{event}");
    }
    let (entries, dropped) = governor.decision_log(JOB_ID).unwrap();
    assert!(entries.is_empty(), "logged {entries:?}");
    assert_eq!(dropped, 0);
}

#[test]
fn requests_without_targets_are_held() {
    let mut governor = governor();
    let cases = [
        ("edit", json!({})),
        ("bash", json!({})),
        ("bash", json!({"command": "   "})),
        ("webfetch", json!({})),
        ("external_directory", json!({})),
    ];
    for (permission, metadata) in cases {
        let event = json!({"type": "permission.asked", "properties": {
            "id": "per_empty", "sessionID": "ses_1", "permission": permission, "metadata": metadata
        }});
        let outcome = governor.handle_event(JOB_ID, &event).unwrap();
        let decision = outcome.permission.unwrap().decision;
        assert_ne!(decision, Decision::AutoApprove, "{permission} with {metadata}");
    }
}

#[test]
fn unknown_job_is_an_error() {
    let mut governor = governor();
    let error = governor.handle_event("no-such-job", &asked_with("id", json!("per_1"))).unwrap_err();
    assert_eq!(error.to_string(), "unknown job \"no-such-job\"");
}
