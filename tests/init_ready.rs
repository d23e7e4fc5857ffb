//! `xacct init` writes a setup the doctor calls ready: the seven documents go
//! into a snapshot (buckets, keys, objects to match) and every check must pass
//! (XA014 skips: no probes). The documents also lint clean.

use std::process::Command;

use serde_json::{Value, json};
use xacct::checks::{Status, Verdict, run_all};
use xacct::init::{Spec, build};
use xacct::lint::{FileResult, lint_text};
use xacct::snapshot::load_str;

const SK: &str = "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34";
const DK: &str = "arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953";
const DK_EU: &str = "arn:aws:kms:eu-west-1:222222222222:key/0f1e2d3c-4b5a-4968-8776-655443322110";
const ROLE: &str = "arn:aws:iam::222222222222:role/BobCopyRole";

fn spec(source: &str, caller: Option<&str>, dk: &str) -> Spec {
    Spec {
        source: source.into(),
        destination: "s3://bob-staging-bucket".into(),
        role: ROLE.into(),
        source_key: Some(SK.into()),
        destination_key: Some(dk.into()),
        caller: caller.map(str::to_string),
    }
}

fn doc(setup: &xacct::init::Setup, step: u8) -> String {
    let d = setup
        .documents
        .iter()
        .find(|d| d.step == step)
        .expect("seven documents");
    // as AWS returns them: the exact text, so diagnostics can point into it
    serde_json::to_string_pretty(&d.policy).expect("serializable")
}

fn object(size: u64, bucket_key: bool) -> Value {
    json!({
        "size": size,
        "encryption": {"algorithm": "aws:kms", "kms_key": SK, "bucket_key": bucket_key},
        "owner": "111111111111",
        "storage_class": "STANDARD",
        "restore": null
    })
}

/// A snapshot of both accounts after the setup was applied.
fn snapshot(spec: &Spec, dst_region: &str) -> String {
    let setup = build(spec).expect("valid flags");
    let prefix = setup.source.prefix.clone();
    let mut objects = serde_json::Map::new();
    // a small object without a Bucket Key, a multipart-sized one with one
    objects.insert(
        format!("{prefix}2024/01/orders.csv"),
        object(1_048_576, false),
    );
    objects.insert(
        format!("{prefix}2024/01/events.parquet"),
        object(52_428_800, true),
    );
    let mut copy = json!({
        "source": spec.source,
        "destination": spec.destination,
        "principal": ROLE,
        "method": "cli"
    });
    if let Some(c) = &spec.caller {
        copy["caller"] = json!(c);
    }
    let dk = spec.destination_key.clone().unwrap_or_default();
    let key = |arn: &str, alias: &str, policy: String| {
        json!({arn: {
            "aliases": [alias], "manager": "CUSTOMER", "state": "Enabled",
            "spec": "SYMMETRIC_DEFAULT", "usage": "ENCRYPT_DECRYPT", "policy": policy
        }})
    };
    let snap = json!({
        "format": "xacct-snapshot/1",
        "description": "the setup xacct init wrote, applied",
        "copy": copy,
        "accounts": {
            "111111111111": {
                "organization": null,
                "buckets": {
                    setup.source.bucket.clone(): {
                        "region": "us-west-2",
                        "policy": doc(&setup, 2),
                        "encryption": {"algorithm": "aws:kms", "kms_key": SK, "bucket_key": true},
                        "ownership": "BucketOwnerEnforced",
                        "requester_pays": false,
                        "public_access_block": {"restrict_public_buckets": true, "block_public_policy": true},
                        "objects": objects
                    }
                },
                "keys": key(SK, "alias/alice-data", doc(&setup, 3))
            },
            "222222222222": {
                "organization": null,
                "buckets": {
                    setup.destination.bucket.clone(): {
                        "region": dst_region,
                        "policy": null,
                        "encryption": {"algorithm": "aws:kms", "kms_key": dk, "bucket_key": true},
                        "ownership": "BucketOwnerEnforced",
                        "requester_pays": false,
                        "public_access_block": {"restrict_public_buckets": true, "block_public_policy": true}
                    }
                },
                "keys": key(&dk, "alias/bob-staging", doc(&setup, 4)),
                "roles": {
                    setup.role_name.clone(): {
                        "arn": ROLE,
                        "trust_policy": doc(&setup, 1),
                        "inline_policies": {
                            "xacct-write-destination": doc(&setup, 5),
                            "xacct-read-source": doc(&setup, 6),
                            "xacct-use-source-key": doc(&setup, 7)
                        },
                        "managed_policies": {},
                        "permissions_boundary": null
                    }
                }
            }
        }
    });
    serde_json::to_string_pretty(&snap).expect("serializable")
}

fn assert_ready(name: &str, text: &str) {
    let snap = load_str(name, text).unwrap_or_else(|p| panic!("{name}: {}", p.one_line()));
    let findings = run_all(&snap);
    let bad: Vec<String> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Unknown))
        .map(|f| format!("{} {}: {}", f.id, f.status.as_str(), f.message))
        .collect();
    assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
    assert_eq!(Verdict::of(&findings), Verdict::Ready, "{name}");
    for f in &findings {
        let want = if f.id == "XA014" {
            Status::Skip
        } else {
            Status::Pass
        };
        assert_eq!(f.status, want, "{name}: {} {}", f.id, f.message);
    }
}

#[test]
fn init_documents_make_the_doctor_say_ready() {
    assert_ready(
        "whole bucket",
        &snapshot(&spec("s3://alice-data", None, DK), "us-west-2"),
    );
}

#[test]
fn init_with_prefix_and_caller_is_ready() {
    let s = spec(
        "s3://alice-data/data/",
        Some("arn:aws:sts::333333333333:assumed-role/CiRunner/build-42"),
        DK,
    );
    let text = snapshot(&s, "us-west-2");
    assert!(
        text.contains("s3:prefix"),
        "ListBucket is scoped to the prefix"
    );
    assert_ready("prefix and caller", &text);
}

#[test]
fn init_across_regions_is_ready() {
    // kms:ViaService is left out of the source key policy across regions
    let s = spec("s3://alice-data", None, DK_EU);
    let setup = build(&s).expect("valid");
    assert!(!doc(&setup, 3).contains("kms:ViaService"));
    assert_ready("cross-region", &snapshot(&s, "eu-west-1"));
}

#[test]
fn same_region_source_key_policy_pins_s3_and_account_b() {
    let setup = build(&spec("s3://alice-data", None, DK)).expect("valid");
    let key_policy = &setup.documents[2].policy;
    let cond = &key_policy["Statement"][1]["Condition"];
    assert_eq!(
        cond["StringEquals"]["kms:ViaService"],
        "s3.us-west-2.amazonaws.com"
    );
    assert_eq!(cond["StringEquals"]["kms:CallerAccount"], "222222222222");
    assert_eq!(
        key_policy["Statement"][0]["Principal"]["AWS"], "arn:aws:iam::111111111111:root",
        "root delegation kept"
    );
    assert_eq!(setup.documents[6].policy["Statement"][0]["Resource"], SK);
}

#[test]
fn init_documents_lint_clean() {
    let setup = build(&spec("s3://alice-data/data/", None, DK)).expect("valid");
    for d in &setup.documents {
        let text = serde_json::to_string_pretty(&d.policy).expect("serializable");
        match lint_text(&d.file, &text, None) {
            FileResult::Linted { defects, kind, .. } => {
                assert!(defects.is_empty(), "{} ({kind:?}): {defects:?}", d.file)
            }
            other => panic!("{}: {other:?}", d.file),
        }
    }
}

#[test]
fn init_writes_the_files_and_an_apply_script() {
    let dir = std::env::temp_dir().join(format!("xacct-init-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "init",
            "--source",
            "s3://alice-data",
            "--destination",
            "s3://bob-staging-bucket",
            "--role",
            ROLE,
            "--source-key",
            SK,
            "--destination-key",
            DK,
            "-o",
        ])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let setup = build(&spec("s3://alice-data", None, DK)).expect("valid");
    for d in &setup.documents {
        let text = std::fs::read_to_string(dir.join(&d.file)).expect("written");
        let v: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v, d.policy, "{}", d.file);
    }
    let script = std::fs::read_to_string(dir.join("apply.sh")).expect("apply.sh");
    // B's role before A's policies that name it; each command in its account
    let role = script.find("aws iam create-role").expect("create-role");
    let bucket = script
        .find("aws s3api put-bucket-policy")
        .expect("bucket policy");
    assert!(role < bucket);
    assert!(script.contains("put-bucket-policy --bucket alice-data --policy file://2-source-bucket-policy.json --profile \"$PROFILE_A\""));
    assert!(script.contains("--policy-name xacct-use-source-key --policy-document file://7-role-use-source-key.json --profile \"$PROFILE_B\""));
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(dir.join("apply.sh"))
        .status();
    if let Ok(s) = syntax {
        assert!(s.success(), "apply.sh is valid bash");
    }
    let _ = std::fs::remove_dir_all(&dir);

    // printing instead of writing; bad flags exit 2
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "init",
            "--source",
            "s3://alice-data",
            "--destination",
            "s3://bob-staging-bucket",
            "--role",
            ROLE,
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains("SOURCE_KEY_ID") && text.contains("Placeholders to replace"));
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args([
            "init",
            "--source",
            "s3://alice-data",
            "--destination",
            "s3://bob-staging-bucket",
            "--role",
            ROLE,
            "--source-key",
            "alias/alice-data",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a KMS key ARN"));
}

/// The ready verdict comes from the documents: without document 7, or with the
/// source key policy's region wrong, the doctor blocks.
#[test]
fn the_test_snapshot_is_sensitive_to_each_document() {
    let s = spec("s3://alice-data", None, DK);
    let text = snapshot(&s, "us-west-2");
    let mut v: Value = serde_json::from_str(&text).expect("JSON");
    let inline = &mut v["accounts"]["222222222222"]["roles"]["BobCopyRole"]["inline_policies"];
    inline
        .as_object_mut()
        .expect("object")
        .remove("xacct-use-source-key");
    let snap = load_str("no doc 7", &v.to_string()).expect("loads");
    let f = run_all(&snap);
    assert_eq!(Verdict::of(&f), Verdict::Blocked);
    assert!(
        f.iter()
            .any(|f| f.id == "XA007" && f.status == Status::Fail)
    );

    let wrong = text.replace("s3.us-west-2.amazonaws.com", "s3.us-east-1.amazonaws.com");
    let snap = load_str("wrong region", &wrong).expect("loads");
    let f = run_all(&snap);
    assert!(
        f.iter()
            .any(|f| f.id == "XA003" && f.status == Status::Fail)
    );
}
