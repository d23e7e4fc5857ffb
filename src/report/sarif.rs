//! `--format sarif`: SARIF 2.1.0 for code scanning in CI. One rule per check
//! (all sixteen, with the check's page as help), one result per check that is
//! `fail` (level error), `unknown` or `warn` (level warning). Results point into
//! the snapshot file: the exact span of the evidence when there is one — also
//! inside a policy held as a JSON string, through the string's escapes — else
//! the statement, else the document; and name the document and the statement
//! as logical locations.

use serde_json::{Value, json};

use crate::checks::{CATALOG, CheckInfo, Finding, Status};

use super::Report;
use super::locate::{SnapshotIndex, line_cols};

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The page's summary paragraph (between the title and the first section).
fn summary_of(doc: &str) -> String {
    doc.lines()
        .skip_while(|l| l.starts_with("# ") || l.trim().is_empty())
        .take_while(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

fn rule(c: &CheckInfo) -> Value {
    json!({
        "id": c.id,
        "name": c.slug,
        "shortDescription": { "text": c.link },
        "fullDescription": { "text": summary_of(c.doc) },
        "help": { "text": c.doc, "markdown": c.doc },
        "defaultConfiguration": { "level": "error" },
        "properties": {
            "account": match c.side {
                crate::checks::Side::A => "A",
                crate::checks::Side::B => "B",
                crate::checks::Side::Both => "A+B",
            },
            "seedStep": c.seed_step,
            "tags": ["aws", "s3", "kms", "cross-account"],
        },
    })
}

/// A file path as a URI reference: relative paths stay relative (to the
/// directory xacct ran in), absolute ones become `file://` URIs.
pub fn path_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    let windows_drive = p.as_bytes().get(1) == Some(&b':');
    if p.starts_with('/') {
        format!("file://{out}")
    } else if windows_drive {
        format!("file:///{out}")
    } else {
        out
    }
}

fn message(f: &Finding) -> String {
    let mut s = f.message.clone();
    for d in &f.details {
        s.push_str(&format!("\n- {d}"));
    }
    if let Some(fix) = &f.fix {
        let whose = fix
            .account
            .as_deref()
            .map(|a| format!("account {a}, "))
            .unwrap_or_default();
        s.push_str(&format!(
            "\n\nFix ({whose}{}): {}",
            fix.document, fix.summary
        ));
        if let Some(st) = &fix.statement {
            s.push('\n');
            s.push_str(&serde_json::to_string_pretty(st).unwrap_or_default());
        }
        if let Some(cmd) = &fix.command {
            s.push_str(&format!("\n$ {cmd}"));
        }
    }
    s
}

fn logical(e: &crate::checks::Evidence) -> Value {
    let mut l = vec![json!({
        "name": e.document,
        "fullyQualifiedName": e.document,
        "kind": "resource",
    })];
    if let Some(st) = &e.statement {
        l.push(json!({
            "name": st,
            "fullyQualifiedName": format!("{}{st}", e.document),
            "kind": "object",
        }));
    }
    Value::Array(l)
}

fn region(idx: &SnapshotIndex, r: &std::ops::Range<usize>) -> Value {
    let lc = line_cols(idx.text(), r);
    let mut region = json!({
        "startLine": lc.start_line,
        "startColumn": lc.start_column,
        "endLine": lc.end_line,
        "endColumn": lc.end_column,
        "byteOffset": r.start,
        "byteLength": r.end - r.start,
    });
    if let Some(snippet) = idx.text().get(r.clone())
        && snippet.len() <= 4096
    {
        region["snippet"] = json!({ "text": snippet });
    }
    region
}

/// A place evidence points at, the notes said there, and the first evidence.
type Place<'f> = (
    Option<std::ops::Range<usize>>,
    Vec<String>,
    &'f crate::checks::Evidence,
);

fn result(f: &Finding, idx: Option<&SnapshotIndex>, uri: Option<&str>) -> Value {
    let rule_index = CATALOG.iter().position(|c| c.id == f.id).unwrap_or(0);
    let level = if f.status == Status::Fail {
        "error"
    } else {
        "warning"
    };
    let artifact = |r: Option<&std::ops::Range<usize>>| -> Option<Value> {
        let uri = uri?;
        let mut pl = json!({ "artifactLocation": { "uri": uri, "index": 0 } });
        if let (Some(idx), Some(r)) = (idx, r) {
            pl["region"] = region(idx, r);
        }
        Some(pl)
    };
    // one location per distinct place; notes of evidence at the same place merge
    let mut places: Vec<Place<'_>> = Vec::new();
    for e in &f.evidence {
        let at = idx.and_then(|i| i.locate(e));
        match places
            .iter_mut()
            .find(|(r, _, e0)| *r == at && e0.document == e.document && e0.statement == e.statement)
        {
            Some((_, notes, _)) => notes.push(e.note.clone()),
            None => places.push((at, vec![e.note.clone()], e)),
        }
    }
    let mut locations: Vec<Value> = places
        .iter()
        .enumerate()
        .map(|(i, (at, notes, e))| {
            let mut loc = json!({ "id": i });
            if let Some(pl) = artifact(at.as_ref()) {
                loc["physicalLocation"] = pl;
            }
            loc["logicalLocations"] = logical(e);
            loc["message"] = json!({ "text": notes.join("; ") });
            loc
        })
        .collect();
    if locations.is_empty() {
        // nothing to point at: the copy the finding is about
        let copy = idx.and_then(|i| i.pointer("/copy"));
        if let Some(pl) = artifact(copy.as_ref()) {
            locations.push(json!({
                "id": 0,
                "physicalLocation": pl,
                "message": { "text": "the planned copy" },
            }));
        }
    }
    let fingerprint = {
        let first = f.evidence.first();
        format!(
            "{}:{}:{}",
            f.id,
            first.map(|e| e.document.as_str()).unwrap_or(""),
            first.and_then(|e| e.statement.as_deref()).unwrap_or("")
        )
    };
    let mut res = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": message(f) },
    });
    if !locations.is_empty() {
        res["locations"] = Value::Array(locations);
    }
    res["partialFingerprints"] = json!({ "xacctFinding/v1": fingerprint });
    let mut props = json!({ "status": f.status.as_str(), "slug": f.slug });
    if let Some(fix) = &f.fix {
        props["fix"] = serde_json::to_value(fix).unwrap_or(Value::Null);
    }
    res["properties"] = props;
    res
}

pub fn render(r: &Report) -> String {
    let file = r.snapshot.as_deref().filter(|s| *s != "-");
    let uri = file.map(path_uri);
    let idx = file.and_then(|_| SnapshotIndex::new(r));
    let results: Vec<Value> = r
        .checks
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown | Status::Warn))
        .map(|f| result(f, idx.as_ref(), uri.as_deref()))
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "xacct",
                "fullName": "xacct doctor",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": CATALOG.iter().map(rule).collect::<Vec<_>>(),
            }
        },
        "invocations": [{ "executionSuccessful": true }],
    });
    if let Some(uri) = &uri {
        run["artifacts"] = json!([{
            "location": { "uri": uri },
            "mimeType": "application/json",
            "sourceLanguage": "json",
        }]);
    }
    run["columnKind"] = json!("unicodeCodePoints");
    run["results"] = Value::Array(results);
    run["properties"] = json!({
        "verdict": r.verdict.as_str(),
        "summary": r.summary,
        "copy": r.copy,
    });
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            path_uri("fixtures/walkthrough as published.json"),
            "fixtures/walkthrough%20as%20published.json"
        );
        assert_eq!(path_uri("/tmp/s#1.json"), "file:///tmp/s%231.json");
        assert_eq!(path_uri("C:\\s\\x.json"), "file:///C:/s/x.json");
    }

    #[test]
    fn rule_descriptions_come_from_the_check_pages() {
        let d = summary_of(CATALOG[2].doc);
        assert!(d.starts_with("The key policy (or a grant)"), "{d}");
        assert!(!d.contains('\n'));
    }
}
