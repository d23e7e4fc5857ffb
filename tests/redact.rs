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

/// `xacct snapshot --from` without `--redact` writes the snapshot back out:
/// policies given as JSON objects and as strings come back as the same
/// documents, and every check judges the copy as it judged the original.
#[test]
fn a_snapshot_written_back_out_keeps_its_documents_and_statuses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut failures = Vec::new();
    let mut objects = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let p = entry.expect("entry").path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let name = p.display().to_string();
        let bytes = std::fs::read(&p).expect("read");
        let s = load_bytes(&name, &bytes).expect("fixture loads");
        let text = serde_json::to_string_pretty(&s).expect("serializes");
        let back = match load_bytes("written", text.as_bytes()) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: written back, it does not load: {e:?}"));
                continue;
            }
        };
        let docs = |v: &serde_json::Value| -> Vec<serde_json::Value> {
            let mut out = Vec::new();
            collect_policies(v, &mut out);
            out
        };
        let original: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        let written: serde_json::Value = serde_json::from_str(&text).expect("json");
        // the same documents, whatever order the writer puts the maps in
        let sorted = |mut d: Vec<serde_json::Value>| {
            d.sort_by_key(|x| x.to_string());
            d
        };
        let (a, b) = (sorted(docs(&original)), sorted(docs(&written)));
        objects += a.iter().filter(|d| d.is_object()).count();
        if a != b {
            failures.push(format!("{name}: the policy documents changed"));
        }
        let before: Vec<_> = run_all(&s).into_iter().map(|f| (f.id, f.status)).collect();
        let after: Vec<_> = run_all(&back)
            .into_iter()
            .map(|f| (f.id, f.status))
            .collect();
        if before != after {
            failures.push(format!("{name}: {before:?} became {after:?}"));
        }
    }
    assert!(objects > 0, "no fixture gives a policy as a JSON object");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every value under a `policy`/`key_policy`-like member that is a policy
/// document (an object with `Statement`, or a string holding one).
fn collect_policies(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("Statement") {
                out.push(v.clone());
                return;
            }
            m.values().for_each(|x| collect_policies(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_policies(x, out)),
        serde_json::Value::String(s) if s.contains("Statement") => out.push(v.clone()),
        _ => {}
    }
}
