//! Placeholder until this module is written.

pub mod usage;
