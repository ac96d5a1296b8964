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
    // The derived fixtures are rebuilt from several captures; their paths
    // are absolute, so the edit-inside worktree serves for all of them.
    // The edit-inside stream was also recorded from `/api/event` and
    // `/global/event`; those copies share its sidecar.
    let name = if name.starts_with("derived/") || name.starts_with("edit-inside.") { "edit-inside" } else { name };
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

/// Expected decisions of the derived fixtures, which re-shape the requests of
/// edit-inside, write-outside, bash-compound, npm-install, webfetch and cd-parent.
const DERIVED: &[(&str, &str)] = &[
    ("edit", "auto-approve"),
    ("edit", "auto-approve"),
    ("external_directory", "deny"),
    ("bash", "auto-approve"),
    ("bash", "ask-user"),
    ("webfetch", "deny"),
    ("external_directory", "ask-user"),
    ("bash", "ask-user"),
];

/// Expected (permission, decision) pairs of each capture under the default policy.
const EXPECTED: [(&str, &[(&str, &str)]); 15] = [
    ("edit-inside", &[("edit", "auto-approve"), ("edit", "auto-approve")]),
    // `/api/event` carries only some session and message events, no permission requests.
    ("edit-inside.api-event", &[]),
    ("edit-inside.global-event", &[("edit", "auto-approve"), ("edit", "auto-approve")]),
    ("write-outside", &[("external_directory", "deny")]),
    ("write-outside-approved", &[("external_directory", "deny"), ("edit", "deny")]),
    ("bash-compound", &[("bash", "auto-approve")]),
    ("npm-install", &[("bash", "ask-user")]),
    ("webfetch", &[("webfetch", "deny")]),
    ("cd-parent", &[("external_directory", "ask-user"), ("bash", "ask-user")]),
    ("multi-step", &[("edit", "auto-approve"), ("edit", "auto-approve"), ("bash", "auto-approve")]),
    ("subagent", &[("edit", "auto-approve")]),
    ("always-reply", &[("bash", "auto-approve")]),
    ("mcp-tool", &[("probe_echo", "auto-approve")]),
    // Hand-made from the captures above in the v2 and legacy shapes, which
    // OpenCode 1.18.33 does not send; fixtures/README.md says how.
    ("derived/permission-v2-asked", DERIVED),
    ("derived/permission-updated", DERIVED),
];

#[test]
fn captured_streams_get_default_decisions() {
    for (name, expected) in EXPECTED {
        let (_, decisions) = replay(name);
        assert_eq!(decisions, pairs(expected), "capture {name}");
    }
}

#[test]
fn every_capture_is_covered() {
    let mut names = Vec::new();
    for dir in ["", "derived/"] {
        for entry in fs::read_dir(captures_dir().join(dir)).unwrap().filter_map(|entry| entry.ok()) {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = file_name.strip_suffix(".sse") {
                names.push(format!("{dir}{name}"));
            }
        }
    }
    let covered: Vec<&str> = EXPECTED.iter().map(|(name, _)| *name).collect();
    let unknown: Vec<&String> = names.iter().filter(|name| !covered.contains(&name.as_str())).collect();
    assert!(unknown.is_empty(), "captures without expected decisions: {unknown:?}");
}
