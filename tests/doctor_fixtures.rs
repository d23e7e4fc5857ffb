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
