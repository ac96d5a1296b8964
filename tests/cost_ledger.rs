//! Exactly-once counting over duplicated, replayed, reordered and partial
//! event streams, child-session roll-up, snapshots, malformed figures, and
//! the real captures of opencode-ai 1.18.33 when they are on disk.

use mc_governance::cost::CostTracker;
use mc_governance::events::usage::{parse_usage, Tokens, UsageEvent};
use mc_governance::ledger::{CostSource, Totals};
use mc_governance::pricing::PricingTable;
use serde_json::{json, Value};
use std::path::PathBuf;

fn step(
    session: &str,
    message: &str,
    part: &str,
    input: u64,
    output: u64,
    cost: f64,
    at: u64,
) -> Value {
    json!({"type": "message.part.updated", "properties": {"sessionID": session, "time": at, "part": {
        "id": part, "messageID": message, "sessionID": session, "type": "step-finish", "reason": "stop",
        "cost": cost, "tokens": {"total": input + output, "input": input, "output": output, "reasoning": 0,
        "cache": {"read": 0, "write": 0}}}}})
}

fn message(
    session: &str,
    id: &str,
    input: u64,
    output: u64,
    cost: f64,
    completed: Option<u64>,
) -> Value {
    let mut time = json!({"created": 1_000});
    if let Some(done) = completed {
        time["completed"] = json!(done);
    }
    json!({"type": "message.updated", "properties": {"sessionID": session, "info": {
        "id": id, "sessionID": session, "role": "assistant", "parentID": "msg_user", "modelID": "m", "providerID": "p",
        "time": time, "cost": cost, "tokens": {"input": input, "output": output, "reasoning": 0,
        "cache": {"read": 0, "write": 0}}}}})
}

fn event(value: &Value) -> Option<UsageEvent> {
    let kind = value["type"].as_str().unwrap_or_default();
    parse_usage(kind, &value["properties"]).expect("fixture events are well formed")
}

fn feed(tracker: &mut CostTracker, job: &str, events: &[Value]) {
    for value in events {
        if let Some(usage) = event(value) {
            tracker.account(job, &usage).expect("accounting succeeds");
        }
    }
}

fn job_usd(tracker: &CostTracker, job: &str) -> u64 {
    tracker.job_totals(job).map_or(0, |t| t.usd_micros())
}

/// Builds one message in the order 1.18.33 sends it: empty snapshot, step, snapshot
/// with cost, completed snapshot.
fn one_message(session: &str, id: &str, part: &str) -> Vec<Value> {
    vec![
        message(session, id, 0, 0, 0.0, None),
        step(session, id, part, 1000, 100, 0.0045, 2_000),
        message(session, id, 1000, 100, 0.0045, None),
        message(session, id, 1000, 100, 0.0045, Some(2_100)),
    ]
}

#[test]
fn plain_stream_counts_each_step_once() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    feed(&mut tracker, "job", &one_message("ses", "msg1", "prt1"));
    let totals = tracker.job_totals("job").unwrap_or_default();
    assert_eq!(
        totals.tokens,
        Tokens {
            input: 1000,
            output: 100,
            ..Tokens::default()
        }
    );
    assert_eq!(totals.reported_micros, 4_500);
    assert_eq!(totals.requests, 1);
    assert_eq!(totals.source(), CostSource::Reported);
}

#[test]
fn every_event_sent_twice_counts_once() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    let events: Vec<Value> = one_message("ses", "msg1", "prt1")
        .into_iter()
        .flat_map(|e| [e.clone(), e])
        .collect();
    feed(&mut tracker, "job", &events);
    assert_eq!(job_usd(&tracker, "job"), 4_500);
    assert_eq!(tracker.job_totals("job").unwrap_or_default().requests, 1);
}

#[test]
fn replay_after_reconnect_counts_nothing() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    let mut stream = one_message("ses", "msg1", "prt1");
    stream.extend(one_message("ses", "msg2", "prt2"));
    feed(&mut tracker, "job", &stream);
    feed(&mut tracker, "job", &stream);
    assert_eq!(job_usd(&tracker, "job"), 9_000);
    assert_eq!(
        tracker.job_totals("job").unwrap_or_default().tokens.input,
        2000
    );
}

#[test]
fn reversed_events_count_the_same() {
    let mut forward = CostTracker::new(PricingTable::empty());
    let mut backward = CostTracker::new(PricingTable::empty());
    let mut stream = one_message("ses", "msg1", "prt1");
    stream.extend(one_message("ses", "msg2", "prt2"));
    feed(&mut forward, "job", &stream);
    stream.reverse();
    feed(&mut backward, "job", &stream);
    assert_eq!(forward.job_totals("job"), backward.job_totals("job"));
}

#[test]
fn stale_snapshot_keeps_larger_count() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    feed(
        &mut tracker,
        "job",
        &[
            message("ses", "m", 900, 90, 0.004, None),
            message("ses", "m", 300, 30, 0.001, None),
        ],
    );
    assert_eq!(job_usd(&tracker, "job"), 4_000);
    assert_eq!(
        tracker.job_totals("job").unwrap_or_default().tokens.input,
        900
    );
}

#[test]
fn unfinished_message_still_counts() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    feed(
        &mut tracker,
        "job",
        &[
            message("ses", "m", 0, 0, 0.0, None),
            message("ses", "m", 500, 50, 0.002, None),
        ],
    );
    assert_eq!(job_usd(&tracker, "job"), 2_000);
}

#[test]
fn steps_replace_the_snapshot_count() {
    // Older OpenCode versions put several steps in one message, where the
    // snapshot's tokens are only the last step's; the steps are the unit.
    let mut tracker = CostTracker::new(PricingTable::empty());
    let events = [
        message("ses", "m", 400, 40, 0.001, None),
        step("ses", "m", "p1", 600, 60, 0.002, 1_000),
        step("ses", "m", "p2", 400, 40, 0.001, 2_000),
        message("ses", "m", 400, 40, 0.003, Some(2_100)),
    ];
    feed(&mut tracker, "job", &events);
    let totals = tracker.job_totals("job").unwrap_or_default();
    assert_eq!(
        (totals.tokens.input, totals.reported_micros, totals.requests),
        (1000, 3_000, 2)
    );
}

#[test]
fn completed_messages_are_compacted_to_fingerprints() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    for n in 0..50 {
        feed(
            &mut tracker,
            "job",
            &one_message("ses", &format!("msg{n}"), &format!("prt{n}")),
        );
    }
    let snapshot = tracker.snapshot();
    let ledger = &snapshot["state"]["ledger"];
    assert_eq!(ledger["open"].as_object().map(|o| o.len()), Some(0));
    assert_eq!(ledger["closed"].as_array().map(Vec::len), Some(50));
    feed(&mut tracker, "job", &one_message("ses", "msg7", "prt7"));
    assert_eq!(job_usd(&tracker, "job"), 50 * 4_500);
}

#[test]
fn child_sessions_roll_up_to_the_parent_job() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_job("job-a", Some("plan"), None);
    tracker.attach_session("parent", "job-a", None);
    let child = json!({"type": "session.created", "properties": {"sessionID": "child",
        "info": {"id": "child", "parentID": "parent"}}});
    // The child's events arrive on another job's stream; they still belong to job-a.
    feed(&mut tracker, "job-b", &[child]);
    feed(&mut tracker, "job-b", &one_message("child", "m", "p"));
    assert_eq!(job_usd(&tracker, "job-a"), 4_500);
    assert_eq!(job_usd(&tracker, "job-b"), 0);
    assert_eq!(
        tracker.plan_totals("plan").map(|t| t.usd_micros()),
        Some(4_500)
    );
    assert_eq!(
        tracker.session_totals("child").map(|t| t.usd_micros()),
        Some(4_500)
    );
}

#[test]
fn restore_mid_stream_then_replay_counts_once() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    let mut stream = one_message("ses", "msg1", "prt1");
    stream.extend(one_message("ses", "msg2", "prt2"));
    feed(&mut tracker, "job", &stream[..6]);
    let text = tracker.snapshot().to_string();
    let value: Value = serde_json::from_str(&text).unwrap_or_default();
    let mut restored =
        CostTracker::restore(&value, PricingTable::empty()).expect("snapshot restores");
    feed(&mut restored, "job", &stream);
    assert_eq!(job_usd(&restored, "job"), 9_000);
    assert_eq!(restored.report(), {
        let mut straight = CostTracker::new(PricingTable::empty());
        feed(&mut straight, "job", &stream);
        straight.report()
    });
}

#[test]
fn unknown_snapshot_version_is_rejected() {
    let error = CostTracker::restore(&json!({"version": 2, "state": {}}), PricingTable::empty())
        .unwrap_err();
    assert_eq!(error.to_string(), "unsupported cost snapshot version \"2\"");
    assert!(error.help().unwrap_or_default().contains("version 1"));
    let missing = CostTracker::restore(&json!({}), PricingTable::empty()).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "unsupported cost snapshot version \"missing\""
    );
}

#[test]
fn malformed_figures_are_rejected_with_the_field() {
    let cases: [(&str, Value, &str, &str); 6] = [
        (
            "message.updated",
            json!({"info": {"id": "m", "sessionID": "s", "role": "assistant", "providerID": "p", "modelID": "m",
            "cost": -0.5, "tokens": {"input": 1, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}}}),
            "info.cost",
            "-0.5",
        ),
        (
            "message.updated",
            json!({"info": {"id": "m", "sessionID": "s", "role": "assistant", "providerID": "p", "modelID": "m",
            "cost": 0, "tokens": {"input": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}}}),
            "info.tokens.output",
            "missing",
        ),
        (
            "message.updated",
            json!({"info": {"id": "m", "sessionID": "s", "role": "assistant", "providerID": "p", "modelID": "m",
            "cost": 0, "tokens": {"input": 1.5, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}}}),
            "info.tokens.input",
            "1.5",
        ),
        (
            "message.part.updated",
            json!({"part": {"type": "step-finish", "id": "p", "messageID": "m", "sessionID": "s", "cost": "free",
            "tokens": {"input": 1, "output": 1, "reasoning": 0, "cache": {"read": 0, "write": 0}}}}),
            "part.cost",
            "\"free\"",
        ),
        (
            "message.part.updated",
            json!({"part": {"type": "step-finish", "id": "p", "messageID": "m", "sessionID": "s", "cost": 0,
            "tokens": {"input": 1, "output": 1, "reasoning": 0, "cache": {"read": -2, "write": 0}}}}),
            "part.tokens.cache.read",
            "-2",
        ),
        (
            "message.part.updated",
            json!({"part": {"type": "step-finish", "id": "p", "messageID": "m", "sessionID": "s", "cost": 0,
            "tokens": {"input": 1, "output": 1, "reasoning": null, "cache": {"read": 0, "write": 0}}}}),
            "part.tokens.reasoning",
            "null",
        ),
    ];
    for (kind, properties, field, value) in cases {
        let error = parse_usage(kind, &properties).expect_err(field);
        assert_eq!((error.field.as_str(), error.value.as_str()), (field, value));
        assert!(error.to_string().contains(field), "{error}");
    }
}

fn captures_dir() -> PathBuf {
    std::env::var_os("MCG_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures"))
}

/// Every capture's ledger totals equal the server's own per-message sums
/// (`serverTotals` in the sidecar), even with the stream fed twice.
#[test]
fn real_captures_match_server_totals() {
    let dir = captures_dir();
    assert!(dir.is_dir(), "captures folder {} not found", dir.display());
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir)
        .expect("captures folder reads")
        .flatten()
    {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let sse = path.with_extension("sse");
        let (Ok(sidecar), Ok(stream)) = (
            std::fs::read_to_string(&path),
            std::fs::read_to_string(&sse),
        ) else {
            continue;
        };
        let sidecar: Value = serde_json::from_str(&sidecar).unwrap_or_default();
        let Some(server) = sidecar["serverTotals"].as_array() else {
            continue;
        };
        let events: Vec<Value> = stream
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str(data).ok())
            .collect();
        let mut tracker = CostTracker::new(PricingTable::empty());
        feed(&mut tracker, "job", &events);
        feed(&mut tracker, "job", &events);
        for session in server {
            let id = session["sessionId"].as_str().unwrap_or_default();
            let mut expected = Totals::default();
            for message in session["assistantMessages"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let t = &message["tokens"];
                expected.tokens.input += t["input"].as_u64().unwrap_or(0);
                expected.tokens.output += t["output"].as_u64().unwrap_or(0);
                expected.tokens.reasoning += t["reasoning"].as_u64().unwrap_or(0);
                expected.tokens.cache_read += t["cache"]["read"].as_u64().unwrap_or(0);
                expected.tokens.cache_write += t["cache"]["write"].as_u64().unwrap_or(0);
                expected.reported_micros +=
                    (message["cost"].as_f64().unwrap_or(0.0) * 1e6).round() as u64;
            }
            let got = tracker.session_totals(id).unwrap_or_default();
            assert_eq!(
                (got.tokens, got.reported_micros),
                (expected.tokens, expected.reported_micros),
                "{}",
                sse.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no capture with serverTotals in {}",
        dir.display()
    );
}
