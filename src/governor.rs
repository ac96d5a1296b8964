//! The governor: jobs, plans and their compiled policies, the decision logs
//! and the cost tracker, behind one synchronous call per event.

use crate::classify::{self, JobContext};
use crate::budget::{BudgetAction, Extension, JobStatus};
use crate::cost::{CostError, CostReport, CostTracker};
use crate::pricing::PricingTable;
use crate::decision::{Action, Category, Decision, Scope};
use crate::diagnostic::{self, Diagnostic};
use crate::events::{self, Event, EventError, PermissionRequest, ToolCall};
use crate::log::{DecisionLog, DecisionRecord, Status};
use crate::paths;
use crate::policy::{CompiledPolicy, ConfigFile, JobSection, Judgement, Verdict};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Decision log entries kept per job unless the caller sets another limit.
pub const DEFAULT_LOG_LIMIT: usize = 1000;

/// Tool calls remembered per job, to tell which tool a permission request
/// serves. OpenCode requests permission while the call runs, so only recent
/// calls matter.
const MAX_TOOL_CALLS: usize = 256;

/// Snapshot format version written by `snapshot` and accepted by `restore`.
pub const SNAPSHOT_VERSION: u64 = 1;

/// Settings fixed when the governor is created.
#[derive(Debug, Clone)]
pub struct GovernorOptions {
    pub global_config: Option<ConfigFile>,
    pub pricing: PricingTable,
    /// Decision log entries kept per job; `None` means `DEFAULT_LOG_LIMIT`.
    pub log_limit: Option<usize>,
}

impl Default for GovernorOptions {
    /// No global config, the shipped pricing table, the default log limit.
    fn default() -> GovernorOptions {
        GovernorOptions { global_config: None, pricing: PricingTable::builtin().unwrap_or_else(|_| PricingTable::empty()), log_limit: None }
    }
}

/// Builds the pricing table: the shipped table, then a models.dev `api.json`
/// (given as text, or as the global config's `pricing.models_dev` path),
/// then the config's per-model prices, each overriding the one before.
pub fn pricing_table(global: Option<&ConfigFile>, models_dev_text: Option<&str>) -> Result<PricingTable, GovernorError> {
    let mut table = PricingTable::builtin().map_err(|error| GovernorError::InvalidPricing { message: error.to_string() })?;
    let section = global.and_then(|config| config.pricing.as_ref());

    if let Some(path) = section.and_then(|pricing| pricing.models_dev.as_deref()) {
        let text = std::fs::read_to_string(path).map_err(|error| GovernorError::InvalidPricing {
            message: format!("cannot read models.dev file \"{path}\" named by pricing.models_dev: {error}"),
        })?;
        let loaded = PricingTable::from_models_dev(&text)
            .map_err(|error| GovernorError::InvalidPricing { message: format!("models.dev file \"{path}\": {error}") })?;
        table.merge(&loaded);
    }
    if let Some(text) = models_dev_text {
        let loaded = PricingTable::from_models_dev(text)
            .map_err(|error| GovernorError::InvalidPricing { message: format!("models.dev pricing: {error}") })?;
        table.merge(&loaded);
    }
    if let Some(section) = section {
        table = section.apply_to(&table);
    }
    Ok(table)
}

/// A job to govern.
#[derive(Debug, Clone, Default)]
pub struct JobRegistration {
    pub job_id: String,
    pub plan_id: Option<String>,
    pub worktree: PathBuf,
    /// The agent's home directory for `~`; the monitor passes its own by default.
    pub home: Option<PathBuf>,
    /// A job override above the plan's `jobs.<job_id>` section.
    pub policy: Option<JobSection>,
    /// A trust level that replaces the override's own, if any.
    pub trust: Option<String>,
}

/// An error from a governor call.
#[derive(Debug, Clone, PartialEq)]
pub enum GovernorError {
    UnknownJob { job_id: String },
    UnknownPlan { plan_id: String },
    InvalidConfig { diagnostics: Vec<Diagnostic> },
    InvalidEvent(EventError),
    InvalidRequest { message: String },
    InvalidSnapshot { message: String },
    InvalidPricing { message: String },
    Cost(CostError),
}

impl GovernorError {
    /// Returns the fix to suggest, where there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            GovernorError::UnknownJob { .. } => Some("register the job with registerJob first".into()),
            GovernorError::UnknownPlan { .. } => Some("register the plan with registerPlan first".into()),
            GovernorError::Cost(error) => error.help(),
            _ => None,
        }
    }
}

impl fmt::Display for GovernorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GovernorError::UnknownJob { job_id } => write!(f, "unknown job \"{job_id}\""),
            GovernorError::UnknownPlan { plan_id } => write!(f, "unknown plan \"{plan_id}\""),
            GovernorError::InvalidConfig { diagnostics } => {
                write!(f, "invalid policy configuration:\n{}", diagnostic::render(diagnostics))
            }
            GovernorError::InvalidEvent(error) => write!(f, "{error}"),
            GovernorError::InvalidRequest { message } => write!(f, "{message}"),
            GovernorError::InvalidSnapshot { message } => write!(f, "invalid snapshot: {message}"),
            GovernorError::InvalidPricing { message } => write!(f, "invalid pricing: {message}"),
            GovernorError::Cost(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for GovernorError {}

impl From<EventError> for GovernorError {
    fn from(error: EventError) -> GovernorError {
        GovernorError::InvalidEvent(error)
    }
}

impl From<CostError> for GovernorError {
    fn from(error: CostError) -> GovernorError {
        GovernorError::Cost(error)
    }
}

/// The verdict on one action of a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionVerdict {
    pub category: Category,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    pub target: String,
    pub decision: Decision,
    pub layer: &'static str,
    pub rule: String,
    pub reason: String,
}

/// The decision on a permission request: the strictest of its actions'.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionOutcome {
    pub permission_id: String,
    pub session_id: String,
    pub permission: String,
    pub category: Category,
    pub decision: Decision,
    pub reason: String,
    pub layer: &'static str,
    pub rule: String,
    pub actions: Vec<ActionVerdict>,
}

/// Everything the caller must act on after one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventOutcome {
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<PermissionOutcome>,
    pub budget_actions: Vec<BudgetAction>,
}

impl EventOutcome {
    /// Tells whether the caller has anything to do: a permission request to
    /// reply to or a budget action to carry out.
    pub fn needs_action(&self) -> bool {
        self.permission.is_some() || !self.budget_actions.is_empty()
    }

    /// Returns the outcome in brief: what a caller needs to reply to the
    /// request and log the decision, without the per-action verdicts. It
    /// serialises to about a third of the full outcome.
    pub fn brief(&self) -> BriefOutcome<'_> {
        let permission = self.permission.as_ref().map(|outcome| {
            let deciding = outcome.actions.get(strictest_index(&outcome.actions));
            BriefPermission {
                decision: outcome.decision,
                permission_id: &outcome.permission_id,
                session_id: &outcome.session_id,
                permission: &outcome.permission,
                category: outcome.category,
                target: deciding.map(|verdict| verdict.target.as_str()),
                rule: &outcome.rule,
                reason: &outcome.reason,
            }
        });
        BriefOutcome { permission, budget_actions: &self.budget_actions }
    }
}

/// [`EventOutcome::brief`]: the permission fields are there when the event
/// was a permission request; `budgetActions` is left out when empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BriefOutcome<'a> {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub permission: Option<BriefPermission<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub budget_actions: &'a [BudgetAction],
}

/// The decision on a permission request, in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BriefPermission<'a> {
    pub decision: Decision,
    pub permission_id: &'a str,
    pub session_id: &'a str,
    pub permission: &'a str,
    pub category: Category,
    /// The target of the strictest action, as the decision log records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    pub rule: &'a str,
    pub reason: &'a str,
}

/// A hypothetical request for `explain`: exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExplainRequest {
    pub command: Option<String>,
    pub edit: Option<String>,
    pub read: Option<String>,
    pub fetch: Option<String>,
    pub mcp: Option<String>,
}

/// The reasons for the decision a hypothetical request would get.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub decision: Decision,
    pub category: Category,
    pub rule: String,
    pub layer: &'static str,
    pub reason: String,
    /// Effects found by the analysis, one readable line each.
    pub effects: Vec<String>,
    pub actions: Vec<ActionVerdict>,
}

struct Job {
    plan_id: Option<String>,
    registration: JobRegistration,
    context: JobContext,
    policy: CompiledPolicy,
    log: DecisionLog,
    tool_calls: ToolCallCache,
}

struct Plan {
    config: ConfigFile,
}

/// Governs jobs, plans and sessions. Not thread-safe by itself: the caller
/// serialises calls, as Node's single event-loop thread does.
pub struct Governor {
    global: Option<ConfigFile>,
    plans: HashMap<String, Plan>,
    jobs: HashMap<String, Job>,
    cost: CostTracker,
    log_limit: usize,
    /// Policies compiled for jobs with no layer of their own, by plan and
    /// home directory: such jobs of one plan share one compiled policy.
    shared_policies: SharedPolicies,
}

/// Plan id and home directory: what a job's policy depends on when the job
/// has no override and no `jobs.<id>` section in its plan.
type SharedKey = (Option<String>, Option<PathBuf>);
type SharedPolicies = HashMap<SharedKey, CompiledPolicy>;

impl Governor {
    pub fn new(options: GovernorOptions) -> Governor {
        Governor {
            global: options.global_config,
            plans: HashMap::new(),
            jobs: HashMap::new(),
            cost: CostTracker::new(options.pricing),
            log_limit: options.log_limit.unwrap_or(DEFAULT_LOG_LIMIT),
            shared_policies: HashMap::new(),
        }
    }

    /// Restores the cost and budget state from a `snapshot`. Plans and jobs
    /// are configuration, not state: register them again after restoring.
    pub fn restore(snapshot: &serde_json::Value, options: GovernorOptions) -> Result<Governor, GovernorError> {
        match snapshot.get("version") {
            Some(version) if version.as_u64() == Some(SNAPSHOT_VERSION) => {}
            Some(version) => {
                let message = format!("unsupported version {version}, expected {SNAPSHOT_VERSION}");
                return Err(GovernorError::InvalidSnapshot { message });
            }
            None => {
                let message = "missing field \"version\"; pass the text that snapshot() returned".to_string();
                return Err(GovernorError::InvalidSnapshot { message });
            }
        }
        let cost_state = snapshot
            .get("cost")
            .ok_or_else(|| GovernorError::InvalidSnapshot { message: "missing field \"cost\"".into() })?;

        let pricing = options.pricing.clone();
        let mut governor = Governor::new(options);
        governor.cost = CostTracker::restore(cost_state, pricing)?;
        Ok(governor)
    }

    /// Serialises the cost and budget state for the caller's job store.
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({ "version": SNAPSHOT_VERSION, "cost": self.cost.snapshot() })
    }

    /// Registers or replaces a plan and recompiles the policies of its jobs.
    /// On error nothing changes.
    pub fn register_plan(&mut self, plan_id: &str, config: ConfigFile) -> Result<(), GovernorError> {
        // Compiled into a fresh set of shared policies, which replaces the
        // plan's old ones only once every job compiled.
        let mut shared = SharedPolicies::new();
        let mut recompiled = Vec::new();
        for (job_id, job) in &self.jobs {
            if job.plan_id.as_deref() == Some(plan_id) {
                let policy = policy_for(&mut shared, self.global.as_ref(), Some(&config), &job.registration)?;
                recompiled.push((job_id.clone(), policy));
            }
        }
        self.shared_policies.retain(|(plan, _), _| plan.as_deref() != Some(plan_id));
        self.shared_policies.extend(shared);

        self.cost.configure_plan(plan_id, plan_budget(&config));
        for (job_id, policy) in recompiled {
            if let Some(job) = self.jobs.get_mut(&job_id) {
                job.policy = policy;
                // The plan's job default cap may have changed too.
                let budget = job_budget(Some(&config), &job.registration);
                self.cost.configure_job(&job_id, Some(plan_id), budget.as_ref());
            }
        }
        self.plans.insert(plan_id.to_string(), Plan { config });
        Ok(())
    }

    /// Registers or replaces a job and compiles its policy. On error nothing changes.
    pub fn register_job(&mut self, registration: JobRegistration) -> Result<(), GovernorError> {
        let plan_config = match &registration.plan_id {
            Some(plan_id) => Some(
                &self
                    .plans
                    .get(plan_id)
                    .ok_or_else(|| GovernorError::UnknownPlan { plan_id: plan_id.clone() })?
                    .config,
            ),
            None => None,
        };
        let worktree = worktree_path(&registration.worktree)?;
        check_home(registration.home.as_deref())?;
        let registration = JobRegistration { worktree: worktree.clone(), ..registration };
        let policy = policy_for(&mut self.shared_policies, self.global.as_ref(), plan_config, &registration)?;

        let job_budget = job_budget(plan_config, &registration);
        self.cost.configure_job(&registration.job_id, registration.plan_id.as_deref(), job_budget.as_ref());

        let job = Job {
            plan_id: registration.plan_id.clone(),
            context: JobContext { worktree, home: registration.home.clone() },
            policy,
            log: DecisionLog::new(self.log_limit),
            tool_calls: ToolCallCache::default(),
            registration,
        };
        self.jobs.insert(job.registration.job_id.clone(), job);
        Ok(())
    }

    /// Handles one event of a job's stream: decides permission requests,
    /// remembers tool calls and accounts usage.
    pub fn handle_event(&mut self, job_id: &str, event: &serde_json::Value) -> Result<EventOutcome, GovernorError> {
        let event = events::parse_event(event)?;
        self.handle_parsed(job_id, event)
    }

    /// Tells whether a job of this id is registered.
    pub fn is_registered(&self, job_id: &str) -> bool {
        self.jobs.contains_key(job_id)
    }

    /// Like `handle_event`, for an event already parsed.
    pub fn handle_parsed(&mut self, job_id: &str, event: Event) -> Result<EventOutcome, GovernorError> {
        self.handle_parsed_with(job_id, event, Detail::Full)
    }

    /// Like `handle_parsed`, for a caller that needs only
    /// [`EventOutcome::brief`]: a decision's `actions` hold only the verdict
    /// of the action that decided, so the others' reasons are never written.
    /// The decision and the log are the same.
    pub fn handle_parsed_brief(&mut self, job_id: &str, event: Event) -> Result<EventOutcome, GovernorError> {
        self.handle_parsed_with(job_id, event, Detail::Brief)
    }

    fn handle_parsed_with(&mut self, job_id: &str, event: Event, detail: Detail) -> Result<EventOutcome, GovernorError> {
        if !self.jobs.contains_key(job_id) {
            return Err(GovernorError::UnknownJob { job_id: job_id.to_string() });
        }
        let mut outcome = EventOutcome { event_type: String::new(), permission: None, budget_actions: Vec::new() };
        if matches!(event, Event::Permission(_) | Event::ToolCall(_)) {
            // The other variants hand over the name they own below.
            outcome.event_type = event.type_name().to_string();
        }

        match event {
            Event::Permission(request) => {
                self.cost.attach_session(&request.session_id, job_id, None);
                outcome.permission = Some(self.decide_with(job_id, &request, detail)?);
            }
            Event::ToolCall(call) => {
                if let Some(job) = self.jobs.get_mut(job_id) {
                    job.tool_calls.remember(call);
                }
            }
            Event::Usage { event_type, usage } => {
                outcome.event_type = event_type;
                outcome.budget_actions = self.cost.account(job_id, &usage)?;
            }
            Event::Other { event_type } => outcome.event_type = event_type,
        }
        Ok(outcome)
    }

    /// Decides a permission request and logs the decision.
    pub fn decide(&mut self, job_id: &str, request: &PermissionRequest) -> Result<PermissionOutcome, GovernorError> {
        self.decide_with(job_id, request, Detail::Full)
    }

    fn decide_with(&mut self, job_id: &str, request: &PermissionRequest, detail: Detail) -> Result<PermissionOutcome, GovernorError> {
        let job = self.job(job_id)?;
        let tool_call = request.call_id.as_deref().and_then(|call_id| job.tool_calls.get(call_id));
        let actions = classify::classify(request, tool_call, &job.context);
        let verdicts = evaluate_all(&job.policy, &actions, detail);
        let strictest = strictest_index(&verdicts);
        let target = verdicts.get(strictest).map(|verdict| verdict.target.clone()).unwrap_or_default();

        let mut outcome = match verdicts.get(strictest) {
            Some(deciding) => PermissionOutcome {
                permission_id: request.id.clone(),
                session_id: request.session_id.clone(),
                permission: request.permission.clone(),
                category: deciding.category,
                decision: deciding.decision,
                reason: deciding.reason.clone(),
                layer: deciding.layer,
                rule: deciding.rule.clone(),
                actions: Vec::new(),
            },
            None => no_action_outcome(request),
        };
        outcome.actions = verdicts;
        apply_budget_status(&mut outcome, job_id, self.cost.job_status(job_id));

        let job = self.job_mut(job_id)?;
        job.log.record(DecisionRecord {
            time_ms: now_ms(),
            job_id: job_id.to_string(),
            session_id: request.session_id.clone(),
            permission_id: request.id.clone(),
            permission: request.permission.clone(),
            category: outcome.category,
            target,
            layer: outcome.layer,
            rule: outcome.rule.clone(),
            decision: outcome.decision,
            reason: outcome.reason.clone(),
        });
        Ok(outcome)
    }

    /// Explains how the job's policy decides a hypothetical request, without logging it.
    pub fn explain(&self, job_id: &str, request: &ExplainRequest) -> Result<Explanation, GovernorError> {
        let job = self.job(job_id)?;
        explain_with(&job.policy, &job.context, request)
    }

    pub fn extend_job(&mut self, job_id: &str, extension: Extension) -> Result<Vec<BudgetAction>, GovernorError> {
        self.job(job_id)?;
        Ok(self.cost.extend_job(job_id, extension)?)
    }

    pub fn extend_plan(&mut self, plan_id: &str, extension: Extension) -> Result<Vec<BudgetAction>, GovernorError> {
        if !self.plans.contains_key(plan_id) {
            return Err(GovernorError::UnknownPlan { plan_id: plan_id.to_string() });
        }
        Ok(self.cost.extend_plan(plan_id, extension)?)
    }

    pub fn job_status(&self, job_id: &str) -> Result<Status, GovernorError> {
        Ok(self.job(job_id)?.log.status(job_id))
    }

    /// Summarises the decisions of every job of a plan.
    pub fn plan_status(&self, plan_id: &str) -> Result<Status, GovernorError> {
        if !self.plans.contains_key(plan_id) {
            return Err(GovernorError::UnknownPlan { plan_id: plan_id.to_string() });
        }
        let mut status = Status::empty("plan", plan_id);
        for job in self.jobs.values().filter(|job| job.plan_id.as_deref() == Some(plan_id)) {
            status.add_log(&job.log);
        }
        status.finish();
        Ok(status)
    }

    /// Returns the newest decision log entries of a job and how many were dropped.
    pub fn decision_log(&self, job_id: &str) -> Result<(Vec<DecisionRecord>, u64), GovernorError> {
        let job = self.job(job_id)?;
        Ok((job.log.entries().cloned().collect(), job.log.dropped()))
    }

    pub fn report(&self) -> CostReport {
        self.cost.report()
    }

    /// Projects the time until the job's cap and its plan's cap at its recent spend rate.
    pub fn forecast(&self, job_id: &str) -> Result<crate::cost::Forecast, GovernorError> {
        self.job(job_id)?;
        Ok(self.cost.forecast(job_id))
    }

    fn job(&self, job_id: &str) -> Result<&Job, GovernorError> {
        self.jobs.get(job_id).ok_or_else(|| GovernorError::UnknownJob { job_id: job_id.to_string() })
    }

    fn job_mut(&mut self, job_id: &str) -> Result<&mut Job, GovernorError> {
        self.jobs.get_mut(job_id).ok_or_else(|| GovernorError::UnknownJob { job_id: job_id.to_string() })
    }
}

/// Compiles a standalone policy (one config file as the plan layer) and
/// explains a hypothetical request against it, for the CLI's `explain`.
pub fn explain_policy(
    config: Option<&ConfigFile>,
    worktree: &Path,
    home: Option<PathBuf>,
    request: &ExplainRequest,
) -> Result<Explanation, GovernorError> {
    let worktree = worktree_path(worktree)?;
    check_home(home.as_deref())?;
    let policy = CompiledPolicy::compile_with_home(None, config, &[], &worktree, home.as_deref())
        .map_err(|diagnostics| GovernorError::InvalidConfig { diagnostics })?;
    let context = JobContext { worktree, home };
    explain_with(&policy, &context, request)
}

fn explain_with(policy: &CompiledPolicy, context: &JobContext, request: &ExplainRequest) -> Result<Explanation, GovernorError> {
    let (actions, effects) = explain_actions(context, request)?;
    let verdicts = evaluate_all(policy, &actions, Detail::Full);
    let deciding = verdicts
        .get(strictest_index(&verdicts))
        .cloned()
        .ok_or_else(|| GovernorError::InvalidRequest { message: "the request produced no action to decide".into() })?;

    Ok(Explanation {
        decision: deciding.decision,
        category: deciding.category,
        rule: deciding.rule,
        layer: deciding.layer,
        reason: deciding.reason,
        effects,
        actions: verdicts,
    })
}

fn explain_actions(context: &JobContext, request: &ExplainRequest) -> Result<(Vec<Action>, Vec<String>), GovernorError> {
    let given = [&request.command, &request.edit, &request.read, &request.fetch, &request.mcp];
    let count = given.iter().filter(|field| field.is_some()).count();
    if count != 1 {
        let message = format!("expected exactly one of command, edit, read, fetch or mcp, got {count}");
        return Err(GovernorError::InvalidRequest { message });
    }

    if given.iter().any(|field| field.as_deref().is_some_and(|text| text.trim().is_empty())) {
        let message = "the explain request's target is empty; give a command, path, URL or tool name".to_string();
        return Err(GovernorError::InvalidRequest { message });
    }

    let actions = if let Some(command) = &request.command {
        classify::shell_actions(command, context.worktree.clone(), context)
    } else if let Some(path) = &request.edit {
        vec![classify::file_action(Category::FileEdit, path, &context.worktree, context)]
    } else if let Some(path) = &request.read {
        vec![classify::file_action(Category::FileRead, path, &context.worktree, context)]
    } else if let Some(url) = &request.fetch {
        vec![classify::network_action(url)]
    } else {
        vec![classify::tool_action(request.mcp.as_deref().unwrap_or_default())]
    };
    let effects = actions.iter().flat_map(describe_action).collect();
    Ok((actions, effects))
}

/// Describes an action and, for shell commands, the effects found.
fn describe_action(action: &Action) -> Vec<String> {
    let mut lines = vec![format!("{} {}", action.category.as_str(), action.target)];
    if let Some(reason) = &action.opaque {
        lines.push(format!("not provably safe: {reason}"));
    }
    lines
}

/// How much of a decision to write out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// The verdict of every action.
    Full,
    /// The verdict of the deciding action only.
    Brief,
}

/// Decides every action; `Brief` writes out the verdict of the deciding
/// (strictest, first on a tie) action only.
fn evaluate_all(policy: &CompiledPolicy, actions: &[Action], detail: Detail) -> Vec<ActionVerdict> {
    let judgements: Vec<Judgement> = actions.iter().map(|action| policy.judge(action)).collect();
    let write = |(action, judgement): (&Action, &Judgement)| {
        let Verdict { decision, layer, rule, reason } = judgement.verdict(action);
        ActionVerdict {
            category: action.category,
            scope: action.scope,
            target: action.target.clone(),
            decision,
            layer: layer.as_str(),
            rule,
            reason,
        }
    };
    match detail {
        Detail::Full => actions.iter().zip(&judgements).map(write).collect(),
        Detail::Brief => {
            let strictest = strictest_of(judgements.iter().map(|judgement| judgement.decision));
            actions.iter().zip(&judgements).nth(strictest).map(write).into_iter().collect()
        }
    }
}

/// Returns the index of the strictest verdict; the first one wins a tie.
fn strictest_index(verdicts: &[ActionVerdict]) -> usize {
    strictest_of(verdicts.iter().map(|verdict| verdict.decision))
}

/// Returns the index of the strictest decision; the first one wins a tie.
fn strictest_of(decisions: impl Iterator<Item = Decision>) -> usize {
    let mut best: Option<(usize, Decision)> = None;
    for (index, decision) in decisions.enumerate() {
        if best.is_none_or(|(_, current)| decision > current) {
            best = Some((index, decision));
        }
    }
    best.map_or(0, |(index, _)| index)
}

/// Holds every request of a job that a budget paused, and denies every
/// request of a job that a budget killed: the monitor aborts their sessions,
/// but requests already in flight must not slip through.
fn apply_budget_status(outcome: &mut PermissionOutcome, job_id: &str, status: Option<JobStatus>) {
    let (decision, rule, state) = match status {
        Some(JobStatus::Paused) => (Decision::AskUser, "budget.paused", "paused"),
        Some(JobStatus::Killed) => (Decision::Deny, "budget.killed", "killed"),
        Some(JobStatus::Running) | None => return,
    };
    if outcome.decision >= decision {
        return;
    }
    outcome.decision = decision;
    outcome.reason = format!("job \"{job_id}\" is {state} by its budget, so \"{}\" is {}", outcome.permission, decision.as_str());
    outcome.layer = "budget";
    outcome.rule = rule.to_string();
}

/// Builds the outcome of a request that classified to nothing. It is held,
/// because nothing was understood, so nothing can be approved.
fn no_action_outcome(request: &PermissionRequest) -> PermissionOutcome {
    PermissionOutcome {
        permission_id: request.id.clone(),
        session_id: request.session_id.clone(),
        permission: request.permission.clone(),
        category: Category::Other,
        decision: Decision::AskUser,
        reason: format!("the {} request could not be classified", request.permission),
        layer: "default",
        rule: "unclassified".into(),
        actions: Vec::new(),
    }
}

/// Returns the job's compiled policy: shared with the other jobs of its plan
/// and home when it adds no layer of its own, compiled for it otherwise.
fn policy_for(
    shared: &mut SharedPolicies,
    global: Option<&ConfigFile>,
    plan: Option<&ConfigFile>,
    registration: &JobRegistration,
) -> Result<CompiledPolicy, GovernorError> {
    let has_plan_section = plan.is_some_and(|config| config.jobs.contains_key(&registration.job_id));
    if registration.policy.is_some() || registration.trust.is_some() || has_plan_section {
        return compile_policy(global, plan, registration);
    }

    let key = (registration.plan_id.clone(), registration.home.clone());
    if let Some(policy) = shared.get(&key) {
        return Ok(policy.with_worktree(&registration.worktree));
    }
    let policy = compile_policy(global, plan, registration)?;
    shared.insert(key, policy.clone());
    Ok(policy)
}

fn compile_policy(
    global: Option<&ConfigFile>,
    plan: Option<&ConfigFile>,
    registration: &JobRegistration,
) -> Result<CompiledPolicy, GovernorError> {
    let plan_section = plan.and_then(|config| config.jobs.get(&registration.job_id));
    let override_section = job_override(registration);
    let mut sections: Vec<&JobSection> = Vec::new();
    if let Some(section) = plan_section {
        sections.push(section);
    }
    if let Some(section) = &override_section {
        sections.push(section);
    }
    CompiledPolicy::compile_with_home(global, plan, &sections, &registration.worktree, registration.home.as_deref())
        .map_err(|diagnostics| GovernorError::InvalidConfig { diagnostics })
}

fn job_override(registration: &JobRegistration) -> Option<JobSection> {
    match (&registration.policy, &registration.trust) {
        (None, None) => None,
        (policy, trust) => {
            let mut section = policy.clone().unwrap_or_default();
            if trust.is_some() {
                section.trust = trust.clone();
            }
            Some(section)
        }
    }
}

fn plan_budget(config: &ConfigFile) -> Option<&crate::budget::BudgetConfig> {
    config.budget.as_ref()
}

/// Returns the job's budget: its override's, else the plan's `jobs.<id>` section's.
fn job_budget(plan: Option<&ConfigFile>, registration: &JobRegistration) -> Option<crate::budget::BudgetConfig> {
    let from_override = registration.policy.as_ref().and_then(|section| section.budget.clone());
    let from_plan = plan.and_then(|config| config.jobs.get(&registration.job_id)).and_then(|section| section.budget.clone());
    from_override.or(from_plan)
}

/// Checks the worktree is absolute and resolves its symlinks, so containment
/// checks compare real paths on both sides.
fn worktree_path(worktree: &Path) -> Result<PathBuf, GovernorError> {
    if !worktree.is_absolute() {
        let message = format!("worktree \"{}\" must be an absolute path", worktree.display());
        return Err(GovernorError::InvalidRequest { message });
    }
    let normalized = paths::normalize(&worktree.to_string_lossy(), Path::new("/"), None);
    let resolved = paths::resolve(&normalized);
    if resolved.parent().is_none() {
        // Everything would count as inside a worktree at the root.
        let message = format!("worktree \"{}\" is the file-system root; give the job's own folder", worktree.display());
        return Err(GovernorError::InvalidRequest { message });
    }
    Ok(resolved)
}

/// Checks that a home directory, when given, is absolute.
fn check_home(home: Option<&Path>) -> Result<(), GovernorError> {
    match home {
        Some(home) if !home.is_absolute() => {
            let message = format!("home \"{}\" must be an absolute path", home.display());
            Err(GovernorError::InvalidRequest { message })
        }
        _ => Ok(()),
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|duration| duration.as_millis() as u64).unwrap_or(0)
}

/// Recent tool calls by call id, oldest evicted first.
#[derive(Default)]
struct ToolCallCache {
    calls: HashMap<String, ToolCall>,
    order: VecDeque<String>,
}

impl ToolCallCache {
    fn remember(&mut self, call: ToolCall) {
        if !self.calls.contains_key(&call.call_id) {
            if self.order.len() == MAX_TOOL_CALLS {
                if let Some(oldest) = self.order.pop_front() {
                    self.calls.remove(&oldest);
                }
            }
            self.order.push_back(call.call_id.clone());
        }
        self.calls.insert(call.call_id.clone(), call);
    }

    fn get(&self, call_id: &str) -> Option<&ToolCall> {
        self.calls.get(call_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse_config;

    const PLAN: &str = "permissions:\n  mcp_tools:\n    default: deny\n";
    const STRICTER_PLAN: &str = "permissions:\n  mcp_tools:\n    default: ask-user\n";

    fn job(job_id: &str, worktree: &str) -> JobRegistration {
        JobRegistration {
            job_id: job_id.to_string(),
            plan_id: Some("plan".to_string()),
            worktree: PathBuf::from(worktree),
            home: Some(PathBuf::from("/home/u")),
            ..JobRegistration::default()
        }
    }

    fn governor_with_jobs() -> Governor {
        let mut governor = Governor::new(GovernorOptions::default());
        governor.register_plan("plan", parse_config(PLAN, "plan.yaml").unwrap()).unwrap();
        governor.register_job(job("a", "/tmp/mcg-share-a")).unwrap();
        governor.register_job(job("b", "/tmp/mcg-share-b")).unwrap();
        let trusted = JobRegistration { trust: Some("elevated".to_string()), ..job("c", "/tmp/mcg-share-c") };
        governor.register_job(trusted).unwrap();
        governor
    }

    fn shares(governor: &Governor, left: &str, right: &str) -> bool {
        governor.jobs[left].policy.shares_rules_with(&governor.jobs[right].policy)
    }

    #[test]
    fn jobs_without_own_layers_share_policy() {
        let governor = governor_with_jobs();

        assert!(shares(&governor, "a", "b"));
        assert!(!shares(&governor, "a", "c"));
        assert_eq!(governor.jobs["b"].policy.worktree(), Path::new("/tmp/mcg-share-b"));
    }

    #[test]
    fn replaced_plan_replaces_shared_policy() {
        let mut governor = governor_with_jobs();
        let mcp = Action { category: Category::McpTools, scope: None, target: "github_create_issue".into(), command: None, opaque: None };
        assert_eq!(governor.jobs["a"].policy.evaluate(&mcp).decision, Decision::Deny);

        governor.register_plan("plan", parse_config(STRICTER_PLAN, "plan.yaml").unwrap()).unwrap();
        governor.register_job(job("d", "/tmp/mcg-share-d")).unwrap();

        for job_id in ["a", "b", "d"] {
            assert_eq!(governor.jobs[job_id].policy.evaluate(&mcp).decision, Decision::AskUser, "job {job_id}");
        }
        assert!(shares(&governor, "a", "d"));
    }
}
