//! Every snapshot fixture under fixtures/ is run through all sixteen checks and
//! the report is compared with its `expect` block: verdict, failing set, statuses.

use std::collections::BTreeSet;
use std::path::Path;

use xacct::checks::{Verdict, run_all};
use xacct::snapshot::load_bytes;

#[test]
fn every_doctor_fixture_matches_its_expect_block() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut fail_fixtures = BTreeSet::new();
    let mut pass_fixtures = BTreeSet::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let bytes = std::fs::read(file).expect("readable");
        let snap = match load_bytes(&name, &bytes) {
            Ok(s) => s,
            Err(p) => {
                failures.push(format!("{name}: does not load: {}", p.one_line()));
                continue;
            }
        };
        let expect = snap
            .expect
            .clone()
            .unwrap_or_else(|| panic!("{name} has no expect block"));
        let findings = run_all(&snap);
        let verdict = Verdict::of(&findings);
        let mut problems = Vec::new();
        if expect["verdict"].as_str() != Some(verdict.as_str()) {
            problems.push(format!(
                "verdict {} (expected {})",
                verdict.as_str(),
                expect["verdict"]
            ));
        }
        let failing: BTreeSet<&str> = findings
            .iter()
            .filter(|f| f.status.as_str() == "fail")
            .map(|f| f.id)
            .collect();
        let want_failing: BTreeSet<&str> = expect["failing"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        if failing != want_failing {
            problems.push(format!("failing {failing:?} (expected {want_failing:?})"));
        }
        if let Some(checks) = expect["checks"].as_object() {
            for (id, want) in checks {
                let Some(f) = findings.iter().find(|f| f.id == id) else {
                    problems.push(format!("{id} missing"));
                    continue;
                };
                if Some(f.status.as_str()) != want.as_str() {
                    problems.push(format!(
                        "{id} {} (expected {}): {}",
                        f.status.as_str(),
                        want,
                        f.message
                    ));
                }
                match f.status.as_str() {
                    "fail" => {
                        fail_fixtures.insert(f.id);
                    }
                    "pass" if name.starts_with(&f.id.to_ascii_lowercase()) => {
                        pass_fixtures.insert(f.id);
                    }
                    _ => {}
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{name}:\n    {}", problems.join("\n    ")));
        }
    }
    assert!(files.len() >= 40, "only {} fixtures", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    for c in xacct::checks::CATALOG {
        assert!(
            fail_fixtures.contains(c.id),
            "no fixture makes {} fail",
            c.id
        );
    }
}

/// XA008, XA011 and XA015 name the census's example keys when it has some.
#[test]
fn census_findings_name_example_keys() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let with_examples = |file: &str, examples: serde_json::Value| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).expect("fixture")).expect("json");
        let census = &mut v["accounts"]["111111111111"]["buckets"]["alice-data"]["census"];
        assert!(census.is_object(), "{file} has a census");
        census["examples"] = examples;
        let snap = load_bytes(file, v.to_string().as_bytes()).expect("loads");
        run_all(&snap)
    };
    let message = |findings: &[xacct::checks::Finding], id: &str| {
        findings
            .iter()
            .find(|f| f.id == id)
            .map(|f| format!("{} {}", f.message, f.details.join(" ")))
            .unwrap_or_default()
    };
    let managed =
        "aws:kms arn:aws:kms:us-west-2:111111111111:key/3e6c1a9d-7b24-4f85-8c0e-d2a5b9f61c47";
    let f = with_examples(
        "xa008-fail-census-aws-managed-key.json",
        serde_json::json!({ managed: ["old/2019/a.csv", "old/2019/b.csv"] }),
    );
    assert!(
        message(&f, "XA008").contains("old/2019/a.csv, old/2019/b.csv"),
        "{}",
        message(&f, "XA008")
    );
    let f = with_examples(
        "xa011-fail-census-foreign-owned.json",
        serde_json::json!({ "foreign_owned": ["inbox/from-partner.csv"] }),
    );
    assert!(message(&f, "XA011").contains("e.g. inbox/from-partner.csv"));
    let f = with_examples(
        "unknown-census-glacier.json",
        serde_json::json!({ "GLACIER": ["archive/2017.tar"] }),
    );
    assert!(message(&f, "XA015").contains("e.g. archive/2017.tar"));
}
