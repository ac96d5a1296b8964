//! The cost facade: counts usage events exactly once into session, job, plan
//! and model totals, prices them, enforces budgets, forecasts, reports, and
//! snapshots its state.
//!
//! Child sessions (a `session.created` with `parentID`) roll up to the job of
//! their parent. A session seen first in a usage event belongs to the job the
//! event was accounted under.

use crate::budget::{
    action_for, micros_to_usd, ActionKind, BudgetAction, BudgetConfig, BudgetError, Budgets,
    CapState, Crossing, Extension, JobStatus, OnExceed, PauseReason, ScopeKind,
};
use crate::events::usage::{SessionInfo, Tokens, UsageEvent};
use crate::ledger::{Change, CostSource, Ledger, LedgerError, Totals};
use crate::pricing::PricingTable;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u64 = 1;

/// Reported and estimated USD of a model disagree when they differ by more
/// than this percentage of the estimate (and by more than
/// [`DISAGREEMENT_FLOOR_MICROS`], which absorbs per-request rounding).
pub const DISAGREEMENT_PERCENT: u64 = 5;
pub const DISAGREEMENT_FLOOR_MICROS: u64 = 100;

/// Rate samples kept per job and plan for forecasts.
const RATE_SAMPLES: usize = 32;

/// A failure of the cost tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CostError {
    Ledger(LedgerError),
    Budget(BudgetError),
    /// A total left the range of `u64`.
    Overflow {
        scope: String,
    },
    /// The snapshot's `version` is missing or not one this build reads.
    SnapshotVersion {
        found: String,
    },
    /// The snapshot's body does not match the format.
    Snapshot {
        reason: String,
    },
}

impl CostError {
    /// Returns how to fix the error, where there is a fix.
    pub fn help(&self) -> Option<String> {
        match self {
            CostError::SnapshotVersion { .. } => Some(format!(
                "this build reads snapshot version {SNAPSHOT_VERSION}; take the snapshot again with the same build"
            )),
            CostError::Budget(BudgetError::NoBudget { .. }) => {
                Some("configure a budget for it before extending".to_string())
            }
            _ => None,
        }
    }
}

impl fmt::Display for CostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CostError::Ledger(error) => error.fmt(f),
            CostError::Budget(error) => error.fmt(f),
            CostError::Overflow { scope } => write!(f, "totals of \"{scope}\" overflow"),
            CostError::SnapshotVersion { found } => {
                write!(f, "unsupported cost snapshot version \"{found}\"")
            }
            CostError::Snapshot { reason } => write!(f, "invalid cost snapshot: \"{reason}\""),
        }
    }
}

impl std::error::Error for CostError {}

impl From<LedgerError> for CostError {
    fn from(error: LedgerError) -> CostError {
        CostError::Ledger(error)
    }
}

impl From<BudgetError> for CostError {
    fn from(error: BudgetError) -> CostError {
        CostError::Budget(error)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionEntry {
    job: String,
    parent: Option<String>,
    totals: Totals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Sample {
    ms: u64,
    usd_micros: u64,
    tokens: u64,
}

/// Spend samples by event time, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RateWindow {
    samples: VecDeque<Sample>,
}

impl RateWindow {
    fn push(&mut self, ms: u64, totals: &Totals) {
        if self.samples.back().is_some_and(|last| ms < last.ms) {
            return; // out-of-order time: the totals are right, the slope would not be
        }
        self.samples.push_back(Sample {
            ms,
            usd_micros: totals.usd_micros(),
            tokens: totals.tokens.total(),
        });
        while self.samples.len() > RATE_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// (micro-dollars per second, tokens per second) over the window.
    fn rate(&self) -> Option<(f64, f64)> {
        let first = self.samples.front()?;
        let last = self.samples.back()?;
        let seconds = last.ms.checked_sub(first.ms).filter(|&ms| ms > 0)? as f64 / 1000.0;
        let usd = last.usd_micros.saturating_sub(first.usd_micros) as f64 / seconds;
        let tokens = last.tokens.saturating_sub(first.tokens) as f64 / seconds;
        Some((usd, tokens))
    }
}

/// Everything the snapshot holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    ledger: Ledger,
    budgets: Budgets,
    sessions: BTreeMap<String, SessionEntry>,
    jobs: BTreeMap<String, Totals>,
    plans: BTreeMap<String, Totals>,
    models: BTreeMap<String, Totals>,
    job_rates: BTreeMap<String, RateWindow>,
    plan_rates: BTreeMap<String, RateWindow>,
}

/// Counts, prices and budgets usage for every job and plan of one monitor.
#[derive(Debug, Clone)]
pub struct CostTracker {
    pricing: PricingTable,
    state: State,
    /// Scratch for `provider/model` keys, reused so that counting a
    /// message builds no key of its own.
    model_key: String,
    /// Scratch for the job and plan ids of the message being counted.
    job_key: String,
    plan_key: String,
}

/// Projected seconds until a job's cap and its plan's cap at the job's
/// recent spend rate. `None` where there is no cap or no measurable rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    pub job_id: String,
    pub usd_per_hour: Option<f64>,
    pub tokens_per_hour: Option<f64>,
    pub seconds_to_job_cap: Option<f64>,
    pub seconds_to_plan_cap: Option<f64>,
}

/// Token counts in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReport {
    pub input: u64,
    pub output: u64,
    pub reasoning: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total: u64,
}

impl From<&Tokens> for TokenReport {
    fn from(tokens: &Tokens) -> TokenReport {
        TokenReport {
            input: tokens.input,
            output: tokens.output,
            reasoning: tokens.reasoning,
            cache_read: tokens.cache_read,
            cache_write: tokens.cache_write,
            total: tokens.total(),
        }
    }
}

/// Totals of one session, job, plan or model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TotalsReport {
    pub id: String,
    pub tokens: TokenReport,
    /// Reported plus estimated USD.
    pub cost_usd: f64,
    pub reported_usd: f64,
    pub estimated_usd: f64,
    pub cost_source: CostSource,
    pub unpriced_tokens: u64,
    pub requests: u64,
    /// Job rows: the plan. Session rows: the job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Job rows only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
}

/// A model whose reported cost differs from the table's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disagreement {
    pub model: String,
    pub reported_usd: f64,
    pub estimated_usd: f64,
}

/// The whole cost picture.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {
    pub total: TotalsReport,
    pub plans: Vec<TotalsReport>,
    pub jobs: Vec<TotalsReport>,
    pub sessions: Vec<TotalsReport>,
    pub models: Vec<TotalsReport>,
    /// Models with tokens that neither reported a cost nor have a price.
    pub unpriced_models: Vec<String>,
    pub disagreements: Vec<Disagreement>,
}

impl CostTracker {
    pub fn new(pricing: PricingTable) -> CostTracker {
        CostTracker {
            pricing,
            state: State::default(),
            model_key: String::new(),
            job_key: String::new(),
            plan_key: String::new(),
        }
    }

    /// Registers a plan and its budget (`limit` caps the plan, `job` is the
    /// default cap of its jobs).
    pub fn configure_plan(&mut self, plan: &str, budget: Option<&BudgetConfig>) {
        self.state.plans.entry(plan.to_string()).or_default();
        self.state.budgets.configure_plan(plan, budget);
    }

    /// Registers a job, its plan and its own budget (`limit`).
    pub fn configure_job(&mut self, job: &str, plan: Option<&str>, budget: Option<&BudgetConfig>) {
        self.state.jobs.entry(job.to_string()).or_default();
        if let Some(plan) = plan {
            self.state.plans.entry(plan.to_string()).or_default();
        }
        self.state.budgets.configure_job(job, plan, budget);
    }

    /// Ties a session to a job, or to its parent's job when the parent is known.
    pub fn attach_session(&mut self, session: &str, job: &str, parent: Option<&str>) {
        self.ensure_job(job);
        let parent_job = parent
            .and_then(|p| self.state.sessions.get(p))
            .map(|entry| entry.job.clone());
        if !self.state.sessions.contains_key(session) {
            let entry = SessionEntry {
                job: parent_job.unwrap_or_else(|| job.to_string()),
                parent: None,
                totals: Totals::default(),
            };
            self.state.sessions.insert(session.to_string(), entry);
        }
        // The entry exists: it was inserted above when missing.
        let Some(entry) = self.state.sessions.get_mut(session) else {
            return;
        };
        if entry.parent.is_none() {
            entry.parent = parent.map(str::to_string);
        }
    }

    /// Counts one event under `job` (the job whose event stream carried it)
    /// and returns the budget actions it triggered.
    pub fn account(
        &mut self,
        job: &str,
        event: &UsageEvent,
    ) -> Result<Vec<BudgetAction>, CostError> {
        let change = match event {
            UsageEvent::Session(SessionInfo {
                session_id,
                parent_id,
            }) => {
                self.attach_session(session_id, job, parent_id.as_deref());
                return Ok(Vec::new());
            }
            UsageEvent::Message(snapshot) => {
                self.attach_session(&snapshot.session_id, job, None);
                self.state.ledger.record_message(snapshot, &self.pricing)?
            }
            UsageEvent::Step(step) => {
                self.attach_session(&step.session_id, job, None);
                self.state.ledger.record_step(step, &self.pricing)?
            }
        };
        match change {
            Some(change) if !change.is_empty() => self.apply(&change),
            _ => Ok(Vec::new()),
        }
    }

    fn ensure_job(&mut self, job: &str) {
        if !self.state.budgets.jobs.contains_key(job) {
            self.configure_job(job, None, None);
        }
    }

    fn apply(&mut self, change: &Change) -> Result<Vec<BudgetAction>, CostError> {
        // The budget checks need `self` whole while the job and plan ids
        // live in its maps, so the ids are copied. Buffers kept between calls
        // take the copies, so that a message allocates none.
        let mut job = std::mem::take(&mut self.job_key);
        let mut plan = std::mem::take(&mut self.plan_key);
        let result = self.apply_to(change, &mut job, &mut plan);
        self.job_key = job;
        self.plan_key = plan;
        result
    }

    fn apply_to(&mut self, change: &Change, job: &mut String, plan: &mut String) -> Result<Vec<BudgetAction>, CostError> {
        let state = &mut self.state;
        let session = state
            .sessions
            .get_mut(&change.session_id)
            .ok_or_else(|| overflow(&change.session_id))?;
        update(&mut session.totals, change, &change.session_id)?;
        job.clear();
        job.push_str(&session.job);
        update(entry_mut(&mut state.jobs, job)?, change, job)?;
        plan.clear();
        let job_plan = state.budgets.jobs.get(job.as_str()).and_then(|entry| entry.plan.as_deref());
        let has_plan = job_plan.inspect(|id| plan.push_str(id)).is_some();
        if has_plan {
            update(entry_mut(&mut state.plans, plan)?, change, plan)?;
        }
        update_models(&mut state.models, &mut self.model_key, change)?;
        if let Some(ms) = change.at_ms {
            if let Some(totals) = state.jobs.get(job.as_str()) {
                entry_mut(&mut state.job_rates, job)?.push(ms, totals);
            }
            if has_plan {
                if let Some(totals) = state.plans.get(plan.as_str()) {
                    entry_mut(&mut state.plan_rates, plan)?.push(ms, totals);
                }
            }
        }
        let mut actions = self.check_job(job);
        if has_plan {
            actions.extend(self.check_plan(plan));
        }
        Ok(actions)
    }

    fn sessions_of(&self, job: &str) -> Vec<String> {
        self.state
            .sessions
            .iter()
            .filter(|(_, s)| s.job == job)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn jobs_of(&self, plan: &str) -> Vec<String> {
        let jobs = self.state.budgets.jobs.iter();
        jobs.filter(|(_, j)| j.plan.as_deref() == Some(plan))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn check_job(&mut self, job: &str) -> Vec<BudgetAction> {
        let spent = self.state.jobs.get(job).copied().unwrap_or_default();
        let crossings = match self.state.budgets.jobs.get_mut(job).and_then(|entry| entry.cap.as_mut()) {
            Some(cap) => cap.check(&spent),
            None => return Vec::new(),
        };
        // Most events cross nothing; the session list is only built for an action.
        if crossings.is_empty() {
            return Vec::new();
        }

        let sessions = self.sessions_of(job);
        let Some(entry) = self.state.budgets.jobs.get_mut(job) else {
            return Vec::new();
        };
        let Some(cap) = entry.cap.as_mut() else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for crossing in crossings {
            let mut action = action_for(crossing, ScopeKind::Job, job, cap, &spent);
            action.plan_id = entry.plan.clone();
            action.jobs = vec![job.to_string()];
            if crossing == Crossing::Exceeded {
                match cap.limit.on_exceed {
                    OnExceed::Pause => {
                        entry.paused_by.insert(PauseReason::Job);
                    }
                    OnExceed::HardKill => entry.killed = true,
                    OnExceed::NotifyOnly => {}
                }
                action.sessions = sessions.clone();
            }
            actions.push(action);
        }
        actions
    }

    fn check_plan(&mut self, plan: &str) -> Vec<BudgetAction> {
        let spent = self.state.plans.get(plan).copied().unwrap_or_default();
        let crossings = match self
            .state
            .budgets
            .plans
            .get_mut(plan)
            .and_then(|p| p.cap.as_mut())
        {
            Some(cap) => cap.check(&spent),
            None => return Vec::new(),
        };
        if crossings.is_empty() {
            return Vec::new();
        }

        let jobs = self.jobs_of(plan);
        let Some(cap) = self
            .state
            .budgets
            .plans
            .get(plan)
            .and_then(|p| p.cap.clone())
        else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        for crossing in crossings {
            let mut action = action_for(crossing, ScopeKind::Plan, plan, &cap, &spent);
            if crossing == Crossing::Exceeded {
                let running = self.stop_running_jobs(&jobs, cap.limit.on_exceed);
                action.sessions = running
                    .iter()
                    .flat_map(|job| self.sessions_of(job))
                    .collect();
                action.jobs = running;
            } else {
                action.jobs = jobs.clone();
            }
            actions.push(action);
        }
        actions
    }

    /// Applies a plan's exceed action to its running jobs; returns them.
    fn stop_running_jobs(&mut self, jobs: &[String], on_exceed: OnExceed) -> Vec<String> {
        let mut running = Vec::new();
        for job in jobs {
            let Some(entry) = self.state.budgets.jobs.get_mut(job) else {
                continue;
            };
            if entry.status() != JobStatus::Running {
                continue;
            }
            match on_exceed {
                OnExceed::Pause => {
                    entry.paused_by.insert(PauseReason::Plan);
                }
                OnExceed::HardKill => entry.killed = true,
                OnExceed::NotifyOnly => {}
            }
            running.push(job.clone());
        }
        running
    }

    /// Raises a job's cap. Returns a `resume` action when that lifts the job's
    /// pause (and its plan does not hold it paused).
    pub fn extend_job(
        &mut self,
        job: &str,
        extension: Extension,
    ) -> Result<Vec<BudgetAction>, CostError> {
        let spent = self.state.jobs.get(job).copied().unwrap_or_default();
        let entry = self
            .state
            .budgets
            .jobs
            .get_mut(job)
            .ok_or_else(|| BudgetError::UnknownJob(job.to_string()))?;
        let no_budget = || BudgetError::NoBudget {
            scope: "job",
            id: job.to_string(),
        };
        let cap = entry.cap.as_mut().ok_or_else(no_budget)?;
        cap.extend(extension, &spent)?;
        let cap = cap.clone();
        let resumed = !cap.exceeded
            && entry.paused_by.remove(&PauseReason::Job)
            && entry.status() == JobStatus::Running;
        let plan = entry.plan.clone();
        if !resumed {
            return Ok(Vec::new());
        }
        let mut action = resume_action(ScopeKind::Job, job, &cap, &spent);
        action.plan_id = plan;
        action.jobs = vec![job.to_string()];
        action.sessions = self.sessions_of(job);
        Ok(vec![action])
    }

    /// Raises a plan's cap. Returns one `resume` action listing the jobs the
    /// plan had paused that can now run.
    pub fn extend_plan(
        &mut self,
        plan: &str,
        extension: Extension,
    ) -> Result<Vec<BudgetAction>, CostError> {
        let spent = self.state.plans.get(plan).copied().unwrap_or_default();
        let entry = self
            .state
            .budgets
            .plans
            .get_mut(plan)
            .ok_or_else(|| BudgetError::UnknownPlan(plan.to_string()))?;
        let cap = entry.cap.as_mut().ok_or_else(|| BudgetError::NoBudget {
            scope: "plan",
            id: plan.to_string(),
        })?;
        cap.extend(extension, &spent)?;
        if cap.exceeded {
            return Ok(Vec::new());
        }
        let cap = cap.clone();
        let mut resumed = Vec::new();
        for job in self.jobs_of(plan) {
            let Some(entry) = self.state.budgets.jobs.get_mut(&job) else {
                continue;
            };
            if entry.paused_by.remove(&PauseReason::Plan) && entry.status() == JobStatus::Running {
                resumed.push(job);
            }
        }
        if resumed.is_empty() {
            return Ok(Vec::new());
        }
        let mut action = resume_action(ScopeKind::Plan, plan, &cap, &spent);
        action.sessions = resumed
            .iter()
            .flat_map(|job| self.sessions_of(job))
            .collect();
        action.jobs = resumed;
        Ok(vec![action])
    }

    /// Returns a job's run state, or `None` for an unknown job.
    pub fn job_status(&self, job: &str) -> Option<JobStatus> {
        self.state.budgets.jobs.get(job).map(|entry| entry.status())
    }

    /// Returns the totals of a job (or, below, of a plan or a session).
    pub fn job_totals(&self, job: &str) -> Option<Totals> {
        self.state.jobs.get(job).copied()
    }

    pub fn plan_totals(&self, plan: &str) -> Option<Totals> {
        self.state.plans.get(plan).copied()
    }

    pub fn session_totals(&self, session: &str) -> Option<Totals> {
        self.state.sessions.get(session).map(|entry| entry.totals)
    }

    /// Computes the job's spend rate over its recent events and the projected
    /// seconds until its cap and its plan's cap at that rate.
    pub fn forecast(&self, job: &str) -> Forecast {
        let rate = self.state.job_rates.get(job).and_then(RateWindow::rate);
        let spent = self.state.jobs.get(job).copied().unwrap_or_default();
        let job_cap = self
            .state
            .budgets
            .jobs
            .get(job)
            .and_then(|j| j.cap.as_ref());
        let plan = self
            .state
            .budgets
            .jobs
            .get(job)
            .and_then(|j| j.plan.clone());
        let plan_cap = plan
            .as_ref()
            .and_then(|p| self.state.budgets.plans.get(p))
            .and_then(|p| p.cap.as_ref());
        let plan_spent = plan
            .as_ref()
            .and_then(|p| self.state.plans.get(p))
            .copied()
            .unwrap_or_default();
        Forecast {
            job_id: job.to_string(),
            usd_per_hour: rate.map(|(usd, _)| usd * 3600.0 / 1_000_000.0),
            tokens_per_hour: rate.map(|(_, tokens)| tokens * 3600.0),
            seconds_to_job_cap: rate.and_then(|r| seconds_to(job_cap?, &spent, r)),
            seconds_to_plan_cap: rate.and_then(|r| seconds_to(plan_cap?, &plan_spent, r)),
        }
    }

    /// Totals by plan, job, session and model.
    pub fn report(&self) -> CostReport {
        let mut total = Totals::default();
        for totals in self.state.models.values() {
            total = total.checked_add(totals).unwrap_or(total);
        }
        let plans = self
            .state
            .plans
            .iter()
            .map(|(id, t)| totals_report(id, t, None, None))
            .collect();
        let jobs = self
            .state
            .jobs
            .iter()
            .map(|(id, t)| {
                let budget = self.state.budgets.jobs.get(id);
                totals_report(
                    id,
                    t,
                    budget.and_then(|b| b.plan.clone()),
                    budget.map(|b| b.status()),
                )
            })
            .collect();
        let sessions = self
            .state
            .sessions
            .iter()
            .map(|(id, s)| totals_report(id, &s.totals, Some(s.job.clone()), None))
            .collect();
        let models = self.state.models.iter().filter(|(_, t)| t.requests > 0);
        let unpriced_models = models
            .clone()
            .filter(|(_, t)| t.unpriced_tokens > 0)
            .map(|(id, _)| id.clone())
            .collect();
        let disagreements = models
            .clone()
            .filter_map(|(id, t)| disagreement(id, t))
            .collect();
        CostReport {
            total: totals_report("total", &total, None, None),
            plans,
            jobs,
            sessions,
            models: models
                .map(|(id, t)| totals_report(id, t, None, None))
                .collect(),
            unpriced_models,
            disagreements,
        }
    }

    /// Serialises the whole state as JSON, with `version`.
    pub fn snapshot(&self) -> Value {
        let state = serde_json::to_value(&self.state).unwrap_or(Value::Null);
        serde_json::json!({ "version": SNAPSHOT_VERSION, "state": state })
    }

    /// Rebuilds a tracker from [`CostTracker::snapshot`] output.
    pub fn restore(snapshot: &Value, pricing: PricingTable) -> Result<CostTracker, CostError> {
        let version = snapshot.get("version");
        if version.and_then(Value::as_u64) != Some(SNAPSHOT_VERSION) {
            let found = version.map_or_else(|| "missing".to_string(), Value::to_string);
            return Err(CostError::SnapshotVersion { found });
        }
        let body = snapshot.get("state").cloned().unwrap_or(Value::Null);
        let state: State = serde_json::from_value(body).map_err(|e| CostError::Snapshot {
            reason: e.to_string(),
        })?;
        Ok(CostTracker { pricing, state, model_key: String::new(), job_key: String::new(), plan_key: String::new() })
    }
}

fn overflow(scope: &str) -> CostError {
    CostError::Overflow {
        scope: scope.to_string(),
    }
}

fn update(totals: &mut Totals, change: &Change, scope: &str) -> Result<(), CostError> {
    let next = totals
        .checked_sub(&change.before.totals)
        .and_then(|t| t.checked_add(&change.after.totals));
    *totals = next.ok_or_else(|| overflow(scope))?;
    Ok(())
}

/// Moves a change's totals between per-model sums: out of the model before,
/// into the model after. `key` is scratch space for the keys.
fn update_models(models: &mut BTreeMap<String, Totals>, key: &mut String, change: &Change) -> Result<(), CostError> {
    write_model_key(key, &change.before);
    if change.before.model == change.after.model {
        return update(entry_mut(models, key)?, change, key);
    }
    let model = entry_mut(models, key)?;
    *model = model.checked_sub(&change.before.totals).ok_or_else(|| overflow(key))?;
    write_model_key(key, &change.after);
    let model = entry_mut(models, key)?;
    *model = model.checked_add(&change.after.totals).ok_or_else(|| overflow(key))?;
    Ok(())
}

/// Returns the entry for `key`, inserting a default one first. The key is
/// copied only when it is new, which on a busy stream is rare.
fn entry_mut<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> Result<&'m mut V, CostError> {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).ok_or_else(|| overflow(key))
}

/// Writes `provider/model` of a contribution into `key`, or
/// `unknown/unknown` when the model is not known yet.
fn write_model_key(key: &mut String, contribution: &crate::ledger::Contribution) {
    key.clear();
    match &contribution.model {
        Some(model) => model.write_key(key),
        None => key.push_str("unknown/unknown"),
    }
}

fn resume_action(scope: ScopeKind, id: &str, cap: &CapState, spent: &Totals) -> BudgetAction {
    let mut action = action_for(Crossing::Exceeded, scope, id, cap, spent);
    action.kind = ActionKind::Resume;
    let noun = if scope == ScopeKind::Job {
        "job"
    } else {
        "plan"
    };
    action.message = format!("{noun} \"{id}\" budget extended; resuming");
    action
}

fn seconds_to(cap: &CapState, spent: &Totals, (usd_rate, token_rate): (f64, f64)) -> Option<f64> {
    let usd = cap
        .limit
        .usd_micros
        .and_then(|c| remaining(c, spent.usd_micros(), usd_rate));
    let tokens = cap
        .limit
        .tokens
        .and_then(|c| remaining(c, spent.tokens.total(), token_rate));
    match (usd, tokens) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn remaining(cap: u64, spent: u64, per_second: f64) -> Option<f64> {
    let left = cap.saturating_sub(spent);
    if left == 0 {
        return Some(0.0);
    }
    (per_second > 0.0).then(|| left as f64 / per_second)
}

fn totals_report(
    id: &str,
    totals: &Totals,
    parent: Option<String>,
    status: Option<JobStatus>,
) -> TotalsReport {
    TotalsReport {
        id: id.to_string(),
        tokens: TokenReport::from(&totals.tokens),
        cost_usd: micros_to_usd(totals.usd_micros()),
        reported_usd: micros_to_usd(totals.reported_micros),
        estimated_usd: micros_to_usd(totals.estimated_micros),
        cost_source: totals.source(),
        unpriced_tokens: totals.unpriced_tokens,
        requests: totals.requests,
        parent,
        status,
    }
}

fn disagreement(model: &str, totals: &Totals) -> Option<Disagreement> {
    let reported = totals.checked_reported_micros;
    let estimated = totals.checked_estimated_micros;
    let difference = reported.abs_diff(estimated);
    let relative =
        u128::from(difference) * 100 > u128::from(estimated) * u128::from(DISAGREEMENT_PERCENT);
    (difference > DISAGREEMENT_FLOOR_MICROS && relative).then(|| Disagreement {
        model: model.to_string(),
        reported_usd: micros_to_usd(reported),
        estimated_usd: micros_to_usd(estimated),
    })
}
