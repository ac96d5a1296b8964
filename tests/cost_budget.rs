//! Budgets: parsing, each threshold once, pause / notify-only / hard-kill,
//! plan caps pausing every job, extend and resume, forecasts, and restore.

use mc_governance::budget::{
    ActionKind, BudgetAction, BudgetConfig, Extension, JobStatus, OnExceed, ScopeKind,
};
use mc_governance::cost::CostTracker;
use mc_governance::events::usage::parse_usage;
use mc_governance::pricing::PricingTable;
use serde_json::{json, Value};

fn budget(value: Value) -> BudgetConfig {
    BudgetConfig::from_value(&value).expect("test budget is valid")
}

/// Spends `usd` (reported) and `tokens` input tokens in a new one-step message.
fn spend(
    tracker: &mut CostTracker,
    job: &str,
    id: &str,
    usd: f64,
    tokens: u64,
    at_ms: u64,
) -> Vec<BudgetAction> {
    let props = json!({"sessionID": format!("ses-{job}"), "time": at_ms, "part": {"id": format!("prt-{id}"),
        "messageID": format!("msg-{id}"), "sessionID": format!("ses-{job}"), "type": "step-finish", "cost": usd,
        "tokens": {"input": tokens, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}}});
    let event = parse_usage("message.part.updated", &props)
        .ok()
        .flatten()
        .expect("step parses");
    tracker.account(job, &event).expect("accounting succeeds")
}

fn kinds(actions: &[BudgetAction]) -> Vec<(ActionKind, Option<u8>)> {
    actions
        .iter()
        .map(|a| (a.kind, a.threshold_percent))
        .collect()
}

fn job_with(cap: Value) -> CostTracker {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_job("job", None, Some(&budget(cap)));
    tracker
}

#[test]
fn budget_sections_parse_flat_and_nested() {
    let flat =
        budget(json!({"usd": 5, "tokens": 2000000, "warn_at": [90, 50], "on_exceed": "hard_kill"}));
    let limit = flat.limit.expect("flat budget caps its section");
    assert_eq!(
        (
            limit.usd_micros,
            limit.tokens,
            limit.warn_at,
            limit.on_exceed
        ),
        (
            Some(5_000_000),
            Some(2_000_000),
            vec![50, 90],
            OnExceed::HardKill
        )
    );
    let nested = budget(json!({"plan": {"usd": 20}, "job": {"usd": 5, "onExceed": "notify-only"}}));
    assert_eq!(
        nested.limit.map(|l| (l.usd_micros, l.warn_at)),
        Some((Some(20_000_000), vec![50, 75, 90]))
    );
    assert_eq!(nested.job.map(|l| l.on_exceed), Some(OnExceed::NotifyOnly));
}

#[test]
fn bad_budget_fields_are_all_reported() {
    let cases: [(Value, &[&str]); 4] = [
        (
            json!({"usd": -1, "onExceed": "stop", "warnAt": [0, 150]}),
            &["usd", "onExceed", "warnAt"],
        ),
        (json!({"warnAt": [50]}), &[""]),
        (json!({"plan": {"usd": 1}, "usd": 2}), &["usd"]),
        (json!({"job": {"dollars": 1}}), &["job.dollars"]),
    ];
    for (value, expected) in cases {
        let problems = BudgetConfig::from_value(&value).expect_err("budget is invalid");
        let mut paths: Vec<String> = problems.iter().map(|p| p.path.join(".")).collect();
        let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        paths.sort();
        expected.sort();
        assert_eq!(paths, expected, "{value}");
    }
    let problems = BudgetConfig::from_value(&json!({"usd": 1, "onExceed": "stop"})).unwrap_err();
    assert_eq!(problems[0].message, "unknown action \"stop\"");
    assert_eq!(
        problems[0].help.as_deref(),
        Some("use pause, notify-only or hard-kill")
    );
}

#[test]
fn each_threshold_fires_exactly_once() {
    let mut tracker = job_with(json!({"usd": 1}));
    assert_eq!(kinds(&spend(&mut tracker, "job", "1", 0.30, 10, 1)), []);
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "2", 0.25, 10, 2)),
        [(ActionKind::Warning, Some(50))]
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "2", 0.25, 10, 2)),
        [],
        "replay"
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "3", 0.25, 10, 3)),
        [(ActionKind::Warning, Some(75))]
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "4", 0.15, 10, 4)),
        [(ActionKind::Warning, Some(90))]
    );
    let pause = spend(&mut tracker, "job", "5", 0.10, 10, 5);
    assert_eq!(kinds(&pause), [(ActionKind::Pause, None)]);
    assert_eq!(kinds(&spend(&mut tracker, "job", "6", 0.10, 10, 6)), []);
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Paused));
}

#[test]
fn one_jump_fires_every_passed_threshold() {
    let mut tracker = job_with(json!({"usd": 1}));
    let actions = spend(&mut tracker, "job", "1", 1.5, 10, 1);
    assert_eq!(
        kinds(&actions),
        [
            (ActionKind::Warning, Some(50)),
            (ActionKind::Warning, Some(75)),
            (ActionKind::Warning, Some(90)),
            (ActionKind::Pause, None),
        ]
    );
    let pause = &actions[3];
    assert_eq!(
        (pause.scope, pause.jobs.clone(), pause.sessions.clone()),
        (
            ScopeKind::Job,
            vec!["job".to_string()],
            vec!["ses-job".to_string()]
        )
    );
    assert_eq!((pause.spent_usd, pause.cap_usd), (1.5, Some(1.0)));
    assert_eq!(pause.message, "job \"job\" reached its budget; paused until the budget is extended: spent $1.500000 and 10 tokens");
}

#[test]
fn token_caps_warn_and_exceed() {
    let mut tracker = job_with(json!({"tokens": 1000, "warnAt": [80], "onExceed": "notify-only"}));
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "1", 0.0, 800, 1)),
        [(ActionKind::Warning, Some(80))]
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "2", 0.0, 200, 2)),
        [(ActionKind::Notify, None)]
    );
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Running));
}

#[test]
fn hard_kill_keeps_counting_usage() {
    let mut tracker = job_with(json!({"usd": 1, "warnAt": [], "onExceed": "hard-kill"}));
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "1", 1.0, 10, 1)),
        [(ActionKind::Kill, None)]
    );
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Killed));
    spend(&mut tracker, "job", "2", 0.5, 10, 2);
    assert_eq!(
        tracker.job_totals("job").map(|t| t.usd_micros()),
        Some(1_500_000)
    );
    assert_eq!(
        tracker
            .extend_job(
                "job",
                Extension {
                    usd_micros: 5_000_000,
                    tokens: 0
                }
            )
            .map(|a| a.len()),
        Ok(0)
    );
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Killed));
}

#[test]
fn extending_a_paused_job_resumes_it() {
    let mut tracker = job_with(json!({"usd": 1}));
    spend(&mut tracker, "job", "1", 1.05, 10, 1);
    let too_little = tracker.extend_job(
        "job",
        Extension::new(Some(0.01), None).expect("valid extension"),
    );
    assert_eq!(too_little.map(|a| kinds(&a)), Ok(vec![]));
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Paused));
    let resumed = tracker
        .extend_job(
            "job",
            Extension::new(Some(0.99), None).expect("valid extension"),
        )
        .expect("job has a budget");
    assert_eq!(kinds(&resumed), [(ActionKind::Resume, None)]);
    assert_eq!(
        (resumed[0].sessions.clone(), resumed[0].cap_usd),
        (vec!["ses-job".to_string()], Some(2.0))
    );
    assert_eq!(tracker.job_status("job"), Some(JobStatus::Running));
    // 1.05 of 2.00 is 52%: 50 stays fired, 75 and 90 are armed again.
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "2", 0.50, 10, 2)),
        [(ActionKind::Warning, Some(75))]
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "job", "3", 0.50, 10, 3)),
        [(ActionKind::Warning, Some(90)), (ActionKind::Pause, None)]
    );
}

#[test]
fn plan_cap_pauses_every_job() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_plan(
        "plan",
        Some(&budget(
            json!({"plan": {"usd": 1, "warnAt": [50]}, "job": {"usd": 10}}),
        )),
    );
    for job in ["a", "b", "c"] {
        tracker.configure_job(job, Some("plan"), None);
    }
    tracker.configure_job(
        "killed",
        Some("plan"),
        Some(&budget(
            json!({"usd": 0.1, "warnAt": [], "onExceed": "hard-kill"}),
        )),
    );
    spend(&mut tracker, "killed", "k", 0.1, 10, 1);
    let warn = spend(&mut tracker, "a", "1", 0.5, 10, 2);
    assert_eq!(kinds(&warn), [(ActionKind::Warning, Some(50))]);
    assert_eq!(warn[0].scope, ScopeKind::Plan);
    let actions = spend(&mut tracker, "b", "2", 0.5, 10, 3);
    assert_eq!(kinds(&actions), [(ActionKind::Pause, None)]);
    let pause = &actions[0];
    assert_eq!(pause.plan_id.as_deref(), Some("plan"));
    assert_eq!(pause.jobs, ["a", "b", "c"]);
    assert_eq!(pause.sessions, ["ses-a", "ses-b"]);
    for job in ["a", "b", "c"] {
        assert_eq!(tracker.job_status(job), Some(JobStatus::Paused), "{job}");
    }
    let resumed = tracker
        .extend_plan(
            "plan",
            Extension {
                usd_micros: 1_000_000,
                tokens: 0,
            },
        )
        .expect("plan has a budget");
    assert_eq!(kinds(&resumed), [(ActionKind::Resume, None)]);
    assert_eq!(resumed[0].jobs, ["a", "b", "c"]);
    assert_eq!(tracker.job_status("a"), Some(JobStatus::Running));
    assert_eq!(tracker.job_status("killed"), Some(JobStatus::Killed));
}

#[test]
fn plan_job_default_caps_jobs() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_job("a", Some("plan"), None);
    tracker.configure_plan(
        "plan",
        Some(&budget(json!({"job": {"usd": 1, "warnAt": []}}))),
    );
    tracker.configure_job(
        "own",
        Some("plan"),
        Some(&budget(json!({"usd": 5, "warnAt": []}))),
    );
    assert_eq!(
        kinds(&spend(&mut tracker, "a", "1", 1.0, 10, 1)),
        [(ActionKind::Pause, None)]
    );
    assert_eq!(kinds(&spend(&mut tracker, "own", "2", 1.0, 10, 2)), []);
}

#[test]
fn extending_without_a_budget_is_an_error() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_job("job", None, None);
    let error = tracker.extend_job("job", Extension::default()).unwrap_err();
    assert_eq!(error.to_string(), "job \"job\" has no budget to extend");
    assert_eq!(
        tracker
            .extend_job("nope", Extension::default())
            .unwrap_err()
            .to_string(),
        "unknown job \"nope\""
    );
    assert_eq!(
        Extension::new(Some(f64::NAN), None)
            .unwrap_err()
            .to_string(),
        "extension usd \"NaN\" is not a non-negative number below 9.2e12 USD or 9.2e18 tokens (tokens whole)"
    );
    // A huge value is written short, not as 309 digits.
    assert_eq!(
        Extension::new(Some(1e308), None).unwrap_err().to_string(),
        "extension usd \"1e308\" is not a non-negative number below 9.2e12 USD or 9.2e18 tokens (tokens whole)"
    );
}

#[test]
fn forecast_projects_seconds_to_caps() {
    let mut tracker = CostTracker::new(PricingTable::empty());
    tracker.configure_plan("plan", Some(&budget(json!({"usd": 2}))));
    tracker.configure_job("job", Some("plan"), Some(&budget(json!({"usd": 1}))));
    spend(&mut tracker, "job", "1", 0.1, 100, 1_000);
    spend(&mut tracker, "job", "2", 0.1, 100, 11_000);
    let forecast = tracker.forecast("job");
    // 0.1 USD over 10 s = 0.01 USD/s = 36 USD/h; 100 tokens over 10 s = 36000/h.
    assert_eq!(
        (forecast.usd_per_hour, forecast.tokens_per_hour),
        (Some(36.0), Some(36_000.0))
    );
    // job: 0.8 USD left / 0.01 = 80 s; plan: 1.8 USD left / 0.01 = 180 s.
    assert_eq!(
        (forecast.seconds_to_job_cap, forecast.seconds_to_plan_cap),
        (Some(80.0), Some(180.0))
    );
    assert_eq!(
        CostTracker::new(PricingTable::empty())
            .forecast("job")
            .seconds_to_job_cap,
        None
    );
}

#[test]
fn restore_fires_no_warning_twice() {
    let mut tracker = job_with(json!({"usd": 1}));
    spend(&mut tracker, "job", "1", 0.6, 10, 1);
    let snapshot = tracker.snapshot();
    assert_eq!(snapshot["version"], 1);
    let mut restored =
        CostTracker::restore(&snapshot, PricingTable::empty()).expect("snapshot restores");
    assert_eq!(kinds(&spend(&mut restored, "job", "1", 0.6, 10, 1)), []);
    assert_eq!(
        kinds(&spend(&mut restored, "job", "2", 0.2, 10, 2)),
        [(ActionKind::Warning, Some(75))]
    );
    assert_eq!(
        restored.job_totals("job").map(|t| t.usd_micros()),
        Some(800_000)
    );
}

#[test]
fn registering_again_keeps_fired_thresholds() {
    let mut tracker = job_with(json!({"usd": 1}));
    spend(&mut tracker, "job", "1", 0.6, 10, 1);
    tracker
        .extend_job(
            "job",
            Extension {
                usd_micros: 0,
                tokens: 0,
            },
        )
        .expect("job has a budget");
    let mut restored = CostTracker::restore(&tracker.snapshot(), PricingTable::empty())
        .expect("snapshot restores");
    restored.configure_job("job", None, Some(&budget(json!({"usd": 1}))));
    assert_eq!(kinds(&spend(&mut restored, "job", "2", 0.05, 10, 2)), []);
    // A changed limit starts afresh: 0.65 of 1.2 is 54%, so 50 fires again.
    restored.configure_job("job", None, Some(&budget(json!({"usd": 1.2}))));
    assert_eq!(
        kinds(&spend(&mut restored, "job", "3", 0.0, 10, 3)),
        [(ActionKind::Warning, Some(50))]
    );
}

#[test]
fn actions_serialise_in_camel_case() {
    let mut tracker = job_with(json!({"usd": 1, "warnAt": [50]}));
    let actions = spend(&mut tracker, "job", "1", 0.5, 10, 1);
    let value = serde_json::to_value(&actions[0]).unwrap_or_default();
    assert_eq!(
        value,
        json!({"kind": "warning", "scope": "job", "jobId": "job", "thresholdPercent": 50,
        "jobs": ["job"], "sessions": [], "message": "job \"job\" reached 50% of its budget: spent $0.500000 and 10 tokens",
        "spentUsd": 0.5, "capUsd": 1.0, "spentTokens": 10})
    );
}
