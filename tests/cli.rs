//! The command line as users and CI meet it: outputs, exit codes, and input
//! errors that point at the spot.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn xacct(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("xacct runs")
}

fn xacct_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xacct runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("xacct finishes")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn walkthrough_as_published_names_the_missing_links_with_fixes() {
    let o = xacct(&[
        "doctor",
        "--snapshot",
        "fixtures/walkthrough-as-published.json",
    ]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "blocked exits 1\n{out}");
    assert!(out.contains("Verdict: BLOCKED"), "{out}");
    for id in ["XA002", "XA003", "XA004", "XA007"] {
        assert!(out.contains(&format!("{id} ")), "{id} missing\n{out}");
    }
    // the defects are shown where they are, and the fixes can be pasted
    assert!(out.contains("has no account id"), "{out}");
    assert!(out.contains("must have a `Principal`"), "{out}");
    assert!(
        out.contains("aws s3api put-bucket-policy --bucket alice-data"),
        "{out}"
    );
    assert!(
        out.contains("aws kms put-key-policy --key-id arn:aws:kms:us-west-2:111111111111:key/"),
        "{out}"
    );
    assert!(
        out.contains("aws iam put-role-policy --role-name Bobs_Data_Access_Role"),
        "{out}"
    );
    assert!(out.contains("\"kms:Decrypt\""), "{out}");
}

#[test]
fn walkthrough_fixed_is_ready_and_exits_0() {
    let o = xacct(&["doctor", "--snapshot", "fixtures/walkthrough-fixed.json"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("Verdict: READY"), "{out}");
}

#[test]
fn inconclusive_exits_3_and_fail_on_fail_tolerates_it() {
    let f = "fixtures/unknown-source-bucket-policy-unreadable.json";
    let o = xacct(&["doctor", "--snapshot", f]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).0);
    assert!(text(&o).0.contains("Verdict: INCONCLUSIVE"));
    let o = xacct(&["doctor", "--snapshot", f, "--fail-on", "fail"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn fail_on_warn_turns_a_warning_into_a_failure() {
    let f = "fixtures/xa008-warn-two-keys.json";
    assert_eq!(xacct(&["doctor", "--snapshot", f]).status.code(), Some(0));
    assert_eq!(
        xacct(&["doctor", "--snapshot", f, "--fail-on", "warn"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn json_report_has_the_documented_shape() {
    let o = xacct(&[
        "doctor",
        "--snapshot",
        "fixtures/walkthrough-as-published.json",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(v["format"], "xacct-report/1");
    assert_eq!(v["verdict"], "blocked");
    assert_eq!(v["exit_code"], 1);
    let checks = v["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 16);
    let xa002 = &checks[1];
    assert_eq!(xa002["id"], "XA002");
    assert_eq!(xa002["status"], "fail");
    assert_eq!(
        xa002["evidence"][0]["pointer"],
        "/accounts/111111111111/buckets/alice-data/policy"
    );
    assert_eq!(xa002["evidence"][0]["statement"], "/Statement/0");
    assert!(
        xa002["fix"]["command"]
            .as_str()
            .is_some_and(|c| c.contains("put-bucket-policy"))
    );
    assert_eq!(v["summary"]["fail"], 4);
}

#[test]
fn a_snapshot_that_is_not_json_is_exit_2_with_the_spot() {
    let dir = tempdir();
    let p = dir.join("bad.json");
    std::fs::write(
        &p,
        "{\n  \"format\": \"xacct-snapshot/1\",\n  \"copy\": {,\n}",
    )
    .expect("write");
    let o = xacct(&["doctor", "--snapshot", p.to_str().expect("utf8")]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("is not valid JSON"), "{err}");
    assert!(
        err.contains("bad.json:3:12"),
        "points at line 3, column 12: {err}"
    );
    assert!(out.is_empty(), "no report on bad input: {out}");
}

#[test]
fn a_snapshot_of_the_wrong_shape_reports_every_problem() {
    let dir = tempdir();
    let p = dir.join("shape.json");
    std::fs::write(
        &p,
        r#"{"format": "xacct-snapshot/9", "copy": {"source": "alice-data", "destination": "s3://b-b", "principal": "arn:aws:iam::222222222222:user/bob"}, "accounts": {"abc": {}}}"#,
    )
    .expect("write");
    let o = xacct(&["doctor", "--snapshot", p.to_str().expect("utf8")]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    for want in [
        "unknown snapshot format",
        "not an S3 location",
        "not an IAM role ARN",
        "not an account id",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[test]
fn missing_file_and_bad_flags_are_exit_2() {
    assert_eq!(
        xacct(&["doctor", "--snapshot", "no/such/file.json"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        xacct(&["doctor", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(xacct(&["frobnicate"]).status.code(), Some(2));
    // live mode without the copy described
    let o = xacct(&["doctor", "--source", "s3://a-bucket"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--destination is required"));
}

#[test]
fn simulate_one_case_and_a_batch() {
    let case = r#"{"request": {"principal": "arn:aws:sts::222222222222:assumed-role/Copy/s", "action": "s3:GetObject", "resource": "arn:aws:s3:::alice-data/k", "resource_account": "111111111111"},
        "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alice-data/*"}]}]}"#;
    let o = xacct_stdin(&["simulate", "-"], case);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["decision"], "implicit_deny");
    assert_eq!(v["blocked_by"], serde_json::json!(["resource"]));
    assert_eq!(v["matched"][0]["policy"], "identity_policies[0]");

    let batch = format!(
        "{}\nnot json\n{}\n",
        case.replace('\n', " "),
        case.replace('\n', " ")
    );
    let o = xacct_stdin(&["simulate", "--batch", "-"], &batch);
    assert_eq!(o.status.code(), Some(2), "a bad line makes the run exit 2");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "every line is answered");
    assert_eq!(lines[0]["decision"], "implicit_deny");
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains(":2:"))
    );
    assert_eq!(lines[2]["decision"], "implicit_deny");
}

#[test]
fn simulate_input_errors_point_at_the_span() {
    let case = r#"{"request": {"principal": "arn:aws:iam::2:role/x", "action": "s3:GetObject", "resource": "*"},
        "identity_policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}]}]}"#;
    let o = xacct_stdin(&["simulate", "-"], case);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("is not a principal"), "{err}");
    assert!(
        err.contains("`Principal` is not allowed in an identity policy"),
        "{err}"
    );
}

#[test]
fn explain_and_checks() {
    let o = xacct(&["explain", "XA003"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o)
            .0
            .starts_with("# XA003 source-key-policy-allows-role")
    );
    let o = xacct(&["explain", "requester-pays"]);
    assert!(text(&o).0.starts_with("# XA016 requester-pays"));
    let o = xacct(&["checks"]);
    let out = text(&o).0;
    assert_eq!(out.lines().count(), 16);
    assert!(out.contains("XA007  role-can-use-source-key"));
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "xacct-cli-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).expect("tempdir");
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
