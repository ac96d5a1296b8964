//! Node.js binding: converts types and maps errors, nothing more.

use napi_derive::napi;

/// Returns the version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
