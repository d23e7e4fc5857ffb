//! Faults between the live doctor and AWS: moto_server on 127.0.0.1 behind the
//! fault-injecting test proxy (tests/support/proxy.rs), never real AWS. One
//! test per fault — 503 SlowDown, 500, throttling, a connection reset, a hang
//! past the attempt timeouts, a cut-short body — each on one read or probe of
//! the walkthrough (fixed), which is `ready` without faults:
//!
//! - a fault the first time only: the SDK retries (the proxy counts the
//!   attempts) and the verdict is the fault-free one;
//! - a fault every time: after the retries the read is an `unreadable` marker
//!   naming the call and the error (a probe records the error), the checks
//!   that depend on it are `unknown`, no check is `pass` that was not `pass`
//!   without the fault, the exit code is 3 (inconclusive) and the message
//!   names the call and the error; the run ends within `--timeout`.

mod support;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::proxy::{Fault, Match, Plan, Proxy, Times};
use support::*;

/// Attempts per operation in these runs (the SDK's default).
const ATTEMPTS: usize = 3;
/// `--timeout` of every run here, and what a run may take beyond it (the
/// process starting, the report rendered).
const TIMEOUT: u64 = 20;
const SLACK: Duration = Duration::from_secs(3);

struct World {
    _moto: Moto,
    proxy: Proxy,
    fixture: Value,
    scratch: Scratch,
}

/// The walkthrough (fixed) in moto, provisioned directly; xacct goes through
/// the proxy.
fn world(tag: &str) -> World {
    let Provisioned {
        moto,
        fixture,
        scratch,
        ..
    } = provisioned("walkthrough-fixed.json", tag);
    let proxy = Proxy::start(moto.port, Plan::pass());
    World {
        _moto: moto,
        proxy,
        fixture,
        scratch,
    }
}

/// The source key's id as moto made it (it appears in KMS request bodies).
fn source_key_id(w: &World) -> String {
    w.fixture["accounts"][A]["keys"]
        .as_object()
        .and_then(|k| k.keys().next())
        .and_then(|arn| arn.rsplit('/').next())
        .expect("the source key")
        .to_string()
}

struct Run {
    out: Output,
    took: Duration,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn report(&self) -> Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|_| panic!("not a JSON report: {}", self.stderr()))
    }
    fn statuses(&self) -> BTreeMap<String, String> {
        self.report()["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["id"].as_str()?.to_string(),
                    c["status"].as_str()?.to_string(),
                ))
            })
            .collect()
    }
    fn check(&self, id: &str) -> Value {
        self.report()["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// One live run through the proxy: `doctor --format json`, or `snapshot`.
fn xacct_run(w: &World, args: &[&str]) -> Run {
    let start = Instant::now();
    let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
        .env("AWS_MAX_ATTEMPTS", ATTEMPTS.to_string())
        .args(args)
        .args(["--profile", "b", "--source-profile", "a"])
        .args(["--timeout", &TIMEOUT.to_string()])
        .args(copy_flags(&w.fixture))
        .output()
        .expect("xacct runs");
    let took = start.elapsed();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        took < Duration::from_secs(TIMEOUT) + SLACK,
        "the run took {took:?} (--timeout {TIMEOUT})"
    );
    Run { out, took }
}

fn doctor(w: &World) -> Run {
    xacct_run(w, &["doctor", "--format", "json"])
}

/// A live snapshot under the current plan, as JSON.
fn snapshot(w: &World) -> Value {
    let path = w.scratch.path("snap.json");
    let _ = std::fs::remove_file(&path);
    let p = path.to_str().expect("path").to_string();
    let r = xacct_run(w, &["snapshot", "-o", &p]);
    assert_eq!(r.out.status.code(), Some(0), "{}", r.stderr());
    serde_json::from_str(&std::fs::read_to_string(&path).expect("written")).expect("json")
}

/// Requests with this operation whose path (S3) or body (KMS, IAM) names `on`.
fn op_on(op: &'static str, on: String) -> Match {
    Match::custom(move |r| {
        r.operation == op
            && (r.target.contains(on.as_str()) || String::from_utf8_lossy(&r.body).contains(&on))
    })
}

/// Requests of `op` the proxy saw, and how many of them it faulted.
fn seen(w: &World, op: &str) -> (usize, usize) {
    let seen = w.proxy.seen();
    let all: Vec<_> = seen.iter().filter(|s| s.operation == op).collect();
    (all.len(), all.iter().filter(|s| s.fault.is_some()).count())
}

/// What every fault test checks, for one fault on one operation.
struct Case {
    tag: &'static str,
    fault: Fault,
    /// The proxy's operation name, and what its path or body names.
    op: &'static str,
    on: fn(&World) -> String,
    /// Checks that depend on the faulted read: `unknown` under the fault.
    dependent: &'static [&'static str],
    /// Where the snapshot records it: a JSON pointer to an unreadable
    /// marker, or a probe's call.
    recorded: Recorded,
    /// The error code recorded, or a part of it.
    error: &'static str,
    /// The attempts a retried fault takes (a hang fits fewer in its budget).
    min_attempts: usize,
}

enum Recorded {
    Marker(fn(&World) -> String),
    Probe(&'static str),
}

fn marker_at(snap: &Value, pointer: &str) -> Value {
    snap.pointer(pointer)
        .and_then(|v| v.get("unreadable"))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no unreadable marker at {pointer}: {}",
                snap.pointer(pointer).cloned().unwrap_or(Value::Null)
            )
        })
}

fn run_case(c: &Case) {
    let w = world(c.tag);
    let on = (c.on)(&w);
    // without faults: the walkthrough is ready
    let base = doctor(&w);
    assert_eq!(base.out.status.code(), Some(0), "{}", base.stderr());
    let base_st = base.statuses();
    let (calls, _) = seen(&w, c.op);
    assert!(calls >= 1, "{} was not sent at all", c.op);
    println!(
        "{}: {calls} call(s) of {} without faults, in {:?}",
        c.tag, c.op, base.took
    );

    // the fault the first time only: retried, the same verdict
    w.proxy.clear();
    w.proxy
        .set_plan(Plan::pass().fault(op_on(c.op, on.clone()), c.fault.clone(), Times::First(1)));
    let once = doctor(&w);
    assert_eq!(
        once.statuses(),
        base_st,
        "{}: a fault that went away on retry changed the report: {}",
        c.tag,
        once.stderr()
    );
    assert_eq!(once.out.status.code(), Some(0));
    assert_eq!(seen(&w, c.op), (calls + 1, 1), "{}: retried once", c.tag);

    // the fault every time: retried, then recorded
    w.proxy.clear();
    w.proxy
        .set_plan(Plan::pass().fault(op_on(c.op, on.clone()), c.fault.clone(), Times::Every));
    let faulted = doctor(&w);
    // one call (one object, one key, one policy) faulted: every attempt
    let (_, got) = seen(&w, c.op);
    println!(
        "{}: {got} attempt(s) of {} under the fault, in {:?}",
        c.tag, c.op, faulted.took
    );
    assert!(
        (c.min_attempts..=ATTEMPTS).contains(&got),
        "{}: {got} attempts",
        c.tag
    );
    let st = faulted.statuses();
    for (id, s) in &st {
        if s == "pass" {
            assert_eq!(
                base_st.get(id).map(String::as_str),
                Some("pass"),
                "{}: {id} passes only under the fault",
                c.tag
            );
        }
    }
    for id in c.dependent {
        assert_eq!(
            st.get(*id).map(String::as_str),
            Some("unknown"),
            "{}: {id} under the fault ({st:?}): {}",
            c.tag,
            faulted.check(id)
        );
        // the message says what happened: the call and the error
        let msg = faulted.check(id).to_string();
        assert!(
            msg.contains(c.error),
            "{}: {id} does not name {}: {msg}",
            c.tag,
            c.error
        );
    }
    assert_eq!(
        faulted.out.status.code(),
        Some(3),
        "{}: inconclusive: {st:?}",
        c.tag
    );
    assert_eq!(faulted.report()["verdict"], "inconclusive");

    // and the snapshot records it
    w.proxy.clear();
    let snap = snapshot(&w);
    match &c.recorded {
        Recorded::Marker(ptr) => {
            let m = marker_at(&snap, &ptr(&w));
            println!("{}: recorded {m}", c.tag);
            assert!(
                m["error"].as_str().is_some_and(|e| e.contains(c.error)),
                "{}: marker {m}",
                c.tag
            );
            assert_eq!(m["call"].as_str().map(|s| s.contains(':')), Some(true));
        }
        Recorded::Probe(call) => {
            let probes = snap["probes"].as_array().cloned().unwrap_or_default();
            let p = probes
                .iter()
                .find(|p| p["call"] == *call && p["outcome"].is_object())
                .unwrap_or_else(|| panic!("{}: no failed {call} probe: {probes:?}", c.tag));
            assert!(
                p["outcome"]["error"]
                    .as_str()
                    .is_some_and(|e| e.contains(c.error)),
                "{}: {p}",
                c.tag
            );
        }
    }
}

fn source_bucket(_: &World) -> String {
    "/alice-data".into()
}

fn destination_bucket(_: &World) -> String {
    "/bob-staging-bucket".into()
}

fn source_key(w: &World) -> String {
    source_key_id(w)
}

fn inline_policy(_: &World) -> String {
    "BobsCopyPolicy".into()
}

fn source_key_ptr(w: &World) -> String {
    let arn = w.fixture["accounts"][A]["keys"]
        .as_object()
        .and_then(|k| k.keys().next())
        .expect("key")
        .clone();
    format!("/accounts/{A}/keys/{}", arn.replace('/', "~1"))
}

#[test]
fn slow_down_503_on_the_source_bucket_policy() {
    run_case(&Case {
        tag: "fault-503",
        fault: Fault::SlowDown,
        op: "GetBucketPolicy",
        on: source_bucket,
        dependent: &["XA002"],
        recorded: Recorded::Marker(|_| format!("/accounts/{A}/buckets/alice-data/policy")),
        error: "SlowDown",
        min_attempts: ATTEMPTS,
    });
}

#[test]
fn internal_error_500_on_the_source_key_policy() {
    run_case(&Case {
        tag: "fault-500",
        fault: Fault::InternalError,
        op: "GetKeyPolicy",
        on: source_key,
        dependent: &["XA003"],
        recorded: Recorded::Marker(|w| format!("{}/policy", source_key_ptr(w))),
        error: "KMSInternalException",
        min_attempts: ATTEMPTS,
    });
}

#[test]
fn throttling_on_the_role_s_inline_policy() {
    run_case(&Case {
        tag: "fault-throttle",
        fault: Fault::Throttle,
        op: "GetRolePolicy",
        on: inline_policy,
        dependent: &["XA005", "XA006", "XA007"],
        recorded: Recorded::Marker(|_| {
            format!("/accounts/{B}/roles/Bobs_Data_Access_Role/inline_policies/BobsCopyPolicy")
        }),
        error: "Throttling",
        min_attempts: ATTEMPTS,
    });
}

#[test]
fn connection_reset_on_the_decrypt_test() {
    run_case(&Case {
        tag: "fault-reset",
        fault: Fault::Reset,
        op: "GetObject",
        on: source_bucket,
        dependent: &["XA014"],
        recorded: Recorded::Probe("s3:GetObject"),
        error: "NetworkError",
        min_attempts: ATTEMPTS,
    });
}

#[test]
fn a_hang_on_the_destination_encryption_ends_within_the_timeout() {
    run_case(&Case {
        tag: "fault-hang",
        fault: Fault::Hang,
        op: "GetBucketEncryption",
        on: destination_bucket,
        dependent: &["XA010"],
        recorded: Recorded::Marker(|_| {
            format!("/accounts/{B}/buckets/bob-staging-bucket/encryption")
        }),
        error: "Timeout",
        // each attempt waits out its timeout: two fit in the operation's share
        min_attempts: 2,
    });
}

#[test]
fn a_truncated_body_on_the_source_key_description() {
    run_case(&Case {
        tag: "fault-truncate",
        fault: Fault::Truncate,
        op: "DescribeKey",
        on: source_key,
        dependent: &["XA003", "XA009"],
        recorded: Recorded::Marker(source_key_ptr),
        error: "IncompleteResponse",
        min_attempts: ATTEMPTS,
    });
}

fn copy_role(_: &World) -> String {
    "Bobs_Data_Access_Role".into()
}

/// Not one of the six faults, but the one that silently removed every probe:
/// AssumeRole failing with a 500 after its retries is a probe that could not
/// be made, not a run without probes.
#[test]
fn internal_error_on_assume_role_leaves_the_probes_owed() {
    run_case(&Case {
        tag: "fault-assume-role",
        fault: Fault::InternalError,
        op: "AssumeRole",
        on: copy_role,
        dependent: &["XA014"],
        recorded: Recorded::Probe("sts:AssumeRole"),
        error: "InternalFailure",
        min_attempts: ATTEMPTS,
    });
}
