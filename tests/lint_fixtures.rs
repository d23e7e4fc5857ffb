//! `xacct lint` on the fixtures under fixtures/lint/: each file's guessed kind,
//! the codes it reports (errors and traps side by side with clean twins), the
//! exit code, and the rendered output against a golden file in tests/golden/lint/
//! (regenerate with `XACCT_BLESS=1 cargo test --test lint_fixtures`).

use std::path::Path;
use std::process::Command;

use xacct::lint::{FileResult, exit_code, lint_file, render_text};

/// file, guessed kind, codes in text order, exit code
const EXPECT: &[(&str, &str, &[&str], u8)] = &[
    (
        "bucket-getobject-on-bucket-arn.json",
        "bucket",
        &["action-resource-mismatch"],
        1,
    ),
    (
        "bucket-walkthrough-as-published.json",
        "bucket",
        &["typographic-quote", "principal-without-account"],
        1,
    ),
    ("bucket-wildcard-principal-orgid.json", "bucket", &[], 0),
    (
        "bucket-wildcard-principal.json",
        "bucket",
        &["wildcard-principal-without-condition"],
        1,
    ),
    (
        "identity-kms-alias-resource.json",
        "identity",
        &["kms-resource-not-key-arn", "kms-resource-not-key-arn"],
        1,
    ),
    ("identity-kms-key-arn.json", "identity", &[], 0),
    (
        "identity-listbucket-on-objects.json",
        "identity",
        &["action-resource-mismatch", "unknown-action"],
        1,
    ),
    ("identity-read-source-ok.json", "identity", &[], 0),
    ("key-ok.json", "key", &[], 0),
    (
        "key-statement-without-principal.json",
        "key",
        &["missing-principal"],
        1,
    ),
    (
        "key-walkthrough-as-published.json",
        "key",
        &["missing-principal"],
        1,
    ),
    (
        "key-wildcard-principal.json",
        "key",
        &["wildcard-principal-without-condition"],
        1,
    ),
    ("not-json.json", "", &[], 2),
    ("trust-ok.json", "trust", &[], 0),
];

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lint")
}

#[test]
fn every_lint_fixture_reports_its_codes() {
    let mut listed: Vec<&str> = EXPECT.iter().map(|e| e.0).collect();
    listed.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures/lint exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk, "every fixture has an expectation");

    let mut failures = Vec::new();
    for (file, kind, codes, code) in EXPECT {
        let r = lint_file(&dir().join(file), None);
        let got_exit = exit_code(std::slice::from_ref(&r));
        if got_exit != *code {
            failures.push(format!("{file}: exit {got_exit} (expected {code})"));
        }
        match &r {
            FileResult::Linted {
                kind: k, defects, ..
            } => {
                if k.name() != *kind {
                    failures.push(format!("{file}: kind {} (expected {kind})", k.name()));
                }
                let got: Vec<&str> = defects.iter().map(|d| d.code).collect();
                if got != *codes {
                    failures.push(format!("{file}: codes {got:?} (expected {codes:?})"));
                }
                for d in defects {
                    assert!(!d.help.is_empty(), "{file}: {} has a fix", d.code);
                }
            }
            FileResult::Unreadable { .. } => {
                if !kind.is_empty() {
                    failures.push(format!("{file}: unreadable"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendered_output_matches_the_golden_files() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lint");
    let update = std::env::var_os("XACCT_BLESS").is_some();
    if update {
        std::fs::create_dir_all(&golden).expect("create golden dir");
    }
    let mut failures = Vec::new();
    for (file, ..) in EXPECT {
        // the path as a user would type it, so the golden files are stable
        let shown = Path::new("fixtures/lint").join(file);
        let bytes = std::fs::read(dir().join(file)).expect("readable");
        let text = String::from_utf8_lossy(&bytes);
        let r = xacct::lint::lint_text(&shown.display().to_string(), &text, None);
        let out = render_text(std::slice::from_ref(&r), false);
        let path = golden.join(file.replace(".json", ".txt"));
        if update {
            std::fs::write(&path, &out).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == out => {}
            Ok(want) => failures.push(format!(
                "{file}: output differs from {}\n--- want\n{want}\n--- got\n{out}",
                path.display()
            )),
            Err(_) => failures.push(format!("{}: missing (XACCT_BLESS=1)", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cli_exit_codes_and_json() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("runs")
    };
    let out = run(&[
        "lint",
        "fixtures/lint/key-ok.json",
        "fixtures/lint/trust-ok.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&[
        "lint",
        "fixtures/lint/key-ok.json",
        "fixtures/lint/key-walkthrough-as-published.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("missing-principal") && s.contains("2 files linted"),
        "{s}"
    );
    let out = run(&[
        "lint",
        "fixtures/lint/key-ok.json",
        "fixtures/lint/not-json.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["lint", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));

    // --kind overrides the guess: a key policy read as identity has a prohibited Principal
    let out = run(&["lint", "--kind", "identity", "fixtures/lint/key-ok.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("prohibited-principal"));

    let out = run(&[
        "lint",
        "--format",
        "json",
        "fixtures/lint/identity-kms-alias-resource.json",
        "fixtures/lint/not-json.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["files"][0]["kind"], "identity");
    assert_eq!(
        v["files"][0]["findings"][0]["code"],
        "kms-resource-not-key-arn"
    );
    assert_eq!(v["files"][0]["findings"][0]["severity"], "warning");
    assert_eq!(v["files"][0]["findings"][1]["severity"], "error");
    assert_eq!(v["files"][0]["findings"][0]["at"]["line"], 9);
    assert_eq!(v["files"][1]["status"], "unreadable");
    assert_eq!(v["files"][1]["at"]["line"], 4);
}
