//! Model prices and cost estimates.
//!
//! Rates are kept as integer micro-dollars per million tokens, so that
//! `tokens × rate` is a cost in micro-micro-dollars (10⁻¹² USD) and one
//! division by 10⁶, rounded half up, gives micro-dollars exactly.

use crate::diagnostic::FieldProblem;
use crate::events::usage::{ModelRef, Tokens};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The prices shipped with the crate; see `data/pricing.json` for date and source.
const BUILTIN: &str = include_str!("../data/pricing.json");

/// Micro-dollars per million tokens for each kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// Reasoning tokens; `None` bills them at the `output` rate (as OpenCode does).
    pub reasoning: Option<u64>,
}

/// Rates that replace the base rates for a whole request whose prompt
/// (input + cache read + cache write) exceeds `threshold` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub threshold: u64,
    pub rates: Rates,
}

/// The price of one model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelPrice {
    pub base: Rates,
    /// Sorted by ascending threshold.
    pub tiers: Vec<Tier>,
}

/// A priced request: the estimate and the threshold of the tier used, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub micros: u64,
    pub tier: Option<u64>,
}

impl ModelPrice {
    /// Cost of one request in micro-dollars, rounded half up. `None` only on
    /// arithmetic overflow, which real token counts cannot reach.
    pub fn estimate(&self, tokens: &Tokens) -> Option<Estimate> {
        let prompt = tokens.prompt();
        let tier = self.tiers.iter().rev().find(|tier| prompt > tier.threshold);
        let rates = tier.map_or(&self.base, |tier| &tier.rates);
        let reasoning_rate = rates.reasoning.unwrap_or(rates.output);
        let parts = [
            (tokens.input, rates.input),
            (tokens.output, rates.output),
            (tokens.reasoning, reasoning_rate),
            (tokens.cache_read, rates.cache_read),
            (tokens.cache_write, rates.cache_write),
        ];
        let mut pico: u128 = 0;
        for (count, rate) in parts {
            pico = pico.checked_add(u128::from(count).checked_mul(u128::from(rate))?)?;
        }
        let micros = pico.checked_add(500_000)? / 1_000_000;
        Some(Estimate {
            micros: u64::try_from(micros).ok()?,
            tier: tier.map(|t| t.threshold),
        })
    }
}

/// Prices by `provider/model`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PricingTable {
    models: BTreeMap<String, ModelPrice>,
    /// Keys of `models` by each part that follows a `/` in them. With it,
    /// [`PricingTable::lookup`], which runs per message, finds the
    /// candidates without building a key or scanning the table.
    by_suffix: HashMap<String, Vec<String>>,
}

/// A pricing file or models.dev text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingError {
    pub message: String,
    pub problems: Vec<FieldProblem>,
}

impl fmt::Display for PricingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for problem in &self.problems {
            write!(f, "; {}: {}", problem.path.join("."), problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for PricingError {}

impl PricingTable {
    /// Creates an empty table, in which every model is unpriced.
    pub fn empty() -> PricingTable {
        PricingTable::default()
    }

    /// Loads the table shipped in `data/pricing.json`.
    pub fn builtin() -> Result<PricingTable, PricingError> {
        let value: Value = serde_json::from_str(BUILTIN).map_err(|e| PricingError {
            message: format!("built-in pricing is not json: \"{e}\""),
            problems: Vec::new(),
        })?;
        let config = PricingConfig::from_value(&value).map_err(|problems| PricingError {
            message: "built-in pricing has invalid entries".to_string(),
            problems,
        })?;
        Ok(config.table())
    }

    /// Reads the models.dev `api.json` text (`{provider: {models: {id: {cost}}}}`).
    /// Models without a readable `cost` block are left out (unpriced); only
    /// text that is not a JSON object of providers is an error.
    pub fn from_models_dev(text: &str) -> Result<PricingTable, PricingError> {
        let root: Value = serde_json::from_str(text).map_err(|e| PricingError {
            message: format!("models.dev text is not json: \"{e}\""),
            problems: Vec::new(),
        })?;
        let providers = root.as_object().ok_or_else(|| PricingError {
            message: "models.dev text is not an object of providers".to_string(),
            problems: Vec::new(),
        })?;
        let mut table = PricingTable::empty();
        for (provider, body) in providers {
            let Some(models) = body.get("models").and_then(Value::as_object) else {
                continue;
            };
            for (model, entry) in models {
                let Some(cost) = entry.get("cost") else {
                    continue;
                };
                // NOTE: a model whose cost block we cannot read stays unpriced
                // rather than failing the whole catalogue.
                if let Ok(price) = read_price(cost, &[], Dialect::ModelsDev) {
                    table.insert(&format!("{provider}/{model}"), price);
                }
            }
        }
        Ok(table)
    }

    /// Adds or replaces entries; `other` wins.
    pub fn merge(&mut self, other: &PricingTable) {
        for (key, price) in &other.models {
            self.insert(key, price.clone());
        }
    }

    /// Adds or replaces one model's price.
    pub fn insert(&mut self, key: &str, price: ModelPrice) {
        if self.models.insert(key.to_string(), price).is_some() {
            return;
        }
        for (slash, _) in key.match_indices('/') {
            let suffix = key.get(slash + 1..).unwrap_or_default();
            self.by_suffix.entry(suffix.to_string()).or_default().push(key.to_string());
        }
    }

    /// Finds the price of `model` by its exact `provider/model` key, else by
    /// the only entry whose model part equals `model.model`, so a reseller
    /// such as `openrouter` finds the vendor's price. `None` means unpriced.
    pub fn lookup(&self, model: &ModelRef) -> Option<&ModelPrice> {
        let candidates = self.by_suffix.get(model.model.as_str())?;
        let exact = candidates.iter().find(|key| is_key_of(key, model));
        let key = match (exact, candidates.as_slice()) {
            (Some(key), _) => key,
            (None, [only]) => only,
            (None, _) => return None,
        };
        self.models.get(key)
    }

    /// Returns the number of priced models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Returns whether no model is priced.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// A `pricing:` section: per-model overrides and an optional models.dev
/// `api.json` path (the caller reads the file and passes the text to
/// [`PricingTable::from_models_dev`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PricingConfig {
    pub models: BTreeMap<String, ModelPrice>,
    pub models_dev: Option<String>,
}

impl PricingConfig {
    /// Reads `{ models: { "provider/model": {...} }, modelsDev?: "path" }`,
    /// reporting every bad field.
    pub fn from_value(value: &Value) -> Result<PricingConfig, Vec<FieldProblem>> {
        let Some(object) = value.as_object() else {
            return Err(vec![problem(&[], value, "an object with `models`", None)]);
        };
        let mut config = PricingConfig::default();
        let mut problems = Vec::new();
        for (key, field) in object {
            match key.as_str() {
                "models" => read_models(field, &mut config.models, &mut problems),
                "modelsDev" | "models_dev" => match field.as_str() {
                    Some(path) => config.models_dev = Some(path.to_string()),
                    None => problems.push(problem(&[key.as_str()], field, "a file path", None)),
                },
                // Notes on provenance, kept in the shipped file.
                "source" | "retrieved" | "notes" => {}
                _ => problems.push(unknown_key(&[], key, &["models", "modelsDev"])),
            }
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// `base` with this section's models added or replaced.
    pub fn apply_to(&self, base: &PricingTable) -> PricingTable {
        let mut table = base.clone();
        table.merge(&self.table());
        table
    }

    fn table(&self) -> PricingTable {
        let mut table = PricingTable::empty();
        for (key, price) in &self.models {
            table.insert(key, price.clone());
        }
        table
    }
}

/// Tells whether `key` is `provider/model` for this model. The caller has
/// checked that `key` ends in `/` and the model's name.
fn is_key_of(key: &str, model: &ModelRef) -> bool {
    key.len() == model.provider.len() + 1 + model.model.len() && key.starts_with(model.provider.as_str())
}

fn read_models(
    value: &Value,
    into: &mut BTreeMap<String, ModelPrice>,
    problems: &mut Vec<FieldProblem>,
) {
    let Some(models) = value.as_object() else {
        problems.push(problem(
            &["models"],
            value,
            "an object keyed by \"provider/model\"",
            None,
        ));
        return;
    };
    for (key, entry) in models {
        let path = vec!["models".to_string(), key.clone()];
        if !key.contains('/') || key.starts_with('/') || key.ends_with('/') {
            problems.push(FieldProblem {
                path: path.clone(),
                message: format!("model key \"{key}\" is not \"provider/model\""),
                help: Some("write the provider id, a slash, then the model id, for example \"anthropic/claude-sonnet-4-5\"".to_string()),
            });
            continue;
        }
        match read_price(entry, &path, Dialect::Config) {
            Ok(price) => {
                into.insert(key.clone(), price);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
}

/// Our config spells cache rates `cacheRead`/`cache_read` and tiers with
/// `threshold`; models.dev spells them `cache_read` and `tier: {size}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Config,
    ModelsDev,
}

fn read_price(
    value: &Value,
    path: &[String],
    dialect: Dialect,
) -> Result<ModelPrice, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let Some(object) = value.as_object() else {
        return Err(vec![problem_at(
            path.to_vec(),
            value,
            "an object of USD per million tokens",
            None,
        )]);
    };
    let base = read_rates(object, path, None, &mut problems);
    let mut tiers = Vec::new();
    for (key, field) in object {
        let known = match key.as_str() {
            "input" | "output" | "reasoning" | "cacheRead" | "cache_read" | "cacheWrite"
            | "cache_write" => true,
            "tiers" => {
                read_tiers(field, path, base, dialect, &mut tiers, &mut problems);
                true
            }
            "context_over_200k" | "contextOver200k" => {
                let tier_path = join(path, key);
                if let Some(over) = field.as_object() {
                    let rates = read_rates(over, &tier_path, Some(base), &mut problems);
                    tiers.push(Tier {
                        threshold: 200_000,
                        rates,
                    });
                } else {
                    problems.push(problem_at(
                        tier_path,
                        field,
                        "an object of USD per million tokens",
                        None,
                    ));
                }
                true
            }
            "source" => true,
            _ => dialect == Dialect::ModelsDev, // models.dev has more kinds (audio, ...)
        };
        if !known {
            problems.push(unknown_key_at(
                path.to_vec(),
                key,
                &[
                    "input",
                    "output",
                    "cacheRead",
                    "cacheWrite",
                    "reasoning",
                    "tiers",
                ],
            ));
        }
    }
    tiers.sort_by_key(|tier| tier.threshold);
    tiers.dedup_by_key(|tier| tier.threshold);
    if problems.is_empty() {
        Ok(ModelPrice { base, tiers })
    } else {
        Err(problems)
    }
}

fn read_tiers(
    value: &Value,
    path: &[String],
    base: Rates,
    dialect: Dialect,
    into: &mut Vec<Tier>,
    problems: &mut Vec<FieldProblem>,
) {
    let tiers_path = join(path, "tiers");
    let Some(list) = value.as_array() else {
        problems.push(problem_at(tiers_path, value, "a list of tiers", None));
        return;
    };
    for (index, entry) in list.iter().enumerate() {
        let tier_path = join(&tiers_path, &index.to_string());
        let Some(object) = entry.as_object() else {
            problems.push(problem_at(
                tier_path,
                entry,
                "an object with a threshold and rates",
                None,
            ));
            continue;
        };
        let threshold = match dialect {
            Dialect::Config => object.get("threshold"),
            Dialect::ModelsDev => object.get("tier").and_then(|t| t.get("size")),
        };
        let threshold_path = join(
            &tier_path,
            if dialect == Dialect::Config {
                "threshold"
            } else {
                "tier.size"
            },
        );
        let Some(threshold) = threshold.and_then(Value::as_u64) else {
            problems.push(problem_at(
                threshold_path,
                threshold.unwrap_or(&Value::Null),
                "a whole number of prompt tokens",
                None,
            ));
            continue;
        };
        if dialect == Dialect::Config {
            for key in object.keys() {
                let allowed = [
                    "threshold",
                    "input",
                    "output",
                    "reasoning",
                    "cacheRead",
                    "cache_read",
                    "cacheWrite",
                    "cache_write",
                ];
                if !allowed.contains(&key.as_str()) {
                    problems.push(unknown_key_at(tier_path.clone(), key, &allowed));
                }
            }
        }
        let rates = read_rates(object, &tier_path, Some(base), problems);
        into.push(Tier { threshold, rates });
    }
}

/// Reads the rate fields. For a tier (`fallback` set) a missing field keeps
/// the base rate, so omitting one never prices it at $0.
fn read_rates(
    object: &Map<String, Value>,
    path: &[String],
    fallback: Option<Rates>,
    problems: &mut Vec<FieldProblem>,
) -> Rates {
    let mut rate = |keys: &[&str], default: Option<u64>| -> Option<u64> {
        let found = keys
            .iter()
            .find_map(|key| object.get(*key).map(|value| (*key, value)));
        match found {
            None => default,
            Some((key, value)) => {
                let micros = value.as_f64().and_then(crate::events::usage::usd_to_micros);
                if micros.is_none() {
                    problems.push(problem_at(
                        join(path, key),
                        value,
                        "a non-negative number of USD per million tokens",
                        None,
                    ));
                }
                micros
            }
        }
    };
    let input = rate(&["input"], fallback.map(|r| r.input));
    let output = rate(&["output"], fallback.map(|r| r.output));
    let cache_read = rate(
        &["cacheRead", "cache_read"],
        Some(fallback.map_or(0, |r| r.cache_read)),
    );
    let cache_write = rate(
        &["cacheWrite", "cache_write"],
        Some(fallback.map_or(0, |r| r.cache_write)),
    );
    let reasoning = rate(&["reasoning"], None).or(fallback.and_then(|r| r.reasoning));
    for (name, value) in [("input", input), ("output", output)] {
        if value.is_none() && !object.contains_key(name) {
            problems.push(FieldProblem {
                path: join(path, name),
                message: format!("missing `{name}` rate"),
                help: Some("give USD per million tokens, for example `input: 3`".to_string()),
            });
        }
    }
    Rates {
        input: input.unwrap_or(0),
        output: output.unwrap_or(0),
        cache_read: cache_read.unwrap_or(0),
        cache_write: cache_write.unwrap_or(0),
        reasoning,
    }
}

fn join(path: &[String], key: &str) -> Vec<String> {
    let mut out = path.to_vec();
    out.push(key.to_string());
    out
}

fn problem(path: &[&str], value: &Value, expected: &str, help: Option<String>) -> FieldProblem {
    problem_at(
        path.iter().map(|s| s.to_string()).collect(),
        value,
        expected,
        help,
    )
}

fn problem_at(
    path: Vec<String>,
    value: &Value,
    expected: &str,
    help: Option<String>,
) -> FieldProblem {
    FieldProblem {
        path,
        message: format!("expected {expected}, got \"{value}\""),
        help,
    }
}

fn unknown_key(path: &[&str], key: &str, allowed: &[&str]) -> FieldProblem {
    unknown_key_at(path.iter().map(|s| s.to_string()).collect(), key, allowed)
}

fn unknown_key_at(mut path: Vec<String>, key: &str, allowed: &[&str]) -> FieldProblem {
    path.push(key.to_string());
    FieldProblem {
        path,
        message: format!("unknown key \"{key}\""),
        help: Some(format!("accepted keys: {}", allowed.join(", "))),
    }
}
