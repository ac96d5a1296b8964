//! The permission policy: config loading and validation, trust levels,
//! layer merging, and evaluation of actions. The README specifies the
//! file format, rule matching and conflict rules.

mod compile;
mod evaluate;
mod keys;
mod load;
mod locate;
mod matcher;
mod model;
mod parse;
mod presets;
mod reader;
mod sections;

pub use compile::{check_config, CompiledPolicy};
pub use evaluate::Judgement;
pub use model::{
    ConfigFile, DefaultSection, JobSection, LayerName, Location, PolicyLayer, Rule, ScopedSection, TrustLevel, Verdict,
};
pub use parse::{parse_config, parse_config_value, parse_job, parse_job_value};
pub use presets::{builtin_trust_level, safe_default, BUILTIN_TRUST_LEVELS};
