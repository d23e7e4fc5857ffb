//! A bounded fuzz run over real documents: every snapshot fixture and every
//! file of the hostile corpus, mutated byte-wise (flips, cuts, splices of
//! JSON punctuation, typographic quotes, invalid UTF-8, huge numbers). The
//! loader either refuses the bytes with located problems (the CLI's exit 2) or
//! accepts them, and then the checks and every renderer run without a panic
//! and the verdict's exit code is 0, 1 or 3. A second, smaller run checks the
//! same through the binary. Each run is capped at a few seconds.

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use xacct::checks::{Status, Verdict};
use xacct::report::{FailOn, Report};

/// The documents the mutations start from.
fn seeds() -> &'static [(String, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["fixtures", "tests/hostile"] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .expect("seed directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for f in files {
                let name = f
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("?")
                    .to_string();
                out.push((name, std::fs::read(&f).expect("readable")));
            }
        }
        assert!(out.len() > 50, "seeds found: {}", out.len());
        out
    })
}

/// Byte strings that break JSON, the snapshot format or the policy grammar.
const SPLICES: &[&[u8]] = &[
    b",",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"99999999999999999999999",
    b"\xff",
    b"\xc0\xaf",
    b"\xe2\x80",
    "\u{201C}".as_bytes(),
    "\u{2019}".as_bytes(),
    "\u{FEFF}".as_bytes(),
    b"\\u0000",
    b"\\ud800",
    b"\"arn:aws:iam::222222222222:role/*\"",
    b"\"*\"",
    b"\"\"",
    b"{\"Fn::If\": []}",
    b"\"StringEqualz\"",
    b"\"unreadable\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace one byte.
    Set(Index, u8),
    /// Remove a run of bytes.
    Cut(Index, usize),
    /// Insert one of the splices.
    Splice(Index, usize),
    /// Repeat a run of bytes in place.
    Repeat(Index, usize),
    /// Keep only the beginning.
    Truncate(Index),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Cut(i, n)),
        4 => (any::<Index>(), 0..SPLICES.len()).prop_map(|(i, s)| Mutation::Splice(i, s)),
        1 => (any::<Index>(), 1usize..256).prop_map(|(i, n)| Mutation::Repeat(i, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            b.extend_from_slice(b"{");
        }
        let len = b.len();
        match m {
            Mutation::Set(i, v) => b[i.index(len)] = *v,
            Mutation::Cut(i, n) => {
                let at = i.index(len);
                b.drain(at..(at + n).min(len));
            }
            Mutation::Splice(i, s) => {
                let at = i.index(len + 1);
                b.splice(at..at, SPLICES[*s].iter().copied());
            }
            Mutation::Repeat(i, n) => {
                let at = i.index(len);
                let run = b[at..(at + n).min(len)].to_vec();
                b.splice(at..at, run);
            }
            Mutation::Truncate(i) => b.truncate(i.index(len)),
        }
    }
    b
}

/// Loaded or refused, what the CLI would answer: 2 for refused bytes, else
/// the verdict's code; every renderer runs on an accepted snapshot.
fn judge(bytes: &[u8]) -> Result<u8, TestCaseError> {
    match xacct::snapshot::load_bytes("mutated.json", bytes) {
        Err(p) => {
            prop_assert!(
                !p.items.is_empty(),
                "refused without a problem: {}",
                p.title
            );
            for it in &p.items {
                prop_assert!(
                    it.span.start <= it.span.end && it.span.end <= it.source.text.len(),
                    "span {:?} outside the text ({} bytes): {}",
                    it.span,
                    it.source.text.len(),
                    it.message
                );
            }
            let shown = xacct::diag::render(&p, false);
            prop_assert!(!shown.contains("Failed to read contents"), "{}", shown);
            Ok(2)
        }
        Ok(s) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let r = Report::new(&s, Some("mutated.json".into())).with_snapshot_text(text);
            let style = xacct::report::terminal::Style {
                color: false,
                width: 100,
            };
            for out in [
                xacct::report::json::render(&r),
                xacct::report::terminal::render(&r, &style),
                xacct::report::sarif::render(&r),
                xacct::report::junit::render(&r),
                xacct::report::markdown::render(&r),
                xacct::report::diagram::mermaid(&r),
                xacct::report::diagram::dot(&r),
                xacct::report::html::render(&r),
            ] {
                prop_assert!(!out.contains("Failed to read contents"));
            }
            let code = r.exit_code_with(FailOn::Unknown);
            let fails = r.checks.iter().any(|f| f.status == Status::Fail);
            let unknowns = r.checks.iter().any(|f| f.status == Status::Unknown);
            let want = match (fails, unknowns) {
                (true, _) => 1,
                (false, true) => 3,
                _ => 0,
            };
            prop_assert_eq!(code, want, "verdict {:?}", r.verdict);
            prop_assert_eq!(Verdict::of(&r.checks).exit_code(), code);
            Ok(code)
        }
    }
}

/// Stop generating new cases after this long (the case counts below are
/// the usual bound; this one holds on a slow machine).
const TIME_CAP: Duration = Duration::from_secs(8);

fn started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, max_shrink_iters: 200, .. ProptestConfig::default() })]

    #[test]
    fn mutated_documents_are_refused_with_a_place_or_judged(
        seed in any::<Index>(),
        muts in prop::collection::vec(arb_mutation(), 1..6),
    ) {
        if started().elapsed() > TIME_CAP {
            return Ok(());
        }
        let (_, base) = &seeds()[seed.index(seeds().len())];
        let bytes = mutate(base.clone(), &muts);
        judge(&bytes)?;
    }
}

// ---- mutations that keep the JSON valid, so that the checks see them

/// Values that are wrong in most places of a snapshot, and some that are
/// right in others (an unreadable marker, a policy held as a string).
fn hostile_values() -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!(""),
        json!("*"),
        json!(null),
        json!(true),
        json!(-1),
        json!(0),
        json!(1e300),
        json!(u64::MAX),
        json!([]),
        json!({}),
        json!("arn:aws:iam::222222222222:role/*"),
        json!("arn:aws:kms:us-west-2:111111111111:alias/x"),
        json!("\u{201C}Allow\u{201D}"),
        json!("Deny"),
        json!("s3:*"),
        json!("kms:ViaService"),
        json!({"unreadable": {"call": "s3:GetBucketPolicy", "error": "SlowDown", "message": "Please reduce your request rate."}}),
        json!({"unreadable": {"call": "kms:DescribeKey", "error": "NotFoundException", "message": ""}}),
        json!({"error": "NetworkError", "message": "connection reset"}),
        json!(
            "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}]}"
        ),
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "NotResource": "*"}}),
        json!({"StringEqualz": {"aws:SourceIp": ["10.0.0.0/8"]}}),
        json!({"IpAddress": {"aws:SourceIp": "not-an-ip"}}),
    ]
}

fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, Index),
    Remove(Index),
    /// Wrap the value in an array (a string where a list is allowed, and
    /// where it is not).
    Wrap(Index),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>()).prop_map(|(p, v)| Edit::Replace(p, v)),
        2 => any::<Index>().prop_map(Edit::Remove),
        1 => any::<Index>().prop_map(Edit::Wrap),
    ]
}

fn edit(v: &mut serde_json::Value, edits: &[Edit]) {
    let values = hostile_values();
    for e in edits {
        let mut ps = Vec::new();
        pointers(v, String::new(), &mut ps);
        if ps.is_empty() {
            return;
        }
        match e {
            Edit::Replace(p, x) => {
                if let Some(t) = v.pointer_mut(&ps[p.index(ps.len())]) {
                    *t = values[x.index(values.len())].clone();
                }
            }
            Edit::Wrap(p) => {
                if let Some(t) = v.pointer_mut(&ps[p.index(ps.len())]) {
                    *t = serde_json::Value::Array(vec![t.take()]);
                }
            }
            Edit::Remove(p) => {
                let p = &ps[p.index(ps.len())];
                let (parent, last) = p.rsplit_once('/').unwrap_or(("", p));
                let last = last.replace("~1", "/").replace("~0", "~");
                match v.pointer_mut(parent) {
                    Some(serde_json::Value::Object(m)) => {
                        m.remove(&last);
                    }
                    Some(serde_json::Value::Array(a)) => {
                        if let Ok(i) = last.parse::<usize>()
                            && i < a.len()
                        {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn edit_started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, max_shrink_iters: 200, .. ProptestConfig::default() })]

    #[test]
    fn edited_snapshots_are_refused_with_a_place_or_judged(
        seed in any::<Index>(),
        edits in prop::collection::vec(arb_edit(), 1..4),
    ) {
        if edit_started().elapsed() > TIME_CAP {
            return Ok(());
        }
        let (_, base) = &seeds()[seed.index(seeds().len())];
        let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(base) else {
            return Ok(());
        };
        edit(&mut v, &edits);
        let bytes = serde_json::to_vec_pretty(&v).expect("serialize");
        judge(&bytes)?;
    }
}

fn cli_started() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 20, .. ProptestConfig::default() })]

    /// Through the binary: the exit code is what the library said, and no
    /// run panics.
    #[test]
    fn the_cli_answers_mutated_documents_with_a_meaningful_exit_code(
        seed in any::<Index>(),
        muts in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        if cli_started().elapsed() > TIME_CAP {
            return Ok(());
        }
        let (name, base) = &seeds()[seed.index(seeds().len())];
        let bytes = mutate(base.clone(), &muts);
        let want = judge(&bytes)?;
        let dir = std::env::temp_dir().join(format!("xacct-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, &bytes).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xacct"))
            .args(["doctor", "--format", "json", "--snapshot"])
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .expect("xacct runs");
        let _ = std::fs::remove_file(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        prop_assert_eq!(out.status.code(), Some(i32::from(want)), "{}", stderr);
    }
}
