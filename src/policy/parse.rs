//! Loads and validates config files: the top level, `jobs:`,
//! `trust_levels:`, and the `budget:` and `pricing:` sections that other
//! modules parse.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::budget::BudgetConfig;
use crate::diagnostic::{Diagnostic, FieldProblem};
use crate::pricing::PricingConfig;

use super::load::load;
use super::locate::{Segment, SourceMap};
use super::model::{ConfigFile, JobSection, Location, TrustLevel};
use super::presets::{builtin_trust_level, BUILTIN_TRUST_LEVELS};
use super::reader::{child, render_path, At, Reader};

const CONFIG_KEYS: [&str; 8] = ["$schema", "plan", "trust", "permissions", "budget", "jobs", "trust_levels", "pricing"];
const JOB_KEYS: [&str; 3] = ["trust", "permissions", "budget"];
const TRUST_LEVEL_KEYS: [&str; 3] = ["description", "trust", "permissions"];

/// Parses a global or plan config from YAML or JSON text. `source` names
/// the file in diagnostics; a name ending in `.json` selects the JSON
/// parser. Blank text and `{}` give an empty config.
pub fn parse_config(text: &str, source: &str) -> Result<ConfigFile, Vec<Diagnostic>> {
    let value = load(text, source)?;
    let mut reader = Reader::new(source, SourceMap::build(text));
    let config = reader.config(&value);
    reader.finish(config)
}

/// Parses a config passed as a JSON value, for example from JavaScript.
/// Diagnostics carry key paths but no lines.
pub fn parse_config_value(value: &Value, source: &str) -> Result<ConfigFile, Vec<Diagnostic>> {
    let mut reader = Reader::new(source, None);
    let config = reader.config(value);
    reader.finish(config)
}

/// Parses a job override (`trust`, `permissions`, `budget`) from YAML or
/// JSON text.
pub fn parse_job(text: &str, source: &str) -> Result<JobSection, Vec<Diagnostic>> {
    let value = load(text, source)?;
    let mut reader = Reader::new(source, SourceMap::build(text));
    let job = reader.job(&[], &value);
    reader.finish(job)
}

/// Parses a job override passed as a JSON value.
pub fn parse_job_value(value: &Value, source: &str) -> Result<JobSection, Vec<Diagnostic>> {
    let mut reader = Reader::new(source, None);
    let job = reader.job(&[], value);
    reader.finish(job)
}

impl Reader<'_> {
    fn config(&mut self, value: &Value) -> ConfigFile {
        let mut config = ConfigFile { source: self.source.to_string(), ..ConfigFile::default() };
        let Some(fields) = self.fields(&[], value, &CONFIG_KEYS) else {
            return config;
        };
        if let Some((raw, value)) = fields.get("plan") {
            config.plan = self.string(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("trust") {
            (config.trust, config.trust_location) = self.trust(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("permissions") {
            config.permissions = self.permissions(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("budget") {
            config.budget = self.budget(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("jobs") {
            config.jobs = self.jobs(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("trust_levels") {
            config.trust_levels = self.trust_levels(&child(&[], raw), value);
        }
        if let Some((raw, value)) = fields.get("pricing") {
            config.pricing = self.pricing(&child(&[], raw), value);
        }
        config
    }

    /// Reads a `trust:` name. Whether the name exists is checked when the
    /// layers are compiled, because a plan may name a global preset.
    fn trust(&mut self, path: &[Segment], value: &Value) -> (Option<String>, Option<Location>) {
        let name = self.string(path, value);
        if name.as_deref().is_some_and(|name| name.trim().is_empty()) {
            self.report(path, At::Value, "empty trust level name".to_string(), Some(trust_help(&[])));
            return (None, None);
        }
        (name, self.location(path, At::Value))
    }

    fn jobs(&mut self, path: &[Segment], value: &Value) -> BTreeMap<String, JobSection> {
        let mut jobs = BTreeMap::new();
        match value {
            Value::Null => {}
            Value::Object(entries) => {
                for (name, item) in entries {
                    let job = self.job(&child(path, name), item);
                    jobs.insert(name.clone(), job);
                }
            }
            other => self.type_error(path, "a mapping from job id to job settings", other),
        }
        jobs
    }

    fn job(&mut self, path: &[Segment], value: &Value) -> JobSection {
        let mut job = JobSection { source: self.source.to_string(), path: render_path(path), ..JobSection::default() };
        let Some(fields) = self.fields(path, value, &JOB_KEYS) else {
            return job;
        };
        if let Some((raw, value)) = fields.get("trust") {
            (job.trust, job.trust_location) = self.trust(&child(path, raw), value);
        }
        if let Some((raw, value)) = fields.get("permissions") {
            job.permissions = self.permissions(&child(path, raw), value);
        }
        if let Some((raw, value)) = fields.get("budget") {
            job.budget = self.budget(&child(path, raw), value);
        }
        job
    }

    fn trust_levels(&mut self, path: &[Segment], value: &Value) -> BTreeMap<String, TrustLevel> {
        let mut levels = BTreeMap::new();
        let entries = match value {
            Value::Null => return levels,
            Value::Object(entries) => entries,
            other => {
                self.type_error(path, "a mapping from trust level name to settings", other);
                return levels;
            }
        };
        for (name, item) in entries {
            let item_path = child(path, name);
            if builtin_trust_level(name).is_some() {
                let message = format!("trust level \"{name}\" has the name of a built-in trust level");
                let help = format!("choose another name; the built-in trust levels are {}", BUILTIN_TRUST_LEVELS.join(", "));
                self.report(&item_path, At::Key, message, Some(help));
                continue;
            }
            if let Some(level) = self.trust_level(&item_path, item) {
                levels.insert(name.clone(), level);
            }
        }
        levels
    }

    fn trust_level(&mut self, path: &[Segment], value: &Value) -> Option<TrustLevel> {
        let fields = self.fields(path, value, &TRUST_LEVEL_KEYS)?;
        let mut level = TrustLevel::default();
        if let Some((raw, value)) = fields.get("description") {
            level.description = self.string(&child(path, raw), value);
        }
        if let Some((raw, value)) = fields.get("trust") {
            let base_path = child(path, raw);
            level.trust = self.string(&base_path, value);
            if let Some(base) = level.trust.as_deref().filter(|base| builtin_trust_level(base).is_none()) {
                let message = format!("unknown built-in trust level \"{base}\"");
                let help = format!("a trust level can start from {}", BUILTIN_TRUST_LEVELS.join(", "));
                self.report(&base_path, At::Value, message, Some(help));
            }
        }
        if let Some((raw, value)) = fields.get("permissions") {
            level.permissions = self.permissions(&child(path, raw), value);
        }
        Some(level)
    }

    fn budget(&mut self, path: &[Segment], value: &Value) -> Option<BudgetConfig> {
        if value.is_null() {
            return None;
        }
        BudgetConfig::from_value(value).map_err(|problems| self.field_problems(path, problems)).ok()
    }

    fn pricing(&mut self, path: &[Segment], value: &Value) -> Option<PricingConfig> {
        if value.is_null() {
            return None;
        }
        PricingConfig::from_value(value).map_err(|problems| self.field_problems(path, problems)).ok()
    }

    /// Reports problems found by another module's section parser under the
    /// section's key path.
    fn field_problems(&mut self, path: &[Segment], problems: Vec<FieldProblem>) {
        for problem in problems {
            let mut full = path.to_vec();
            full.extend(problem.path.into_iter().map(field_segment));
            self.report(&full, At::Nearest, problem.message, problem.help);
        }
    }
}

/// Reads a `FieldProblem` path step: `3` or `[3]` is a list index.
fn field_segment(step: String) -> Segment {
    let digits = step.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).unwrap_or(&step);
    match digits.parse::<usize>() {
        Ok(index) => Segment::Index(index),
        Err(_) => Segment::Key(step),
    }
}

/// Lists the trust levels a `trust:` key may name.
pub(crate) fn trust_help(user_levels: &[&str]) -> String {
    let mut names: Vec<&str> = BUILTIN_TRUST_LEVELS.to_vec();
    names.extend_from_slice(user_levels);
    format!("valid trust levels are {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &[&str], message: &str) -> FieldProblem {
        FieldProblem { path: path.iter().map(|key| key.to_string()).collect(), message: message.to_string(), help: Some("fix it".to_string()) }
    }

    #[test]
    fn field_problems_land_under_their_section() {
        let text = "jobs:\n  fix:\n    budget:\n      usd: -1\n      warn: [50, 200]\n";
        let mut reader = Reader::new("plan.yaml", SourceMap::build(text));
        let section = [Segment::Key("jobs".into()), Segment::Key("fix".into()), Segment::Key("budget".into())];
        let problems = vec![
            problem(&["usd"], "invalid cap -1"),
            problem(&["warn", "[1]"], "invalid threshold 200"),
            problem(&["tokens"], "missing tokens"),
        ];
        reader.field_problems(&section, problems);
        let found: Vec<(String, Option<usize>, Option<usize>)> = match reader.finish(()) {
            Ok(()) => Vec::new(),
            Err(diagnostics) => diagnostics.into_iter().map(|d| (d.path, d.line, d.column)).collect(),
        };
        let expected = [
            ("jobs.fix.budget.tokens".to_string(), Some(3), Some(5)),
            ("jobs.fix.budget.usd".to_string(), Some(4), Some(7)),
            ("jobs.fix.budget.warn[1]".to_string(), Some(5), Some(18)),
        ];
        assert_eq!(found, expected);
    }
}
