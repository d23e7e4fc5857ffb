//! For every check: when the evidence it judges is unreadable, or its decision
//! hangs on a condition key whose value is not known, the check says `unknown`
//! — never `pass`. Each case starts from the ready walkthrough fixture and
//! takes one thing away.

use serde_json::{Value, json};
use xacct::checks::{Status, run_all};
use xacct::snapshot::load_str;

const A: &str = "111111111111";
const B: &str = "222222222222";
const SK: &str = "arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34";
const DK: &str = "arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953";
const ROLE: &str = "Bobs_Data_Access_Role";

fn base() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/walkthrough-fixed.json"
    ))
    .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn unreadable(call: &str) -> Value {
    json!({"unreadable": {"call": call, "error": "AccessDenied", "message": "not authorized"}})
}

fn status(snap: &Value, id: &str) -> (Status, String) {
    let s = load_str("case", &snap.to_string()).expect("the mutated snapshot still loads");
    let f = run_all(&s)
        .into_iter()
        .find(|f| f.id == id)
        .expect("every check reports");
    (f.status, f.message)
}

fn assert_unknown(id: &str, mutate: impl FnOnce(&mut Value)) {
    let mut s = base();
    assert_eq!(
        status(&s, id).0,
        if id == "XA014" {
            Status::Skip
        } else {
            Status::Pass
        },
        "{id} baseline"
    );
    mutate(&mut s);
    let (st, msg) = status(&s, id);
    assert_eq!(
        st,
        Status::Unknown,
        "{id} must be unknown, got {st:?}: {msg}"
    );
}

fn role(s: &mut Value) -> &mut Value {
    &mut s["accounts"][B]["roles"][ROLE]
}

fn role_allow(s: &mut Value, stmt: Value) {
    let inline = role(s)["inline_policies"]
        .as_object_mut()
        .expect("inline policies");
    let (_, doc) = inline.iter_mut().next().expect("one inline policy");
    doc["Statement"]
        .as_array_mut()
        .expect("statements")
        .push(stmt);
}

#[test]
fn xa001_unknown_when_the_trust_policy_is_unreadable() {
    assert_unknown("XA001", |s| {
        s["copy"]["caller"] = json!("arn:aws:iam::222222222222:user/ops");
        role(s)["trust_policy"] = unreadable("iam:GetRole");
    });
}

#[test]
fn xa001_unknown_when_the_role_is_unreadable() {
    assert_unknown("XA001", |s| *role(s) = unreadable("iam:GetRole"));
}

#[test]
fn xa002_unknown_when_the_source_bucket_policy_is_unreadable() {
    assert_unknown("XA002", |s| {
        s["accounts"][A]["buckets"]["alice-data"]["policy"] = unreadable("s3:GetBucketPolicy")
    });
}

#[test]
fn xa002_unknown_when_the_allow_hangs_on_an_unknown_key() {
    assert_unknown("XA002", |s| {
        for st in s["accounts"][A]["buckets"]["alice-data"]["policy"]["Statement"]
            .as_array_mut()
            .expect("stmts")
        {
            st["Condition"] = json!({"StringEquals": {"aws:SourceVpce": "vpce-0123"}});
        }
    });
}

#[test]
fn xa003_unknown_when_the_source_key_policy_is_unreadable() {
    assert_unknown("XA003", |s| {
        s["accounts"][A]["keys"][SK]["policy"] = unreadable("kms:GetKeyPolicy")
    });
}

#[test]
fn xa003_unknown_when_the_key_policy_tests_an_unknown_principal_tag() {
    assert_unknown("XA003", |s| {
        let st = &mut s["accounts"][A]["keys"][SK]["policy"]["Statement"][1];
        st["Condition"]["StringEquals"]["aws:PrincipalTag/project"] = json!("migration");
    });
}

#[test]
fn xa004_unknown_when_the_destination_key_policy_is_unreadable() {
    assert_unknown("XA004", |s| {
        s["accounts"][B]["keys"][DK]["policy"] = unreadable("kms:GetKeyPolicy")
    });
}

#[test]
fn xa005_unknown_when_the_destination_bucket_policy_is_unreadable() {
    assert_unknown("XA005", |s| {
        s["accounts"][B]["buckets"]["bob-staging-bucket"]["policy"] =
            unreadable("s3:GetBucketPolicy")
    });
}

#[test]
fn xa005_unknown_when_a_deny_hangs_on_the_source_ip() {
    assert_unknown("XA005", |s| {
        s["accounts"][B]["buckets"]["bob-staging-bucket"]["policy"] = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::bob-staging-bucket/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]
        });
    });
}

#[test]
fn xa006_unknown_when_an_attached_policy_is_unreadable() {
    assert_unknown("XA006", |s| {
        role(s)["managed_policies"] =
            json!({"arn:aws:iam::222222222222:policy/extra": unreadable("iam:GetPolicyVersion")});
    });
}

#[test]
fn xa006_unknown_when_a_deny_hangs_on_an_unknown_key() {
    assert_unknown("XA006", |s| {
        role_allow(
            s,
            json!({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0123"}}}),
        );
    });
}

#[test]
fn xa007_unknown_when_the_inline_policies_are_unreadable() {
    assert_unknown("XA007", |s| {
        role(s)["inline_policies"] = unreadable("iam:ListRolePolicies")
    });
}

#[test]
fn xa008_unknown_when_the_source_key_cannot_be_described() {
    assert_unknown("XA008", |s| {
        s["accounts"][A]["keys"][SK] = unreadable("kms:DescribeKey")
    });
}

#[test]
fn xa009_unknown_when_the_destination_key_cannot_be_described() {
    assert_unknown("XA009", |s| {
        s["accounts"][B]["keys"][DK] = unreadable("kms:DescribeKey")
    });
}

#[test]
fn xa010_unknown_when_the_destination_encryption_is_unreadable() {
    assert_unknown("XA010", |s| {
        s["accounts"][B]["buckets"]["bob-staging-bucket"]["encryption"] =
            unreadable("s3:GetEncryptionConfiguration")
    });
}

#[test]
fn xa011_unknown_when_owners_and_ownership_are_unreadable() {
    assert_unknown("XA011", |s| {
        let b = &mut s["accounts"][A]["buckets"]["alice-data"];
        b["ownership"] = unreadable("s3:GetBucketOwnershipControls");
        for (_, o) in b["objects"].as_object_mut().expect("objects") {
            o.as_object_mut().expect("object").remove("owner");
        }
    });
}

#[test]
fn xa012_unknown_when_an_scp_is_unreadable() {
    assert_unknown("XA012", |s| {
        s["accounts"][B]["organization"] = json!({"id": "o-b2c3d4e5f6", "scp": [[unreadable("organizations:DescribePolicy")]], "rcp": [[]]});
        s["accounts"][A]["organization"] = json!(null);
    });
}

#[test]
fn xa012_unknown_when_an_scp_deny_hangs_on_an_unknown_key() {
    assert_unknown("XA012", |s| {
        s["accounts"][B]["organization"] = json!({"id": "o-b2c3d4e5f6", "scp": [[
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-0abc"}}}]}
        ]], "rcp": [[]]});
        s["accounts"][A]["organization"] = json!(null);
    });
}

#[test]
fn xa013_unknown_when_the_boundary_is_unreadable() {
    assert_unknown("XA013", |s| {
        role(s)["permissions_boundary"] = unreadable("iam:GetPolicyVersion")
    });
}

#[test]
fn xa013_unknown_when_the_endpoint_policy_was_not_read() {
    assert_unknown("XA013", |s| {
        s["copy"]["context"] = json!({"aws:SourceVpce": "vpce-1a2b3c4d"})
    });
}

#[test]
fn xa014_unknown_when_a_probe_could_not_complete() {
    assert_unknown("XA014", |s| {
        s["probes"] = json!([{"as": "arn:aws:sts::222222222222:assumed-role/Bobs_Data_Access_Role/xacct-doctor",
            "call": "s3:HeadObject", "target": "arn:aws:s3:::alice-data/data/2024/01/orders.csv",
            "outcome": {"error": "SlowDown", "message": "Please reduce your request rate."}}]);
    });
}

#[test]
fn xa015_unknown_when_an_object_is_unreadable() {
    assert_unknown("XA015", |s| {
        s["accounts"][A]["buckets"]["alice-data"]["objects"]["data/2024/01/orders.csv"] =
            unreadable("s3:HeadObject")
    });
}

#[test]
fn xa016_unknown_when_requester_pays_is_unreadable() {
    assert_unknown("XA016", |s| {
        s["accounts"][A]["buckets"]["alice-data"]["requester_pays"] =
            unreadable("s3:GetBucketRequestPayment")
    });
}
