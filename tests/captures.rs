//! Replays the event streams captured from a real `opencode serve` (see
//! fixtures/captures) through the governor with the built-in default policy.

use mc_governance::governor::{Governor, GovernorOptions, JobRegistration};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures")
}

/// Reads the `data:` lines of a raw `GET /event` capture.
fn events_of(name: &str) -> Vec<Value> {
    let text = fs::read_to_string(captures_dir().join(format!("{name}.sse"))).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|json| serde_json::from_str(json.trim()).unwrap())
        .collect()
}

fn sidecar_of(name: &str) -> Value {
    let text = fs::read_to_string(captures_dir().join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Replays a capture and returns each permission request's (permission, decision).
fn replay(name: &str) -> (Governor, Vec<(String, String)>) {
    let sidecar = sidecar_of(name);
    let mut governor = Governor::new(GovernorOptions::default());
    let registration = JobRegistration {
        job_id: "job".into(),
        worktree: PathBuf::from(sidecar["worktree"].as_str().unwrap()),
        home: Some(PathBuf::from("/home/agent")),
        ..JobRegistration::default()
    };
    governor.register_job(registration).unwrap();

    let mut decisions = Vec::new();
    for event in events_of(name) {
        let outcome = governor.handle_event("job", &event).unwrap();
        if let Some(permission) = outcome.permission {
            decisions.push((permission.permission, permission.decision.as_str().to_string()));
        }
    }
    (governor, decisions)
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(permission, decision)| (permission.to_string(), decision.to_string())).collect()
}

#[test]
fn captured_streams_get_default_decisions() {
    let cases: [(&str, &[(&str, &str)]); 8] = [
        ("edit-inside", &[("edit", "auto-approve"), ("edit", "auto-approve")]),
        ("write-outside", &[("external_directory", "deny")]),
        ("bash-compound", &[("bash", "auto-approve")]),
        ("npm-install", &[("bash", "ask-user")]),
        ("webfetch", &[("webfetch", "deny")]),
        ("cd-parent", &[("external_directory", "ask-user"), ("bash", "ask-user")]),
        ("multi-step", &[("edit", "auto-approve"), ("edit", "auto-approve"), ("bash", "auto-approve")]),
        ("subagent", &[("edit", "auto-approve")]),
    ];
    for (name, expected) in cases {
        let (_, decisions) = replay(name);
        assert_eq!(decisions, pairs(expected), "capture {name}");
    }
}

#[test]
fn every_capture_is_covered() {
    let mut names: Vec<String> = fs::read_dir(captures_dir())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.strip_suffix(".sse")).map(str::to_string))
        .collect();
    names.sort();
    let covered = ["bash-compound", "cd-parent", "edit-inside", "multi-step", "npm-install", "subagent", "webfetch", "write-outside"];
    let unknown: Vec<&String> = names.iter().filter(|name| !covered.contains(&name.as_str())).collect();
    assert!(unknown.is_empty(), "captures without expected decisions: {unknown:?}");
}
