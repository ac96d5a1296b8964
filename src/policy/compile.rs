//! Merges the policy layers and compiles their rules, once per job.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::decision::{Category, Decision};
use crate::diagnostic::Diagnostic;

use super::keys::nearest;
use super::matcher::{Matcher, PatternKind};
use super::model::{ConfigFile, JobSection, LayerName, Location, PolicyLayer, SectionRef};
use super::parse::trust_help;
use super::presets::{builtin_trust_level, safe_default};

/// A merged, compiled policy for one job. Immutable; `evaluate` reads it.
/// The compiled categories do not depend on the worktree, so jobs whose
/// layers are the same share them (a 200-rule policy takes about 1.5 MiB).
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    pub(crate) worktree: PathBuf,
    /// One entry per category, in `Category::ALL` order.
    pub(crate) categories: Arc<Vec<CompiledCategory>>,
}

/// The layer (and trust level) a setting or rule came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) layer: LayerName,
    /// The trust level through which the layer set it, if any.
    pub(crate) trust: Option<String>,
}

impl Origin {
    /// Returns the suffix of a verdict's `rule`: `(plan)` or
    /// `(job, trust "restricted")`.
    fn tag(&self) -> String {
        match &self.trust {
            Some(trust) => format!("({}, trust \"{trust}\")", self.layer),
            None => format!("({})", self.layer),
        }
    }

    /// Names the origin in a sentence: `the plan policy`. Written straight
    /// into the reason it is part of, with no string of its own.
    pub(crate) fn describe(&self) -> impl fmt::Display + '_ {
        Described(self)
    }
}

struct Described<'a>(&'a Origin);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.layer.describe())?;
        match &self.0.trust {
            Some(trust) => write!(f, " (trust level \"{trust}\")"),
            None => Ok(()),
        }
    }
}

/// A scope default and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) decision: Decision,
    pub(crate) origin: Origin,
    /// `file_edit.outside_worktree`, `network_access.default`, ...
    pub(crate) key: String,
    /// The verdict's `rule` text.
    pub(crate) name: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Defaults {
    Scoped { inside: Setting, outside: Setting },
    Single(Setting),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) pattern: String,
    pub(crate) decision: Decision,
    pub(crate) exception: bool,
    pub(crate) reason: Option<String>,
    pub(crate) origin: Origin,
    /// Position of the contributing layer part; higher wins ties.
    pub(crate) rank: usize,
    /// The verdict's `rule` text: `file_edit.rules[0] "**/.env" (plan)`.
    pub(crate) name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledCategory {
    pub(crate) category: Category,
    pub(crate) defaults: Defaults,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) matcher: Matcher,
}

/// One layer's permissions (or a trust level it names), lowest priority
/// first.
struct Part {
    origin: Origin,
    source: String,
    permissions: PolicyLayer,
}

impl CompiledPolicy {
    /// Merges the built-in default, `global`, `plan` and `jobs` (in
    /// increasing priority) and compiles every rule. `~/` in path patterns
    /// expands to `$HOME`.
    pub fn compile(
        global: Option<&ConfigFile>,
        plan: Option<&ConfigFile>,
        jobs: &[&JobSection],
        worktree: &Path,
    ) -> Result<CompiledPolicy, Vec<Diagnostic>> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        CompiledPolicy::compile_with_home(global, plan, jobs, worktree, home.as_deref())
    }

    /// Same as [`CompiledPolicy::compile`] with an explicit home directory
    /// for `~/` (`None`: a `~/` pattern is an error).
    pub fn compile_with_home(
        global: Option<&ConfigFile>,
        plan: Option<&ConfigFile>,
        jobs: &[&JobSection],
        worktree: &Path,
        home: Option<&Path>,
    ) -> Result<CompiledPolicy, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        if let Some(plan) = plan {
            check_global_only(plan, &mut diagnostics);
        }
        let parts = collect_parts(global, plan, jobs, &mut diagnostics);
        let categories: Vec<CompiledCategory> = Category::ALL
            .iter()
            .filter_map(|category| compile_category(*category, &parts, home, &mut diagnostics))
            .collect();
        if diagnostics.is_empty() {
            Ok(CompiledPolicy { worktree: worktree.to_path_buf(), categories: Arc::new(categories) })
        } else {
            Err(diagnostics)
        }
    }

    /// Returns the worktree that relative path patterns are matched against.
    pub fn worktree(&self) -> &Path {
        &self.worktree
    }

    /// Returns the same policy for another worktree, sharing the compiled rules.
    pub fn with_worktree(&self, worktree: &Path) -> CompiledPolicy {
        CompiledPolicy { worktree: worktree.to_path_buf(), categories: Arc::clone(&self.categories) }
    }

    /// Tells whether both policies use the same compiled rules, not copies.
    pub fn shares_rules_with(&self, other: &CompiledPolicy) -> bool {
        Arc::ptr_eq(&self.categories, &other.categories)
    }
}

/// Reports sections of a plan config that only the global config may set.
fn check_global_only(plan: &ConfigFile, diagnostics: &mut Vec<Diagnostic>) {
    let sections = [("trust_levels", !plan.trust_levels.is_empty()), ("pricing", plan.pricing.is_some())];
    for (key, present) in sections {
        if present {
            diagnostics.push(Diagnostic {
                source: plan.source.clone(),
                line: None,
                column: None,
                path: key.to_string(),
                message: format!("\"{key}\" is read only from the global config"),
                help: Some("move this section to the global config".to_string()),
            });
        }
    }
}

fn collect_parts(
    global: Option<&ConfigFile>,
    plan: Option<&ConfigFile>,
    jobs: &[&JobSection],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Part> {
    let default_origin = Origin { layer: LayerName::Default, trust: None };
    let mut parts = vec![Part { origin: default_origin, source: "<built-in>".to_string(), permissions: safe_default() }];
    let mut push_layer = |layer: LayerName, trust: Option<TrustSite<'_>>, source: &str, permissions: &PolicyLayer| {
        if let Some(site) = trust {
            parts.extend(trust_parts(layer, &site, global, diagnostics));
        }
        let origin = Origin { layer, trust: None };
        parts.push(Part { origin, source: source.to_string(), permissions: permissions.clone() });
    };
    if let Some(config) = global {
        push_layer(LayerName::Global, TrustSite::of_config(config), &config.source, &config.permissions);
    }
    if let Some(config) = plan {
        push_layer(LayerName::Plan, TrustSite::of_config(config), &config.source, &config.permissions);
    }
    for job in jobs {
        push_layer(LayerName::Job, TrustSite::of_job(job), &job.source, &job.permissions);
    }
    parts
}

/// A `trust:` key and where it was written.
struct TrustSite<'a> {
    name: &'a str,
    source: &'a str,
    path: String,
    location: Option<Location>,
}

impl<'a> TrustSite<'a> {
    fn of_config(config: &'a ConfigFile) -> Option<TrustSite<'a>> {
        let name = config.trust.as_deref()?;
        Some(TrustSite { name, source: &config.source, path: "trust".to_string(), location: config.trust_location })
    }

    fn of_job(job: &'a JobSection) -> Option<TrustSite<'a>> {
        let name = job.trust.as_deref()?;
        let path = if job.path.is_empty() { "trust".to_string() } else { format!("{}.trust", job.path) };
        Some(TrustSite { name, source: &job.source, path, location: job.trust_location })
    }
}

/// Expands `trust: name` into the parts it puts under the layer's own
/// permissions: a built-in preset, or a user preset over its base.
fn trust_parts(layer: LayerName, site: &TrustSite<'_>, global: Option<&ConfigFile>, diagnostics: &mut Vec<Diagnostic>) -> Vec<Part> {
    let origin = Origin { layer, trust: Some(site.name.to_string()) };
    let part = |permissions: PolicyLayer| Part { origin: origin.clone(), source: site.source.to_string(), permissions };
    if let Some(preset) = builtin_trust_level(site.name) {
        return vec![part(preset)];
    }
    let user_levels = global.map(|config| &config.trust_levels);
    if let Some(level) = user_levels.and_then(|levels| levels.get(site.name)) {
        let base = level.trust.as_deref().and_then(builtin_trust_level);
        return base.into_iter().chain([level.permissions.clone()]).map(part).collect();
    }
    let user_names: Vec<&str> = user_levels.map(|levels| levels.keys().map(String::as_str).collect()).unwrap_or_default();
    let mut help = trust_help(&user_names);
    let candidates = super::presets::BUILTIN_TRUST_LEVELS.iter().chain(user_names.iter()).map(|name| name.to_string());
    if let Some(near) = nearest(site.name, candidates) {
        help = format!("did you mean \"{near}\"? {help}");
    }
    diagnostics.push(Diagnostic {
        source: site.source.to_string(),
        line: site.location.map(|at| at.line),
        column: site.location.map(|at| at.column),
        path: site.path.clone(),
        message: format!("unknown trust level \"{}\"", site.name),
        help: Some(help),
    });
    Vec::new()
}

fn compile_category(category: Category, parts: &[Part], home: Option<&Path>, diagnostics: &mut Vec<Diagnostic>) -> Option<CompiledCategory> {
    let mut defaults = initial_defaults(category);
    let mut rules = Vec::new();
    let mut sources = Vec::new();
    for (rank, part) in parts.iter().enumerate() {
        let section = part.permissions.section(category);
        merge_defaults(&mut defaults, section, category, &part.origin);
        for rule in section.rules() {
            let label = match rule.index {
                Some(index) => format!("{}.rules[{index}] {:?}", category.as_str(), rule.pattern),
                None => format!("{}.rules {:?}", category.as_str(), rule.pattern),
            };
            rules.push(CompiledRule {
                pattern: rule.pattern.clone(),
                decision: rule.decision,
                exception: rule.exception,
                reason: rule.reason.clone(),
                origin: part.origin.clone(),
                rank,
                name: format!("{label} {}", part.origin.tag()),
            });
            sources.push(&part.source);
        }
    }
    let patterns: Vec<(&str, usize)> = rules.iter().enumerate().map(|(id, rule)| (rule.pattern.as_str(), id)).collect();
    match Matcher::build(PatternKind::of(category), &patterns, home) {
        Ok(matcher) => Some(CompiledCategory { category, defaults, rules, matcher }),
        Err(errors) => {
            for (id, error) in errors {
                diagnostics.push(Diagnostic {
                    source: sources.get(id).map_or_else(|| "<policy>".to_string(), |source| source.to_string()),
                    line: None,
                    column: None,
                    path: format!("permissions.{}.rules", category.as_str()),
                    message: error.message,
                    help: error.help,
                });
            }
            None
        }
    }
}

/// Starts from the built-in default; the first part (the default layer)
/// sets the same values again.
fn initial_defaults(category: Category) -> Defaults {
    let origin = Origin { layer: LayerName::Default, trust: None };
    let base = safe_default();
    match base.section(category) {
        SectionRef::Scoped(section) => Defaults::Scoped {
            inside: setting(category, "inside_worktree", section.inside_worktree.unwrap_or(Decision::AskUser), &origin),
            outside: setting(category, "outside_worktree", section.outside_worktree.unwrap_or(Decision::AskUser), &origin),
        },
        SectionRef::Default(section) => {
            Defaults::Single(setting(category, "default", section.default.unwrap_or(Decision::AskUser), &origin))
        }
    }
}

fn merge_defaults(defaults: &mut Defaults, section: SectionRef<'_>, category: Category, origin: &Origin) {
    match (defaults, section) {
        (Defaults::Scoped { inside, outside }, SectionRef::Scoped(section)) => {
            if let Some(decision) = section.inside_worktree {
                *inside = setting(category, "inside_worktree", decision, origin);
            }
            if let Some(decision) = section.outside_worktree {
                *outside = setting(category, "outside_worktree", decision, origin);
            }
        }
        (Defaults::Single(single), SectionRef::Default(section)) => {
            if let Some(decision) = section.default {
                *single = setting(category, "default", decision, origin);
            }
        }
        // A category is always scoped or always not, so the shapes agree.
        (Defaults::Scoped { .. }, SectionRef::Default(_)) | (Defaults::Single(_), SectionRef::Scoped(_)) => {}
    }
}

fn setting(category: Category, key: &str, decision: Decision, origin: &Origin) -> Setting {
    let key = format!("{}.{key}", category.as_str());
    let name = format!("{key} {}", origin.tag());
    Setting { decision, origin: origin.clone(), key, name }
}

/// Parses `text` and runs the checks that need the merged policy: trust
/// level names, in `jobs:` too, and `~/` patterns. With `global`, `text` is
/// checked as a plan config under it; without, as the global config. The
/// worktree plays no part in these checks.
pub fn check_config(text: &str, source: &str, global: Option<&ConfigFile>) -> Vec<Diagnostic> {
    let config = match super::parse::parse_config(text, source) {
        Ok(config) => config,
        Err(diagnostics) => return diagnostics,
    };
    let jobs: Vec<&JobSection> = config.jobs.values().collect();
    let root = Path::new("/");
    let compiled = match global {
        Some(global) => CompiledPolicy::compile(Some(global), Some(&config), &jobs, root),
        None => CompiledPolicy::compile(Some(&config), None, &jobs, root),
    };
    compiled.err().unwrap_or_default()
}
