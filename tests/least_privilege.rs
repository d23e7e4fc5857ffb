//! Least privilege, proven with xacct's own engine:
//!
//! 1. the registry `xacct::gather::operations::OPERATIONS` is complete: it
//!    names exactly the SDK operations called in src/gather/, and live runs
//!    (moto on 127.0.0.1, with --probe-writes and --census, and --no-probes)
//!    send only what it lists, each as an identity it lists;
//! 2. each operation A or B sends is allowed by the read-only policy shipped
//!    for that account (policies/), for a principal of that account on the
//!    resources it is sent on, and denied on anything else;
//! 3. neither policy grants a write: every S3, KMS, IAM and STS action whose
//!    access level is Write, Permissions management or Tagging is denied on
//!    every resource (sts:AssumeRole aside: it is how the probes act as the
//!    role, and changes nothing).
//!
//! Operations sent as the role (the probes) run with the copying role's own
//! permissions, not with these policies: they are listed, not proven here.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use support::*;
use xacct::gather::aws::Side;
use xacct::gather::operations::{OPERATIONS, Target};
use xacct::policy::{
    Context, Labeled, ParseOptions, Policy, PolicyKind, PolicySet, Principal, Request, evaluate,
    parse_text,
};

const SOURCE_BUCKET: &str = "alice-data";
const DESTINATION_BUCKET: &str = "bob-staging-bucket";
const ROLE_NAME: &str = "Bobs_Data_Access_Role";
const SK: &str = "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34";
const DK: &str = "arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953";

// ---- 1. the registry is complete

/// `.name()` right after an SDK client (`s3`, `kms`, `iam`, `sts`,
/// `organizations`, as a variable, a field, or a call like `.kms(region)`):
/// the SDK operations src/gather/ calls, as `service:Operation`.
fn operations_in_source() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gather");
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(&dir).expect("src/gather") {
        let path = e.expect("entry").path();
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        // the registry itself names every operation: skip it
        if path.ends_with("operations.rs") {
            continue;
        }
        let b = text.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        for client in ["s3", "kms", "iam", "sts", "organizations"] {
            for (at, _) in text.match_indices(client) {
                if at > 0 && ident(b[at - 1]) {
                    continue;
                }
                let mut i = at + client.len();
                if i < b.len() && ident(b[i]) {
                    continue;
                }
                // a call: skip its balanced arguments
                if b.get(i) == Some(&b'(') {
                    let mut depth = 0;
                    while i < b.len() {
                        match b[i] {
                            b'(' => depth += 1,
                            b')' => {
                                depth -= 1;
                                if depth == 0 {
                                    i += 1;
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                }
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if b.get(i) != Some(&b'.') {
                    continue;
                }
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                let start = i;
                while i < b.len() && ident(b[i]) {
                    i += 1;
                }
                if b.get(i..i + 2) != Some(b"()") || start == i {
                    continue;
                }
                let name = &text[start..i];
                let pascal: String = name
                    .split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect();
                out.insert(format!("{client}:{pascal}"));
            }
        }
    }
    out
}

#[test]
fn the_registry_names_every_operation_the_source_calls() {
    let found = operations_in_source();
    let listed: BTreeSet<String> = OPERATIONS.iter().map(|o| o.name.to_string()).collect();
    let missing: Vec<&String> = found.difference(&listed).collect();
    let unused: Vec<&String> = listed.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "src/gather/ calls operations operations.rs does not list: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "operations.rs lists operations src/gather/ never calls: {unused:?}"
    );
}

/// SECURITY.md tells users what xacct reads: it names every operation the
/// registry allows, and marks the writes as `--probe-writes` only.
#[test]
fn security_md_names_every_operation() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("SECURITY.md"))
        .expect("SECURITY.md");
    for o in OPERATIONS {
        let row = text
            .lines()
            .find(|l| l.starts_with('|') && l.contains(&format!("`{}`", o.name)));
        let Some(row) = row else {
            panic!("SECURITY.md does not name {}", o.name);
        };
        assert_eq!(
            row.contains("--probe-writes"),
            o.write,
            "SECURITY.md's row for {} must say --probe-writes exactly when it writes: {row}",
            o.name
        );
    }
}

/// Lines of an operation log: (operation, identity).
fn logged(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (op, who) = l.split_once('\t')?;
            Some((op.to_string(), who.to_string()))
        })
        .collect()
}

/// Live runs that between them reach every operation: the walkthrough with a
/// managed policy and a permissions boundary on the role, probed with
/// --probe-writes and --census, and read with --no-probes (A lists).
#[test]
fn live_runs_send_only_registered_operations_as_registered_identities() {
    let moto = Moto::start();
    let rt = runtime();
    let (creds, fixture) = rt.block_on(async {
        let mut creds = BTreeMap::new();
        creds.insert(A.to_string(), account_creds(&moto.endpoint, A).await);
        creds.insert(B.to_string(), account_creds(&moto.endpoint, B).await);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/walkthrough-fixed.json");
        let f: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture"))
            .expect("json");
        let f = provision(&moto.endpoint, &f, &creds).await;
        // a managed policy and a boundary that change nothing the copy needs
        let iam = aws_sdk_iam::Client::new(&config(&moto.endpoint, &creds[B]));
        let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let tags = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjectTagging","Resource":"*"}]}"#;
        for (name, doc) in [("xacct-lp-managed", tags), ("xacct-lp-boundary", all)] {
            iam.create_policy()
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .expect("CreatePolicy");
        }
        iam.attach_role_policy()
            .role_name(ROLE_NAME)
            .policy_arn(format!("arn:aws:iam::{B}:policy/xacct-lp-managed"))
            .send()
            .await
            .expect("AttachRolePolicy");
        iam.put_role_permissions_boundary()
            .role_name(ROLE_NAME)
            .permissions_boundary(format!("arn:aws:iam::{B}:policy/xacct-lp-boundary"))
            .send()
            .await
            .expect("PutRolePermissionsBoundary");
        (creds, f)
    });
    let scratch = Scratch::new("least-privilege");
    scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, extra) in [vec!["--probe-writes", "--census"], vec!["--no-probes"]]
        .iter()
        .enumerate()
    {
        let log = scratch.path(&format!("ops-{i}.log"));
        let out = xacct(Some(&moto.endpoint), &scratch)
            .env("XACCT_OPERATION_LOG", &log)
            .args([
                "doctor",
                "--format",
                "json",
                "--profile",
                "b",
                "--source-profile",
                "a",
            ])
            .args(extra)
            .args(copy_flags(&fixture))
            .output()
            .expect("xacct runs");
        let (o, e) = text(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{extra:?}: {o}{e}"
        );
        let lines = logged(&log);
        assert!(lines.len() > 20, "{extra:?}: a short log: {lines:?}");
        seen.extend(lines);
    }
    for (op, who) in &seen {
        let entry = OPERATIONS
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(op))
            .unwrap_or_else(|| panic!("{op} was sent but is not in operations.rs"));
        assert!(
            entry.calls.iter().any(|(s, _)| s.label() == who),
            "{op} was sent as {who}, which operations.rs does not list"
        );
    }
    let sent: BTreeSet<String> = seen.iter().map(|(op, _)| op.to_ascii_lowercase()).collect();
    let never: Vec<&str> = OPERATIONS
        .iter()
        .map(|o| o.name)
        .filter(|n| !sent.contains(&n.to_ascii_lowercase()))
        .collect();
    assert!(
        never.is_empty(),
        "listed but never sent in these runs: {never:?}"
    );
    // and each identity sent what the registry gives it, nothing more
    for (side, label) in [(Side::A, "A"), (Side::B, "B"), (Side::Role, "role")] {
        let by: BTreeSet<&str> = seen
            .iter()
            .filter(|(_, w)| w == label)
            .map(|(op, _)| op.as_str())
            .collect();
        println!("{label} ({side:?}) sent: {by:?}");
    }
}

// ---- 2. each read is allowed by the shipped policy of its account

fn shipped(file: &str) -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .expect("policy file")
        .replace("DESTINATION_ACCOUNT_ID", B)
        .replace("SOURCE_ACCOUNT_ID", A)
        .replace("COPY_ROLE_NAME", ROLE_NAME)
        .replace("DESTINATION_BUCKET", DESTINATION_BUCKET)
        .replace("SOURCE_BUCKET", SOURCE_BUCKET);
    assert!(
        !text.contains("_ACCOUNT_ID") && !text.contains("_BUCKET\""),
        "{file}: a placeholder left"
    );
    let p = parse_text(file, &text, &ParseOptions::new(PolicyKind::Identity));
    let errors: Vec<&str> = p.errors().map(|d| d.message.as_str()).collect();
    assert!(errors.is_empty(), "{file}: {errors:?}");
    p
}

/// The identity each shipped policy is for, and its account.
fn reader(side: Side) -> (&'static str, &'static str, &'static str) {
    match side {
        Side::A => (
            "xacct-source-readonly.json",
            A,
            "arn:aws:iam::111111111111:role/xacct-reader",
        ),
        Side::B => (
            "xacct-destination-readonly.json",
            B,
            "arn:aws:iam::222222222222:role/xacct-reader",
        ),
        Side::Role => unreachable!("the role runs with its own permissions"),
    }
}

/// The resources an operation on `target` is sent on.
fn resources(target: Target) -> Vec<String> {
    match target {
        Target::Any => vec!["*".into()],
        Target::SourceBucket => vec![format!("arn:aws:s3:::{SOURCE_BUCKET}")],
        Target::SourceObjects => vec![
            format!("arn:aws:s3:::{SOURCE_BUCKET}/data/2024/01/orders.csv"),
            format!("arn:aws:s3:::{SOURCE_BUCKET}/xacct-example-object"),
        ],
        Target::SourceKey => vec![SK.into()],
        Target::DestinationBucket => vec![format!("arn:aws:s3:::{DESTINATION_BUCKET}")],
        Target::DestinationObjects => {
            vec![format!(
                "arn:aws:s3:::{DESTINATION_BUCKET}/xacct-write-probe-1-2"
            )]
        }
        Target::DestinationKey => vec![DK.into()],
        Target::CopyRole => vec![format!("arn:aws:iam::{B}:role/{ROLE_NAME}")],
        Target::RolePolicies => vec![
            format!("arn:aws:iam::{B}:policy/team/CopyPolicy"),
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
        ],
    }
}

/// Resources of the same kind that are not the copy's: a least-privilege
/// policy does not reach them.
fn elsewhere(target: Target) -> Vec<String> {
    match target {
        Target::Any => Vec::new(),
        Target::SourceBucket | Target::DestinationBucket => {
            vec!["arn:aws:s3:::someone-elses-bucket".into()]
        }
        Target::SourceObjects | Target::DestinationObjects => {
            vec!["arn:aws:s3:::someone-elses-bucket/k".into()]
        }
        Target::SourceKey | Target::DestinationKey => {
            vec![
                "arn:aws:kms:us-west-2:333333333333:key/0b7f4e2a-9c61-4d38-b5e2-6a1f3c8d7e90"
                    .into(),
            ]
        }
        Target::CopyRole => vec![format!("arn:aws:iam::{B}:role/SomeOtherRole")],
        Target::RolePolicies => vec!["arn:aws:iam::333333333333:policy/Other".into()],
    }
}

/// The default key policy KMS gives a key: its account's IAM policies
/// decide (without it, no identity policy reaches a key at all).
fn default_key_policy(key_arn: &str) -> Option<Policy> {
    let account = key_arn
        .strip_prefix("arn:aws:kms:")
        .filter(|r| r.contains(":key/"))?
        .split(':')
        .nth(1)?;
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    Some(parse_text(
        "default key policy",
        &text,
        &ParseOptions::new(PolicyKind::Key),
    ))
}

fn decide(policy: &Policy, principal: &str, account: &str, action: &str, resource: &str) -> bool {
    let key_policy = default_key_policy(resource);
    let mut req = Request {
        principal: Principal::parse(principal).expect("principal"),
        action: action.to_string(),
        resource: resource.to_string(),
        // the reader's own account (a key's from its ARN): its identity
        // policy decides
        resource_account: if key_policy.is_some() {
            None
        } else {
            Some(account.to_string())
        },
        context: Context::new(),
    };
    req.derive_context();
    let set = PolicySet {
        identity: vec![Labeled {
            label: "shipped",
            policy,
        }],
        resource: key_policy.as_ref().map(|p| Labeled {
            label: "key policy",
            policy: p,
        }),
        ..PolicySet::default()
    };
    evaluate(&req, &set).allowed()
}

#[test]
fn every_read_is_allowed_by_the_shipped_policy_of_its_account_and_no_further() {
    let mut table = Vec::new();
    for op in OPERATIONS {
        for (side, target) in op.calls {
            if *side == Side::Role {
                table.push(format!("{:<36} as the role (its own permissions)", op.name));
                continue;
            }
            assert!(!op.write, "{} is a write sent as {side:?}", op.name);
            let (file, account, principal) = reader(*side);
            let policy = shipped(file);
            for r in resources(*target) {
                assert!(
                    decide(&policy, principal, account, op.action, &r),
                    "{file} does not allow {} ({}) on {r}",
                    op.action,
                    op.name
                );
                table.push(format!(
                    "{:<36} as {:?}: {} on {r}",
                    op.name, side, op.action
                ));
            }
            for r in elsewhere(*target) {
                assert!(
                    !decide(&policy, principal, account, op.action, &r),
                    "{file} allows {} on {r}, which is not the copy's",
                    op.action
                );
            }
        }
    }
    println!("{}", table.join("\n"));
}

// ---- 3. no write action

#[test]
fn the_shipped_policies_grant_no_write() {
    let data = xacct::policy::service::data();
    let mut candidates: Vec<String> = vec!["*".into()];
    for t in [
        Target::SourceBucket,
        Target::SourceObjects,
        Target::SourceKey,
        Target::DestinationBucket,
        Target::DestinationObjects,
        Target::DestinationKey,
        Target::CopyRole,
        Target::RolePolicies,
    ] {
        candidates.extend(resources(t));
    }
    candidates.push(format!("arn:aws:iam::{B}:user/someone"));
    candidates.push(format!("arn:aws:kms:us-west-2:{B}:alias/bob-staging"));
    let mut checked = 0;
    for side in [Side::A, Side::B] {
        let (file, account, principal) = reader(side);
        let policy = shipped(file);
        for svc in ["s3", "kms", "iam", "sts"] {
            let service = data.services.get(svc).expect("service data");
            for (name, action) in &service.actions {
                if !matches!(
                    action.access.as_str(),
                    "Write" | "Permissions management" | "Tagging"
                ) {
                    continue;
                }
                let full = format!("{svc}:{name}");
                // issues temporary credentials for the probes; changes nothing
                if full == "sts:AssumeRole" {
                    continue;
                }
                for r in &candidates {
                    checked += 1;
                    assert!(
                        !decide(&policy, principal, account, &full, r),
                        "{file} grants {full} ({}) on {r}",
                        action.access
                    );
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} decisions");
    println!("{checked} write decisions, all denied");
}
