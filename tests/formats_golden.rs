//! Golden files: `xacct doctor` on the two walkthrough fixtures, in every
//! output format, compared byte for byte with `tests/golden/`. The binary is run
//! as a user would (from the repository root, colour off, 120 columns).
//!
//! After an intended change: `XACCT_BLESS=1 cargo test --test formats_golden`
//! rewrites the files; review the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: [(&str, i32); 2] = [("walkthrough-as-published", 1), ("walkthrough-fixed", 0)];

/// (format flag, golden file extension)
const FORMATS: [(&str, &str); 8] = [
    ("table", "txt"),
    ("json", "json"),
    ("sarif", "sarif"),
    ("junit", "junit.xml"),
    ("markdown", "md"),
    ("mermaid", "mmd"),
    ("dot", "dot"),
    ("html", "html"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run the doctor on a fixture; returns (output, exit code).
fn doctor(fixture: &str, format: &str) -> (String, i32) {
    let snapshot = format!("fixtures/{fixture}.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    cmd.current_dir(root())
        .env("COLUMNS", "120")
        .env("NO_COLOR", "1")
        .args(["doctor", "--snapshot", &snapshot, "--no-color"]);
    let html_file = std::env::temp_dir().join(format!(
        "xacct-golden-{}-{fixture}.html",
        std::process::id()
    ));
    if format == "html" {
        cmd.args(["--format", "json", "--html"]).arg(&html_file);
    } else {
        cmd.args(["--format", format]);
    }
    let out = cmd.output().expect("the xacct binary runs");
    assert!(
        out.stderr.is_empty(),
        "{fixture} --format {format} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code().unwrap_or(-1);
    let text = if format == "html" {
        let t = std::fs::read_to_string(&html_file).expect("--html wrote the file");
        let _ = std::fs::remove_file(&html_file);
        t
    } else {
        String::from_utf8(out.stdout).expect("output is UTF-8")
    };
    (text, code)
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  golden: {w}\n  now:    {g}", i + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn walkthrough_outputs_match_the_golden_files_in_every_format() {
    let bless = std::env::var_os("XACCT_BLESS").is_some_and(|v| v == "1");
    let dir = root().join("tests/golden");
    let mut problems = Vec::new();
    for (fixture, want_code) in FIXTURES {
        for (format, ext) in FORMATS {
            let (got, code) = doctor(fixture, format);
            if code != want_code {
                problems.push(format!(
                    "{fixture} --format {format}: exit {code}, expected {want_code}"
                ));
            }
            let path: PathBuf = dir.join(format!("{fixture}.{ext}"));
            if bless {
                std::fs::create_dir_all(&dir).expect("tests/golden is writable");
                std::fs::write(&path, &got).expect("golden file is writable");
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(want) if want == got => {}
                Ok(want) => problems.push(format!(
                    "{} differs from the output — {}",
                    path.display(),
                    first_difference(&want, &got)
                )),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\n(if the change is intended: XACCT_BLESS=1 cargo test --test formats_golden, then review the diff)",
        problems.join("\n")
    );
}

#[test]
fn golden_files_show_what_each_format_promises() {
    let read = |name: &str| {
        std::fs::read_to_string(root().join("tests/golden").join(name))
            .unwrap_or_else(|e| panic!("tests/golden/{name}: {e}"))
    };
    let md = read("walkthrough-as-published.md");
    assert!(md.contains("**Verdict: BLOCKED**"));
    assert!(md.contains("| XA002 | A's bucket policy allows role | A | ❌ fail |"));
    assert_eq!(md.matches("<details>").count(), 4, "one per failing check");
    let mmd = read("walkthrough-as-published.mmd");
    assert!(mmd.contains("role -->|\"XA002 ✗ · XA006 ✓<br/>lists, reads\"| sb"));
    assert!(mmd.contains("linkStyle 1 stroke:#cf222e"));
    let dot = read("walkthrough-fixed.dot");
    assert!(
        !dot.contains("#cf222e"),
        "nothing is red when the copy is ready"
    );
    let html = read("walkthrough-as-published.html");
    assert!(!html.contains("<script"), "the page needs no script");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "the page loads nothing from outside"
    );
    assert!(html.contains("<mark title="), "evidence spans are marked");
}

/// The format examples in the docs are the real output: the Mermaid and dot
/// blocks are the golden files, the Markdown table rows are in the golden file.
#[test]
fn format_docs_show_real_output() {
    let golden = |ext: &str| {
        std::fs::read_to_string(root().join(format!("tests/golden/walkthrough-as-published.{ext}")))
            .expect("golden file")
    };
    let block = |doc: &str, lang: &str| -> Option<String> {
        let start = doc.find(&format!("```{lang}\n"))? + lang.len() + 4;
        let end = doc[start..].find("```")? + start;
        Some(doc[start..end].to_string())
    };
    let mut checked = 0;
    for name in ["docs/formats.md", "README.md"] {
        let Ok(doc) = std::fs::read_to_string(root().join(name)) else {
            continue;
        };
        if let Some(m) = block(&doc, "mermaid") {
            assert_eq!(m, golden("mmd"), "{name}: the mermaid block is stale");
            checked += 1;
        }
        if let Some(d) = block(&doc, "dot") {
            assert_eq!(d, golden("dot"), "{name}: the dot block is stale");
            checked += 1;
        }
        let md = golden("md");
        // rows of `--format markdown` output (they carry a status emoji)
        let doctor_row = |l: &&str| {
            l.starts_with("| XA0") && ["✅", "❌", "❓", "⚠️", "⏭️"].iter().any(|e| l.contains(e))
        };
        for row in doc.lines().filter(doctor_row) {
            assert!(
                md.contains(row),
                "{name}: table row not in the real output: {row}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 18,
        "the docs show the mermaid and dot output and the table"
    );
}

/// `--fail-on` decides the exit code, whatever the format prints.
#[test]
fn fail_on_sets_the_gate_in_every_format() {
    let run = |fixture: &str, format: &str, fail_on: &str| {
        Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(root())
            .args(["doctor", "--snapshot", &format!("fixtures/{fixture}.json")])
            .args(["--format", format, "--fail-on", fail_on])
            .output()
            .expect("xacct runs")
            .status
            .code()
    };
    for (format, _) in FORMATS.iter().filter(|(f, _)| *f != "html") {
        // unknown only: inconclusive by default, tolerated by --fail-on fail
        let unknown = "unknown-source-key-policy-unreadable";
        assert_eq!(run(unknown, format, "unknown"), Some(3), "{format}");
        assert_eq!(run(unknown, format, "fail"), Some(0), "{format}");
        // a warning fails only --fail-on warn
        assert_eq!(
            run("xa008-warn-two-keys", format, "unknown"),
            Some(0),
            "{format}"
        );
        assert_eq!(
            run("xa008-warn-two-keys", format, "warn"),
            Some(1),
            "{format}"
        );
        assert_eq!(
            run("walkthrough-as-published", format, "fail"),
            Some(1),
            "{format}"
        );
    }
}
