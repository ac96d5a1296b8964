//! Budgets: caps in USD and tokens per job and per plan, warnings at
//! percentages of the cap, and the response to reaching it.
//!
//! A budget section is written flat, `{ usd, tokens, warnAt, onExceed }`,
//! which caps the section it sits in (a plan file's top level caps the plan,
//! `jobs.<name>.budget` caps that job), or nested,
//! `{ plan: {...}, job: {...} }`, where `job` is the default cap of every job
//! of the plan that sets none of its own.

use crate::diagnostic::FieldProblem;
use crate::ledger::Totals;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Warning thresholds when `warnAt` is not given, in percent of the cap.
pub const DEFAULT_WARN_AT: [u8; 3] = [50, 75, 90];

/// The action taken once when spending reaches a cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnExceed {
    /// Abort the job's sessions and ask the user; `extend_*` resumes.
    #[default]
    Pause,
    /// Report only.
    NotifyOnly,
    /// Mark the job killed for good; its usage is still counted.
    HardKill,
}

/// One cap. At least one of `usd_micros` and `tokens` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetLimit {
    pub usd_micros: Option<u64>,
    /// Cap on all tokens: input, output, reasoning, cache read and write.
    pub tokens: Option<u64>,
    /// Ascending, each in 1..=99.
    pub warn_at: Vec<u8>,
    pub on_exceed: OnExceed,
}

/// A parsed `budget:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetConfig {
    /// The cap of the section the budget sits in.
    pub limit: Option<BudgetLimit>,
    /// Default cap of each job of a plan (nested form only).
    pub job: Option<BudgetLimit>,
}

impl BudgetConfig {
    /// Reads a `budget:` section (camelCase or snake_case keys), reporting
    /// every problem.
    pub fn from_value(value: &Value) -> Result<BudgetConfig, Vec<FieldProblem>> {
        let Some(object) = value.as_object() else {
            return Err(vec![expected(
                &[],
                value,
                "an object such as { usd: 5, tokens: 2000000 }",
            )]);
        };
        let nested = object.contains_key("plan") || object.contains_key("job");
        let mut problems = Vec::new();
        let config = if nested {
            let mut config = BudgetConfig::default();
            for (key, field) in object {
                match key.as_str() {
                    "plan" => config.limit = read_limit(field, &["plan"], &mut problems),
                    "job" => config.job = read_limit(field, &["job"], &mut problems),
                    _ => problems.push(FieldProblem {
                        path: vec![key.clone()],
                        message: format!("key \"{key}\" cannot sit beside `plan` or `job`"),
                        help: Some("write either a flat budget { usd, tokens, warnAt, onExceed } or { plan: {...}, job: {...} }".to_string()),
                    }),
                }
            }
            config
        } else {
            BudgetConfig {
                limit: read_limit(value, &[], &mut problems),
                job: None,
            }
        };
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }
}

fn read_limit(
    value: &Value,
    path: &[&str],
    problems: &mut Vec<FieldProblem>,
) -> Option<BudgetLimit> {
    let Some(object) = value.as_object() else {
        problems.push(expected(
            path,
            value,
            "an object such as { usd: 5, tokens: 2000000 }",
        ));
        return None;
    };
    let before = problems.len();
    let mut limit = BudgetLimit {
        usd_micros: None,
        tokens: None,
        warn_at: DEFAULT_WARN_AT.to_vec(),
        on_exceed: OnExceed::Pause,
    };
    for (key, field) in object {
        let at = with(path, key);
        match key.as_str() {
            "usd" => match field.as_f64().and_then(crate::events::usage::usd_to_micros) {
                Some(micros) => limit.usd_micros = Some(micros),
                None => problems.push(expected_at(at, field, "a non-negative number of USD")),
            },
            "tokens" => match field.as_u64() {
                Some(tokens) => limit.tokens = Some(tokens),
                None => problems.push(expected_at(
                    at,
                    field,
                    "a non-negative whole number of tokens",
                )),
            },
            "warnAt" | "warn_at" => match read_warn_at(field) {
                Some(list) => limit.warn_at = list,
                None => problems.push(expected_at(
                    at,
                    field,
                    "a list of whole percentages between 1 and 99",
                )),
            },
            "onExceed" | "on_exceed" => match field.as_str().and_then(parse_on_exceed) {
                Some(action) => limit.on_exceed = action,
                None => problems.push(FieldProblem {
                    path: at,
                    message: format!(
                        "unknown action \"{}\"",
                        field
                            .as_str()
                            .map_or_else(|| field.to_string(), str::to_string)
                    ),
                    help: Some("use pause, notify-only or hard-kill".to_string()),
                }),
            },
            _ => problems.push(FieldProblem {
                path: at,
                message: format!("unknown key \"{key}\""),
                help: Some("accepted keys: usd, tokens, warnAt, onExceed".to_string()),
            }),
        }
    }
    if limit.usd_micros.is_none() && limit.tokens.is_none() && problems.len() == before {
        problems.push(FieldProblem {
            path: path.iter().map(|s| s.to_string()).collect(),
            message: "budget sets no cap".to_string(),
            help: Some("set `usd`, `tokens` or both".to_string()),
        });
    }
    (problems.len() == before).then_some(limit)
}

fn read_warn_at(value: &Value) -> Option<Vec<u8>> {
    let mut list = Vec::new();
    for item in value.as_array()? {
        let percent = item.as_u64().filter(|p| (1..=99).contains(p))?;
        list.push(u8::try_from(percent).ok()?);
    }
    list.sort_unstable();
    list.dedup();
    Some(list)
}

fn parse_on_exceed(text: &str) -> Option<OnExceed> {
    match text {
        "pause" => Some(OnExceed::Pause),
        "notify-only" | "notify_only" => Some(OnExceed::NotifyOnly),
        "hard-kill" | "hard_kill" => Some(OnExceed::HardKill),
        _ => None,
    }
}

fn with(path: &[&str], key: &str) -> Vec<String> {
    let mut out: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    out.push(key.to_string());
    out
}

fn expected(path: &[&str], value: &Value, what: &str) -> FieldProblem {
    expected_at(path.iter().map(|s| s.to_string()).collect(), value, what)
}

fn expected_at(path: Vec<String>, value: &Value, what: &str) -> FieldProblem {
    FieldProblem {
        path,
        message: format!("expected {what}, got \"{value}\""),
        help: None,
    }
}

/// Raises a cap. Only caps that exist are raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extension {
    pub usd_micros: u64,
    pub tokens: u64,
}

impl Extension {
    /// From the JS shape `{ usd?, tokens? }`.
    pub fn new(usd: Option<f64>, tokens: Option<f64>) -> Result<Extension, BudgetError> {
        let usd_micros = match usd {
            None => 0,
            Some(value) => crate::events::usage::usd_to_micros(value).ok_or_else(|| {
                BudgetError::InvalidExtension {
                    field: "usd",
                    value: short_number(value),
                }
            })?,
        };
        let tokens = match tokens {
            None => 0,
            Some(value)
                if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 9.2e18 =>
            {
                value as u64
            }
            Some(value) => {
                return Err(BudgetError::InvalidExtension {
                    field: "tokens",
                    value: short_number(value),
                })
            }
        };
        Ok(Extension { usd_micros, tokens })
    }
}

/// Writes a number for a message: in exponent form when it is huge, so
/// `1e308` is not 309 digits.
fn short_number(value: f64) -> String {
    if value.is_finite() && value.abs() >= 1e16 {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// A budget operation that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetError {
    UnknownJob(String),
    UnknownPlan(String),
    NoBudget { scope: &'static str, id: String },
    InvalidExtension { field: &'static str, value: String },
    Overflow,
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetError::UnknownJob(id) => write!(f, "unknown job \"{id}\""),
            BudgetError::UnknownPlan(id) => write!(f, "unknown plan \"{id}\""),
            BudgetError::NoBudget { scope, id } => {
                write!(f, "{scope} \"{id}\" has no budget to extend")
            }
            BudgetError::InvalidExtension { field, value } => {
                write!(
                    f,
                    "extension {field} \"{value}\" is not a non-negative number below 9.2e12 USD or 9.2e18 tokens (tokens whole)"
                )
            }
            BudgetError::Overflow => write!(f, "extended cap overflows"),
        }
    }
}

impl std::error::Error for BudgetError {}

/// The kind of a budget action sent to the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Warning,
    Pause,
    Kill,
    Notify,
    Resume,
}

/// Whether an action concerns one job or a whole plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    Job,
    Plan,
}

/// Something the monitor must do or report. `jobs` and `sessions` list what
/// a pause, kill or resume applies to (every running job of the plan for a
/// plan cap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAction {
    pub kind: ActionKind,
    pub scope: ScopeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_percent: Option<u8>,
    pub jobs: Vec<String>,
    pub sessions: Vec<String>,
    pub message: String,
    pub spent_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_usd: Option<f64>,
    pub spent_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_tokens: Option<u64>,
}

/// A job's run state as budgets see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Running,
    Paused,
    Killed,
}

/// The live state of one cap: the limit with extensions applied, the
/// thresholds already warned about, and whether the exceed action fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapState {
    /// The limit as configured, before extensions.
    pub configured: BudgetLimit,
    /// The limit with extensions applied.
    pub limit: BudgetLimit,
    pub fired: BTreeSet<u8>,
    pub exceeded: bool,
}

/// A crossing found by [`CapState::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    Warn(u8),
    Exceeded,
}

impl CapState {
    pub fn new(limit: BudgetLimit) -> CapState {
        CapState {
            configured: limit.clone(),
            limit,
            fired: BTreeSet::new(),
            exceeded: false,
        }
    }

    /// Replaces `slot` with a fresh state for `limit`, unless it already
    /// tracks the same configured limit. Registering a job or plan again (for
    /// example after a restore) thus keeps its fired thresholds and extensions.
    pub fn reconfigure(slot: &mut Option<CapState>, limit: Option<BudgetLimit>) {
        let unchanged = match (slot.as_ref(), limit.as_ref()) {
            (Some(state), Some(limit)) => state.configured == *limit,
            (None, None) => true,
            _ => false,
        };
        if !unchanged {
            *slot = limit.map(CapState::new);
        }
    }

    /// Percent of the cap spent (the larger of USD and tokens), rounded down.
    pub fn percent(&self, spent: &Totals) -> u64 {
        let usd = self
            .limit
            .usd_micros
            .map_or(0, |cap| percent_of(spent.usd_micros(), cap));
        let tokens = self
            .limit
            .tokens
            .map_or(0, |cap| percent_of(spent.tokens.total(), cap));
        usd.max(tokens)
    }

    /// Returns whether spending reached the cap.
    pub fn is_over(&self, spent: &Totals) -> bool {
        let usd = spent.usd_micros();
        let tokens = spent.tokens.total();
        let over_usd = self
            .limit
            .usd_micros
            .is_some_and(|cap| usd > 0 && usd >= cap);
        let over_tokens = self
            .limit
            .tokens
            .is_some_and(|cap| tokens > 0 && tokens >= cap);
        over_usd || over_tokens
    }

    /// Crossings not reported before, each reported once: every warning
    /// threshold now passed, then the exceed event.
    pub fn check(&mut self, spent: &Totals) -> Vec<Crossing> {
        let percent = self.percent(spent);
        let mut found = Vec::new();
        for &threshold in &self.limit.warn_at {
            if percent >= u64::from(threshold) && self.fired.insert(threshold) {
                found.push(Crossing::Warn(threshold));
            }
        }
        if !self.exceeded && self.is_over(spent) {
            self.exceeded = true;
            found.push(Crossing::Exceeded);
        }
        found
    }

    /// Raises the caps and re-arms the thresholds and exceed event that the
    /// new caps put back ahead of `spent`.
    pub fn extend(&mut self, extension: Extension, spent: &Totals) -> Result<(), BudgetError> {
        if let Some(cap) = self.limit.usd_micros.as_mut() {
            *cap = cap
                .checked_add(extension.usd_micros)
                .ok_or(BudgetError::Overflow)?;
        }
        if let Some(cap) = self.limit.tokens.as_mut() {
            *cap = cap
                .checked_add(extension.tokens)
                .ok_or(BudgetError::Overflow)?;
        }
        let percent = self.percent(spent);
        self.fired
            .retain(|&threshold| u64::from(threshold) <= percent);
        self.exceeded = self.is_over(spent);
        Ok(())
    }
}

fn percent_of(spent: u64, cap: u64) -> u64 {
    if cap == 0 {
        return if spent > 0 { 100 } else { 0 };
    }
    let percent = u128::from(spent) * 100 / u128::from(cap);
    u64::try_from(percent).unwrap_or(u64::MAX)
}

/// The reason a job is paused. A job resumes when no reason is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseReason {
    Job,
    Plan,
}

/// A job's budget bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobBudget {
    pub plan: Option<String>,
    /// The job's own cap, or the plan's job default.
    pub cap: Option<CapState>,
    /// Set when the cap came from the job's own section, so a plan's default
    /// does not replace it.
    pub own_cap: bool,
    pub paused_by: BTreeSet<PauseReason>,
    pub killed: bool,
}

impl JobBudget {
    pub fn status(&self) -> JobStatus {
        if self.killed {
            JobStatus::Killed
        } else if self.paused_by.is_empty() {
            JobStatus::Running
        } else {
            JobStatus::Paused
        }
    }
}

/// A plan's budget bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanBudget {
    pub cap: Option<CapState>,
    pub job_default: Option<BudgetLimit>,
}

/// Formats micro-dollars as decimal USD for reports and messages.
pub fn micros_to_usd(micros: u64) -> f64 {
    // Two exact integer parts keep amounts below 2^53 micro-dollars exact
    // to the last printed digit.
    (micros / 1_000_000) as f64 + (micros % 1_000_000) as f64 / 1_000_000.0
}

/// Builds the user-facing action for a crossing.
pub fn action_for(
    crossing: Crossing,
    scope: ScopeKind,
    id: &str,
    cap: &CapState,
    spent: &Totals,
) -> BudgetAction {
    let (kind, threshold, text) = match crossing {
        Crossing::Warn(percent) => (
            ActionKind::Warning,
            Some(percent),
            format!("reached {percent}% of its budget"),
        ),
        Crossing::Exceeded => match cap.limit.on_exceed {
            OnExceed::Pause => (
                ActionKind::Pause,
                None,
                "reached its budget; paused until the budget is extended".to_string(),
            ),
            OnExceed::NotifyOnly => (
                ActionKind::Notify,
                None,
                "reached its budget; continuing (notify-only)".to_string(),
            ),
            OnExceed::HardKill => (
                ActionKind::Kill,
                None,
                "reached its budget; killed".to_string(),
            ),
        },
    };
    let noun = match scope {
        ScopeKind::Job => "job",
        ScopeKind::Plan => "plan",
    };
    BudgetAction {
        kind,
        scope,
        job_id: (scope == ScopeKind::Job).then(|| id.to_string()),
        plan_id: (scope == ScopeKind::Plan).then(|| id.to_string()),
        threshold_percent: threshold,
        jobs: Vec::new(),
        sessions: Vec::new(),
        message: format!(
            "{noun} \"{id}\" {text}: spent ${:.6} and {} tokens",
            micros_to_usd(spent.usd_micros()),
            spent.tokens.total()
        ),
        spent_usd: micros_to_usd(spent.usd_micros()),
        cap_usd: cap.limit.usd_micros.map(micros_to_usd),
        spent_tokens: spent.tokens.total(),
        cap_tokens: cap.limit.tokens,
    }
}

/// Budgets by job and plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budgets {
    pub jobs: BTreeMap<String, JobBudget>,
    pub plans: BTreeMap<String, PlanBudget>,
}

impl Budgets {
    /// Registers or updates a plan. Jobs of the plan without their own cap
    /// take its job default.
    pub fn configure_plan(&mut self, plan: &str, config: Option<&BudgetConfig>) {
        let entry = self.plans.entry(plan.to_string()).or_insert(PlanBudget {
            cap: None,
            job_default: None,
        });
        CapState::reconfigure(&mut entry.cap, config.and_then(|c| c.limit.clone()));
        entry.job_default = config.and_then(|c| c.job.clone());
        let default = entry.job_default.clone();
        for job in self
            .jobs
            .values_mut()
            .filter(|j| j.plan.as_deref() == Some(plan) && !j.own_cap)
        {
            CapState::reconfigure(&mut job.cap, default.clone());
        }
    }

    /// Registers or updates a job. `config.limit` is its own cap.
    pub fn configure_job(&mut self, job: &str, plan: Option<&str>, config: Option<&BudgetConfig>) {
        let own = config.and_then(|c| c.limit.clone());
        let default = plan
            .and_then(|p| self.plans.get(p))
            .and_then(|p| p.job_default.clone());
        let entry = self.jobs.entry(job.to_string()).or_insert(JobBudget {
            plan: None,
            cap: None,
            own_cap: false,
            paused_by: BTreeSet::new(),
            killed: false,
        });
        entry.plan = plan.map(str::to_string);
        entry.own_cap = own.is_some();
        CapState::reconfigure(&mut entry.cap, own.or(default));
        // A job whose cap was removed has nothing left to pause it for, and
        // no cap that `extend_job` could raise to resume it.
        if entry.cap.is_none() {
            entry.paused_by.remove(&PauseReason::Job);
        }
        if let Some(plan) = plan {
            self.plans.entry(plan.to_string()).or_insert(PlanBudget {
                cap: None,
                job_default: None,
            });
        }
    }
}
