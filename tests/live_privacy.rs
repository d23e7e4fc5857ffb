//! Secrets and privacy, live (moto_server on 127.0.0.1 behind the test proxy,
//! never real AWS): the test credentials never appear in any output, file or
//! log — in every mode (doctor in every format and its HTML file, snapshot,
//! --probe-writes, --redact, runs that meet faults, runs that fail) — no
//! object data is printed or stored (the decrypt test's byte included), and a
//! redacted live snapshot gives the verdict of the unredacted one without the
//! names.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use support::proxy::{Fault, Match, Plan, Proxy, Times};
use support::*;

struct World {
    _moto: Moto,
    proxy: Proxy,
    creds: BTreeMap<String, Creds>,
    fixture: Value,
    scratch: Scratch,
}

fn world(tag: &str) -> World {
    let Provisioned {
        moto,
        creds,
        fixture,
        scratch,
    } = provisioned("walkthrough-fixed.json", tag);
    let proxy = Proxy::start(moto.port, Plan::pass());
    World {
        _moto: moto,
        proxy,
        creds,
        fixture,
        scratch,
    }
}

/// Everything secret the tests hold: the bootstrap and both accounts'
/// credentials (key ids, secrets, session tokens).
fn secrets(w: &World) -> Vec<String> {
    let mut out = vec![BOOT_KEY.to_string(), BOOT_SECRET.to_string()];
    for c in w.creds.values() {
        out.push(c.key.clone());
        out.push(c.secret.clone());
        out.extend(c.token.clone());
    }
    out
}

/// An access key id of any identity (the role's session keys are never seen
/// by the test, so look for their shape).
fn access_key_ids(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() == 20
                && (w.starts_with("AKIA") || w.starts_with("ASIA"))
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}

/// The provisioned objects' bytes (tests/support writes them), as text, hex
/// and base64: the decrypt test's first byte comes from here.
const PAYLOAD: [&str; 4] = [
    "XACCT-OBJECT-PAYLOAD",
    "XACCT-OBJ",
    "5841434354",
    "WEFDQ1Qt",
];

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} holds a credential");
    }
    let keys = access_key_ids(text);
    assert!(keys.is_empty(), "{what} holds access key ids: {keys:?}");
    for p in PAYLOAD {
        assert!(!text.contains(p), "{what} holds object data ({p})");
    }
    assert!(!text.contains("panicked"), "{what}: a panic");
}

#[test]
fn no_credential_or_object_byte_in_any_output_file_or_log() {
    let w = world("privacy");
    let log = w.scratch.path("ops.log");
    let html = w.scratch.path("report.html");
    let snap = w.scratch.path("snap.json");
    let red = w.scratch.path("redacted.json");
    let p = |b: &PathBuf| b.to_str().expect("path").to_string();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let live = ["--profile", "b", "--source-profile", "a"];
    let mut runs: Vec<Vec<String>> = Vec::new();
    for format in [
        "table", "json", "sarif", "junit", "markdown", "mermaid", "dot",
    ] {
        runs.push(
            [
                "doctor",
                "--probe-writes",
                "--format",
                format,
                "--html",
                &p(&html),
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    runs.push(
        ["doctor", "--no-probes", "--census"]
            .map(String::from)
            .to_vec(),
    );
    runs.push(
        ["snapshot", "--probe-writes", "--census", "-o", &p(&snap)]
            .map(String::from)
            .to_vec(),
    );
    runs.push(
        ["snapshot", "--redact", "-o", &p(&red)]
            .map(String::from)
            .to_vec(),
    );
    let mut files: Vec<PathBuf> = vec![html.clone(), snap.clone(), red.clone()];
    for (i, args) in runs.iter().enumerate() {
        let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
            .env("XACCT_OPERATION_LOG", &log)
            .args(args)
            .args(live)
            .args(copy_flags(&w.fixture))
            .output()
            .expect("xacct runs");
        let (o, e) = text(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{args:?}: {o}{e}"
        );
        outputs.push((format!("run {i} {args:?} stdout"), o));
        outputs.push((format!("run {i} {args:?} stderr"), e));
        if args[0] == "doctor" && args.contains(&"--html".to_string()) {
            let h = std::fs::read_to_string(&html).expect("html written");
            outputs.push((format!("run {i} html"), h));
        }
    }

    // runs that meet faults: the errors AWS and the network give are quoted
    w.proxy.set_plan(
        Plan::pass()
            .fault(Match::operation("GetObject"), Fault::Reset, Times::Every)
            .fault(
                Match::operation("DescribeKey"),
                Fault::Truncate,
                Times::Every,
            )
            .fault(
                Match::operation("GetBucketPolicy"),
                Fault::InternalError,
                Times::Every,
            )
            .fault(
                Match::operation("GetRolePolicy"),
                Fault::Throttle,
                Times::Every,
            )
            .fault(
                Match::operation("CreateMultipartUpload"),
                Fault::Status(403, "AccessDenied".into()),
                Times::Every,
            ),
    );
    let faulted_snap = w.scratch.path("faulted.json");
    files.push(faulted_snap.clone());
    for args in [
        vec![
            "doctor".to_string(),
            "--probe-writes".into(),
            "--format".into(),
            "json".into(),
        ],
        vec!["doctor".to_string(), "--probe-writes".into()],
        vec![
            "snapshot".to_string(),
            "--probe-writes".into(),
            "-o".into(),
            p(&faulted_snap),
        ],
    ] {
        let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
            .env("XACCT_OPERATION_LOG", &log)
            .env("AWS_MAX_ATTEMPTS", "1")
            .args(&args)
            .args(live)
            .args(copy_flags(&w.fixture))
            .output()
            .expect("xacct runs");
        let (o, e) = text(&out);
        outputs.push((format!("faulted {args:?} stdout"), o));
        outputs.push((format!("faulted {args:?} stderr"), e));
    }
    w.proxy.set_plan(Plan::pass());

    // runs that fail: the wrong account, an unreachable endpoint, a hang, bad
    // flags, and credentials from the environment instead of a profile
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut failing: Vec<std::process::Command> = Vec::new();
    let mut c = xacct(Some(&w.proxy.endpoint), &w.scratch);
    c.args(["doctor", "--profile", "a"])
        .args(copy_flags(&w.fixture));
    failing.push(c);
    let mut c = xacct(Some(&format!("http://127.0.0.1:{closed}")), &w.scratch);
    c.env("AWS_MAX_ATTEMPTS", "1")
        .args(["doctor", "--profile", "b"])
        .args(copy_flags(&w.fixture));
    failing.push(c);
    let mut c = xacct(Some(&w.proxy.endpoint), &w.scratch);
    c.args([
        "doctor",
        "--profile",
        "b",
        "--role-arn",
        "arn:aws:iam::222222222222:role/*",
        "--source",
        "s3://x",
    ]);
    failing.push(c);
    let mut c = xacct(Some(&w.proxy.endpoint), &w.scratch);
    c.env("AWS_ACCESS_KEY_ID", &w.creds[B].key)
        .env("AWS_SECRET_ACCESS_KEY", &w.creds[B].secret)
        .env(
            "AWS_SESSION_TOKEN",
            w.creds[B].token.clone().unwrap_or_default(),
        )
        .env("AWS_REGION", REGION)
        .env("XACCT_OPERATION_LOG", &log)
        .args(["doctor", "--probe-writes"])
        .args(copy_flags(&w.fixture));
    failing.push(c);
    for mut c in failing {
        let out = c.output().expect("xacct runs");
        let (o, e) = text(&out);
        outputs.push((format!("{c:?} stdout"), o));
        outputs.push((format!("{c:?} stderr"), e));
    }
    // a hang on the first call: the run gives up, and says so without secrets
    w.proxy
        .set_plan(Plan::pass().fault(Match::any(), Fault::Hang, Times::Every));
    let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
        .args(["doctor", "--timeout", "2"])
        .args(live)
        .args(copy_flags(&w.fixture))
        .output()
        .expect("xacct runs");
    assert_eq!(out.status.code(), Some(4));
    let (o, e) = text(&out);
    outputs.push(("hang stdout".into(), o));
    outputs.push(("hang stderr".into(), e));

    for f in &files {
        outputs.push((
            f.display().to_string(),
            std::fs::read_to_string(f).unwrap_or_else(|_| panic!("{} written", f.display())),
        ));
    }
    let ops = std::fs::read_to_string(&log).expect("operation log");
    assert!(ops.lines().count() > 50, "{ops}");
    outputs.push(("operation log".into(), ops));

    let secrets = secrets(&w);
    for (what, text) in &outputs {
        assert_clean(what, text, &secrets);
    }
    println!("{} outputs, files and logs checked", outputs.len());

    // the decrypt test is recorded as a call and its outcome, nothing more
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).expect("snapshot")).expect("json");
    let probes = v["probes"].as_array().expect("probes");
    let ranged: Vec<&Value> = probes
        .iter()
        .filter(|p| {
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("bytes=0-0"))
        })
        .collect();
    assert!(!ranged.is_empty(), "a decrypt test was made");
    for p in ranged {
        assert_eq!(p["outcome"], "ok", "{p}");
        let keys: Vec<&String> = p
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["as", "call", "target", "detail", "outcome"], "{p}");
    }
    // no field of any object holds content: only what HeadObject tells
    for (_, o) in v["accounts"][A]["buckets"]["alice-data"]["objects"]
        .as_object()
        .expect("objects")
    {
        for k in o.as_object().expect("object").keys() {
            assert!(
                [
                    "size",
                    "encryption",
                    "owner",
                    "storage_class",
                    "restore",
                    "archive_status"
                ]
                .contains(&k.as_str()),
                "an object field {k}: {o}"
            );
        }
    }
}

fn statuses(out: &std::process::Output) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_slice(&out.stdout).expect("json report");
    v["checks"]
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

#[test]
fn a_redacted_live_snapshot_keeps_the_verdict_and_drops_the_names() {
    for fixture_name in ["walkthrough-fixed.json", "walkthrough-as-published.json"] {
        let w = {
            let moto = Moto::start();
            let rt = runtime();
            let (creds, fixture) = rt.block_on(async {
                let mut creds = BTreeMap::new();
                creds.insert(A.to_string(), account_creds(&moto.endpoint, A).await);
                creds.insert(B.to_string(), account_creds(&moto.endpoint, B).await);
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("fixtures")
                    .join(fixture_name);
                let f: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture"))
                        .expect("json");
                let f = provision(&moto.endpoint, &f, &creds).await;
                (creds, f)
            });
            let scratch = Scratch::new("redact");
            scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);
            let proxy = Proxy::start(moto.port, Plan::pass());
            World {
                _moto: moto,
                proxy,
                creds,
                fixture,
                scratch,
            }
        };
        let plain = w.scratch.path("plain.json");
        let red = w.scratch.path("red.json");
        let offline = w.scratch.path("offline-red.json");
        for (out_file, redact) in [(&plain, false), (&red, true)] {
            let mut c = xacct(Some(&w.proxy.endpoint), &w.scratch);
            c.args(["snapshot", "--profile", "b", "--source-profile", "a", "-o"])
                .arg(out_file)
                .args(copy_flags(&w.fixture));
            if redact {
                c.arg("--redact");
            }
            let out = c.output().expect("xacct runs");
            let (o, e) = text(&out);
            assert_eq!(out.status.code(), Some(0), "{o}{e}");
            if redact {
                // the notes on stderr are the redacted snapshot's
                for name in ["alice-data", "bob-staging-bucket", A, B] {
                    assert!(!e.contains(name), "stderr names {name}: {e}");
                }
            }
        }
        // and the offline way, from the unredacted file
        let out = xacct(None, &w.scratch)
            .args(["snapshot", "--redact", "--from"])
            .arg(&plain)
            .arg("-o")
            .arg(&offline)
            .output()
            .expect("xacct runs");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);

        let doctor = |f: &PathBuf| {
            xacct(None, &w.scratch)
                .args(["doctor", "--format", "json", "--snapshot"])
                .arg(f)
                .output()
                .expect("xacct runs")
        };
        let base = doctor(&plain);
        for f in [&red, &offline] {
            let out = doctor(f);
            assert_eq!(
                out.status.code(),
                base.status.code(),
                "{fixture_name}: exit code"
            );
            assert_eq!(
                statuses(&out),
                statuses(&base),
                "{fixture_name}: {}",
                f.display()
            );
            let t = std::fs::read_to_string(f).expect("written");
            let mut names: Vec<String> = vec![
                A.into(),
                B.into(),
                "alice-data".into(),
                "bob-staging-bucket".into(),
                "Bobs_Data_Access_Role".into(),
                "BobsCopyPolicy".into(),
                "data/2024/01/orders.csv".into(),
            ];
            // the key ids moto made
            for acct in [A, B] {
                for arn in w.fixture["accounts"][acct]["keys"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    names.push(arn.rsplit('/').next().unwrap_or(arn).to_string());
                }
            }
            for n in &names {
                assert!(
                    !t.contains(n.as_str()),
                    "{fixture_name}: {} holds {n}",
                    f.display()
                );
            }
            assert_clean(&f.display().to_string(), &t, &secrets(&w));
        }
        println!("{fixture_name}: {:?}", statuses(&base));
    }
}
