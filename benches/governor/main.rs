//! Core benchmarks: policy evaluation, shell analysis, whole permission
//! decisions and ledger updates through `Governor::handle_event`.
//!
//! Run with `cargo bench --bench governor`. Each benchmark stops after
//! `MAX_SECONDS`, so the whole run takes about a minute after the build.

mod fixtures;

use divan::{black_box, Bencher};
use fixtures::{ActionKind, NamedCommand, PolicySize, RequestKind, JOB_ID, SHELL_COMMANDS};
use mc_governance::events;
use mc_governance::shell;

/// The allocator the Node.js addon uses, so that these figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Time limit of one benchmark, in seconds. Short because the machine is
/// shared; divan still takes 100 samples unless the limit cuts it.
const MAX_SECONDS: f64 = 0.6;

fn main() {
    divan::main();
}

/// `CompiledPolicy::evaluate` on one prepared action: the policy lookup
/// alone, without parsing or classification.
fn evaluate(bencher: Bencher, size: PolicySize, kind: ActionKind) {
    let policy = fixtures::compile(size);
    let action = fixtures::action(kind);
    bencher.bench_local(|| policy.evaluate(black_box(&action)));
}

#[divan::bench(args = ActionKind::ALL, max_time = MAX_SECONDS)]
fn evaluate_small(bencher: Bencher, kind: ActionKind) {
    evaluate(bencher, PolicySize::Small, kind);
}

#[divan::bench(args = ActionKind::ALL, max_time = MAX_SECONDS)]
fn evaluate_200_rules(bencher: Bencher, kind: ActionKind) {
    evaluate(bencher, PolicySize::Rules200, kind);
}

/// `shell::analyse` on commands from 11 to about 900 characters.
#[divan::bench(args = SHELL_COMMANDS, max_time = MAX_SECONDS)]
fn shell_analyse(bencher: Bencher, command: NamedCommand) {
    let context = fixtures::shell_context();
    bencher.bench_local(|| shell::analyse(black_box(command.text), &context));
}

/// Measures a whole decision through `Governor::handle_event` on an event
/// already parsed from JSON: event parsing, classification, shell analysis,
/// policy evaluation and the decision log.
fn decide_value(bencher: Bencher, size: PolicySize, kind: RequestKind) {
    let mut governor = fixtures::governor(size);
    let event = fixtures::request_event(kind);
    bencher.bench_local(|| governor.handle_event(JOB_ID, black_box(&event)));
}

#[divan::bench(args = RequestKind::ALL, max_time = MAX_SECONDS)]
fn decide_value_small(bencher: Bencher, kind: RequestKind) {
    decide_value(bencher, PolicySize::Small, kind);
}

#[divan::bench(args = RequestKind::ALL, max_time = MAX_SECONDS)]
fn decide_value_200_rules(bencher: Bencher, kind: RequestKind) {
    decide_value(bencher, PolicySize::Rules200, kind);
}

/// Measures the same decision from JSON text, as the binding gets an SSE
/// `data:` line, so JSON parsing is included.
#[divan::bench(args = RequestKind::ALL, max_time = MAX_SECONDS)]
fn decide_text_200_rules(bencher: Bencher, kind: RequestKind) {
    let mut governor = fixtures::governor(PolicySize::Rules200);
    let text = format!("data: {}", fixtures::request_event(kind));
    bencher.bench_local(|| {
        let event = events::parse_event_text(black_box(&text))?;
        governor.handle_parsed(JOB_ID, event)
    });
}

/// `message.updated` snapshots through `Governor::handle_event`: three
/// snapshots per message (two in progress, then completed), a new message
/// id every three events, so the ledger keeps and releases per-message state.
#[divan::bench(max_time = MAX_SECONDS)]
fn ledger_message_updated(bencher: Bencher) {
    let mut governor = fixtures::governor(PolicySize::Small);
    let mut counter: u64 = 0;
    bencher
        .with_inputs(|| {
            counter += 1;
            let message_id = format!("msg_bench_{}", counter / 3);
            fixtures::message_event(&message_id, 10 * (counter % 3 + 1), counter % 3 == 2)
        })
        .bench_local_values(|event| governor.handle_event(JOB_ID, &event));
}

/// Measures the same ledger updates from SSE text, JSON parsing included.
#[divan::bench(max_time = MAX_SECONDS)]
fn ledger_message_updated_text(bencher: Bencher) {
    let mut governor = fixtures::governor(PolicySize::Small);
    let mut counter: u64 = 0;
    bencher
        .with_inputs(|| {
            counter += 1;
            let message_id = format!("msg_bench_{}", counter / 3);
            format!("data: {}", fixtures::message_event(&message_id, 10 * (counter % 3 + 1), counter % 3 == 2))
        })
        .bench_local_values(|text| -> Result<_, mc_governance::governor::GovernorError> {
            let event = events::parse_event_text(&text)?;
            governor.handle_parsed(JOB_ID, event)
        });
}

/// Compiling the policy once per job registration.
#[divan::bench(args = PolicySize::ALL, max_time = MAX_SECONDS)]
fn compile_policy(bencher: Bencher, size: PolicySize) {
    let config = fixtures::parse(size);
    let worktree = &fixtures::WORKSPACE.worktree;
    bencher.bench_local(|| mc_governance::policy::CompiledPolicy::compile(None, Some(&config), &[], worktree));
}

/// Measures the floor of JSON handling for one `message.updated` line:
/// building a `serde_json::Value` (what `parse_event_text` does) against
/// only validating the text, which bounds what typed, borrowed parsing
/// could save.
#[divan::bench(args = ["value", "validate_only"], max_time = MAX_SECONDS)]
fn json_message_line(bencher: Bencher, mode: &str) {
    let text = fixtures::message_event("msg_bench_1", 30, true).to_string();
    match mode {
        "value" => bencher.bench_local(|| serde_json::from_str::<serde_json::Value>(black_box(&text)).is_ok()),
        _ => bencher.bench_local(|| serde_json::from_str::<serde::de::IgnoredAny>(black_box(&text)).is_ok()),
    }
}
