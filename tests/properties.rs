//! Property tests of the engine: hostile input never panics the parsers,
//! evaluation is deterministic, and adding an explicit deny never turns a
//! denied request into an allowed one.

use proptest::prelude::*;
use serde_json::{Value, json};
use xacct::policy::{DecisionKind, ParseOptions, PolicyKind, parse_text};
use xacct::simulate::parse_case;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[ -~\u{2019}\u{e9}]{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "Version",
            "2012-10-17",
            "Statement",
            "Effect",
            "Allow",
            "Deny",
            "Action",
            "Resource",
            "Principal",
            "Condition",
            "StringEquals",
            "*",
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            "AWS",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "Version",
                    "Statement",
                    "Effect",
                    "Action",
                    "NotAction",
                    "Resource",
                    "NotResource",
                    "Principal",
                    "NotPrincipal",
                    "Condition",
                    "Sid",
                    "AWS",
                    "Service",
                    "request",
                    "principal",
                    "action",
                    "resource",
                    "context",
                    "format",
                    "copy",
                    "accounts",
                    "x",
                ])
                .prop_map(str::to_string),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_the_parsers(s in "\\PC{0,200}") {
        let _ = xacct::json::parse(&s);
        let _ = parse_text("t", &s, &ParseOptions::new(PolicyKind::Key));
        let _ = parse_case("t", &s);
        let _ = xacct::snapshot::load_str("t", &s);
    }

    #[test]
    fn arbitrary_json_never_panics_the_parsers(v in arb_json()) {
        let text = v.to_string();
        for kind in [PolicyKind::Identity, PolicyKind::Bucket, PolicyKind::Key, PolicyKind::Trust, PolicyKind::Scp] {
            let _ = parse_text("t", &text, &ParseOptions { kind, bucket: Some("b".into()) });
        }
        if let Ok(c) = parse_case("t", &text) {
            let _ = c.decide();
        }
        if let Ok(s) = xacct::snapshot::load_str("t", &text) {
            let _ = xacct::checks::run_all(&s);
        }
    }
}

// ---- random but valid cases

const ACTIONS: [&str; 6] = [
    "s3:GetObject",
    "s3:ListBucket",
    "s3:PutObject",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "sts:AssumeRole",
];
const PATTERNS: [&str; 8] = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:PutObject",
    "kms:Decrypt",
    "kms:*",
    "s3:?etObject",
    "sts:AssumeRole",
];
const RESOURCES: [&str; 5] = [
    "*",
    "arn:aws:s3:::alice-data",
    "arn:aws:s3:::alice-data/*",
    "arn:aws:kms:us-west-2:111111111111:key/*",
    "arn:aws:s3:::other/*",
];
const PRINCIPALS: [&str; 5] = [
    "*",
    "222222222222",
    "arn:aws:iam::222222222222:role/Copy",
    "arn:aws:iam::111111111111:root",
    "arn:aws:sts::222222222222:assumed-role/Copy/s",
];

fn arb_condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}))),
        Just(Some(
            json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
        )),
        Just(Some(json!({"Bool": {"aws:SecureTransport": "false"}}))),
        Just(Some(
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/*"}})
        )),
        Just(Some(
            json!({"StringEqualsIfExists": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}})
        )),
        Just(Some(json!({"Null": {"aws:SourceIp": "true"}}))),
    ]
}

fn arb_statement(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.25),
        prop::sample::subsequence(PATTERNS.to_vec(), 1..3),
        prop::sample::subsequence(RESOURCES.to_vec(), 1..3),
        prop::sample::select(PRINCIPALS.to_vec()),
        arb_condition(),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            move |(deny, actions, resources, principal, cond, not_action)| {
                let mut s = json!({
                    "Effect": if deny { "Deny" } else { "Allow" },
                    "Resource": resources,
                });
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                if with_principal {
                    s["Principal"] = if principal == "*" {
                        json!("*")
                    } else {
                        json!({"AWS": principal})
                    };
                }
                if let Some(c) = cond {
                    s["Condition"] = c;
                }
                s
            },
        )
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn arb_case() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(ACTIONS.to_vec()),
        prop::sample::select(vec![
            ("arn:aws:s3:::alice-data/k", "111111111111"),
            ("arn:aws:s3:::alice-data", "111111111111"),
            ("arn:aws:kms:us-west-2:111111111111:key/k1", "111111111111"),
            ("arn:aws:kms:us-west-2:222222222222:key/k2", "222222222222"),
        ]),
        prop::collection::vec(arb_statement(false), 1..6),
        prop::option::of(prop::collection::vec(arb_statement(true), 1..5)),
        prop::option::of(prop::collection::vec(arb_statement(false), 1..3)),
        prop::bool::ANY,
    )
        .prop_map(|(action, (resource, owner), id, res, boundary, unknown)| {
            let mut c = json!({
                "request": {
                    "principal": "arn:aws:sts::222222222222:assumed-role/Copy/s",
                    "action": action,
                    "resource": resource,
                    "resource_account": owner,
                    "context": {"aws:SecureTransport": true, "kms:ViaService": "s3.us-west-2.amazonaws.com"},
                    "unknown_keys": if unknown { json!(["aws:SourceVpce", "aws:PrincipalOrgID"]) } else { json!([]) }
                },
                "identity_policies": [policy(id)],
            });
            if let Some(r) = res {
                c["resource_policy"] = policy(r);
            }
            if let Some(b) = boundary {
                c["permissions_boundaries"] = json!([policy(b)]);
            }
            c
        })
}

/// A decision, owned: its kind, and everything it says (gates included) as
/// text, for comparing two decisions whole.
#[derive(Debug, PartialEq)]
struct Decided {
    decision: DecisionKind,
    whole: String,
}

fn decide(case: &Value) -> Option<Decided> {
    parse_case("prop", &case.to_string()).ok().map(|c| {
        let d = c.decide();
        Decided {
            decision: d.decision,
            whole: format!("{d:?}"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, .. ProptestConfig::default() })]

    #[test]
    fn the_engine_hints_decide_as_its_general_path(case in arb_case()) {
        let text = case.to_string();
        if let (Ok(hinted), Ok(mut general)) = (parse_case("prop", &text), parse_case("prop", &text)) {
            general.without_hints();
            prop_assert_eq!(format!("{:?}", hinted.decide()), format!("{:?}", general.decide()));
        }
    }

    #[test]
    fn evaluation_is_deterministic(case in arb_case()) {
        if let Some(a) = decide(&case) {
            let b = decide(&case).expect("parsed once, parses again");
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn adding_an_explicit_deny_never_allows_what_was_denied(
        case in arb_case(),
        extra in arb_statement(false),
        extra_res in arb_statement(true),
        into_resource in prop::bool::ANY,
    ) {
        let Some(before) = decide(&case) else { return Ok(()) };
        let mut with_deny = case.clone();
        let mut deny = if into_resource && with_deny.get("resource_policy").is_some() { extra_res } else { extra };
        deny["Effect"] = json!("Deny");
        if into_resource && with_deny.get("resource_policy").is_some() {
            with_deny["resource_policy"]["Statement"].as_array_mut().expect("array").push(deny);
        } else {
            with_deny["identity_policies"][0]["Statement"].as_array_mut().expect("array").push(deny);
        }
        let Some(after) = decide(&with_deny) else { return Ok(()) };
        if before.decision != DecisionKind::Allowed {
            prop_assert_ne!(after.decision, DecisionKind::Allowed, "a deny allowed it: {}", with_deny);
        }
        // and a definite explicit deny stays one
        if before.decision == DecisionKind::ExplicitDeny {
            prop_assert_eq!(after.decision, DecisionKind::ExplicitDeny);
        }
    }
}
