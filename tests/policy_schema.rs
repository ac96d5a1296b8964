//! The JSON Schema for editors agrees with the loader and the built-in
//! default.

use std::collections::BTreeSet;

use mc_governance::decision::{Category, Decision};
use mc_governance::policy::{parse_config, safe_default, BUILTIN_TRUST_LEVELS};
use serde_json::Value;

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/policy.schema.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|object| object.keys().cloned().collect()).unwrap_or_default()
}

/// Returns the object form of a category: the second branch of its `oneOf`.
fn category_object(schema: &Value, category: Category) -> &Value {
    &schema["$defs"]["permissions"]["properties"][category.as_str()]["oneOf"][1]["properties"]
}

#[test]
fn schema_is_draft_2020_12() {
    assert_eq!(schema()["$schema"], "https://json-schema.org/draft/2020-12/schema");
}

#[test]
fn schema_categories_match_code() {
    let schema = schema();
    let expected: BTreeSet<String> = Category::ALL.iter().map(|category| category.as_str().to_string()).collect();
    assert_eq!(keys(&schema["$defs"]["permissions"]["properties"]), expected);
}

#[test]
fn schema_defaults_match_built_in_default() {
    let schema = schema();
    let default = safe_default();
    let scoped = [
        (Category::FileEdit, &default.file_edit),
        (Category::FileRead, &default.file_read),
        (Category::ShellCommand, &default.shell_command),
    ];
    for (category, section) in scoped {
        let object = category_object(&schema, category);
        let expected: BTreeSet<String> = ["inside_worktree", "outside_worktree", "rules"].map(String::from).into();
        assert_eq!(keys(object), expected, "{category:?}");
        assert_eq!(object["inside_worktree"]["default"], section.inside_worktree.map(Decision::as_str).unwrap_or(""));
        assert_eq!(object["outside_worktree"]["default"], section.outside_worktree.map(Decision::as_str).unwrap_or(""));
    }
    let single = [
        (Category::NetworkAccess, &default.network_access),
        (Category::InstallPackages, &default.install_packages),
        (Category::McpTools, &default.mcp_tools),
        (Category::Other, &default.other),
    ];
    for (category, section) in single {
        let object = category_object(&schema, category);
        assert_eq!(keys(object), ["default", "rules"].map(String::from).into(), "{category:?}");
        assert_eq!(object["default"]["default"], section.default.map(Decision::as_str).unwrap_or(""), "{category:?}");
    }
}

#[test]
fn schema_decisions_and_trust_levels_match_code() {
    let schema = schema();
    let decisions: Vec<&str> = Decision::ALL.iter().map(|decision| decision.as_str()).collect();
    assert_eq!(schema["$defs"]["decision"]["enum"], serde_json::json!(decisions));
    assert_eq!(schema["$defs"]["trustLevel"]["properties"]["trust"]["enum"], serde_json::json!(BUILTIN_TRUST_LEVELS));
}

#[test]
fn schema_top_level_keys_are_accepted() {
    for key in keys(&schema()["properties"]) {
        let text = format!("{key:?}: null\n");
        assert!(parse_config(&text, "schema.yaml").is_ok(), "{key} should be accepted");
    }
    assert!(parse_config("unlisted: null\n", "schema.yaml").is_err());
}
