//! Node.js binding: converts between JavaScript values and the core's types
//! and turns core errors into JavaScript exceptions. No policy or cost logic
//! lives here, so `cargo test` covers all of it through the core.

use crate::budget::Extension;
use crate::diagnostic::Diagnostic;
use crate::governor::{self as core, ExplainRequest, GovernorError, GovernorOptions, JobRegistration};
use crate::policy::{self, ConfigFile};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::Value;
use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

/// The addon's own allocations go to mimalloc rather than the C library's
/// malloc. Shell analysis and decisions make many small, short-lived
/// allocations, which it serves faster (BENCHMARKS.md has the figures).
/// Node.js keeps its own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Options for a new `Governor`.
#[napi(object)]
pub struct GovernorInit {
    /// The global config layer: YAML or JSON text, or an object. Default: none, so the built-in safe default applies.
    #[napi(ts_type = "string | Record<string, unknown>")]
    pub global_config: Option<Value>,
    /// File name used in error messages about `globalConfig`. Default: `<global config>`.
    pub global_config_source: Option<String>,
    /// Decision log entries kept per job. Default: 1000.
    pub log_limit: Option<u32>,
    /// A models.dev `api.json` text whose prices override the shipped table. Default: none.
    pub pricing: Option<String>,
}

/// A job to govern.
#[napi(object)]
pub struct JobInit {
    pub job_id: String,
    /// Absolute path of the job's git worktree.
    pub worktree: String,
    /// The plan registered with `registerPlan` that this job belongs to. Default: none.
    pub plan_id: Option<String>,
    /// A job override: YAML or JSON text or an object with `trust`, `permissions` and `budget`. Default: none.
    #[napi(ts_type = "string | Record<string, unknown>")]
    pub policy: Option<Value>,
    /// A trust level that overrides the job's own. Default: none.
    pub trust: Option<String>,
    /// The agent's home directory, for `~` and `$HOME` in commands. Default: this process's `HOME`.
    pub home: Option<String>,
}

/// Extra budget granted to a paused job or plan.
#[napi(object)]
pub struct BudgetExtension {
    /// Extra USD. Default: none.
    pub usd: Option<f64>,
    /// Extra tokens. Default: none.
    pub tokens: Option<f64>,
}

/// A hypothetical request for `explain`: set exactly one field.
#[napi(object)]
pub struct ExplainInit {
    pub command: Option<String>,
    pub edit: Option<String>,
    pub read: Option<String>,
    pub fetch: Option<String>,
    pub mcp: Option<String>,
}

/// Options for `explainPolicy`: a policy, a worktree and one request.
#[napi(object)]
pub struct ExplainPolicyInit {
    /// Policy or plan file text (YAML or JSON) or an object. Default: the built-in safe default.
    #[napi(ts_type = "string | Record<string, unknown>")]
    pub policy: Option<Value>,
    /// File name used in error messages about `policy`; a name ending in `.json` selects the JSON parser. Default: `<policy>`.
    pub policy_source: Option<String>,
    pub worktree: String,
    pub home: Option<String>,
    pub command: Option<String>,
    pub edit: Option<String>,
    pub read: Option<String>,
    pub fetch: Option<String>,
    pub mcp: Option<String>,
}

/// Governs jobs and plans: decides permission requests and accounts usage.
#[napi]
pub struct Governor {
    /// Shared with the job handles of `jobHandle`, which hold it weakly.
    inner: Rc<RefCell<core::Governor>>,
    /// The handles given out so far, by job id.
    handles: RefCell<HashMap<String, f64>>,
}

/// A job interned by `jobHandle`: the governor that owns it and its id.
struct JobHandle {
    governor: Weak<RefCell<core::Governor>>,
    job_id: String,
}

/// A job handle is its thread's tag times 2^32 plus its index in that
/// thread's table. Governors live on one thread, and a handle passed to
/// another (a worker) must be refused there, not name that thread's job of
/// the same index. Tags stay below 2^21, so handles are exact in a double.
const HANDLES_PER_THREAD: u64 = 1 << 32;
const MAX_THREAD_TAGS: u64 = 1 << 21;

static NEXT_THREAD_TAG: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Job handles of every governor on this thread, indexed by handle.
    // NOTE: entries are never removed, so each distinct job interned costs
    // its id's length plus two words for the life of the thread.
    static JOB_HANDLES: RefCell<Vec<JobHandle>> = const { RefCell::new(Vec::new()) };
    /// This thread's tag in its job handles; the main thread's is 0.
    static THREAD_TAG: u64 = NEXT_THREAD_TAG.fetch_add(1, Ordering::Relaxed);
}

impl Governor {
    fn wrap(inner: core::Governor) -> Governor {
        Governor { inner: Rc::new(RefCell::new(inner)), handles: RefCell::new(HashMap::new()) }
    }

    /// Borrows the core governor for one call (see `borrow_core`).
    fn core(&self) -> Result<RefMut<'_, core::Governor>> {
        borrow_core(&self.inner)
    }
}

#[napi]
impl Governor {
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Option<GovernorInit>) -> Result<Governor> {
        let options = governor_options(options)?;
        Ok(Governor::wrap(core::Governor::new(options)))
    }

    /// Creates a governor whose cost and budget state is restored from `snapshot()` output.
    #[napi(factory, catch_unwind)]
    pub fn restore(snapshot: String, options: Option<GovernorInit>) -> Result<Governor> {
        let value: Value = serde_json::from_str(&snapshot)
            .map_err(|error| invalid_arg(format!("invalid snapshot: not valid JSON: {error}")))?;
        let options = governor_options(options)?;
        let inner = core::Governor::restore(&value, options).map_err(governor_error)?;
        Ok(Governor::wrap(inner))
    }

    /// Registers or replaces a plan from its plan file (YAML or JSON text, or an object).
    #[napi(catch_unwind)]
    pub fn register_plan(
        &self,
        plan_id: String,
        #[napi(ts_arg_type = "string | Record<string, unknown>")] config: Value,
        source: Option<String>,
    ) -> Result<()> {
        let source = source.unwrap_or_else(|| format!("<plan {plan_id}>"));
        let config = config_from(&config, &source)?;
        self.core()?.register_plan(&plan_id, config).map_err(governor_error)
    }

    /// Registers or replaces a job and compiles its policy.
    #[napi(catch_unwind)]
    pub fn register_job(&self, job: JobInit) -> Result<()> {
        let source = format!("<job {} override>", job.job_id);
        let policy = match &job.policy {
            Some(Value::String(text)) => Some(policy::parse_job(text, &source).map_err(config_error)?),
            Some(value) => Some(policy::parse_job_value(value, &source).map_err(config_error)?),
            None => None,
        };
        let registration = JobRegistration {
            job_id: job.job_id,
            plan_id: job.plan_id,
            worktree: PathBuf::from(job.worktree),
            home: job.home.map(PathBuf::from).or_else(home_dir),
            policy,
            trust: job.trust,
        };
        self.core()?.register_job(registration).map_err(governor_error)
    }

    /// Handles one event of a job's stream (an object, JSON text, or an SSE
    /// `data:` line) and returns what the caller must act on.
    #[napi(catch_unwind, ts_return_type = "EventOutcome")]
    pub fn handle_event(
        &self,
        job_id: String,
        #[napi(ts_arg_type = "string | Record<string, unknown>")] event: Value,
    ) -> Result<Value> {
        let outcome = match &event {
            Value::String(text) => {
                let parsed = crate::events::parse_event_text(text).map_err(|error| invalid_arg(error.to_string()))?;
                self.core()?.handle_parsed(&job_id, parsed)
            }
            other => self.core()?.handle_event(&job_id, other),
        };
        to_value(&outcome.map_err(governor_error)?)
    }

    /// Handles one event given as JSON text or an SSE `data:` line, like
    /// `handleEvent`, and returns the outcome as JSON text, or null when the
    /// event needs no action (no permission decision and no budget action).
    /// The fastest way in: `JSON.parse` builds the result faster than the
    /// binding builds an object.
    #[napi(catch_unwind, ts_return_type = "string | null")]
    pub fn handle_event_text(&self, job_id: String, line: String) -> Result<Option<String>> {
        let parsed = crate::events::parse_event_text(&line).map_err(|error| invalid_arg(error.to_string()))?;
        let outcome = self.core()?.handle_parsed(&job_id, parsed).map_err(governor_error)?;
        if outcome.permission.is_none() && outcome.budget_actions.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(&outcome)
            .map(Some)
            .map_err(|error| generic(format!("converting the result failed: {error}")))
    }

    /// Returns a small number that names a registered job in `handleLine`,
    /// the fastest way to hand over events. The same job id always gets the
    /// same handle from one governor, also after the job is registered
    /// again. A handle stops working when its governor is garbage-collected.
    #[napi(catch_unwind)]
    pub fn job_handle(&self, job_id: String) -> Result<f64> {
        if !self.core()?.is_registered(&job_id) {
            let error = GovernorError::UnknownJob { job_id };
            return Err(governor_error(error));
        }
        if let Some(handle) = self.handles.borrow().get(&job_id) {
            return Ok(*handle);
        }

        let tag = THREAD_TAG.with(|tag| *tag);
        let index = JOB_HANDLES.with_borrow(|handles| handles.len() as u64);
        if tag >= MAX_THREAD_TAGS || index >= HANDLES_PER_THREAD {
            return Err(generic("too many job handles or threads using them in this process".to_string()));
        }
        JOB_HANDLES.with_borrow_mut(|handles| {
            handles.push(JobHandle { governor: Rc::downgrade(&self.inner), job_id: job_id.clone() });
        });
        // Exact: below 2^53.
        let handle = (tag * HANDLES_PER_THREAD + index) as f64;
        self.handles.borrow_mut().insert(job_id, handle);
        Ok(handle)
    }

    /// Raises a paused job's cap by the given amounts and returns the resulting actions.
    #[napi(catch_unwind, ts_return_type = "BudgetAction[]")]
    pub fn extend_job(&self, job_id: String, extension: BudgetExtension) -> Result<Value> {
        let extension = extension_from(extension)?;
        to_value(&self.core()?.extend_job(&job_id, extension).map_err(governor_error)?)
    }

    /// Raises a paused plan's cap by the given amounts and returns the resulting actions.
    #[napi(catch_unwind, ts_return_type = "BudgetAction[]")]
    pub fn extend_plan(&self, plan_id: String, extension: BudgetExtension) -> Result<Value> {
        let extension = extension_from(extension)?;
        to_value(&self.core()?.extend_plan(&plan_id, extension).map_err(governor_error)?)
    }

    /// Explains how the job's policy decides a hypothetical request. Nothing is logged.
    #[napi(catch_unwind, ts_return_type = "Explanation")]
    pub fn explain(&self, job_id: String, request: ExplainInit) -> Result<Value> {
        let request = ExplainRequest {
            command: request.command,
            edit: request.edit,
            read: request.read,
            fetch: request.fetch,
            mcp: request.mcp,
        };
        to_value(&self.core()?.explain(&job_id, &request).map_err(governor_error)?)
    }

    /// Summarises a job's decisions for a status view.
    #[napi(catch_unwind, ts_return_type = "Status")]
    pub fn job_status(&self, job_id: String) -> Result<Value> {
        to_value(&self.core()?.job_status(&job_id).map_err(governor_error)?)
    }

    /// Summarises the decisions of every job of a plan.
    #[napi(catch_unwind, ts_return_type = "Status")]
    pub fn plan_status(&self, plan_id: String) -> Result<Value> {
        to_value(&self.core()?.plan_status(&plan_id).map_err(governor_error)?)
    }

    /// Returns a job's newest decision log entries and how many were dropped.
    #[napi(catch_unwind, ts_return_type = "{ entries: DecisionRecord[]; dropped: number }")]
    pub fn decision_log(&self, job_id: String) -> Result<Value> {
        let (entries, dropped) = self.core()?.decision_log(&job_id).map_err(governor_error)?;
        to_value(&serde_json::json!({ "entries": entries, "dropped": dropped }))
    }

    /// Returns spend per job, plan and session.
    #[napi(catch_unwind, ts_return_type = "CostReport")]
    pub fn report(&self) -> Result<Value> {
        to_value(&self.core()?.report())
    }

    /// Projects the time until the job's cap and its plan's cap at the job's recent spend rate.
    #[napi(catch_unwind, ts_return_type = "Forecast")]
    pub fn forecast(&self, job_id: String) -> Result<Value> {
        to_value(&self.core()?.forecast(&job_id).map_err(governor_error)?)
    }

    /// Serialises the cost and budget state as JSON text for the caller's job store.
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> Result<String> {
        serde_json::to_string(&self.core()?.snapshot()).map_err(|error| generic(format!("snapshot failed: {error}")))
    }
}

/// Handles one event of the job that `jobHandle` (from
/// `Governor.jobHandle`) stands for: an SSE `data:` line or bare JSON text,
/// as bytes (UTF-8) or a string. Returns null when the event needs no
/// action, else the outcome in brief as JSON text: the decision, the ids to
/// reply with, its category, target, rule and reason, and any
/// budget actions. The fastest way in: a handle and bytes cost less to pass
/// than a job id and a string, and the brief outcome less to build and
/// parse than the full one. The decision log is the same either way.
#[napi(catch_unwind, ts_return_type = "string | null")]
pub fn handle_line(
    #[napi(ts_arg_type = "number")] job_handle: Either<f64, Unknown>,
    #[napi(ts_arg_type = "Uint8Array | string")] line: Unknown,
) -> Result<Option<String>> {
    // Any other type is caught here, so that the error can name it and
    // the fix rather than list napi's types.
    let job_handle = match job_handle {
        Either::A(number) => number,
        Either::B(other) => {
            let kind = type_name(&other);
            let help = "pass the number that jobHandle(jobId) returned";
            return Err(invalid_arg(format!("invalid job handle: got {kind} (help: {help})")));
        }
    };
    let line = line_of(&line)?;
    // Taken as a float, because napi's u32 conversion truncates: 1.5 or -1
    // would name another job.
    let largest = (MAX_THREAD_TAGS * HANDLES_PER_THREAD - 1) as f64;
    let whole = job_handle.fract() == 0.0 && (0.0..=largest).contains(&job_handle);
    if !whole {
        let shown = match job_handle {
            number if number.is_nan() => "NaN".to_string(),
            number if number.is_infinite() => if number > 0.0 { "Infinity" } else { "-Infinity" }.to_string(),
            number => number.to_string(),
        };
        return Err(invalid_arg(format!("invalid job handle {shown}: expected a whole number that jobHandle(jobId) returned")));
    }
    let job_handle = job_handle as u64;

    let text = match &line {
        Either::A(bytes) => std::str::from_utf8(bytes).map_err(|error| invalid_arg(format!("invalid event: not UTF-8 text: {error}")))?,
        Either::B(text) => text.as_str(),
    };
    // Parsed before the job is looked up, as `handleEventText` does, so a
    // malformed line reads the same through both.
    let parsed = crate::events::parse_event_text(text).map_err(|error| invalid_arg(error.to_string()))?;

    if job_handle / HANDLES_PER_THREAD != THREAD_TAG.with(|tag| *tag) {
        let help = "a handle works only on the thread whose jobHandle(jobId) made it";
        return Err(invalid_arg(format!("job handle {job_handle} belongs to another thread (help: {help})")));
    }
    let index = job_handle % HANDLES_PER_THREAD;
    JOB_HANDLES.with_borrow(|handles| {
        let found = usize::try_from(index).ok().and_then(|index| handles.get(index)).and_then(|handle| Some((handle.governor.upgrade()?, handle)));
        let Some((governor, handle)) = found else {
            return Err(invalid_arg(format!("unknown job handle {job_handle} (help: get one from jobHandle(jobId) of a live governor)")));
        };
        let mut core = borrow_core(&governor)?;
        let outcome = core.handle_parsed_brief(&handle.job_id, parsed).map_err(governor_error)?;
        if !outcome.needs_action() {
            return Ok(None);
        }
        serde_json::to_string(&outcome.brief())
            .map(Some)
            .map_err(|error| generic(format!("converting the result failed: {error}")))
    })
}

/// Validates a policy, plan or global config file and lists every problem found.
#[napi(catch_unwind, ts_return_type = "{ ok: boolean; diagnostics: Diagnostic[] }")]
pub fn check_config(text: String, source: Option<String>) -> Result<Value> {
    let source = source.unwrap_or_else(|| "<config>".to_string());
    let diagnostics: Vec<Diagnostic> = policy::check_config(&text, &source, None);
    to_value(&serde_json::json!({ "ok": diagnostics.is_empty(), "diagnostics": diagnostics }))
}

/// Explains how a standalone policy decides a hypothetical request.
#[napi(catch_unwind, ts_return_type = "Explanation")]
pub fn explain_policy(options: ExplainPolicyInit) -> Result<Value> {
    let config = match &options.policy {
        Some(value) => Some(config_from(value, options.policy_source.as_deref().unwrap_or("<policy>"))?),
        None => None,
    };
    let request = ExplainRequest {
        command: options.command,
        edit: options.edit,
        read: options.read,
        fetch: options.fetch,
        mcp: options.mcp,
    };
    let home = options.home.map(PathBuf::from).or_else(home_dir);
    let explanation = core::explain_policy(config.as_ref(), &PathBuf::from(options.worktree), home, &request)
        .map_err(governor_error)?;
    to_value(&explanation)
}

/// Borrows the core governor for one call. Calls never nest, because the
/// core calls no JavaScript, so the borrow fails only if that changes.
fn borrow_core(governor: &RefCell<core::Governor>) -> Result<RefMut<'_, core::Governor>> {
    governor.try_borrow_mut().map_err(|_| generic("the governor is busy: a call re-entered it".to_string()))
}

fn governor_options(options: Option<GovernorInit>) -> Result<GovernorOptions> {
    let Some(options) = options else {
        return Ok(GovernorOptions::default());
    };
    let source = options.global_config_source.unwrap_or_else(|| "<global config>".to_string());
    let global_config = match &options.global_config {
        Some(value) => Some(config_from(value, &source)?),
        None => None,
    };
    let pricing = core::pricing_table(global_config.as_ref(), options.pricing.as_deref()).map_err(governor_error)?;
    Ok(GovernorOptions { global_config, pricing, log_limit: options.log_limit.map(|limit| limit as usize) })
}

/// Reads a config from YAML or JSON text, or from an object passed from JavaScript.
fn config_from(value: &Value, source: &str) -> Result<ConfigFile> {
    let parsed = match value {
        Value::String(text) => policy::parse_config(text, source),
        other => policy::parse_config_value(other, source),
    };
    parsed.map_err(config_error)
}

fn config_error(diagnostics: Vec<Diagnostic>) -> Error {
    invalid_arg(GovernorError::InvalidConfig { diagnostics }.to_string())
}

fn extension_from(extension: BudgetExtension) -> Result<Extension> {
    Extension::new(extension.usd, extension.tokens).map_err(|error| invalid_arg(error.to_string()))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from)
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|error| generic(format!("converting the result failed: {error}")))
}

fn governor_error(error: GovernorError) -> Error {
    let message = match error.help() {
        Some(help) => format!("{error} (help: {help})"),
        None => error.to_string(),
    };
    match error {
        GovernorError::Cost(_) => generic(message),
        _ => invalid_arg(message),
    }
}

/// Returns the JavaScript type of a value with its article, for errors.
/// Reads `handleLine`'s line argument: the bytes of a Uint8Array (a Node.js
/// Buffer is one), borrowed, or the text of a string, copied. Anything else
/// is an error naming what came instead.
///
/// The bytes are read through Node-API directly: napi-rs's `&[u8]` argument
/// tracks each borrow in a global table, which cost more per call than
/// reading a short event (BENCHMARKS.md has the figures).
fn line_of<'a>(line: &Unknown<'a>) -> Result<Either<&'a [u8], String>> {
    let (env, value) = (line.value().env, line.raw());
    let mut is_typed_array = false;
    // SAFETY: `env` and `value` come from napi-rs for this call.
    check_status!(unsafe { sys::napi_is_typedarray(env, value, &mut is_typed_array) })?;
    if !is_typed_array {
        return match line.get_type()? {
            // SAFETY: the value was just found to be a string.
            ValueType::String => Ok(Either::B(unsafe { line.cast::<String>() }?)),
            _ => Err(invalid_line(type_name(line))),
        };
    }

    let (mut kind, mut length, mut data) = (0, 0usize, std::ptr::null_mut());
    let (arraybuffer, byte_offset) = (std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: as above; the last two outputs may be null, as Node-API allows.
    check_status!(unsafe { sys::napi_get_typedarray_info(env, value, &mut kind, &mut length, &mut data, arraybuffer, byte_offset) })?;
    if kind != sys::TypedarrayType::uint8_array {
        return Err(invalid_line(typed_array_name(kind)));
    }
    if length == 0 || data.is_null() {
        return Ok(Either::A(&[]));
    }
    // SAFETY: Node-API gives the start and byte length of the array's
    // memory. It stays in place and unchanged until this synchronous call
    // returns, because only JavaScript could move, detach or resize it, and
    // none runs before then. A SharedArrayBuffer written by a worker at the
    // same time is the exception, as it is for napi-rs's own `&[u8]`.
    Ok(Either::A(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), length) }))
}

fn invalid_line(kind: &str) -> Error {
    let help = "pass the SSE line as a Uint8Array of UTF-8 bytes or as a string";
    invalid_arg(format!("invalid event line: got {kind} (help: {help})"))
}

fn typed_array_name(kind: sys::napi_typedarray_type) -> &'static str {
    use sys::TypedarrayType as Kind;
    match kind {
        Kind::int8_array => "an Int8Array",
        Kind::uint8_clamped_array => "a Uint8ClampedArray",
        Kind::int16_array => "an Int16Array",
        Kind::uint16_array => "a Uint16Array",
        Kind::int32_array => "an Int32Array",
        Kind::uint32_array => "a Uint32Array",
        Kind::float32_array => "a Float32Array",
        Kind::float64_array => "a Float64Array",
        Kind::bigint64_array => "a BigInt64Array",
        Kind::biguint64_array => "a BigUint64Array",
        _ => "a typed array other than Uint8Array",
    }
}

fn type_name(value: &Unknown) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::BigInt) => "a bigint",
        Ok(ValueType::Object | ValueType::External) => "an object",
        Ok(ValueType::Unknown) | Err(_) => "a value of unknown type",
    }
}

fn invalid_arg(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

fn generic(message: String) -> Error {
    Error::new(Status::GenericFailure, message)
}
