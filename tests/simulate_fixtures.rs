//! Every case under fixtures/simulate/ is decided by the engine and compared
//! with the decision the AWS documentation gives (the case's `expect` block).

use std::collections::BTreeSet;
use std::path::Path;

use xacct::json;
use xacct::policy::Source;
use xacct::simulate::{output, parse_case_node};

#[test]
fn every_simulate_fixture_gets_its_documented_decision() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/simulate");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/simulate exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable fixture");
        let source = Source::new(file.display().to_string(), text.clone());
        let root = json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases = root
            .as_array()
            .unwrap_or_else(|| panic!("{}: not an array", file.display()));
        for node in cases {
            count += 1;
            let name = node
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("?")
                .to_string();
            assert!(names.insert(name.clone()), "duplicate case name {name}");
            assert!(
                node.get("source")
                    .and_then(|n| n.as_str())
                    .is_some_and(|s| !s.is_empty()),
                "{name}: every case names the AWS rule it comes from in `source`"
            );
            let expect = node.get("expect").map(|e| e.to_serde()).unwrap_or_default();
            let result = parse_case_node(node, &source);
            if expect.get("error").and_then(|e| e.as_bool()) == Some(true) {
                if result.is_ok() {
                    failures.push(format!("{name}: expected an input error, got a decision"));
                }
                continue;
            }
            let case = match result {
                Ok(c) => c,
                Err(p) => {
                    failures.push(format!("{name}: input error: {}", p.one_line()));
                    continue;
                }
            };
            let d = case.decide();
            let got = serde_json::to_value(output(&d)).expect("serializable");
            // the engine's prepared hints decide exactly as its general path
            if let Ok(mut general) = parse_case_node(node, &source) {
                general.without_hints();
                let g = general.decide();
                if format!("{g:?}") != format!("{d:?}") {
                    failures.push(format!(
                        "{name}: the hinted path decides {d:?}, the general path {g:?}"
                    ));
                }
            }
            if got["decision"] != expect["decision"] {
                failures.push(format!(
                    "{name}: decision {} (expected {}); blocked_by {}; unknown {}",
                    got["decision"], expect["decision"], got["blocked_by"], got["unknown_because"]
                ));
                continue;
            }
            if let Some(b) = expect.get("blocked_by")
                && got["blocked_by"] != *b
            {
                failures.push(format!(
                    "{name}: blocked_by {} (expected {b})",
                    got["blocked_by"]
                ));
            }
            if let Some(keys) = expect.get("unknown_keys").and_then(|k| k.as_array()) {
                let want: BTreeSet<String> = keys
                    .iter()
                    .filter_map(|k| k.as_str().map(|s| s.to_ascii_lowercase()))
                    .collect();
                let have: BTreeSet<String> = d
                    .unknown_because
                    .iter()
                    .map(|u| u.key.to_ascii_lowercase())
                    .collect();
                if want != have {
                    failures.push(format!("{name}: unknown keys {have:?} (expected {want:?})"));
                }
            }
        }
    }
    assert!(
        count >= 150,
        "only {count} simulate fixtures; the engine issue asks for at least 150"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
