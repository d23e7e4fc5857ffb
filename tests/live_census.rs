//! `--census` against a local AWS (moto_server on 127.0.0.1, never real AWS):
//! 1,150 objects under the prefix (two listing pages) with two KMS keys,
//! SSE-S3 and no encryption, four storage classes, and objects of another
//! owner (moto gives every object one owner: the test proxy rewrites the
//! listing for those), plus objects outside the prefix that must not count.
//! Speed is measured in benches/live.rs, not here.

mod support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::proxy::{Fault, Match, Plan, Proxy, Rewrite, Times};
use support::*;

const SRC: &str = "census-source";
const DST: &str = "census-destination";
const ROLE: &str = "CensusCopy";
/// The owner id moto puts on every listed object.
const MOTO_OWNER: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
const OTHER_OWNER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Objects of `mix/foreign-` are listed with another owner id.
fn foreign_owner(body: &str) -> String {
    body.split("<Contents>")
        .enumerate()
        .map(|(i, part)| {
            if i > 0 && part.contains("<Key>mix/foreign-") {
                format!("<Contents>{}", part.replace(MOTO_OWNER, OTHER_OWNER))
            } else if i > 0 {
                format!("<Contents>{part}")
            } else {
                part.to_string()
            }
        })
        .collect()
}

struct World {
    moto: Moto,
    proxy: Proxy,
    scratch: Scratch,
    k1: String,
    k2: String,
}

fn world() -> World {
    let moto = Moto::start_bulk();
    let rt = runtime();
    let (creds, k1, k2) = rt.block_on(async {
        let mut creds = BTreeMap::new();
        creds.insert(A.to_string(), account_creds(&moto.endpoint, A).await);
        creds.insert(B.to_string(), account_creds(&moto.endpoint, B).await);
        let a = config(&moto.endpoint, &creds[A]);
        let b = config(&moto.endpoint, &creds[B]);
        census_buckets_and_role(&a, &b, SRC, DST, ROLE).await;
        let kms = aws_sdk_kms::Client::new(&a);
        let mut keys = Vec::new();
        for _ in 0..2 {
            keys.push(
                kms.create_key()
                    .send()
                    .await
                    .expect("CreateKey")
                    .key_metadata()
                    .and_then(|m| m.arn())
                    .expect("a key ARN")
                    .to_string(),
            );
        }
        (creds, keys[0].clone(), keys[1].clone())
    });
    let bulk = |prefix: &str, count: usize, kinds: Value| {
        moto.bulk_objects(A, SRC, prefix, count, kinds);
    };
    bulk(
        "mix/k1-",
        570,
        json!([{"encryption": "aws:kms", "kms_key": k1}]),
    );
    bulk(
        "mix/foreign-",
        30,
        json!([{"encryption": "aws:kms", "kms_key": k1}]),
    );
    bulk(
        "mix/k2-",
        250,
        json!([
            {"encryption": "aws:kms", "kms_key": k2, "bucket_key": true, "storage": "STANDARD_IA"},
            {"encryption": "aws:kms", "kms_key": k2, "bucket_key": true, "storage": "GLACIER"},
        ]),
    );
    bulk(
        "mix/s3-",
        240,
        json!([
            {"encryption": "AES256"},
            {"encryption": "AES256", "storage": "DEEP_ARCHIVE"},
        ]),
    );
    bulk("mix/plain-", 60, json!([{}]));
    bulk("other/", 25, json!([{"encryption": "AES256"}]));

    let plan = Plan::pass().fault(
        Match::operation("ListObjectsV2"),
        Fault::Rewrite(Rewrite::new(foreign_owner)),
        Times::Every,
    );
    let proxy = Proxy::start(moto.port, plan);
    let scratch = Scratch::new("census");
    scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);
    World {
        moto,
        proxy,
        scratch,
        k1,
        k2,
    }
}

fn flags() -> Vec<String> {
    [
        "--profile",
        "b",
        "--source-profile",
        "a",
        "--census",
        "--concurrency",
        "16",
        "--sample",
        "3",
        "--source",
        "s3://census-source/mix/",
        "--destination",
        "s3://census-destination",
        "--role-arn",
        "arn:aws:iam::222222222222:role/CensusCopy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn the_census_counts_every_object_under_the_prefix() {
    let w = world();
    let snap = w.scratch.path("snap.json");
    let log = w.scratch.path("ops.log");
    let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
        .env("XACCT_OPERATION_LOG", &log)
        .arg("snapshot")
        .args(flags())
        .arg("-o")
        .arg(&snap)
        .output()
        .expect("xacct runs");
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    // no terminal: no progress bar, not a byte of it
    assert!(
        !err.contains('\r') && !err.contains("ETA") && !err.contains("objects"),
        "progress written without a terminal: {err:?}"
    );

    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).expect("written")).expect("json");
    let bucket = &v["accounts"][A]["buckets"][SRC];
    let c = &bucket["census"];
    assert_eq!(c["objects"], 1_150, "{c:#}");
    let k1 = format!("aws:kms {}", w.k1);
    let k2 = format!("aws:kms {}", w.k2);
    assert_eq!(
        c["by_encryption"],
        json!({ k1.as_str(): 600, k2.as_str(): 250, "AES256": 240, "none": 60 }),
    );
    assert_eq!(
        c["by_storage_class"],
        json!({"STANDARD": 780, "STANDARD_IA": 125, "GLACIER": 125, "DEEP_ARCHIVE": 120}),
    );
    assert_eq!(c["foreign_owned"], 30);
    // up to three examples per category, each really of that category
    let examples = |kind: &str| -> Vec<String> {
        c["examples"][kind]
            .as_array()
            .unwrap_or_else(|| panic!("no examples for {kind}: {c:#}"))
            .iter()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect()
    };
    for (kind, prefixes) in [
        (k1.as_str(), &["mix/k1-", "mix/foreign-"][..]),
        (k2.as_str(), &["mix/k2-"][..]),
        ("AES256", &["mix/s3-"][..]),
        ("none", &["mix/plain-"][..]),
        ("GLACIER", &["mix/k2-"][..]),
        ("DEEP_ARCHIVE", &["mix/s3-"][..]),
        ("STANDARD_IA", &["mix/k2-"][..]),
        ("foreign_owned", &["mix/foreign-"][..]),
    ] {
        let ex = examples(kind);
        assert_eq!(ex.len(), 3, "{kind}: {ex:?}");
        assert!(
            ex.iter().all(|k| prefixes.iter().any(|p| k.starts_with(p))),
            "{kind}: {ex:?}"
        );
    }
    // the sample: the first three keys listed, beside the census
    let sampled: Vec<&String> = bucket["objects"]
        .as_object()
        .expect("sampled objects")
        .keys()
        .collect();
    assert_eq!(
        sampled,
        vec![
            "mix/foreign-0000000",
            "mix/foreign-0000001",
            "mix/foreign-0000002"
        ]
    );

    // two listing pages, one HeadObject per object
    let ops = std::fs::read_to_string(&log).unwrap_or_default();
    // lines are `service:Operation<TAB>identity`
    let count = |op: &str| {
        ops.lines()
            .filter(|l| {
                l.split('\t')
                    .next()
                    .is_some_and(|o| o.eq_ignore_ascii_case(op))
            })
            .count()
    };
    assert_eq!(count("s3:ListObjectsV2"), 2, "{ops}");
    assert_eq!(count("s3:HeadObject"), 1_150);
    assert!(
        heads_in_flight(&w.proxy.seen()) <= 16,
        "--concurrency bounds the HeadObject calls in flight"
    );
    drop(w.moto);
}

/// The most HeadObject calls the proxy had in flight at once.
fn heads_in_flight(seen: &[support::proxy::Seen]) -> usize {
    let mut events: Vec<(std::time::Duration, i32)> = Vec::new();
    for s in seen.iter().filter(|s| s.operation == "HeadObject") {
        events.push((s.start, 1));
        events.push((s.start + s.round_trip, -1));
    }
    // an answer before a request at the same instant
    events.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn the_checks_name_example_keys_from_the_census() {
    let w = world();
    let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
        .args(["doctor", "--format", "json"])
        .args(flags())
        .output()
        .expect("xacct runs");
    let (stdout, err) = text(&out);
    assert!(!err.contains('\r'), "progress written without a terminal");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("not JSON: {err}"));
    let check = |id: &str| -> String {
        report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["id"] == id)
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    // the examples are the first keys listed in each category
    assert!(
        check("XA011").contains("mix/foreign-0000000"),
        "{}",
        check("XA011")
    );
    // XA015: the archived objects, by example
    assert!(
        check("XA015").contains("mix/k2-0000001"),
        "{}",
        check("XA015")
    );
    // XA008: the SSE-S3 objects, by example
    assert!(
        check("XA008").contains("mix/s3-0000000"),
        "{}",
        check("XA008")
    );
}

/// S3 answers SlowDown to the first 60 HeadObject requests: more than the
/// SDK's own retries absorb (the tests run with AWS_MAX_ATTEMPTS=2, so the
/// first 16 objects in flight use up both attempts on the first 32). The
/// census slows down, tries those objects again, counts every one of them
/// with its real encryption, and says it was throttled.
#[test]
fn a_throttled_census_slows_down_and_still_counts_every_object() {
    let w = world();
    w.proxy.set_plan(Plan::pass().fault(
        Match::operation("HeadObject"),
        Fault::SlowDown,
        Times::First(60),
    ));
    let snap = w.scratch.path("snap.json");
    let out = xacct(Some(&w.proxy.endpoint), &w.scratch)
        .arg("snapshot")
        .args(flags())
        .arg("-o")
        .arg(&snap)
        .output()
        .expect("xacct runs");
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let slowed = w
        .proxy
        .seen()
        .iter()
        .filter(|s| s.operation == "HeadObject" && s.status == Some(503))
        .count();
    assert_eq!(slowed, 60, "the proxy throttled 60 HeadObject requests");

    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).expect("written")).expect("json");
    let c = &v["accounts"][A]["buckets"][SRC]["census"];
    assert_eq!(c["objects"], 1_150, "{c:#}");
    let k1 = format!("aws:kms {}", w.k1);
    let k2 = format!("aws:kms {}", w.k2);
    assert_eq!(
        c["by_encryption"],
        json!({ k1.as_str(): 600, k2.as_str(): 250, "AES256": 240, "none": 60 }),
        "no object left unreadable by throttling"
    );
    assert!(
        err.contains("note: S3 throttled the census") && err.contains("slowed down"),
        "xacct says the census was throttled: {err}"
    );
    drop(w.moto);
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), the census
/// draws its progress bar on standard error: objects done out of listed, the
/// rate and the time left.
#[test]
fn on_a_terminal_the_census_shows_its_progress() {
    let w = world();
    let snap = w.scratch.path("snap.json");
    let base = xacct(Some(&w.proxy.endpoint), &w.scratch);
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = vec![quote(&base.get_program().to_string_lossy())];
    line.push("snapshot".into());
    line.extend(flags().iter().map(|f| quote(f)));
    line.push("-o".into());
    line.push(quote(&snap.to_string_lossy()));
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &line.join(" "), "/dev/null"]);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .output()
        .expect("util-linux `script` runs (apt-get install bsdutils)");
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("census") && all.contains("ETA") && all.contains("/1150"),
        "no progress bar on a terminal: {all:?}"
    );
    assert!(snap.exists(), "the snapshot is written");
    drop(w.moto);
}
