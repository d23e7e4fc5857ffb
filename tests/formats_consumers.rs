//! The CI and ticket formats, fed to the programs that consume them:
//!
//! - SARIF of every doctor fixture validates against the published SARIF 2.1.0
//!   schema (`tests/schemas/`), with the `jsonschema` validator;
//! - JUnit XML of every fixture is read by `junitparser`, and what it reads
//!   (cases, failures, skips) is the report's statuses;
//! - the HTML report opens in headless Chromium, which renders the verdict and
//!   every check.
//!
//! The Python consumers live in `.venv` (installed by `scripts/test` from
//! `tests/requirements.txt`); Chromium is Debian's `chromium` (also installed
//! by `scripts/test`). When one is missing the test fails and says how to get it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let py = std::env::var_os("XACCT_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        py.exists(),
        "{} not found: run scripts/test, which installs tests/requirements.txt into .venv \
         (or: python3 -m venv .venv && .venv/bin/pip install -r tests/requirements.txt)",
        py.display()
    );
    py
}

fn tool(script: &str, args: &[PathBuf]) -> Output {
    Command::new(python())
        .arg(root().join("tests/tools").join(script))
        .args(args)
        .output()
        .expect("the test venv's python runs")
}

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("fixtures"))
        .expect("fixtures/ exists")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} fixtures", names.len());
    names
}

/// `xacct doctor --snapshot fixtures/NAME --format FORMAT`, from the repo root.
fn doctor(fixture: &str, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .current_dir(root())
        .args(["doctor", "--snapshot", &format!("fixtures/{fixture}")])
        .args(["--format", format])
        .output()
        .expect("the xacct binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{fixture}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xacct-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn sarif_of_every_fixture_validates_against_the_sarif_2_1_0_schema() {
    let dir = scratch("sarif");
    let mut files = vec![root().join("tests/schemas/sarif-schema-2.1.0.json")];
    for name in fixtures() {
        let sarif = doctor(&name, "sarif");
        let report: Value = serde_json::from_str(&doctor(&name, "json")).expect("json report");
        let log: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
        let run = &log["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().map(Vec::len),
            Some(16)
        );
        // one result per fail / unknown / warn check, levels by status
        let want: Vec<(String, &str)> = report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let level = match c["status"].as_str()? {
                    "fail" => "error",
                    "unknown" | "warn" => "warning",
                    _ => return None,
                };
                Some((c["id"].as_str()?.to_string(), level))
            })
            .collect();
        let got: Vec<(String, &str)> = run["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r["ruleId"].as_str()?.to_string(), r["level"].as_str()?)))
            .collect();
        assert_eq!(got, want, "{name}: results");
        for r in run["results"].as_array().into_iter().flatten() {
            let uri = &r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
            assert_eq!(uri, &Value::from(format!("fixtures/{name}")), "{name}");
        }
        let file = dir.join(name.replace(".json", ".sarif"));
        std::fs::write(&file, sarif).expect("write");
        files.push(file);
    }
    let out = tool("validate_sarif.py", &files);
    assert!(
        out.status.success(),
        "SARIF schema violations:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // the validator does reject what the schema forbids
    let bad = dir.join("bad.sarif");
    let mut log: Value =
        serde_json::from_str(&doctor("walkthrough-as-published.json", "sarif")).expect("json");
    log["runs"][0]["results"][0]["level"] = Value::from("fatal");
    std::fs::write(&bad, log.to_string()).expect("write");
    let out = tool("validate_sarif.py", &[files[0].clone(), bad]);
    assert!(!out.status.success(), "an invalid level must not validate");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sarif_regions_point_at_the_evidence_in_the_snapshot() {
    let log: Value =
        serde_json::from_str(&doctor("walkthrough-as-published.json", "sarif")).expect("json");
    let text = std::fs::read_to_string(root().join("fixtures/walkthrough-as-published.json"))
        .expect("fixture");
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    for r in run["results"].as_array().into_iter().flatten() {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        let (line, col, end_col) = (
            region["startLine"].as_u64().unwrap_or(0) as usize,
            region["startColumn"].as_u64().unwrap_or(0) as usize,
            region["endColumn"].as_u64().unwrap_or(0) as usize,
        );
        let src_line = text.lines().nth(line - 1).unwrap_or("");
        let cut: String = src_line.chars().skip(col - 1).take(end_col - col).collect();
        assert_eq!(
            Some(cut.as_str()),
            region["snippet"]["text"].as_str(),
            "{}: line/column and snippet agree",
            r["ruleId"]
        );
        let off = region["byteOffset"].as_u64().unwrap_or(0) as usize;
        let len = region["byteLength"].as_u64().unwrap_or(0) as usize;
        assert_eq!(text.get(off..off + len), Some(cut.as_str()), "byte range");
    }
    // XA002: the principal without an account id, inside the policy string
    let xa002 = &run["results"][0];
    assert_eq!(xa002["ruleId"], "XA002");
    assert_eq!(
        xa002["locations"][0]["physicalLocation"]["region"]["snippet"]["text"],
        r#"\"arn:aws:iam:::role/Bob’s_Data_Access_Role\""#
    );
    let logical = &xa002["locations"][0]["logicalLocations"];
    assert_eq!(logical[0]["name"], "bucket policy of alice-data");
    assert_eq!(logical[1]["name"], "/Statement/0");
}

#[test]
fn junit_of_every_fixture_is_read_by_junitparser_as_the_report_says() {
    let dir = scratch("junit");
    let mut files = Vec::new();
    let mut reports = Vec::new();
    for name in fixtures() {
        let file = dir.join(name.replace(".json", ".xml"));
        std::fs::write(&file, doctor(&name, "junit")).expect("write");
        let report: Value = serde_json::from_str(&doctor(&name, "json")).expect("json report");
        files.push(file);
        reports.push((name, report));
    }
    let out = tool("read_junit.py", &files);
    assert!(
        out.status.success(),
        "junitparser could not read the JUnit XML:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("read_junit.py prints JSON");
    for ((name, report), file) in reports.iter().zip(&files) {
        let suites = &seen[file.display().to_string()]["suites"];
        assert_eq!(
            suites.as_array().map(Vec::len),
            Some(1),
            "{name}: one suite"
        );
        let suite = &suites[0];
        assert_eq!(suite["name"], "xacct doctor");
        assert_eq!(suite["properties"]["verdict"], report["verdict"], "{name}");
        let checks = report["checks"].as_array().cloned().unwrap_or_default();
        let cases = suite["cases"].as_array().cloned().unwrap_or_default();
        assert_eq!(cases.len(), 16, "{name}: one case per check");
        let count = |st: &[&str]| {
            checks
                .iter()
                .filter(|c| st.contains(&c["status"].as_str().unwrap_or("")))
                .count()
        };
        assert_eq!(suite["tests"], 16);
        assert_eq!(suite["failures"], count(&["fail", "unknown"]), "{name}");
        assert_eq!(suite["skipped"], count(&["skip"]), "{name}");
        for (case, check) in cases.iter().zip(&checks) {
            let want_name = format!(
                "{} {}",
                check["id"].as_str().unwrap_or(""),
                check["slug"].as_str().unwrap_or("")
            );
            assert_eq!(case["name"], want_name.as_str(), "{name}");
            let results = case["result"].as_array().cloned().unwrap_or_default();
            let status = check["status"].as_str().unwrap_or("");
            match status {
                "pass" | "warn" => assert!(results.is_empty(), "{name} {want_name} passes"),
                "skip" => assert_eq!(results[0]["kind"], "skipped", "{name} {want_name}"),
                _ => {
                    assert_eq!(results[0]["kind"], "failure", "{name} {want_name}");
                    assert_eq!(results[0]["type"], status);
                    assert_eq!(results[0]["message"], check["message"], "{name}");
                    let text = results[0]["text"].as_str().unwrap_or("");
                    if let Some(cmd) = check["fix"]["command"].as_str() {
                        assert!(
                            text.contains(cmd),
                            "{name} {want_name}: the fix is in the body"
                        );
                    }
                }
            }
            if status == "warn" {
                let out = case["system_out"].as_str().unwrap_or("");
                assert!(out.contains(check["message"].as_str().unwrap_or("?")));
            }
        }
    }

    // the consumer does reject XML that is not well-formed
    let broken = dir.join("broken.xml");
    std::fs::write(
        &broken,
        "<testsuites><testsuite name=\"x\"><testcase name=\"a & b\"/>",
    )
    .expect("write");
    assert!(!tool("read_junit.py", &[broken]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("XACCT_CHROMIUM") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium not found: the HTML report test needs Debian's headless Chromium. \
             Install it with `apt-get install -y --no-install-recommends chromium` \
             (scripts/test does this), or point XACCT_CHROMIUM at a Chromium binary."
        )
    })
}

/// Run Chromium headless on a page; kills it after two minutes.
fn run_chromium(profile: &Path, args: &[String]) -> Output {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                break;
            }
        }
    }
    child.wait_with_output().expect("chromium output")
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let dir = scratch("html");
    for (fixture, verdict) in [
        ("walkthrough-as-published", "Verdict: BLOCKED"),
        ("walkthrough-fixed", "Verdict: READY"),
    ] {
        let page = dir.join(format!("{fixture}.html"));
        let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
            .current_dir(root())
            .args(["doctor", "--snapshot", &format!("fixtures/{fixture}.json")])
            .arg("--html")
            .arg(&page)
            .output()
            .expect("xacct runs");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{fixture}");
        let url = format!("file://{}", page.display());
        let dom = run_chromium(&dir.join("profile"), &["--dump-dom".into(), url.clone()]);
        let dom_text = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom_text.contains("<svg"),
            "{fixture}: Chromium did not render the page:\n{}",
            String::from_utf8_lossy(&dom.stderr)
        );
        assert!(
            dom_text.contains(verdict),
            "{fixture}: the verdict is on the page"
        );
        for c in xacct::checks::CATALOG {
            assert!(
                dom_text.contains(&format!("id=\"row-{}\"", c.id)),
                "{fixture}: {} has a row",
                c.id
            );
        }
        // every link of the chain is drawn
        for edge in [
            "edge-caller-role",
            "edge-role-sb",
            "edge-role-sk",
            "edge-role-db",
            "edge-role-dk",
            "edge-db-dk",
        ] {
            assert!(dom_text.contains(edge), "{fixture}: {edge} drawn");
        }
        // and it paints: a screenshot of a blank page is a few KB of PNG
        let shot = dir.join(format!("{fixture}.png"));
        let _ = run_chromium(
            &dir.join("profile"),
            &[
                "--window-size=1280,1600".into(),
                format!("--screenshot={}", shot.display()),
                url,
            ],
        );
        let png = std::fs::read(&shot).expect("Chromium wrote a screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{fixture}: a PNG");
        assert!(
            png.len() > 40_000,
            "{fixture}: the screenshot is almost empty ({} bytes)",
            png.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn mermaid_js() -> PathBuf {
    let js = std::env::var_os("XACCT_MERMAID_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            root().join("target/test-tools/mermaid-11.17.2/package/dist/mermaid.min.js")
        });
    assert!(
        js.is_file(),
        "{} not found: the Mermaid test renders the diagram with mermaid's own library. \
         Run scripts/test (it fetches the npm package `mermaid` into target/test-tools), \
         or point XACCT_MERMAID_JS at mermaid.min.js.",
        js.display()
    );
    js
}

fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn mermaid_diagrams_render_with_mermaid_in_chromium() {
    let dir = scratch("mermaid");
    let js = mermaid_js();
    for (fixture, want) in [
        ("walkthrough-as-published", "XA002 ✗ · XA006 ✓"),
        ("walkthrough-fixed", "XA002 ✓ · XA006 ✓"),
    ] {
        let diagram = std::fs::read_to_string(root().join(format!("tests/golden/{fixture}.mmd")))
            .expect("golden mermaid file");
        let page = dir.join(format!("{fixture}.html"));
        std::fs::write(
            &page,
            format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script src=\"file://{}\"></script></head>\
                 <body><pre class=\"mermaid\">{}</pre><script>\
                 mermaid.initialize({{startOnLoad: false}});\
                 mermaid.run().then(() => document.body.setAttribute('data-rendered', 'yes'))\
                 .catch(e => document.body.setAttribute('data-error', (e && (e.message || e.str)) || String(e)));\
                 </script></body></html>",
                js.display(),
                html_text(&diagram)
            ),
        )
        .expect("write page");
        let dom = run_chromium(
            &dir.join("profile"),
            &[
                "--allow-file-access-from-files".into(),
                "--virtual-time-budget=15000".into(),
                "--dump-dom".into(),
                format!("file://{}", page.display()),
            ],
        );
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.contains("data-rendered=\"yes\""),
            "{fixture}: mermaid did not render the diagram: {}",
            dom.split("data-error=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("(no error reported; did the page load?)")
        );
        assert!(dom.contains("<svg"), "{fixture}: no SVG");
        assert!(
            dom.contains(want),
            "{fixture}: the XA002/XA006 edge label is drawn"
        );
        assert!(
            dom.contains("Bobs_Data_Access_Role"),
            "{fixture}: the role is named"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dot_graphs_are_laid_out_by_graphviz() {
    let dot = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("dot"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "Graphviz `dot` not found: install it with \
                 `apt-get install -y --no-install-recommends graphviz` (scripts/test does this)"
            )
        });
    for fixture in ["walkthrough-as-published", "walkthrough-fixed"] {
        let out = Command::new(&dot)
            .arg("-Tsvg")
            .arg(root().join(format!("tests/golden/{fixture}.dot")))
            .output()
            .expect("dot runs");
        let svg = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{fixture}: Graphviz rejected the graph:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(svg.contains("Account A 111111111111 (source)"), "{fixture}");
        assert!(
            svg.contains("Account B 222222222222 (destination)"),
            "{fixture}"
        );
        assert!(svg.contains("Bobs_Data_Access_Role"), "{fixture}");
    }
}
