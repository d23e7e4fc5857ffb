//! Hostile input: the committed corpus under tests/hostile/ and big cases
//! generated here at test time (10 MiB policies, 10,000 statements, JSON nested
//! 10,000 deep, invalid UTF-8, typographic quotes, ARNs of every wrong shape,
//! unknown condition operators, 100,000 CIDRs). Each gives exit 2 with a
//! located message, or — a valid snapshot whose policy AWS would reject — a
//! finding naming the defect; never a panic, always within one second.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use xacct::policy::{
    CtxValue, Labeled, ParseOptions, PolicyKind, PolicySet, Principal, Request, evaluate,
    parse_text,
};

/// The CPU time one xacct run may take on one hostile input (a 10 MiB
/// snapshot takes ~0.3 s here, in a debug build). CPU time, not wall time:
/// the bound holds on a loaded machine, where other jobs stretch the wall
/// clock.
const BUDGET: Duration = Duration::from_secs(1);

/// Wall time, only to catch a hang (or a run that waits on something).
const WALL_BUDGET: Duration = Duration::from_secs(10);

/// The timed cases run one at a time, so that each has the machine's
/// attention and a slow one is easy to spot in the output.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a hostile input must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 2, stderr names the file and a line:col.
    InputError,
    /// A valid snapshot with a policy AWS would reject: these checks fail
    /// (and no other check passes because of it), exit 1.
    Fails(&'static [&'static str]),
}

/// A directory of this test's own, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("xacct-hostile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write case");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How long one run took.
#[derive(Debug, Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

impl Took {
    fn max(self, o: Took) -> Took {
        Took {
            wall: self.wall.max(o.wall),
            cpu: self.cpu.max(o.cpu),
        }
    }
    fn within_budget(self, what: &str) {
        println!("{what}: {:?} CPU, {:?} wall", self.cpu, self.wall);
        assert!(self.cpu < BUDGET, "{what}: {:?} of CPU", self.cpu);
        assert!(
            self.wall < WALL_BUDGET,
            "{what}: {:?} of wall time",
            self.wall
        );
    }
}

/// Run xacct, measuring its wall and CPU time (user + system, from wait4).
// wait4 reaps the child, which std cannot see
#[allow(clippy::zombie_processes)]
fn xacct(args: &[&str]) -> (Output, Took) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xacct runs");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut b);
            }
            b
        })
    };
    let so = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let se = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 on our own child with valid out-pointers; `child` is not
    // waited on afterwards (std does not wait on drop).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let wall = start.elapsed();
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let out = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: so.join().expect("stdout"),
        stderr: se.join().expect("stderr"),
    };
    (out, Took { wall, cpu })
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// stderr names `file` with a line and column: `[FILE:L:C]` as miette shows
/// it, or `FILE (line L, column C, excerpt)` for a window of a huge line.
fn located(stderr: &str, file: &str) -> bool {
    stderr.match_indices(file).any(|(i, _)| {
        let rest = &stderr[i + file.len()..];
        let digits_then = |s: &str, sep: char| -> Option<usize> {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            (n > 0 && s[n..].starts_with(sep)).then_some(n + 1)
        };
        let colon_form = rest
            .strip_prefix(':')
            .and_then(|r| digits_then(r, ':').map(|n| &r[n..]))
            .is_some_and(|r| r.bytes().next().is_some_and(|b| b.is_ascii_digit()));
        colon_form || rest.starts_with(" (line ")
    })
}

fn no_panic(what: &str, out: &Output) {
    let (o, e) = text(out);
    assert!(
        !e.contains("panicked") && !o.contains("panicked"),
        "{what}: a panic\n{e}"
    );
    assert_ne!(out.status.code(), Some(101), "{what}: exit 101 (a panic)");
    // miette's words when a label points outside the text it was given
    assert!(
        !e.contains("Failed to read contents") && !o.contains("Failed to read contents"),
        "{what}: a diagnostic lost its place\n{o}{e}"
    );
    assert!(out.status.code().is_some(), "{what}: killed by a signal");
}

fn statuses(out: &Output) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("not a JSON report: {}", text(out).1));
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

/// Run the doctor on one hostile snapshot and check what it must give.
fn doctor_case(path: &Path, expect: Expect) -> Took {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let p = path.to_str().expect("utf-8 path");
    let (out, took) = xacct(&["doctor", "--snapshot", p, "--format", "json"]);
    no_panic(name, &out);
    let (o, e) = text(&out);
    match expect {
        Expect::InputError => {
            assert_eq!(out.status.code(), Some(2), "{name}: {o}{e}");
            assert!(located(&e, p), "{name}: no file:line:col in\n{e}");
            assert!(o.is_empty(), "{name}: a report for an input error: {o}");
        }
        Expect::Fails(ids) => {
            assert_eq!(out.status.code(), Some(1), "{name}: {e}");
            let st = statuses(&out);
            for id in ids {
                assert_eq!(
                    st.get(*id).map(String::as_str),
                    Some("fail"),
                    "{name}: {id} {st:?}"
                );
            }
            // the finding names the defect and points at the document
            let v: Value = serde_json::from_str(&o).expect("json");
            for c in v["checks"].as_array().into_iter().flatten() {
                if ids.contains(&c["id"].as_str().unwrap_or("")) {
                    assert!(
                        c["evidence"]
                            .as_array()
                            .is_some_and(|ev| ev.iter().any(|e| e["pointer"].is_string())),
                        "{name}: {} has no evidence pointer: {c}",
                        c["id"]
                    );
                }
            }
        }
    }
    // the table renderer survives it too
    let (out, took_table) = xacct(&["doctor", "--snapshot", p]);
    no_panic(name, &out);
    took.max(took_table)
}

/// Every other report format (and the HTML file) on one hostile snapshot.
fn every_format(path: &Path) -> Took {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let p = path.to_str().expect("utf-8 path");
    let html = path.with_extension("html");
    let mut slowest = Took {
        wall: Duration::ZERO,
        cpu: Duration::ZERO,
    };
    for format in ["sarif", "junit", "markdown", "mermaid", "dot"] {
        let (out, took) = xacct(&[
            "doctor",
            "--snapshot",
            p,
            "--format",
            format,
            "--html",
            html.to_str().expect("path"),
        ]);
        no_panic(&format!("{name} --format {format}"), &out);
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{name} --format {format}: {:?}",
            out.status.code()
        );
        slowest = slowest.max(took);
    }
    let _ = std::fs::remove_file(html);
    slowest
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// Every committed hostile file, with what it must give.
const CORPUS: &[(&str, Expect)] = &[
    ("bad-arns-in-copy.json", Expect::InputError),
    ("duplicate-keys.json", Expect::InputError),
    ("empty.json", Expect::InputError),
    ("key-policy-string-not-json.json", Expect::Fails(&["XA003"])),
    ("keys-not-keyed-by-arn.json", Expect::InputError),
    ("not-a-snapshot.json", Expect::InputError),
    ("policy-unknown-operator.json", Expect::Fails(&["XA002"])),
    (
        "principal-arns-of-every-wrong-shape.json",
        Expect::Fails(&["XA002"]),
    ),
    ("trailing-comma.json", Expect::InputError),
    ("truncated.json", Expect::InputError),
    ("typographic-quotes-in-json.json", Expect::InputError),
    ("wrong-types.json", Expect::InputError),
];

#[test]
fn the_committed_corpus_gives_exit_2_or_a_finding() {
    let _g = serial();
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("tests/hostile")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    files.sort();
    let listed: Vec<String> = CORPUS.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        files, listed,
        "every file of tests/hostile/ has an expectation here"
    );
    for (file, expect) in CORPUS {
        doctor_case(&corpus_dir().join(file), *expect).within_budget(file);
    }
}

// ---- generated cases

fn walkthrough() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/walkthrough-fixed.json");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    if let Some(o) = v.as_object_mut() {
        o.remove("expect");
    }
    v
}

const SK: &str = "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34";
const BUCKET_POLICY: &str = "/accounts/111111111111/buckets/alice-data/policy";
const INLINE_POLICY: &str =
    "/accounts/222222222222/roles/Bobs_Data_Access_Role/inline_policies/BobsCopyPolicy";

fn key_policy_ptr() -> String {
    format!(
        "/accounts/111111111111/keys/{}/policy",
        SK.replace('/', "~1")
    )
}

fn with(pointer: &str, value: Value) -> Value {
    let mut v = walkthrough();
    *v.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} in the fixture")) = value;
    v
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("serialize")
}

/// Megabytes of JSON on one line, as an API or a minifier writes them.
fn compact(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serialize")
}

/// The source bucket policy's BobRead statement with something changed.
fn bob_read(f: impl FnOnce(&mut Value)) -> Value {
    let mut v = walkthrough();
    let st = v
        .pointer_mut(&format!("{BUCKET_POLICY}/Statement/1"))
        .expect("BobRead");
    f(st);
    v
}

fn cidrs(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("10.{}.{}.0/24", (i / 256) % 256, i % 256))
        .collect()
}

/// A policy document of about `size` bytes: one statement whose Resource
/// lists objects of the source bucket.
fn huge_resource_policy(size: usize) -> Value {
    let n = size / 40 + 1;
    let resources: Vec<String> = (0..n)
        .map(|i| format!("arn:aws:s3:::alice-data/obj-{i:010}"))
        .collect();
    json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::222222222222:role/Bobs_Data_Access_Role"},
        "Action": "s3:GetObject",
        "Resource": resources
    }]})
}

/// Role ARNs AWS could never hold, each of them wrong in one way.
const BAD_ROLE_ARNS: &[&str] = &[
    "",
    "arn",
    "arn:aws",
    "arn:::::",
    "*",
    "222222222222",
    "arn:aws:iam::222222222222",
    "arn:aws:iam::222222222222:role",
    "arn:aws:iam::222222222222:role/",
    "arn:aws:iam::22222222222:role/R",
    "arn:aws:iam::2222222222222:role/R",
    "arn:aws:iam::abcdefghijkl:role/R",
    "arn:aws:iam::-22222222222:role/R",
    "arn:aws:iam:us-east-1:222222222222:role/R",
    "arn:aws:s3:::bucket",
    "arn:aws:iam::222222222222:user/R",
    "arn:aws:sts::222222222222:assumed-role/R/session",
    "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34",
    "ARN:AWS:IAM::222222222222:ROLE/R",
    " arn:aws:iam::222222222222:role/R",
    "arn:aws:iam::222222222222:role/R\n",
    "arn:aws:iam::222222222222:role/R\u{0}",
    "arn:aws:iam::222222222222:role/Bob\u{2019}s_Role",
    "arn:aws:iam::222222222222:role/*",
    "arn:aws:iam::222222222222:role/Bob Role",
];

/// Condition operators that do not exist.
const UNKNOWN_OPERATORS: &[&str] = &[
    "StringEqualz",
    "ForAnyValue:StringEqualz",
    "StringEqualsIfExistsIfExists",
    "ForAllValues:ForAnyValue:StringLike",
    "IfExists",
    "Null:IfExists",
    "",
];

/// Every generated case: file name, bytes, what it must give.
fn generated() -> Vec<(String, Vec<u8>, Expect)> {
    let mut out: Vec<(String, Vec<u8>, Expect)> = Vec::new();
    let mut add = |name: &str, b: Vec<u8>, e: Expect| out.push((name.to_string(), b, e));

    // 10 MiB policies: as a JSON object and as the string AWS returned
    let big = huge_resource_policy(10 << 20);
    add(
        "policy-10mib-object.json",
        compact(&with(BUCKET_POLICY, big.clone())),
        Expect::Fails(&["XA002"]),
    );
    add(
        "policy-10mib-string.json",
        compact(&with(&key_policy_ptr(), Value::String(big.to_string()))),
        Expect::Fails(&["XA003"]),
    );
    // 10,000 statements in the role's inline policy and in the bucket policy
    let mut v = walkthrough();
    let stmts: Vec<Value> = {
        let p = v
            .pointer(&format!("{INLINE_POLICY}/Statement"))
            .expect("stmts");
        let base = p.as_array().cloned().unwrap_or_default();
        (0..10_000)
            .map(|i| {
                let mut s = base[i % base.len()].clone();
                s["Sid"] = json!(format!("S{i}"));
                s
            })
            .collect()
    };
    *v.pointer_mut(&format!("{INLINE_POLICY}/Statement"))
        .expect("stmts") = Value::Array(stmts);
    add(
        "statements-10000-identity.json",
        compact(&v),
        Expect::Fails(&["XA005", "XA006", "XA007"]),
    );
    let mut v = walkthrough();
    let read = v
        .pointer(&format!("{BUCKET_POLICY}/Statement/1"))
        .cloned()
        .expect("BobRead");
    let stmts: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut s = read.clone();
            s["Sid"] = json!(format!("S{i}"));
            s
        })
        .collect();
    *v.pointer_mut(&format!("{BUCKET_POLICY}/Statement"))
        .expect("stmts") = Value::Array(stmts);
    add(
        "statements-10000-bucket.json",
        compact(&v),
        Expect::Fails(&["XA002"]),
    );
    // JSON nested 10,000 deep: the whole file, inside the snapshot, inside a policy string
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    add(
        "nested-10000.json",
        deep.clone().into_bytes(),
        Expect::InputError,
    );
    let text = String::from_utf8(bytes(&walkthrough())).expect("utf-8");
    add(
        "nested-10000-in-snapshot.json",
        text.replacen(
            "\"description\": ",
            &format!("\"description\": {deep}, \"x\": "),
            1,
        )
        .into_bytes(),
        Expect::InputError,
    );
    add(
        "nested-10000-in-policy-string.json",
        bytes(&with(BUCKET_POLICY, Value::String(deep))),
        Expect::Fails(&["XA002"]),
    );
    // invalid UTF-8: stray bytes, an overlong encoding, a sequence cut short at the end
    let plain = bytes(&walkthrough());
    let at = plain
        .windows(10)
        .position(|w| w == b"alice-data")
        .expect("a name");
    for (name, bad) in [
        ("invalid-utf8-ff-fe.json", &b"\xff\xfe"[..]),
        ("invalid-utf8-overlong.json", &b"\xc0\xaf"[..]),
        ("invalid-utf8-surrogate.json", &b"\xed\xa0\x80"[..]),
    ] {
        let mut b = plain[..at].to_vec();
        b.extend_from_slice(bad);
        b.extend_from_slice(&plain[at..]);
        add(name, b, Expect::InputError);
    }
    let mut cut = plain.clone();
    cut.truncate(plain.len() / 2);
    cut.extend_from_slice(b"\xe2\x80");
    add("invalid-utf8-cut-short.json", cut, Expect::InputError);
    // typographic quotes: around a value of the snapshot, inside a policy string
    add(
        "typographic-quotes-value.json",
        String::from_utf8(plain.clone())
            .expect("utf-8")
            .replacen(
                "\"xacct-snapshot/1\"",
                "\u{201C}xacct-snapshot/1\u{201D}",
                1,
            )
            .into_bytes(),
        Expect::InputError,
    );
    let key_policy = walkthrough()
        .pointer(&key_policy_ptr())
        .cloned()
        .expect("key policy");
    let curly = serde_json::to_string_pretty(&key_policy)
        .expect("text")
        .replace('"', "\u{201C}");
    add(
        "typographic-quotes-in-policy-string.json",
        bytes(&with(&key_policy_ptr(), Value::String(curly))),
        Expect::Fails(&["XA003"]),
    );
    add(
        "typographic-quote-in-resource.json",
        bytes(&bob_read(|s| {
            s["Resource"] = json!("arn:aws:s3:::alice-data/\u{201C}x\u{201D}");
        })),
        Expect::Fails(&["XA002"]),
    );
    // ARNs of every wrong shape: as the copying role, as a key's ARN, in a policy
    for (i, arn) in BAD_ROLE_ARNS.iter().enumerate() {
        add(
            &format!("bad-role-arn-{i:02}.json"),
            bytes(&with("/copy/principal", json!(arn))),
            Expect::InputError,
        );
        if arn.starts_with("arn:aws:kms:") {
            continue; // a key ARN is a fine key name
        }
        let mut v = walkthrough();
        if let Some(keys) = v
            .pointer_mut("/accounts/111111111111/keys")
            .and_then(Value::as_object_mut)
            && let Some(k) = keys.remove(SK)
        {
            keys.insert(arn.to_string(), k);
        }
        add(
            &format!("bad-key-arn-{i:02}.json"),
            bytes(&v),
            Expect::InputError,
        );
    }
    add(
        "bad-principal-arns-in-policy.json",
        bytes(&bob_read(|s| {
            s["Principal"] = json!({"AWS": BAD_ROLE_ARNS});
        })),
        Expect::Fails(&["XA002"]),
    );
    for (i, res) in [
        "",
        "arn:aws:s3",
        "arn:aws:s3:::",
        "alice-data/*",
        "arn:aws:kms:::alice-data",
        "arn:aws:s3:::other-bucket/*",
    ]
    .iter()
    .enumerate()
    {
        add(
            &format!("bad-resource-arn-{i:02}.json"),
            bytes(&bob_read(|s| s["Resource"] = json!(res))),
            Expect::Fails(&["XA002"]),
        );
    }
    // conditions with unknown operators
    for (i, op) in UNKNOWN_OPERATORS.iter().enumerate() {
        add(
            &format!("unknown-operator-{i:02}.json"),
            bytes(&bob_read(|s| {
                s["Condition"] = json!({ *op: {"aws:SourceIp": "203.0.113.7"} });
            })),
            Expect::Fails(&["XA002"]),
        );
    }
    // a document with a hundred thousand problems: each is found, the
    // report shows the first ones and counts the rest
    add(
        "problems-100000-principals.json",
        compact(&bob_read(|s| {
            let bad: Vec<String> = (0..100_000)
                .map(|i| format!("arn:aws:iam::{i:011}:role/R"))
                .collect();
            s["Principal"] = json!({ "AWS": bad });
        })),
        Expect::Fails(&["XA002"]),
    );
    add(
        "problems-100000-resources.json",
        compact(&bob_read(|s| {
            let bad: Vec<String> = (0..100_000)
                .map(|i| format!("arn:aws:s3:::other-bucket/{i}"))
                .collect();
            s["Resource"] = json!(bad);
        })),
        Expect::Fails(&["XA002"]),
    );
    add(
        "problems-100000-operators.json",
        compact(&bob_read(|s| {
            let ops: serde_json::Map<String, Value> = (0..100_000)
                .map(|i| (format!("Op{i}"), json!({"aws:SourceIp": "203.0.113.7"})))
                .collect();
            s["Condition"] = Value::Object(ops);
        })),
        Expect::Fails(&["XA002"]),
    );
    add(
        "problems-100000-actions.json",
        compact(&bob_read(|s| {
            let bad: Vec<String> = (0..100_000).map(|i| format!("s3:NoSuch{i}")).collect();
            s["Action"] = json!(bad);
        })),
        Expect::Fails(&["XA002"]),
    );
    // a huge CIDR list: 100,000 entries
    add(
        "cidr-100000.json",
        compact(&bob_read(|s| {
            s["Condition"] = json!({"IpAddress": {"aws:SourceIp": cidrs(100_000)}});
        })),
        Expect::Fails(&["XA002"]),
    );
    out
}

#[test]
fn generated_big_and_malformed_cases_are_refused_within_a_second() {
    let _g = serial();
    let dir = TempDir::new("generated");
    let mut slowest = (Duration::ZERO, String::new());
    for (name, b, expect) in generated() {
        let path = dir.write(&name, &b);
        let mut took = doctor_case(&path, expect);
        if name.starts_with("problems-") || name.starts_with("policy-10mib") {
            took = took.max(every_format(&path));
        }
        took.within_budget(&format!("{name} ({} bytes)", b.len()));
        if took.cpu > slowest.0 {
            slowest = (took.cpu, name);
        }
        let _ = std::fs::remove_file(&path);
    }
    println!("slowest: {} in {:?} of CPU", slowest.1, slowest.0);
}

// ---- lint and simulate on hostile policy files

/// Hostile policy files: name, bytes, whether the file is JSON at all.
fn hostile_policies() -> Vec<(String, Vec<u8>)> {
    let ok = |f: &dyn Fn(&mut Value)| {
        let mut p = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alice-data/*"
        }]});
        f(&mut p["Statement"][0]);
        serde_json::to_vec(&p).expect("json")
    };
    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("empty.json".into(), Vec::new()),
        ("trailing-comma.json".into(), b"{\"Version\": \"2012-10-17\",}".to_vec()),
        (
            "nested-10000.json".into(),
            ("[".repeat(10_000) + &"]".repeat(10_000)).into_bytes(),
        ),
        (
            "invalid-utf8.json".into(),
            b"{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"\xff\"}]}".to_vec(),
        ),
        (
            "typographic-quotes.json".into(),
            "{\u{201C}Version\u{201D}: \u{201C}2012-10-17\u{201D}}".as_bytes().to_vec(),
        ),
        (
            "policy-10mib.json".into(),
            serde_json::to_vec(&huge_resource_policy(10 << 20)).expect("json"),
        ),
        (
            "cidr-100000.json".into(),
            ok(&|s| s["Condition"] = json!({"IpAddress": {"aws:SourceIp": cidrs(100_000)}})),
        ),
        (
            "unknown-operator.json".into(),
            ok(&|s| s["Condition"] = json!({"StringEqualz": {"aws:SourceIp": "x"}})),
        ),
        (
            "bad-principals.json".into(),
            ok(&|s| s["Principal"] = json!({"AWS": BAD_ROLE_ARNS})),
        ),
    ];
    let stmts: Vec<Value> = (0..10_000)
        .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::alice-data/k{i}")}))
        .collect();
    out.push((
        "statements-10000.json".into(),
        serde_json::to_vec(&json!({"Version": "2012-10-17", "Statement": stmts})).expect("json"),
    ));
    out
}

#[test]
fn lint_and_simulate_refuse_hostile_policies_with_a_location() {
    let _g = serial();
    let dir = TempDir::new("policies");
    for (name, b) in hostile_policies() {
        let path = dir.write(&name, &b);
        let p = path.to_str().expect("path");
        // lint: 1 for a document AWS would reject, 2 for one that is not JSON
        let (out, took) = xacct(&["lint", p]);
        no_panic(&name, &out);
        let (o, e) = text(&out);
        took.within_budget(&format!("lint {name}"));
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "lint {name}: {:?}\n{o}{e}",
            out.status.code()
        );
        let all = format!("{o}{e}");
        // an empty file has no line to point at: it is named
        assert!(
            located(&all, p) || (b.is_empty() && all.contains(p)),
            "lint {name}: not located\n{all}"
        );

        // simulate: the same document as an identity policy of a case
        let case = [
            &br#"{"request": {"principal": "arn:aws:iam::222222222222:role/R", "action": "s3:GetObject",
                 "resource": "arn:aws:s3:::alice-data/k1", "resource_account": "111111111111",
                 "context": {"aws:SourceIp": "10.0.1.7"}},
               "identity_policies": ["#[..],
            if b.is_empty() { &b"\"\""[..] } else { &b[..] },
            &b"]}"[..],
        ]
        .concat();
        let case_path = dir.write(&format!("case-{name}"), &case);
        let cp = case_path.to_str().expect("path");
        let (out, took) = xacct(&["simulate", cp]);
        no_panic(&name, &out);
        let (o, e) = text(&out);
        took.within_budget(&format!("simulate {name}"));
        assert_eq!(out.status.code(), Some(2), "simulate {name}: {o}{e}");
        // a policy held as a string is its own text: located in it, the file named
        assert!(
            located(&e, cp) || (e.contains(cp) && located(&e, "identity_policies[0]")),
            "simulate {name}: not located\n{e}"
        );
        // --batch answers the line with an error and goes on
        let batch = dir.write(
            &format!("batch-{name}.jsonl"),
            [
                &case
                    .iter()
                    .map(|&c| if c == b'\n' { b' ' } else { c })
                    .collect::<Vec<u8>>()[..],
                b"\n{}\n",
            ]
            .concat(),
        );
        let (out, _) = xacct(&["simulate", "--batch", batch.to_str().expect("path")]);
        no_panic(&name, &out);
        assert_eq!(out.status.code(), Some(2), "simulate --batch {name}");
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON answer per line"))
            .collect();
        assert_eq!(
            lines.len(),
            2,
            "simulate --batch {name}: every line answered"
        );
        assert!(lines.iter().all(|l| l["error"].is_string()), "{lines:?}");
    }
}

// ---- the engine itself on huge documents

/// This thread's CPU time so far.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer for the calling thread's clock
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(r, 0, "clock_gettime");
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_nanos(u64::try_from(t.tv_nsec).unwrap_or(0))
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (start, cpu) = (Instant::now(), thread_cpu());
    let r = f();
    Took {
        wall: start.elapsed(),
        cpu: thread_cpu() - cpu,
    }
    .within_budget(what);
    r
}

fn request(ip: &str, key: &str) -> Request {
    let mut r = Request {
        principal: Principal::parse("arn:aws:iam::222222222222:role/R").expect("principal"),
        action: "s3:GetObject".into(),
        resource: format!("arn:aws:s3:::alice-data/{key}"),
        resource_account: Some("222222222222".into()),
        context: xacct::policy::Context::new(),
    };
    r.context
        .set("aws:SourceIp", CtxValue::Single(ip.to_string()));
    r.derive_context();
    r
}

/// The engine decides on documents far beyond AWS's size limits (which the
/// doctor reports as defects) without slowing down or deciding wrongly.
#[test]
fn the_engine_decides_huge_documents_quickly_and_correctly() {
    let _g = serial();
    let cidr_doc = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": cidrs(100_000)}}
    }]})
    .to_string();
    let policy = timed("parse 100,000 CIDRs", || {
        parse_text("cidr", &cidr_doc, &ParseOptions::new(PolicyKind::Identity))
    });
    assert!(policy.errors().next().is_some(), "over IAM's size limit");
    let set = PolicySet {
        identity: vec![Labeled {
            label: "cidr",
            policy: &policy,
        }],
        ..PolicySet::default()
    };
    let inside = timed("decide inside the last CIDR", || {
        evaluate(&request("10.134.159.7", "k"), &set)
    });
    assert!(inside.allowed(), "{inside:?}");
    let outside = timed("decide outside every CIDR", || {
        evaluate(&request("192.0.2.1", "k"), &set)
    });
    assert!(!outside.allowed(), "{outside:?}");

    let stmts: Vec<Value> = (0..10_000)
        .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::alice-data/k{i}")}))
        .collect();
    let many = json!({"Version": "2012-10-17", "Statement": stmts}).to_string();
    let policy = timed("parse 10,000 statements", || {
        parse_text("many", &many, &ParseOptions::new(PolicyKind::Identity))
    });
    let set = PolicySet {
        identity: vec![Labeled {
            label: "many",
            policy: &policy,
        }],
        ..PolicySet::default()
    };
    let last = timed("decide the last statement", || {
        evaluate(&request("10.0.0.1", "k9999"), &set)
    });
    assert!(last.allowed(), "{last:?}");
    let none = timed("decide a key no statement names", || {
        evaluate(&request("10.0.0.1", "k10000"), &set)
    });
    assert!(!none.allowed());

    let big = huge_resource_policy(10 << 20).to_string();
    let policy = timed("parse a 10 MiB policy", || {
        parse_text("big", &big, &ParseOptions::bucket("alice-data"))
    });
    assert!(policy.errors().any(|d| d.message.contains("20 KB")));
}
