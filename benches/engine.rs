//! Engine throughput: decisions per second on realistic cases (policies of 5–30
//! statements with conditions), in process and through `--batch` parsing.
//!
//! Run: `cargo bench --bench engine`. Figures and machine: docs/performance.md.

use serde_json::{Value, json};
use xacct::simulate::{Case, parse_case};

fn main() {
    divan::main();
}

/// A deterministic pseudo-random generator (no dependency, stable figures).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

const ACTIONS: [&str; 8] = [
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "s3:GetObjectTagging",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
    "s3:DeleteObject",
];
/// Action entries of identity policies: the copy's services, and the others a
/// real role's policies also grant (logs, EC2, DynamoDB, SQS...).
const PATTERNS: [&str; 20] = [
    "s3:Get*",
    "s3:List*",
    "s3:PutObject",
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "s3:*",
    "kms:Describe*",
    "s3:?etObject",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "ec2:Describe*",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sns:Publish",
    "cloudwatch:PutMetricData",
    "lambda:InvokeFunction",
    "iam:PassRole",
    "secretsmanager:GetSecretValue",
];
const BUCKETS: [&str; 4] = [
    "alice-data",
    "bob-staging-bucket",
    "logs-archive",
    "team-share",
];

fn condition(r: &mut Lcg) -> Value {
    match r.range(0, 6) {
        0 => json!({"StringEquals": {"aws:PrincipalOrgID": "o-b2c3d4e5f6"}}),
        1 => json!({"StringLike": {"s3:prefix": ["data/*", "home/${aws:username}/*"]}}),
        2 => json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/*Copy*"}}),
        3 => json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}),
        4 => json!({"Bool": {"aws:SecureTransport": "true"}}),
        5 => {
            json!({"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com", "kms:CallerAccount": "222222222222"}})
        }
        _ => {
            json!({"NumericLessThan": {"s3:max-keys": "1000"}, "StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
        }
    }
}

const S3_PATTERNS: [&str; 5] = [
    "s3:Get*",
    "s3:List*",
    "s3:PutObject",
    "s3:*",
    "s3:?etObject",
];
const KMS_PATTERNS: [&str; 4] = [
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:Describe*",
    "kms:*",
];

/// An identity-policy statement (no principal).
fn statement(r: &mut Lcg) -> Value {
    let bucket = r.pick(&BUCKETS);
    let mut s = json!({
        "Effect": if r.range(0, 5) == 0 { "Deny" } else { "Allow" },
        "Action": [r.pick(&PATTERNS), r.pick(&PATTERNS)],
        "Resource": match r.range(0, 3) {
            0 => json!("*"),
            1 => json!([format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]),
            2 => json!("arn:aws:kms:us-west-2:111111111111:key/*"),
            _ => json!(format!("arn:aws:s3:::{bucket}/data/*")),
        },
    });
    if r.range(0, 2) > 0 {
        s["Condition"] = condition(r);
    }
    s
}

fn principal(r: &mut Lcg) -> Value {
    match r.range(0, 2) {
        0 => json!({"AWS": "arn:aws:iam::222222222222:role/BobCopyRole"}),
        1 => json!({"AWS": "222222222222"}),
        _ => json!("*"),
    }
}

/// A statement of the resource's own policy: a bucket policy naming only that
/// bucket, or a key policy with `"Resource": "*"`.
fn resource_statement(r: &mut Lcg, bucket: Option<&str>) -> Value {
    let mut s = match bucket {
        Some(b) => json!({
            "Effect": if r.range(0, 5) == 0 { "Deny" } else { "Allow" },
            "Principal": principal(r),
            "Action": [r.pick(&S3_PATTERNS), r.pick(&S3_PATTERNS)],
            "Resource": match r.range(0, 2) {
                0 => json!([format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")]),
                1 => json!(format!("arn:aws:s3:::{b}/data/*")),
                _ => json!(format!("arn:aws:s3:::{b}/*")),
            },
        }),
        None => json!({
            "Effect": if r.range(0, 5) == 0 { "Deny" } else { "Allow" },
            "Principal": principal(r),
            "Action": [r.pick(&KMS_PATTERNS), r.pick(&KMS_PATTERNS)],
            "Resource": "*",
        }),
    };
    if r.range(0, 2) > 0 {
        s["Condition"] = condition(r);
    }
    s
}

fn case_json(r: &mut Lcg) -> String {
    let action = r.pick(&ACTIONS);
    let bucket = r.pick(&BUCKETS);
    let (resource, policy_bucket) = if action.starts_with("kms:") {
        (
            "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34"
                .to_string(),
            None,
        )
    } else if action == "s3:ListBucket" {
        (format!("arn:aws:s3:::{bucket}"), Some(bucket))
    } else {
        (
            format!(
                "arn:aws:s3:::{bucket}/data/2024/part-{}.csv",
                r.range(0, 999)
            ),
            Some(bucket),
        )
    };
    // 5–30 statements in all: identity policy 3–20, resource policy 2–10
    let n_id = r.range(3, 20);
    let n_res = r.range(2, 10);
    let identity: Vec<Value> = (0..n_id).map(|_| statement(r)).collect();
    let resource_policy: Vec<Value> = (0..n_res)
        .map(|_| resource_statement(r, policy_bucket))
        .collect();
    json!({
        "request": {
            "principal": "arn:aws:sts::222222222222:assumed-role/BobCopyRole/xacct",
            "action": action,
            "resource": resource,
            "resource_account": "111111111111",
            "context": {
                "aws:SecureTransport": true,
                "aws:PrincipalOrgID": "o-b2c3d4e5f6",
                "aws:SourceIp": "203.0.113.7",
                "s3:prefix": "data/",
                "s3:max-keys": 500,
                "kms:ViaService": "s3.us-west-2.amazonaws.com",
                "aws:TagKeys": ["team", "env"]
            },
            "unknown_keys": ["aws:SourceVpce"]
        },
        "identity_policies": [{"Version": "2012-10-17", "Statement": identity}],
        "resource_policy": {"Version": "2012-10-17", "Statement": resource_policy}
    })
    .to_string()
}

fn corpus(n: usize) -> Vec<String> {
    let mut r = Lcg(0x5eed);
    (0..n).map(|_| case_json(&mut r)).collect()
}

fn cases(n: usize) -> Vec<Case> {
    corpus(n)
        .iter()
        .enumerate()
        .map(|(i, t)| match parse_case(&format!("case {i}"), t) {
            Ok(c) => c,
            Err(p) => panic!("generated case {i} is invalid: {}", p.one_line()),
        })
        .collect()
}

/// Sample settings baked in, so a bare `cargo bench --bench engine` measures
/// every case many times: divan's default of 100 samples of one iteration
/// each would time 100 decisions of the first two cases only.
const SAMPLES: u32 = 3000;
const SAMPLE_SIZE: u32 = 64;

/// Line `i` of the corpus (cycling), parsed as `--batch` parses a line.
fn line(lines: &[String], i: usize) -> Case {
    match parse_case("line", &lines[i % lines.len()]) {
        Ok(c) => c,
        Err(p) => panic!("generated case is invalid: {}", p.one_line()),
    }
}

/// What `--batch` does with each line, without the parsing: the case was just
/// parsed (outside the timing), so its policies are where the parser left
/// them, and it is decided once. Each sample is one fresh case, cycling
/// through the 256.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn decide_after_parse(bencher: divan::Bencher) {
    let lines = corpus(256);
    let mut i = 0usize;
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .with_inputs(|| {
            i += 1;
            line(&lines, i - 1)
        })
        .bench_local_refs(|c| {
            // decided, read and dropped inside the timing, as `--batch` does
            let d = c.decide();
            divan::black_box(&d);
        });
}

/// Decisions with policies already parsed: the engine alone, rotating through
/// `n` cases, so every decision is a different request against different
/// policies. Up to 32 cases' policies fit in this machine's 2 MiB L2; 256 do
/// not, and each decision then starts with its policies out of the cache.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE, args = [8, 16, 32, 64, 128, 256])]
fn evaluate_in_process(bencher: divan::Bencher, n: usize) {
    let cases = cases(n);
    let sets: Vec<_> = cases.iter().map(|c| (c, c.policy_set())).collect();
    let mut i = 0usize;
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            let (c, set) = &sets[i % sets.len()];
            i += 1;
            // decided, read and dropped inside the timing, as `--batch` and the
            // doctor use a decision
            let d = xacct::policy::evaluate(&c.request, set);
            divan::black_box(&d);
        });
}

/// The questions the doctor asks of one set of documents: for each case,
/// eight different requests against its policies (the S3 actions on its
/// bucket and on several objects, or the KMS actions on its key), 64
/// decisions in a row before the next case's policies.
fn questions(c: &Case) -> Vec<xacct::policy::Request> {
    let r = &c.request;
    let ask = |action: &str, resource: String| {
        let mut q = r.clone();
        q.action = action.to_string();
        q.resource = resource;
        q
    };
    if r.action.starts_with("kms:") {
        [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ]
        .iter()
        .map(|a| ask(a, r.resource.clone()))
        .collect()
    } else {
        let bucket = r
            .resource
            .trim_start_matches("arn:aws:s3:::")
            .split('/')
            .next()
            .unwrap_or("");
        let object = |k: &str| format!("arn:aws:s3:::{bucket}/{k}");
        vec![
            ask("s3:ListBucket", format!("arn:aws:s3:::{bucket}")),
            ask("s3:GetObject", object("data/2024/part-1.csv")),
            ask("s3:GetObject", object("home/alice/notes.txt")),
            ask("s3:PutObject", object("data/2024/part-2.csv")),
            ask("s3:GetObjectTagging", object("data/2024/part-1.csv")),
            ask("s3:DeleteObject", object("tmp/x")),
            ask("s3:GetObjectVersion", object("data/2024/part-3.csv")),
            ask("s3:ListBucketVersions", format!("arn:aws:s3:::{bucket}")),
        ]
    }
}

/// The engine with one set of documents in the CPU cache, as the doctor uses
/// it: each case's policies asked 64 questions in a row, eight different
/// requests (see `questions`), then the next case's.
#[divan::bench(sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
fn evaluate_in_process_warm(bencher: divan::Bencher) {
    let cases = cases(256);
    let sets: Vec<_> = cases
        .iter()
        .map(|c| (questions(c), c.policy_set()))
        .collect();
    let mut i = 0usize;
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            let (qs, set) = &sets[(i / 64) % sets.len()];
            let q = &qs[i % qs.len()];
            i += 1;
            // decided, read and dropped inside the timing, as `--batch` and the
            // doctor use a decision
            let d = xacct::policy::evaluate(q, set);
            divan::black_box(&d);
        });
}

/// What `--batch` does per line: parse the JSON case, then decide it.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn batch_parse_and_decide(bencher: divan::Bencher) {
    let lines = corpus(256);
    let mut i = 0usize;
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench_local(|| {
            i += 1;
            let c = line(&lines, i - 1);
            let d = c.decide();
            divan::black_box(&d);
        });
}
