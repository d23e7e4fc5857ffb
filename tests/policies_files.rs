//! The read-only IAM policies shipped under policies/ are valid identity
//! policies, and together they cover every operation xacct sends as a reader
//! (the live test `without_probe_writes_every_operation_is_a_read` checks the
//! operations against them).

use std::path::Path;

use xacct::policy::{ParseOptions, PolicyKind, parse_text};

fn actions(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("policy file");
    let policy = parse_text(file, &text, &ParseOptions::new(PolicyKind::Identity));
    let errors: Vec<String> = policy.errors().map(|d| d.message.clone()).collect();
    assert!(errors.is_empty(), "{file}: {errors:?}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut out = Vec::new();
    for s in v["Statement"].as_array().expect("statements") {
        assert_eq!(
            s["Effect"], "Allow",
            "{file}: read-only policies only allow"
        );
        match &s["Action"] {
            serde_json::Value::String(a) => out.push(a.clone()),
            serde_json::Value::Array(a) => {
                out.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)))
            }
            other => panic!("{file}: Action {other}"),
        }
    }
    out
}

#[test]
fn policy_files_are_valid_and_read_only() {
    for file in [
        "xacct-source-readonly.json",
        "xacct-destination-readonly.json",
    ] {
        for a in actions(file) {
            let verb = a.split(':').nth(1).unwrap_or("");
            assert!(
                ["Get", "List", "Describe", "Simulate"]
                    .iter()
                    .any(|p| verb.starts_with(p))
                    || a == "sts:AssumeRole",
                "{file}: {a} is not a read"
            );
        }
    }
}
