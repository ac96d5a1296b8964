//! Decides one action against a compiled policy.

use std::cmp::Reverse;
use std::fmt;

use crate::decision::{Action, Category, Decision, Scope};

use super::compile::{CompiledCategory, CompiledPolicy, CompiledRule, Defaults, Setting};
use super::model::{LayerName, Verdict};

impl CompiledPolicy {
    /// Decides `action`. Matching rules decide over the scope default:
    /// matching exception rules alone if there are any, otherwise all
    /// matching rules, and the strictest of those wins. An opaque action is
    /// raised to at least `ask-user`.
    pub fn evaluate(&self, action: &Action) -> Verdict {
        self.judge(action).verdict(action)
    }

    /// Decides `action` as [`CompiledPolicy::evaluate`] does, without
    /// writing the rule name and reason yet: a request of many actions
    /// needs them only for the one that decides it.
    pub fn judge(&self, action: &Action) -> Judgement<'_> {
        let source = match self.category(action.category) {
            Some(compiled) => {
                let ids = compiled.matcher.matching(action, &self.worktree);
                match deciding_rule(compiled, &ids) {
                    Some(rule) => Source::Rule(rule),
                    None => default_source(action, compiled),
                }
            }
            None => Source::Missing,
        };
        let decided = source.decision();
        let decision = match (&action.opaque, decided) {
            (Some(_), Decision::AutoApprove) => Decision::AskUser,
            _ => decided,
        };
        Judgement { decision, source }
    }

    fn category(&self, category: Category) -> Option<&CompiledCategory> {
        self.categories.iter().find(|compiled| compiled.category == category)
    }
}

/// The decision on one action and the setting that made it.
#[derive(Debug, Clone, Copy)]
pub struct Judgement<'p> {
    /// The decision, raised to `ask-user` for an opaque action.
    pub decision: Decision,
    source: Source<'p>,
}

/// The setting that decided an action.
#[derive(Debug, Clone, Copy)]
enum Source<'p> {
    Rule(&'p CompiledRule),
    /// A scope default, with the scope's words for the reason.
    Default(&'p Setting, &'static str),
    Missing,
}

impl Source<'_> {
    fn decision(&self) -> Decision {
        match self {
            Source::Rule(rule) => rule.decision,
            Source::Default(setting, _) => setting.decision,
            Source::Missing => Decision::AskUser,
        }
    }
}

impl Judgement<'_> {
    /// Writes out the verdict, with the rule name and the reason.
    pub fn verdict(&self, action: &Action) -> Verdict {
        let verdict = match self.source {
            Source::Rule(rule) => rule_verdict(action, rule),
            Source::Default(setting, scope) => default_verdict(action, setting, scope),
            Source::Missing => missing_category(action),
        };
        clamp_opaque(action, verdict)
    }
}

/// Picks the strictest matching exception rule, or, when no exception
/// matches, the strictest matching rule. Ties go to the higher layer, then
/// to the rule listed first.
fn deciding_rule<'a>(compiled: &'a CompiledCategory, ids: &[usize]) -> Option<&'a CompiledRule> {
    let matched = ids.iter().filter_map(|id| compiled.rules.get(*id).map(|rule| (*id, rule)));
    let strictest = |exception_only: bool| {
        matched
            .clone()
            .filter(|(_, rule)| rule.exception || !exception_only)
            .max_by_key(|(id, rule)| (rule.decision, rule.rank, Reverse(*id)))
            .map(|(_, rule)| rule)
    };
    strictest(true).or_else(|| strictest(false))
}

fn rule_verdict(action: &Action, rule: &CompiledRule) -> Verdict {
    let kind = if rule.exception { "exception rule" } else { "rule" };
    let mut reason = format!(
        "{} matches {} {kind} \"{}\" from {}",
        subject(action),
        rule.decision.as_str(),
        rule.pattern,
        rule.origin.describe()
    );
    if let Some(why) = &rule.reason {
        reason.push_str(": ");
        reason.push_str(why);
    }
    Verdict { decision: rule.decision, layer: rule.origin.layer, rule: rule.name.clone(), reason }
}

fn default_source<'p>(action: &Action, compiled: &'p CompiledCategory) -> Source<'p> {
    match &compiled.defaults {
        Defaults::Scoped { inside, outside } => match action.scope {
            Some(Scope::InsideWorktree) => Source::Default(inside, " inside the worktree"),
            // An unknown scope is treated as outside, the stricter side.
            Some(Scope::OutsideWorktree) | None => Source::Default(outside, " outside the worktree"),
        },
        Defaults::Single(single) => Source::Default(single, ""),
    }
}

fn default_verdict(action: &Action, setting: &Setting, scope: &str) -> Verdict {
    let reason = default_reason(action, setting, scope);
    Verdict { decision: setting.decision, layer: setting.origin.layer, rule: setting.name.clone(), reason }
}

fn default_reason(action: &Action, setting: &Setting, scope: &str) -> String {
    format!(
        "no rule matches {}{scope}, and {} is {} in {}",
        subject(action),
        setting.key,
        setting.decision.as_str(),
        setting.origin.describe()
    )
}

/// Only reachable if compilation skipped a category, which it reports as
/// an error instead; kept so that evaluation can never approve by accident.
fn missing_category(action: &Action) -> Verdict {
    Verdict {
        decision: Decision::AskUser,
        layer: LayerName::Default,
        rule: format!("{} (missing)", action.category.as_str()),
        reason: format!("{} has no compiled policy, so the user decides", subject(action)),
    }
}

fn clamp_opaque(action: &Action, mut verdict: Verdict) -> Verdict {
    if let (Some(why), Decision::AutoApprove) = (&action.opaque, verdict.decision) {
        verdict.decision = Decision::AskUser;
        verdict.reason.push_str(&format!("; raised to ask-user because the action cannot be analysed: {why}"));
    }
    verdict
}

/// Names the action at the start of a reason: `edit of /wt/.env`. Written
/// straight into the reason, with no string of its own.
fn subject(action: &Action) -> Subject<'_> {
    Subject(action)
}

struct Subject<'a>(&'a Action);

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = &self.0.target;
        match self.0.category {
            Category::FileEdit => write!(f, "edit of {target}"),
            Category::FileRead => write!(f, "read of {target}"),
            Category::ShellCommand => write!(f, "command \"{target}\""),
            Category::NetworkAccess => write!(f, "network access to {target}"),
            Category::InstallPackages => write!(f, "package install \"{target}\""),
            Category::McpTools => write!(f, "MCP tool \"{target}\""),
            Category::Other => write!(f, "permission \"{target}\""),
        }
    }
}
