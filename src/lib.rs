//! Governance for AI coding agents: a permission policy engine, a token and
//! USD ledger, and budgets. The core is plain Rust; `bindings` exposes it to
//! Node.js when the `node` feature is on.

pub mod budget;
pub mod classify;
pub mod cost;
pub mod decision;
pub mod diagnostic;
pub mod events;
pub mod governor;
pub mod hazards;
pub mod ledger;
pub mod log;
pub mod paths;
pub mod policy;
pub mod pricing;
pub mod shell;

#[cfg(feature = "node")]
mod bindings;
