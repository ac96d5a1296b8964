//! Runs the shared decision table in `fixtures/policy-cases.json` through the
//! whole core: shell analysis, path resolution, classification and policy.
//! vitest runs the same table through the Node binding.

use mc_governance::governor::{explain_policy, ExplainRequest};
use mc_governance::policy::parse_config;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A temporary folder laid out as the table's `layout` says, removed on drop.
struct Layout {
    root: PathBuf,
    worktree: PathBuf,
    home: PathBuf,
}

impl Layout {
    fn create(layout: &Value) -> Layout {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
        let root = std::env::temp_dir().join(format!("mcg-cases-{}-{nanos}", std::process::id()));
        let worktree = root.join(layout["worktree"].as_str().unwrap());
        let home = root.join(layout["home"].as_str().unwrap());
        fs::create_dir_all(&worktree).unwrap();
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(root.join(layout["outside"].as_str().unwrap())).unwrap();
        for dir in layout["dirs"].as_array().unwrap() {
            fs::create_dir_all(worktree.join(dir.as_str().unwrap())).unwrap();
        }
        for (link, target) in layout["symlinks"].as_object().unwrap() {
            std::os::unix::fs::symlink(target.as_str().unwrap(), worktree.join(link)).unwrap();
        }
        // Resolve the temp dir itself, which may be a symlink on some systems.
        let worktree = fs::canonicalize(&worktree).unwrap();
        Layout { root, worktree, home }
    }
}

impl Drop for Layout {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn request_of(case: &Value, worktree: &Path) -> ExplainRequest {
    let field = |key: &str| {
        case.get(key)
            .and_then(Value::as_str)
            .map(|text| text.replace("{worktree}", &worktree.to_string_lossy()))
    };
    ExplainRequest {
        command: field("command"),
        edit: field("edit"),
        read: field("read"),
        fetch: field("fetch"),
        mcp: field("mcp"),
    }
}

#[test]
fn shared_decision_table_matches() {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy-cases.json")).unwrap();
    let table: Value = serde_json::from_str(&text).unwrap();
    let layout = Layout::create(&table["layout"]);
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 80, "the table should keep at least 80 cases");

    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let policy_text = &table["policies"][case["policy"].as_str().unwrap()];
        let config = policy_text.as_str().map(|text| parse_config(text, name).unwrap());
        let request = request_of(case, &layout.worktree);

        let explanation = match explain_policy(config.as_ref(), &layout.worktree, Some(layout.home.clone()), &request) {
            Ok(explanation) => explanation,
            Err(error) => {
                failures.push(format!("{name}: error {error}"));
                continue;
            }
        };
        let expected = case["decision"].as_str().unwrap();
        if explanation.decision.as_str() != expected {
            failures.push(format!(
                "{name}: expected {expected}, got {} ({}: {})",
                explanation.decision.as_str(),
                explanation.rule,
                explanation.reason
            ));
        }
        if let Some(category) = case.get("category").and_then(Value::as_str) {
            if explanation.category.as_str() != category {
                failures.push(format!("{name}: expected category {category}, got {}", explanation.category.as_str()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
