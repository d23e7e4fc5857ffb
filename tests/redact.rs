//! `--redact` keeps the verdict: every fixture, redacted, gives the same status
//! for every check, and no account id or resource name of the original remains.

use std::path::Path;

use xacct::checks::run_all;
use xacct::snapshot::{load_bytes, redact::redact};

#[test]
fn redacted_fixtures_keep_every_status_and_hide_the_names() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let p = entry.expect("entry").path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let s = load_bytes(&name, &std::fs::read(&p).expect("read")).expect("fixture loads");
        let r = match redact(&s) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let before: Vec<_> = run_all(&s).into_iter().map(|f| (f.id, f.status)).collect();
        let after: Vec<_> = run_all(&r).into_iter().map(|f| (f.id, f.status)).collect();
        if before != after {
            failures.push(format!("{name}: {before:?} became {after:?}"));
        }
        let text = serde_json::to_string(&r).expect("serializes");
        for id in s.accounts.keys() {
            if text.contains(id.as_str()) {
                failures.push(format!("{name}: account {id} survived"));
            }
        }
        for b in [&s.copy.source.bucket, &s.copy.destination.bucket] {
            if text.contains(b.as_str()) {
                failures.push(format!("{name}: bucket {b} survived"));
            }
        }
        checked += 1;
    }
    assert!(checked >= 40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
