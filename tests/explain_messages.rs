//! `xacct explain` on the error shapes of the failure-mode catalog
//! (shared/research/failure-modes.md). Each text below is quoted exactly from
//! the catalog, `...` and `…` included; a quote the catalog wraps over two
//! lines is joined with one space. Each case names the FM entry it comes from
//! and the check ids the text must point to.

use std::collections::BTreeSet;
use std::process::Command;

use xacct::explain_error::explain;

struct Case {
    fm: &'static str,
    text: &'static str,
    /// Exactly the links the text points to.
    points_to: &'static [&'static str],
    /// Links that must be listed as possible too.
    also: &'static [&'static str],
    /// `A`, `B`, `A or B` or `none`.
    account: &'static str,
}

const CATALOG: &[Case] = &[
    Case {
        fm: "FM-01",
        text: "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:sts::...:assumed-role/... (or arn:aws:iam::...:user/...) is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::B:role/BobCopyRole",
        points_to: &["XA001"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-02",
        text: "An error occurred (ExpiredToken) when calling the CopyObject/ UploadPartCopy operation: The provided token has expired.",
        points_to: &[],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-03",
        text: "fatal error: An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied",
        points_to: &["XA002", "XA006"],
        also: &["XA012", "XA013", "XA016"],
        account: "A or B",
    },
    Case {
        fm: "FM-03",
        text: "copy failed: ... An error occurred (AccessDenied) when calling the CopyObject operation: Access Denied",
        points_to: &["XA002", "XA003", "XA004", "XA005", "XA006", "XA007"],
        also: &["XA008", "XA011", "XA012", "XA013"],
        account: "A or B",
    },
    Case {
        fm: "FM-03",
        text: "An error occurred (403) when calling the HeadObject operation: Forbidden",
        points_to: &["XA002", "XA006"],
        also: &["XA011", "XA016"],
        account: "A or B",
    },
    Case {
        fm: "FM-03",
        text: "... when calling the GetObjectTagging operation: Access Denied",
        points_to: &["XA002", "XA006"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "FM-03",
        text: "because no identity-based policy allows the s3:ListBucket action",
        points_to: &["XA006"],
        also: &["XA002"],
        account: "B",
    },
    Case {
        fm: "FM-04",
        text: "AccessDenied ... The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        points_to: &["XA003", "XA007"],
        also: &["XA008", "XA009"],
        account: "A or B",
    },
    Case {
        fm: "FM-04",
        text: "... not authorized to perform: kms:Decrypt on this resource because no identity-based policy allows the kms:Decrypt action",
        points_to: &["XA007"],
        also: &["XA003", "XA004"],
        account: "B",
    },
    Case {
        fm: "FM-05",
        text: "User: arn:aws:sts::B:assumed-role/BobCopyRole/... is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bob-staging-bucket/...\" because no identity-based policy allows the s3:PutObject action",
        points_to: &["XA005"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-06",
        text: "... with an explicit deny in an identity-based policy",
        points_to: &["XA004", "XA005", "XA006", "XA007"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-07",
        text: "... because no permissions boundary allows the s3:GetObject action",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-07",
        text: "... with an explicit deny in a permissions boundary",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-08",
        text: "... because no session policy allows ...",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-08",
        text: "... with an explicit deny in a session policy",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-09 (and Part 1)",
        text: "... with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-.../service_control_policy/p-...",
        points_to: &["XA012"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-09",
        text: "... because no service control policy allows ...",
        points_to: &["XA012"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-10",
        text: "... with an explicit deny in a VPC endpoint policy",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-10",
        text: "... because no VPC endpoint policy allows ...",
        points_to: &["XA013"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-11",
        text: "because no resource-based policy allows the s3:GetObject action",
        points_to: &["XA002"],
        also: &["XA006", "XA011"],
        account: "A",
    },
    Case {
        fm: "FM-12",
        text: "with an explicit deny in a resource-based policy",
        points_to: &["XA002", "XA003", "XA004", "XA005"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "Part 1 (attribution)",
        text: "because no resource-based policy allows ...",
        points_to: &["XA002", "XA003", "XA004", "XA005"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "FM-13",
        text: "MalformedPolicy: Invalid principal in policy",
        points_to: &["XA002"],
        also: &["XA005"],
        account: "none",
    },
    Case {
        fm: "FM-13",
        text: "MalformedPolicyDocumentException",
        points_to: &["XA003"],
        also: &["XA004"],
        account: "none",
    },
    Case {
        fm: "FM-17",
        text: "Forbidden",
        points_to: &["XA002", "XA006"],
        also: &["XA016"],
        account: "A or B",
    },
    Case {
        fm: "FM-18",
        text: "... with an explicit deny in a resource control policy",
        points_to: &["XA012"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-19",
        text: "kms:Decrypt on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access",
        points_to: &["XA003"],
        also: &["XA009", "XA007"],
        account: "A",
    },
    Case {
        fm: "Part 1 (KMS through S3)",
        text: "... is not authorized to perform: kms:GenerateDataKey on this resource because no identity-based policy allows the kms:GenerateDataKey action",
        points_to: &["XA004"],
        also: &["XA009", "XA010"],
        account: "B",
    },
    Case {
        fm: "FM-23",
        text: "KMS.DisabledException",
        points_to: &["XA009"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "FM-23",
        text: "KMS.KMSInvalidStateException",
        points_to: &["XA009"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "FM-23",
        text: "KMS.NotFoundException ... Key 'arn:…' does not exist",
        points_to: &["XA009"],
        also: &["XA010"],
        account: "A or B",
    },
    Case {
        fm: "FM-23",
        text: "DisabledException",
        points_to: &["XA009"],
        also: &[],
        account: "A or B",
    },
    Case {
        fm: "FM-26",
        text: "User: …BobCopyRole/… is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bob-staging-bucket/…\" with an explicit deny in a resource-based policy",
        points_to: &["XA005"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-28",
        text: "An error occurred (AccessControlListNotSupported) when calling the PutObject/CopyObject operation: The bucket does not allow ACLs",
        points_to: &["XA011"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-29",
        text: "InvalidRequest: The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        points_to: &["XA008"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-30",
        text: "User: …BobCopyRole/… is not authorized to perform: kms:GenerateDataKey on this resource because no identity-based policy allows the kms:GenerateDataKey action",
        points_to: &["XA004"],
        also: &[],
        account: "B",
    },
    Case {
        fm: "FM-32",
        text: "InvalidObjectState",
        points_to: &["XA015"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-32",
        text: "ObjectNotInActiveTierError",
        points_to: &["XA015"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-32",
        text: "The source object of the COPY action is not in the active tier…",
        points_to: &["XA015"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-32",
        text: "warning: Skipping file s3://… Object is of storage class GLACIER. Unable to perform copy operations on GLACIER objects…",
        points_to: &["XA015"],
        also: &[],
        account: "A",
    },
    Case {
        fm: "FM-33",
        text: "InvalidArgument: Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4",
        points_to: &[],
        also: &[],
        account: "none",
    },
    Case {
        fm: "FM-34",
        text: "ThrottlingException: You have exceeded the rate at which you may call KMS.",
        points_to: &[],
        also: &[],
        account: "none",
    },
    Case {
        fm: "FM-34",
        text: "KMS.ThrottlingException",
        points_to: &[],
        also: &[],
        account: "none",
    },
];

fn ids(links: &[xacct::explain_error::LinkRef], primary: bool) -> BTreeSet<&'static str> {
    links
        .iter()
        .filter(|l| l.primary == primary)
        .map(|l| l.id)
        .collect()
}

#[test]
fn catalog_error_shapes_point_to_their_links() {
    assert!(CATALOG.len() >= 25, "at least 25 shapes from the catalog");
    let catalog = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/research/failure-modes.md"
    ))
    .ok()
    .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut failures = Vec::new();
    for c in CATALOG {
        // the quote really is in the catalog (when the catalog is beside the project)
        if let Some(cat) = &catalog
            && !cat.contains(c.text)
        {
            failures.push(format!(
                "{}: not quoted exactly from the catalog: {}",
                c.fm, c.text
            ));
        }
        let Some(e) = explain(c.text) else {
            failures.push(format!("{}: not recognised: {}", c.fm, c.text));
            continue;
        };
        let want: BTreeSet<&str> = c.points_to.iter().copied().collect();
        let got = ids(&e.links, true);
        if got != want {
            failures.push(format!(
                "{}: points to {got:?}, expected {want:?}: {}",
                c.fm, c.text
            ));
        }
        let also = ids(&e.links, false);
        for a in c.also {
            if !also.contains(a) {
                failures.push(format!(
                    "{}: {a} not among the possible links {also:?}",
                    c.fm
                ));
            }
        }
        if e.account.side != c.account {
            failures.push(format!(
                "{}: account {} (expected {}): {}",
                c.fm, e.account.side, c.account, c.text
            ));
        }
        assert!(
            e.doctor.command.starts_with("xacct doctor --source "),
            "{}",
            c.fm
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Complete messages as the AWS CLI prints them (the catalog's shapes with
/// real ARNs), and the shapes the brief lists beyond the catalog.
#[test]
fn full_cli_messages() {
    let e = explain("An error occurred (AccessDenied) when calling the CopyObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/copy-1 is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::alice-data/data/2024/01/orders.csv\" because no resource-based policy allows the s3:GetObject action").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA002"]));
    assert_eq!(e.account.side, "A");
    assert_eq!(
        e.doctor.command,
        "xacct doctor --source s3://alice-data --destination s3://DESTINATION_BUCKET --role-arn arn:aws:iam::222222222222:role/BobCopyRole --source-profile A"
    );

    let e = explain("An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/copy-1 is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bob-staging-bucket/x\" with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-a1b2c3d4e5/service_control_policy/p-12345678").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA012"]));
    assert_eq!(
        e.facts.policy_arn.as_deref(),
        Some(
            "arn:aws:organizations::987654321098:policy/o-a1b2c3d4e5/service_control_policy/p-12345678"
        )
    );
    assert!(
        e.policy.as_deref().unwrap_or("").contains(
            "service control policy (explicit deny): arn:aws:organizations::987654321098"
        )
    );
    assert!(
        e.doctor
            .command
            .contains("--destination s3://bob-staging-bucket")
    );

    // kms:Decrypt on a key of the role's own account: the destination key (multipart)
    let e = explain("An error occurred (AccessDenied) when calling the UploadPartCopy operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/s is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953 because no identity-based policy allows the kms:Decrypt action").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA004"]));
    assert!(
        e.doctor
            .command
            .contains("--destination-key arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a")
    );

    // UploadPartCopy without a key: source or destination key, both named
    let e = explain("An error occurred (AccessDenied) when calling the UploadPartCopy operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/s is not authorized to perform: kms:Decrypt on this resource because no identity-based policy allows the kms:Decrypt action").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA004", "XA007"]));

    let e = explain("An error occurred (AccessDenied) when calling the CreateMultipartUpload operation: Access Denied").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA004", "XA005"]));
    assert_eq!(e.account.side, "B");
    assert!(e.doctor.command.contains("--probe-writes"));

    let e = explain(
        "An error occurred (AccessDenied) when calling the UploadPartCopy operation: Access Denied",
    )
    .unwrap();
    assert_eq!(
        ids(&e.links, true),
        BTreeSet::from(["XA002", "XA003", "XA004", "XA005", "XA006", "XA007"])
    );

    // the CLI's transfer line names both buckets
    let e = explain("copy failed: s3://alice-data/a.csv to s3://bob-staging-bucket/a.csv An error occurred (AccessDenied) when calling the CopyObject operation: Access Denied").unwrap();
    assert!(
        e.doctor
            .command
            .contains("--source s3://alice-data --destination s3://bob-staging-bucket")
    );

    // AssumeRole with real ARNs: the caller goes into --caller, the role into --role-arn
    let e = explain("An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::333333333333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/BobCopyRole").unwrap();
    assert_eq!(ids(&e.links, true), BTreeSet::from(["XA001"]));
    assert!(e.doctor.command.contains("--role-arn arn:aws:iam::222222222222:role/BobCopyRole --caller arn:aws:iam::333333333333:user/ci"));

    let e = explain("An error occurred (AccessDenied) when calling the CopyObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/s is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::alice-data/k\" with an explicit deny in a VPC endpoint policy").unwrap();
    assert!(
        e.doctor
            .command
            .contains("--context aws:SourceVpce=VPCE_ID")
    );
    let e = explain("... with an explicit deny in a session policy").unwrap();
    assert!(e.doctor.command.contains("--session-policy"));
}

#[test]
fn non_authorization_errors_are_recognised() {
    for (text, points_to) in [
        (
            "An error occurred (AuthorizationHeaderMalformed) when calling the ListObjectsV2 operation: The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'",
            vec![],
        ),
        (
            "An error occurred (PermanentRedirect) when calling the ListObjectsV2 operation: The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
            vec![],
        ),
        (
            "An error occurred (SignatureDoesNotMatch) when calling the ListObjectsV2 operation: The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            vec![],
        ),
        (
            "An error occurred (AllAccessDisabled) when calling the GetObject operation: All access to this object has been disabled",
            vec![],
        ),
        (
            "An error occurred (ExpiredToken) when calling the UploadPartCopy operation: The provided token has expired.",
            vec![],
        ),
        (
            "An error occurred (InvalidObjectState) when calling the CopyObject operation: The operation is not valid for the object's storage class",
            vec!["XA015"],
        ),
        (
            "An error occurred (KMS.DisabledException) when calling the CopyObject operation: arn:aws:kms:us-west-2:111111111111:key/8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34 is disabled.",
            vec!["XA009"],
        ),
        (
            "An error occurred (KMS.KMSInvalidStateException) when calling the PutObject operation: arn:aws:kms:us-west-2:222222222222:key/5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953 is pending deletion.",
            vec!["XA009"],
        ),
        (
            "An error occurred (InvalidRequest) when calling the CopyObject operation: The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
            vec!["XA008"],
        ),
    ] {
        let e = explain(text).unwrap_or_else(|| panic!("not recognised: {text}"));
        let want: BTreeSet<&str> = points_to.into_iter().collect();
        assert_eq!(ids(&e.links, true), want, "{text}");
    }
    let e = explain("An error occurred (AuthorizationHeaderMalformed) when calling the ListObjectsV2 operation: The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'").unwrap();
    assert!(!e.permission_problem);
    assert!(e.doctor.command.contains("--region us-west-2"));
}

#[test]
fn unrecognised_text_exits_2_and_suggests_the_doctor() {
    assert!(explain("the copy did not work").is_none());
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["explain", "the copy did not work"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("xacct doctor"));
}

#[test]
fn cli_text_and_json() {
    let text =
        "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied";
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["explain", text])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    for want in [
        "Points to",
        "XA002",
        "XA006",
        "Cannot tell apart",
        "Settle it with",
        "xacct doctor --source",
    ] {
        assert!(s.contains(want), "{want} missing from:\n{s}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["explain", "--format", "json", text])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["recognised"], true);
    assert_eq!(v["explanation"]["facts"]["operation"], "ListObjectsV2");
    assert!(
        v["explanation"]["doctor"]["command"]
            .as_str()
            .unwrap_or("")
            .starts_with("xacct doctor")
    );
    // a check id still shows the check's page
    let out = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["explain", "XA003"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# XA003"));
}

#[test]
fn pasted_garbage_never_panics() {
    for t in [
        "",
        " ",
        "\u{0}",
        "User: User: User:",
        "is not authorized to perform:",
        "on resource: \"",
        "because no because no",
        "An error occurred () when calling the  operation:",
        "arn:aws:kms:",
        "s3://",
        "\u{2026}\u{2026}",
        "explicit deny in a service control policy: arn:",
    ] {
        let _ = explain(t);
    }
    let long = "Access Denied ".repeat(10_000);
    assert!(explain(&long).is_some());
}

/// The rendered text of a few explanations, against tests/golden/explain/
/// (regenerate with `XACCT_BLESS=1 cargo test --test explain_messages`).
#[test]
fn rendered_explanations_match_the_golden_files() {
    let cases = [
        (
            "copyobject-kms-decrypt-identity",
            "An error occurred (AccessDenied) when calling the CopyObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/copy-1 is not authorized to perform: kms:Decrypt on this resource because no identity-based policy allows the kms:Decrypt action",
        ),
        (
            "listobjectsv2-generic",
            "fatal error: An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied",
        ),
        (
            "getobject-resource-based",
            "An error occurred (AccessDenied) when calling the CopyObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/copy-1 is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::alice-data/data/2024/01/orders.csv\" because no resource-based policy allows the s3:GetObject action",
        ),
        (
            "putobject-scp",
            "An error occurred (AccessDenied) when calling the PutObject operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/copy-1 is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bob-staging-bucket/x\" with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-a1b2c3d4e5/service_control_policy/p-12345678",
        ),
        (
            "headobject-403",
            "An error occurred (403) when calling the HeadObject operation: Forbidden",
        ),
        (
            "ciphertext",
            "An error occurred (AccessDenied) when calling the CopyObject operation: The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        ),
        (
            "invalid-object-state",
            "An error occurred (InvalidObjectState) when calling the CopyObject operation: The operation is not valid for the object's storage class",
        ),
    ];
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/explain");
    let update = std::env::var_os("XACCT_BLESS").is_some();
    if update {
        std::fs::create_dir_all(&golden).expect("create golden dir");
    }
    let mut failures = Vec::new();
    for (name, text) in cases {
        let e = explain(text).unwrap_or_else(|| panic!("{name}: not recognised"));
        let quoted = text.replace('\'', "'\\''");
        let out = format!(
            "$ xacct explain '{quoted}'\n{}",
            xacct::explain_error::render_text(&e)
        );
        let path = golden.join(format!("{name}.txt"));
        if update {
            std::fs::write(&path, &out).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == out => {}
            Ok(want) => failures.push(format!("{name}: differs\n--- want\n{want}\n--- got\n{out}")),
            Err(_) => failures.push(format!("{}: missing (XACCT_BLESS=1)", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `xacct explain -` reads a paste from standard input, wrapped lines and all.
#[test]
fn reads_standard_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_xacct"))
        .args(["explain", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"upload failed: ./x to s3://bob-staging-bucket/x An error occurred (AccessDenied) when calling the\n CreateMultipartUpload operation: User: arn:aws:sts::222222222222:assumed-role/BobCopyRole/s is not\n authorized to perform: kms:GenerateDataKey on this resource because no identity-based policy allows\n the kms:GenerateDataKey action\n");
    }
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("XA004"), "{s}");
    assert!(s.contains("--destination s3://bob-staging-bucket"), "{s}");
}
