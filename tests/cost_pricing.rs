//! Pricing: exact estimates with cache, reasoning and context tiers, the
//! shipped table, models.dev text, config overrides, and cost sources.

use mc_governance::cost::CostTracker;
use mc_governance::events::usage::{parse_usage, ModelRef, Tokens};
use mc_governance::ledger::CostSource;
use mc_governance::pricing::{PricingConfig, PricingTable};
use serde_json::json;

fn model(key: &str) -> ModelRef {
    let (provider, model) = key.split_once('/').unwrap_or(("", key));
    ModelRef {
        provider: provider.to_string(),
        model: model.to_string(),
    }
}

fn table(config: serde_json::Value) -> PricingTable {
    let config = PricingConfig::from_value(&config).expect("test pricing is valid");
    config.apply_to(&PricingTable::empty())
}

fn tokens(input: u64, output: u64, reasoning: u64, cache_read: u64, cache_write: u64) -> Tokens {
    Tokens {
        input,
        output,
        reasoning,
        cache_read,
        cache_write,
    }
}

fn estimate(table: &PricingTable, key: &str, t: Tokens) -> Option<u64> {
    table
        .lookup(&model(key))
        .and_then(|price| price.estimate(&t))
        .map(|e| e.micros)
}

#[test]
fn estimates_are_exact_to_the_micro_dollar() {
    let prices = table(json!({"models": {
        "t/sonnet": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75},
        "t/thinker": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75, "reasoning": 10},
        "t/cheap": {"input": 0.3, "output": 1},
    }}));
    // tokens × USD-per-million = micro-dollars.
    let cases: [(&str, Tokens, u64); 6] = [
        // 1500×3 + 80×15 + 40×15 (reasoning at the output rate) + 500×0.3 + 200×3.75
        // = 4500 + 1200 + 600 + 150 + 750 = 7200
        ("t/sonnet", tokens(1500, 80, 40, 500, 200), 7_200),
        // same with reasoning at 10: 4500 + 1200 + 40×10 + 150 + 750 = 7000
        ("t/thinker", tokens(1500, 80, 40, 500, 200), 7_000),
        // the real multi-step capture's first step: 1500×3 + 80×15 + 40×15 + 500×0.3 = 6450
        ("t/sonnet", tokens(1500, 80, 40, 500, 0), 6_450),
        // 1×0.3 = 0.3, rounds to 0
        ("t/cheap", tokens(1, 0, 0, 0, 0), 0),
        // 5×0.3 = 1.5, rounds half up to 2
        ("t/cheap", tokens(5, 0, 0, 0, 0), 2),
        // 7×0.3 + 1×1 = 3.1, rounds to 3
        ("t/cheap", tokens(7, 1, 0, 0, 0), 3),
    ];
    for (key, t, expected) in cases {
        assert_eq!(estimate(&prices, key, t), Some(expected), "{key} {t:?}");
    }
}

#[test]
fn context_tiers_bill_the_whole_request() {
    let prices = table(json!({"models": {
        "g/pro": {"input": 1.25, "output": 10, "cacheRead": 0.125,
                  "tiers": [{"threshold": 200000, "input": 2.5, "output": 15, "cacheRead": 0.25}]},
        "q/coder": {"input": 1, "output": 5, "cacheRead": 0.2, "cacheWrite": 1.25, "tiers": [
            {"threshold": 128000, "input": 3, "output": 15},
            {"threshold": 32000, "input": 1.8, "output": 9, "cacheRead": 0.36, "cacheWrite": 2.25}]},
    }}));
    let cases: [(&str, Tokens, u64); 5] = [
        // prompt 190000 + 20000 cached = 210000 > 200000, so the tier:
        // 190000×2.5 + 1000×15 + 20000×0.25 = 475000 + 15000 + 5000 = 495000
        ("g/pro", tokens(190_000, 1000, 0, 20_000, 0), 495_000),
        // prompt exactly 200000 is not over: 150000×1.25 + 1000×10 + 50000×0.125
        // = 187500 + 10000 + 6250 = 203750
        ("g/pro", tokens(150_000, 1000, 0, 50_000, 0), 203_750),
        // 40000 > 32000: 40000×1.8 + 1000×9 = 72000 + 9000 = 81000
        ("q/coder", tokens(40_000, 1000, 0, 0, 0), 81_000),
        // 130000 > 128000, the highest tier passed wins: 130000×3 + 1000×15 = 405000
        ("q/coder", tokens(130_000, 1000, 0, 0, 0), 405_000),
        // the 128000 tier omits cache rates, so the base rates hold:
        // 100000×3 + 20000×0.2 + 10000×1.25 = 300000 + 4000 + 12500 = 316500
        ("q/coder", tokens(100_000, 0, 0, 20_000, 10_000), 316_500),
    ];
    for (key, t, expected) in cases {
        assert_eq!(estimate(&prices, key, t), Some(expected), "{key} {t:?}");
    }
}

#[test]
fn shipped_table_prices_popular_models() {
    let builtin = PricingTable::builtin().expect("data/pricing.json is valid");
    for key in [
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-opus-4-1",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-5",
        "openai/gpt-4.1",
        "openai/o3",
        "openai/o4-mini",
        "google/gemini-2.5-pro",
        "google/gemini-2.5-flash",
        "deepseek/deepseek-chat",
        "alibaba/qwen3-coder-plus",
        "moonshotai/kimi-k2-0905-preview",
        "zai/glm-4.6",
    ] {
        assert!(builtin.lookup(&model(key)).is_some(), "{key} is priced");
    }
    // 1M input at $3 and 1M output at $15 = 18 USD.
    assert_eq!(
        estimate(
            &builtin,
            "anthropic/claude-sonnet-4-5",
            tokens(1_000_000, 1_000_000, 0, 0, 0)
        ),
        Some(18_000_000)
    );
    // A reseller's model id finds the vendor's price when only one entry has it.
    assert!(builtin
        .lookup(&model("openrouter/claude-sonnet-4-5"))
        .is_some());
    assert!(builtin.lookup(&model("acme/not-a-model")).is_none());
}

#[test]
fn models_dev_text_loads_tiers_and_long_context() {
    let text = json!({
        "google": {"id": "google", "models": {
            "gemini-2.5-pro": {"id": "gemini-2.5-pro", "cost": {"input": 1.25, "output": 10, "cache_read": 0.31,
                "context_over_200k": {"input": 2.5, "output": 15, "cache_read": 0.625}}}}},
        "alibaba": {"id": "alibaba", "models": {
            "qwen3-coder-plus": {"cost": {"input": 1, "output": 5, "tiers": [
                {"input": 1.8, "output": 9, "tier": {"type": "context", "size": 32000}}]}},
            "no-cost": {"id": "no-cost"},
            "broken": {"cost": {"input": -1, "output": 2}}}}
    })
    .to_string();
    let prices = PricingTable::from_models_dev(&text).expect("models.dev text loads");
    assert_eq!(prices.len(), 2);
    // 250000 > 200000: 250000×2.5 + 100×15 = 625000 + 1500 = 626500
    assert_eq!(
        estimate(
            &prices,
            "google/gemini-2.5-pro",
            tokens(250_000, 100, 0, 0, 0)
        ),
        Some(626_500)
    );
    // 40000 > 32000: 40000×1.8 = 72000
    assert_eq!(
        estimate(
            &prices,
            "alibaba/qwen3-coder-plus",
            tokens(40_000, 0, 0, 0, 0)
        ),
        Some(72_000)
    );
    assert!(prices.lookup(&model("alibaba/broken")).is_none());
    assert!(PricingTable::from_models_dev("[1, 2]").is_err());
}

#[test]
fn config_overrides_replace_shipped_prices() {
    let builtin = PricingTable::builtin().expect("data/pricing.json is valid");
    let config = PricingConfig::from_value(&json!({
        "models": {"anthropic/claude-sonnet-4-5": {"input": 1, "output": 2, "cache_read": 0, "cache_write": 0}},
        "modelsDev": "/tmp/api.json"
    }))
    .expect("override is valid");
    assert_eq!(config.models_dev.as_deref(), Some("/tmp/api.json"));
    let prices = config.apply_to(&builtin);
    // 1000×1 + 1000×2 = 3000
    assert_eq!(
        estimate(
            &prices,
            "anthropic/claude-sonnet-4-5",
            tokens(1000, 1000, 0, 0, 0)
        ),
        Some(3_000)
    );
    assert!(prices.lookup(&model("openai/gpt-5")).is_some());
}

#[test]
fn bad_pricing_fields_are_all_reported() {
    let problems = PricingConfig::from_value(&json!({
        "models": {
            "no-slash": {"input": 1, "output": 1},
            "p/negative": {"input": -1, "output": 1},
            "p/no-output": {"input": 1},
            "p/typo": {"input": 1, "output": 1, "cache_reed": 1},
            "p/bad-tier": {"input": 1, "output": 1, "tiers": [{"input": 2}]},
        },
        "model_dev": "x"
    }))
    .unwrap_err();
    let paths: Vec<String> = problems.iter().map(|p| p.path.join(".")).collect();
    assert_eq!(
        paths,
        [
            "model_dev",
            "models.no-slash",
            "models.p/bad-tier.tiers.0.threshold",
            "models.p/negative.input",
            "models.p/no-output.output",
            "models.p/typo.cache_reed",
        ]
    );
    let negative = problems
        .iter()
        .find(|p| p.path.join(".") == "models.p/negative.input");
    assert_eq!(
        negative.map(|p| p.message.as_str()),
        Some("expected a non-negative number of USD per million tokens, got \"-1\"")
    );
}

fn step(part: &str, model_id: &str, cost: f64) -> Vec<mc_governance::events::usage::UsageEvent> {
    let msg = format!("msg-{part}");
    let snapshot = json!({"sessionID": "s", "info": {"id": msg, "sessionID": "s", "role": "assistant",
        "providerID": "t", "modelID": model_id, "time": {"created": 1}, "cost": 0,
        "tokens": {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}}});
    let finish = json!({"sessionID": "s", "time": 2, "part": {"id": part, "messageID": msg, "sessionID": "s",
        "type": "step-finish", "cost": cost,
        "tokens": {"input": 1500, "output": 80, "reasoning": 40, "cache": {"read": 500, "write": 200}}}});
    [
        ("message.updated", snapshot),
        ("message.part.updated", finish),
    ]
    .iter()
    .filter_map(|(kind, props)| parse_usage(kind, props).ok().flatten())
    .collect()
}

fn tracker_with(events: &[Vec<mc_governance::events::usage::UsageEvent>]) -> CostTracker {
    let prices = table(
        json!({"models": {"t/sonnet": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}}}),
    );
    let mut tracker = CostTracker::new(prices);
    for event in events.iter().flatten() {
        tracker.account("job", event).expect("accounting succeeds");
    }
    tracker
}

#[test]
fn missing_cost_is_estimated_and_labelled() {
    let tracker = tracker_with(&[step("a", "sonnet", 0.0)]);
    let totals = tracker.job_totals("job").unwrap_or_default();
    assert_eq!(
        (totals.reported_micros, totals.estimated_micros),
        (0, 7_200)
    );
    assert_eq!(totals.source(), CostSource::Estimated);
    let mixed = tracker_with(&[step("a", "sonnet", 0.0), step("b", "sonnet", 0.0072)]);
    assert_eq!(mixed.report().jobs[0].cost_source, CostSource::Mixed);
    assert_eq!(mixed.report().jobs[0].cost_usd, 0.0144);
}

#[test]
fn step_before_its_model_is_repriced() {
    // The step names no model, so it is unpriced until the snapshot names one.
    let mut events = step("a", "sonnet", 0.0);
    events.reverse();
    let prices = table(
        json!({"models": {"t/sonnet": {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}}}),
    );
    let mut tracker = CostTracker::new(prices);
    tracker
        .account("job", &events[0])
        .expect("accounting succeeds");
    assert_eq!(tracker.report().unpriced_models, ["unknown/unknown"]);
    tracker
        .account("job", &events[1])
        .expect("accounting succeeds");
    let report = tracker.report();
    assert!(report.unpriced_models.is_empty());
    assert_eq!(
        tracker
            .job_totals("job")
            .map(|t| (t.estimated_micros, t.unpriced_tokens)),
        Some((7_200, 0))
    );
}

#[test]
fn unpriced_models_are_never_zero_dollars() {
    let tracker = tracker_with(&[step("a", "mystery", 0.0)]);
    let report = tracker.report();
    assert_eq!(report.unpriced_models, ["t/mystery"]);
    assert_eq!(report.jobs[0].cost_source, CostSource::Unpriced);
    assert_eq!(report.jobs[0].unpriced_tokens, 2320);
    let json = serde_json::to_value(&report).unwrap_or_default();
    assert_eq!(json["jobs"][0]["costSource"], "unpriced");
}

#[test]
fn far_off_reported_cost_disagrees() {
    // Table estimate 7200 µ$; reported 10000 µ$ is 39% off.
    let tracker = tracker_with(&[step("a", "sonnet", 0.01), step("b", "sonnet", 0.0072)]);
    let report = tracker.report();
    assert_eq!(report.disagreements.len(), 1);
    assert_eq!(
        (
            report.disagreements[0].reported_usd,
            report.disagreements[0].estimated_usd
        ),
        (0.0172, 0.0144)
    );
    let agreeing = tracker_with(&[step("a", "sonnet", 0.0072)]);
    assert!(agreeing.report().disagreements.is_empty());
}

/// Looks up a key as `lookup` is defined: the exact key, else the only key
/// that ends in `/` and the model's name.
fn lookup_by_scan<'t>(keys: &'t [String], provider: &str, name: &str) -> Option<&'t str> {
    let exact = format!("{provider}/{name}");
    if let Some(key) = keys.iter().find(|key| **key == exact) {
        return Some(key);
    }
    let suffix = format!("/{name}");
    let mut matches = keys.iter().filter(|key| key.ends_with(&suffix));
    match (matches.next(), matches.next()) {
        (Some(key), None) => Some(key),
        _ => None,
    }
}

fn table_of(keys: &[String]) -> PricingTable {
    let mut prices = PricingTable::empty();
    for (index, key) in keys.iter().enumerate() {
        let price = mc_governance::pricing::ModelPrice {
            base: mc_governance::pricing::Rates { input: index as u64 + 1, ..Default::default() },
            tiers: Vec::new(),
        };
        prices.insert(key, price);
    }
    prices
}

#[test]
fn lookup_prefers_exact_then_unique() {
    let keys: Vec<String> = ["a/m", "b/m", "r/x", "or/vendor/y", "v/vendor/y", "z/vendor/w", "p/"]
        .iter()
        .map(|key| key.to_string())
        .collect();
    let prices = table_of(&keys);
    let cases = [
        ("a", "m", Some("a/m")),
        ("c", "m", None),
        ("q", "x", Some("r/x")),
        ("or", "vendor/y", Some("or/vendor/y")),
        ("openrouter", "vendor/y", None),
        ("openrouter", "y", None),
        ("openrouter", "w", Some("z/vendor/w")),
        ("x", "vendor/w", Some("z/vendor/w")),
        ("p", "", Some("p/")),
        ("a", "nothing", None),
    ];
    for (provider, name, expected) in cases {
        let found = prices.lookup(&ModelRef { provider: provider.into(), model: name.into() });
        let expected = expected.and_then(|key| prices.lookup(&model_with_key(key)));
        assert_eq!(found, expected, "{provider} / {name}");
        assert_eq!(found.is_some(), lookup_by_scan(&keys, provider, name).is_some(), "{provider} / {name}");
    }
}

fn model_with_key(key: &str) -> ModelRef {
    let (provider, name) = key.split_once('/').unwrap_or(("", key));
    ModelRef { provider: provider.into(), model: name.into() }
}

proptest::proptest! {
    #[test]
    fn lookup_agrees_with_key_scan(
        keys in proptest::collection::vec("[ab]{0,2}(/[ab]{0,2}){1,3}", 0..12),
        provider in "[ab/]{0,3}",
        name in "[ab/]{0,4}",
    ) {
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        let prices = table_of(&unique);
        let expected = lookup_by_scan(&unique, &provider, &name)
            .and_then(|key| unique.iter().position(|k| k == key))
            .map(|index| index as u64 + 1);
        let found = prices.lookup(&ModelRef { provider: provider.clone(), model: name.clone() });
        proptest::prop_assert_eq!(found.map(|price| price.base.input), expected);
    }
}
