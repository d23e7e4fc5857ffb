//! Live benchmarks against moto_server on 127.0.0.1 behind the latency proxy
//! (tests/support/proxy.rs); nothing reaches AWS.
//!
//! (c) `doctor`: the live doctor's wall time on the walkthrough, against the
//!     sum of its calls' round trips, at 0 and 100 ms added per round trip.
//!     Target: under 6 round trips (0.7 s) at 100 ms.
//! (d) `census`: `--census` objects per second against the bound
//!     concurrency / round trip at 50 ms added, moto's own ceiling (no added
//!     latency), the proxy-only ceiling (HeadObject answered by the proxy),
//!     and the peak RSS of xacct at 10k and 100k objects.
//!     Target: 80% of the bound at concurrency 64; RSS under 64 MiB.
//!
//! Run: `cargo bench --bench live` (both), `cargo bench --bench live -- doctor`
//! or `-- census`. Knobs: XACCT_BENCH_RUNS (doctor runs, default 7),
//! XACCT_BENCH_OBJECTS (default 10000,100000), XACCT_BENCH_CONCURRENCY
//! (default 16,32,64,128). Needs moto_server on PATH (./scripts/test sets up
//! .venv) and /usr/bin/time for the RSS figures. Results: stdout, and
//! target/bench-results/live-*.json.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::proxy::{Fault, Match, Plan, Proxy, Seen, Times};
use support::*;

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| f == name);
    if support_missing() {
        eprintln!("live benches skipped: moto_server is not on PATH (see benches/live.rs)");
        return;
    }
    let mut results = BTreeMap::new();
    if wants("doctor") {
        results.insert("doctor", bench_doctor());
    }
    if wants("census") {
        results.insert("census", bench_census());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    for (name, v) in results {
        let path = dir.join(format!("live-{name}.json"));
        if std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap_or_default()).is_ok() {
            println!("wrote {}", path.display());
        }
    }
}

fn support_missing() -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return true;
    };
    !std::env::split_paths(&path).any(|d| d.join("moto_server").is_file())
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

/// One run of the xacct binary: wall time, exit code, output, peak RSS.
struct Run {
    wall: Duration,
    code: Option<i32>,
    stderr: String,
    max_rss_kib: Option<u64>,
}

const TIME: &str = "/usr/bin/time";

/// Run `xacct ARGS` against `endpoint` (under /usr/bin/time for the RSS).
fn run_xacct(
    endpoint: &str,
    scratch: &Scratch,
    args: &[String],
    rss: bool,
    log: Option<&Path>,
) -> Run {
    let rss = rss && Path::new(TIME).is_file();
    let rss_file = scratch.path("rss.txt");
    let mut cmd = if rss {
        let mut c = Command::new(TIME);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file);
        c.arg(env!("CARGO_BIN_EXE_xacct"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_xacct"))
    };
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str()
            && k.starts_with("AWS_")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_SHARED_CREDENTIALS_FILE", scratch.path("credentials"))
        .env("AWS_CONFIG_FILE", scratch.path("config"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("NO_COLOR", "1")
        .env_remove("XACCT_OPERATION_LOG");
    if let Some(l) = log {
        let _ = std::fs::remove_file(l);
        cmd.env("XACCT_OPERATION_LOG", l);
    }
    cmd.args(args);
    let start = Instant::now();
    let out = cmd.output().expect("xacct runs");
    let wall = start.elapsed();
    let max_rss_kib = rss
        .then(|| std::fs::read_to_string(&rss_file).ok())
        .flatten()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()));
    Run {
        wall,
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        max_rss_kib,
    }
}

/// The most calls that ran one after another (each sent after the previous
/// one's answer): the run's critical path, in round trips.
fn sequential_calls(seen: &[Seen]) -> usize {
    let mut calls: Vec<(Duration, Duration)> = seen
        .iter()
        .map(|s| (s.start, s.start + s.round_trip))
        .collect();
    calls.sort_by_key(|c| c.1);
    let mut depth = vec![1usize; calls.len()];
    for j in 0..calls.len() {
        for i in 0..j {
            if calls[i].1 <= calls[j].0 {
                depth[j] = depth[j].max(depth[i] + 1);
            }
        }
    }
    depth.into_iter().max().unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn two_accounts(rt: &tokio::runtime::Runtime, moto: &Moto) -> BTreeMap<String, Creds> {
    rt.block_on(async {
        let mut creds = BTreeMap::new();
        creds.insert(A.to_string(), account_creds(&moto.endpoint, A).await);
        creds.insert(B.to_string(), account_creds(&moto.endpoint, B).await);
        creds
    })
}

// ---------------------------------------------------------------- (c) doctor

fn bench_doctor() -> Value {
    let runs = env_list("XACCT_BENCH_RUNS", &[7])[0].max(1);
    let moto = Moto::start();
    let rt = runtime();
    let creds = two_accounts(&rt, &moto);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/walkthrough-fixed.json");
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json");
    let fixture = rt.block_on(provision(&moto.endpoint, &fixture, &creds));
    let scratch = Scratch::new("bench-doctor");
    scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);
    let mut args: Vec<String> = [
        "doctor",
        "--format",
        "json",
        "--profile",
        "b",
        "--source-profile",
        "a",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(copy_flags(&fixture));
    let proxy = Proxy::start(moto.port, Plan::pass());
    let log = scratch.path("ops.log");

    println!("\n(c) live doctor on the walkthrough, {runs} runs per row (median, min–max)\n");
    println!(
        "| added per round trip | wall time | calls | sum of the calls' round trips | calls in sequence | wall / round trip | calls' time / wall |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for added in [0u64, 100] {
        proxy.set_plan(Plan::latency(Duration::from_millis(added)));
        // one run to warm moto's lazily built backends
        run_xacct(&proxy.endpoint, &scratch, &args, false, None);
        let mut walls = Vec::new();
        let mut sums = Vec::new();
        let mut calls = Vec::new();
        let mut logged = Vec::new();
        let mut depths = Vec::new();
        for _ in 0..runs {
            proxy.clear();
            let r = run_xacct(&proxy.endpoint, &scratch, &args, false, Some(&log));
            assert!(
                matches!(r.code, Some(0..=1)),
                "the doctor failed: {}",
                r.stderr
            );
            let seen = proxy.seen();
            walls.push(ms(r.wall));
            sums.push(ms(seen.iter().map(|s| s.round_trip).sum()));
            calls.push(seen.len() as f64);
            depths.push(sequential_calls(&seen) as f64);
            logged.push(
                std::fs::read_to_string(&log)
                    .map(|t| t.lines().count())
                    .unwrap_or(0) as f64,
            );
        }
        let (wall, lo, hi) = (
            median(walls.clone()),
            walls.iter().cloned().fold(f64::INFINITY, f64::min),
            walls.iter().cloned().fold(0.0, f64::max),
        );
        let sum = median(sums);
        let n = median(calls);
        let per_rt = if added > 0 {
            format!("{:.2}", wall / added as f64)
        } else {
            "–".into()
        };
        let depth = median(depths);
        println!(
            "| {added} ms | {wall:.0} ms ({lo:.0}–{hi:.0}) | {n:.0} (operation log: {:.0}) | {sum:.0} ms | {depth:.0} | {per_rt} | {:.1}× |",
            median(logged),
            sum / wall
        );
        rows.push(json!({
            "added_ms": added, "runs": runs,
            "wall_ms_median": wall, "wall_ms_min": lo, "wall_ms_max": hi,
            "calls": n, "sum_of_round_trips_ms": sum, "calls_in_sequence": depth,
            "wall_in_round_trips": if added > 0 { Some(wall / added as f64) } else { None },
        }));
    }
    let at100 = rows
        .iter()
        .find(|r| r["added_ms"] == 100)
        .and_then(|r| r["wall_ms_median"].as_f64())
        .unwrap_or(f64::NAN);
    println!(
        "\ntarget: under 6 round trips (700 ms) at 100 ms: {} ({at100:.0} ms)",
        if at100 < 700.0 { "met" } else { "NOT met" }
    );
    json!({ "rows": rows, "target_met": at100 < 700.0 })
}

// ---------------------------------------------------------------- (d) census

const SRC: &str = "bench-census-source";
const DST: &str = "bench-census-destination";
const ROLE: &str = "BenchCopy";

/// Buckets, a KMS key and the role; returns the key's ARN.
fn census_world(
    rt: &tokio::runtime::Runtime,
    moto: &Moto,
    creds: &BTreeMap<String, Creds>,
) -> String {
    rt.block_on(async {
        let a = config(&moto.endpoint, &creds[A]);
        let b = config(&moto.endpoint, &creds[B]);
        census_buckets_and_role(&a, &b, SRC, DST, ROLE).await;
        aws_sdk_kms::Client::new(&a)
            .create_key()
            .description("bench census key")
            .send()
            .await
            .expect("CreateKey")
            .key_metadata()
            .and_then(|m| m.arn())
            .expect("key ARN")
            .to_string()
    })
}

/// Create `count` objects under `prefix` inside moto (tests/support/moto_bulk.py):
/// mostly under the KMS key, some SSE-S3, some archived, like a real bucket.
fn bulk_objects(moto: &Moto, prefix: &str, count: usize, key_arn: &str) -> f64 {
    let kinds = json!([
        {"encryption": "aws:kms", "kms_key": key_arn},
        {"encryption": "aws:kms", "kms_key": key_arn, "bucket_key": true},
        {"encryption": "aws:kms", "kms_key": key_arn, "storage": "STANDARD_IA"},
        {"encryption": "AES256"},
        {"encryption": "aws:kms", "kms_key": key_arn, "storage": "GLACIER"},
    ]);
    moto.bulk_objects(A, SRC, prefix, count, kinds)
}

/// The census's own rate, from the proxy's view of the HeadObject calls:
/// objects / (last answer - first request).
fn head_rate(seen: &[Seen]) -> (usize, f64) {
    let heads: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.operation == "HeadObject")
        .collect();
    let first = heads.iter().map(|s| s.start).min().unwrap_or_default();
    let last = heads
        .iter()
        .map(|s| s.start + s.round_trip)
        .max()
        .unwrap_or_default();
    let secs = last.saturating_sub(first).as_secs_f64();
    (
        heads.len(),
        if secs > 0.0 {
            heads.len() as f64 / secs
        } else {
            f64::NAN
        },
    )
}

struct CensusRun {
    objects: u64,
    heads: usize,
    rate: f64,
    wall: Duration,
    max_rss_kib: Option<u64>,
    max_in_flight: usize,
}

fn census_args(prefix: &str, concurrency: usize, out: &Path) -> Vec<String> {
    let mut v: Vec<String> = [
        "snapshot",
        "--census",
        "--timeout",
        "3600",
        "--profile",
        "b",
        "--source-profile",
        "a",
        "--source",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("s3://{SRC}/{prefix}"));
    v.extend([
        "--destination".to_string(),
        format!("s3://{DST}"),
        "--role-arn".to_string(),
        format!("arn:aws:iam::{B}:role/{ROLE}"),
        "--concurrency".to_string(),
        concurrency.to_string(),
        "-o".to_string(),
        out.display().to_string(),
    ]);
    v
}

fn run_census(
    proxy: &Proxy,
    scratch: &Scratch,
    prefix: &str,
    concurrency: usize,
    rss: bool,
) -> CensusRun {
    proxy.clear();
    let out = scratch.path("census.json");
    let r = run_xacct(
        &proxy.endpoint,
        scratch,
        &census_args(prefix, concurrency, &out),
        rss,
        None,
    );
    assert_eq!(r.code, Some(0), "the census failed: {}", r.stderr);
    assert!(
        !r.stderr.contains('\r') && !r.stderr.contains("ETA"),
        "no progress bar without a terminal: {}",
        r.stderr
    );
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("snapshot")).expect("json");
    let objects = snap["accounts"][A]["buckets"][SRC]["census"]["objects"]
        .as_u64()
        .unwrap_or(0);
    let seen = proxy.seen();
    let (heads, rate) = head_rate(&seen);
    CensusRun {
        objects,
        heads,
        rate,
        wall: r.wall,
        max_rss_kib: r.max_rss_kib,
        max_in_flight: proxy.max_in_flight(),
    }
}

fn bench_census() -> Value {
    let sizes = env_list("XACCT_BENCH_OBJECTS", &[10_000, 100_000]);
    let concurrencies = env_list("XACCT_BENCH_CONCURRENCY", &[16, 32, 64, 128]);
    let moto = Moto::start_bulk();
    let rt = runtime();
    let creds = two_accounts(&rt, &moto);
    let key_arn = census_world(&rt, &moto, &creds);
    let scratch = Scratch::new("bench-census");
    scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);

    println!("\n(d) census");
    let mut provisioning = Vec::new();
    for &n in &sizes {
        let t = Instant::now();
        let inside = bulk_objects(&moto, &format!("n{n}/"), n, &key_arn);
        println!(
            "provisioned {n} objects in moto in {:.1} s (bulk call inside moto: {inside:.1} s)",
            t.elapsed().as_secs_f64()
        );
        provisioning.push(json!({"objects": n, "seconds": t.elapsed().as_secs_f64()}));
    }
    let small = sizes.iter().copied().min().unwrap_or(10_000);
    let small_prefix = format!("n{small}/");
    let proxy = Proxy::start(moto.port, Plan::pass());
    let rtt = Duration::from_millis(50);

    // moto's own ceiling: no added latency
    let ceiling_moto = run_census(&proxy, &scratch, &small_prefix, 64, false);
    println!(
        "moto's own ceiling (no added latency, concurrency 64, {small} objects): {:.0} objects/s",
        ceiling_moto.rate
    );

    println!("\nat 50 ms added per round trip, {small} objects (bound = concurrency / 50 ms):\n");
    println!(
        "| concurrency | bound | HeadObject/s, moto behind the proxy | % of bound | HeadObject/s, proxy answers HeadObject | % of bound | most in flight |"
    );
    println!("|---|---|---|---|---|---|---|");
    let stub = Fault::Respond {
        status: 200,
        headers: vec![
            ("Content-Length".into(), "1".into()),
            ("ETag".into(), "\"9dd4e461268c8034f5c8564e155c67a6\"".into()),
            (
                "Last-Modified".into(),
                "Mon, 01 Jan 2026 00:00:00 GMT".into(),
            ),
            ("x-amz-server-side-encryption".into(), "aws:kms".into()),
            (
                "x-amz-server-side-encryption-aws-kms-key-id".into(),
                key_arn.clone(),
            ),
        ],
        body: String::new(),
    };
    let mut sweep = Vec::new();
    for &c in &concurrencies {
        let bound = c as f64 / rtt.as_secs_f64();
        proxy.set_plan(Plan::latency(rtt));
        let via_moto = run_census(&proxy, &scratch, &small_prefix, c, false);
        assert_eq!(via_moto.objects, small as u64, "census count");
        proxy.set_plan(Plan::latency(rtt).fault(
            Match::operation("HeadObject"),
            stub.clone(),
            Times::Every,
        ));
        let via_stub = run_census(&proxy, &scratch, &small_prefix, c, false);
        println!(
            "| {c} | {bound:.0}/s | {:.0}/s | {:.0}% | {:.0}/s | {:.0}% | {} |",
            via_moto.rate,
            100.0 * via_moto.rate / bound,
            via_stub.rate,
            100.0 * via_stub.rate / bound,
            via_moto.max_in_flight.max(via_stub.max_in_flight)
        );
        sweep.push(json!({
            "concurrency": c, "bound_per_s": bound,
            "moto_per_s": via_moto.rate, "moto_pct": 100.0 * via_moto.rate / bound,
            "stub_per_s": via_stub.rate, "stub_pct": 100.0 * via_stub.rate / bound,
            "heads": via_moto.heads,
        }));
    }

    println!("\npeak RSS of xacct, concurrency 64, 50 ms added (HeadObject through moto):\n");
    println!("| objects | wall time | HeadObject/s | peak RSS |");
    println!("|---|---|---|---|");
    let mut rss_rows = Vec::new();
    proxy.set_plan(Plan::latency(rtt));
    for &n in &sizes {
        let r = run_census(&proxy, &scratch, &format!("n{n}/"), 64, true);
        assert_eq!(r.objects, n as u64, "census count");
        let rss = r
            .max_rss_kib
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "n/a (no /usr/bin/time)".into());
        println!(
            "| {n} | {:.1} s | {:.0}/s | {rss} |",
            r.wall.as_secs_f64(),
            r.rate
        );
        rss_rows.push(json!({
            "objects": n, "wall_s": r.wall.as_secs_f64(), "heads_per_s": r.rate,
            "max_rss_kib": r.max_rss_kib,
        }));
    }
    let at64 = sweep.iter().find(|r| r["concurrency"] == 64);
    let moto_pct = at64
        .and_then(|r| r["moto_pct"].as_f64())
        .unwrap_or(f64::NAN);
    let stub_pct = at64
        .and_then(|r| r["stub_pct"].as_f64())
        .unwrap_or(f64::NAN);
    println!(
        "\ntarget: 80% of the bound at concurrency 64: through moto {moto_pct:.0}%, proxy-only {stub_pct:.0}% (moto's own ceiling {:.0}/s)",
        ceiling_moto.rate
    );
    json!({
        "provisioning": provisioning,
        "moto_ceiling_per_s": ceiling_moto.rate,
        "sweep": sweep,
        "rss": rss_rows,
    })
}
