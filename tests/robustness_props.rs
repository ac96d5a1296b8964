//! Property tests. Arbitrary text and JSON never panic the event parser or
//! the governor. A malformed permission request is never approved. A denied
//! sub-command joined to anything by `&&`, `;`, `||` or `|` is never
//! approved unless a comment hides it. The fuzz targets under fuzz/ check the same on longer runs;
//! these run with every `cargo test`.

use mc_governance::decision::Decision;
use mc_governance::events;
use mc_governance::governor::{ExplainRequest, Governor, GovernorOptions, JobRegistration};
use mc_governance::policy;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

const JOB_ID: &str = "props-job";
const DENY_RM: &str = "permissions:\n  shell_command:\n    inside_worktree: auto-approve\n    outside_worktree: auto-approve\n    rules:\n      - { pattern: \"rm -rf *\", decision: deny }\n  file_edit: auto-approve\n  file_read: auto-approve\n  network_access: auto-approve\n  install_packages: auto-approve\n";

fn worktree() -> PathBuf {
    // A fixed name, reused by every run: the folder holds only empty folders.
    let worktree = std::env::temp_dir().join("mcg-robustness-props");
    std::fs::create_dir_all(worktree.join("src")).unwrap();
    std::fs::canonicalize(worktree).unwrap()
}

/// Builds a governor whose job approves everything except `rm -rf`.
fn governor() -> Governor {
    let mut governor = Governor::new(GovernorOptions::default());
    governor.register_plan("props-plan", policy::parse_config(DENY_RM, "deny-rm.yaml").unwrap()).unwrap();
    let registration = JobRegistration {
        job_id: JOB_ID.to_string(),
        plan_id: Some("props-plan".to_string()),
        worktree: worktree(),
        home: Some(PathBuf::from("/home/props")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).unwrap();
    governor
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |n| n.is_finite()).prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["permission.asked", "permission.updated", "permission.v2.asked", "message.updated", "message.part.updated", "tool", "bash", "edit", "assistant"]).prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Keys OpenCode events use, and some that no event has.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "type", "properties", "payload", "id", "sessionID", "permission", "patterns", "pattern", "metadata",
            "tool", "callID", "messageID", "part", "state", "input", "info", "role", "tokens", "cost", "time",
            "command", "filepath", "action", "resources", "source", "title",
        ])
        .prop_map(str::to_string),
        "[a-z]{1,6}",
    ]
}

/// Builds a well-formed edit request inside the worktree, which the policy approves.
fn approved_edit() -> Value {
    json!({
        "type": "permission.asked",
        "properties": {
            "id": "per_1", "sessionID": "ses_1", "permission": "edit",
            "patterns": ["src/a.ts"], "metadata": {"filepath": "src/a.ts"},
            "tool": {"messageID": "msg_1", "callID": "call_1"}
        }
    })
}

/// Generates a value of the wrong type for the field, or an empty required string.
fn malformed(field: &str) -> BoxedStrategy<Value> {
    let not_string = json_value().prop_filter("not a string", |value| !value.is_string());
    match field {
        "id" | "sessionID" | "permission" => prop_oneof![not_string, Just(json!(""))].boxed(),
        "patterns" => prop_oneof![
            json_value().prop_filter("not a list or string", |value| !(value.is_array() || value.is_string() || value.is_null())),
            prop::collection::vec(json_value().prop_filter("not a string", |value| !value.is_string()), 1..4).prop_map(Value::Array),
        ]
        .boxed(),
        _ => json_value().prop_filter("not an object", |value| !(value.is_object() || value.is_null())).boxed(),
    }
}

fn malformed_field() -> impl Strategy<Value = (String, Value)> {
    prop::sample::select(vec!["id", "sessionID", "permission", "patterns", "metadata", "tool"])
        .prop_flat_map(|field| (Just(field.to_string()), malformed(field)))
}

/// Shell text: words, quotes, operators, expansions and control keywords.
fn shell_fragment() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-z./_-]{1,8}",
        prop::sample::select(vec![
            " ", "'", "\"", "\\", "$(", ")", "`", "${", "}", "&&", "||", ";", "|", "&", ">", "<", "<<EOF", "\n",
            "#", "if", "then", "fi", "for", "do", "done", "(", "{", "eval", "sudo", "cd ..", "$HOME", "*", "~",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(token, 0..12).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_without_panic(text in ".{0,200}") {
        let _ = events::parse_event_text(&text);
        let _ = events::parse_event_text(&format!("data: {text}"));
    }

    #[test]
    fn any_bytes_parse_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = events::parse_event_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn any_json_is_handled_without_panic(value in json_value(), event_type in key()) {
        let mut governor = governor();
        let _ = governor.handle_event(JOB_ID, &value);
        let _ = governor.handle_event(JOB_ID, &json!({"type": event_type, "properties": value}));
        for permission_type in ["permission.asked", "permission.updated", "permission.v2.asked", "message.updated", "message.part.updated"] {
            let _ = governor.handle_event(JOB_ID, &json!({"type": permission_type, "properties": value}));
        }
    }

    #[test]
    fn malformed_request_is_never_approved((field, value) in malformed_field()) {
        let mut governor = governor();
        let mut event = approved_edit();
        event["properties"][field.as_str()] = value;
        if let Ok(outcome) = governor.handle_event(JOB_ID, &event) {
            let decision = outcome.permission.map(|permission| permission.decision);
            prop_assert_ne!(decision, Some(Decision::AutoApprove), "approved {}", event);
        }
    }

    #[test]
    fn denied_sub_command_is_never_approved(fragment in shell_fragment(), joiner in prop::sample::select(vec![" && ", "; ", " || ", " | "])) {
        let governor = governor();
        // A `#` on the fragment's last line may start a comment that really
        // hides a denied command following on the same line.
        let may_comment_out = fragment.rsplit('\n').next().is_some_and(|last_line| last_line.contains('#'));
        let mut commands = vec![format!("rm -rf /tmp/x{joiner}{fragment}")];
        if !may_comment_out {
            commands.push(format!("{fragment}{joiner}rm -rf /tmp/x"));
        }
        for command in commands {
            let request = ExplainRequest { command: Some(command.clone()), ..ExplainRequest::default() };
            let explanation = governor.explain(JOB_ID, &request).unwrap();
            prop_assert_ne!(explanation.decision, Decision::AutoApprove, "approved {:?}", command);
        }
    }
}

#[test]
fn fuzz_findings_stay_fixed() {
    // Found by the shell_analyse fuzz target. A comment hides the rest of its
    // line, so only the newline form runs `rm`. brush-parser panics on the
    // oversized IO number, and the shell module must catch that and hold.
    let governor = governor();
    let cases = [
        ("find . #narg-f && rm -rf /tmp/x", Decision::AutoApprove),
        ("find . #narg-f\nrm -rf /tmp/x", Decision::Deny),
        ("echo hi 99999999999> build/x.txt", Decision::AskUser),
        ("mkdir -p build && echo hiA 1111111111111111111111> build/x.txt", Decision::AskUser),
    ];
    for (command, expected) in cases {
        let request = ExplainRequest { command: Some(command.to_string()), ..ExplainRequest::default() };
        assert_eq!(governor.explain(JOB_ID, &request).unwrap().decision, expected, "{command:?}");
    }
}

#[test]
fn approved_edit_is_approved() {
    // The malformed-request property starts from this event; it must be
    // approved as is, or the property would pass for the wrong reason.
    let mut governor = governor();
    let outcome = governor.handle_event(JOB_ID, &approved_edit()).unwrap();
    assert_eq!(outcome.permission.unwrap().decision, Decision::AutoApprove);
}
