//! The check catalog XA001–XA016 (spec: checks.md): a registry in catalog order,
//! one module per check, each a pure function of the snapshot and the plan that
//! returns a [`Finding`]. Dependencies and `skip` as the catalog says.

pub mod ctx;
mod locate;
pub mod plan;

mod xa001_role_exists;
mod xa002_source_bucket_policy;
mod xa003_source_key_policy;
mod xa004_destination_key;
mod xa005_role_can_write;
mod xa006_role_can_read;
mod xa007_role_can_use_source_key;
mod xa008_source_key_shareable;
mod xa009_keys_healthy;
mod xa010_destination_encryption;
mod xa011_object_ownership;
mod xa012_organization_policies;
mod xa013_role_guardrails;
mod xa014_live_probes;
mod xa015_objects_copyable;
mod xa016_requester_pays;

use std::sync::Arc;

use serde::Serialize;

use crate::json::Span;
use crate::policy::Source;
use crate::snapshot::model::Snapshot;

pub use ctx::Ctx;
pub use plan::Plan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Skip,
    Unknown,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Skip => "skip",
        }
    }
}

/// Which account a link lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Side {
    A,
    B,
    Both,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::A => "A (source)",
            Side::B => "B (destination)",
            Side::Both => "A + B",
        }
    }
}

/// A catalog entry.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    pub id: &'static str,
    pub slug: &'static str,
    /// The link, in a few words (the report's table).
    pub link: &'static str,
    pub side: Side,
    /// The walkthrough setup step (1–7) it is, if any.
    pub seed_step: Option<u8>,
    /// The documentation page (checks/XA0NN-slug.md).
    pub doc: &'static str,
}

macro_rules! page {
    ($f:literal) => {
        include_str!(concat!("../../checks/", $f))
    };
}

pub const CATALOG: [CheckInfo; 16] = [
    CheckInfo {
        id: "XA001",
        slug: "role-exists",
        link: "role exists, can be assumed",
        side: Side::B,
        seed_step: Some(1),
        doc: page!("XA001-role-exists.md"),
    },
    CheckInfo {
        id: "XA002",
        slug: "source-bucket-policy-allows-role",
        link: "A's bucket policy allows role",
        side: Side::A,
        seed_step: Some(2),
        doc: page!("XA002-source-bucket-policy-allows-role.md"),
    },
    CheckInfo {
        id: "XA003",
        slug: "source-key-policy-allows-role",
        link: "A's key policy allows role",
        side: Side::A,
        seed_step: Some(3),
        doc: page!("XA003-source-key-policy-allows-role.md"),
    },
    CheckInfo {
        id: "XA004",
        slug: "destination-key-allows-role",
        link: "B's key allows role",
        side: Side::B,
        seed_step: Some(4),
        doc: page!("XA004-destination-key-allows-role.md"),
    },
    CheckInfo {
        id: "XA005",
        slug: "role-can-write-destination",
        link: "role may write B's bucket",
        side: Side::B,
        seed_step: Some(5),
        doc: page!("XA005-role-can-write-destination.md"),
    },
    CheckInfo {
        id: "XA006",
        slug: "role-can-read-source",
        link: "role may read A's bucket",
        side: Side::B,
        seed_step: Some(6),
        doc: page!("XA006-role-can-read-source.md"),
    },
    CheckInfo {
        id: "XA007",
        slug: "role-can-use-source-key",
        link: "role may use A's key",
        side: Side::B,
        seed_step: Some(7),
        doc: page!("XA007-role-can-use-source-key.md"),
    },
    CheckInfo {
        id: "XA008",
        slug: "source-key-shareable",
        link: "A's key is shareable",
        side: Side::A,
        seed_step: None,
        doc: page!("XA008-source-key-shareable.md"),
    },
    CheckInfo {
        id: "XA009",
        slug: "keys-healthy",
        link: "keys exist and are usable",
        side: Side::Both,
        seed_step: None,
        doc: page!("XA009-keys-healthy.md"),
    },
    CheckInfo {
        id: "XA010",
        slug: "destination-encryption",
        link: "B writes SSE-KMS, B's key",
        side: Side::B,
        seed_step: None,
        doc: page!("XA010-destination-encryption.md"),
    },
    CheckInfo {
        id: "XA011",
        slug: "object-ownership",
        link: "object ownership and ACLs",
        side: Side::Both,
        seed_step: None,
        doc: page!("XA011-object-ownership.md"),
    },
    CheckInfo {
        id: "XA012",
        slug: "organization-policies",
        link: "SCPs and RCPs allow",
        side: Side::Both,
        seed_step: None,
        doc: page!("XA012-organization-policies.md"),
    },
    CheckInfo {
        id: "XA013",
        slug: "role-guardrails-allow",
        link: "boundary/session/VPCE allow",
        side: Side::B,
        seed_step: None,
        doc: page!("XA013-role-guardrails-allow.md"),
    },
    CheckInfo {
        id: "XA014",
        slug: "live-probes-agree",
        link: "live probes succeed",
        side: Side::Both,
        seed_step: None,
        doc: page!("XA014-live-probes-agree.md"),
    },
    CheckInfo {
        id: "XA015",
        slug: "objects-copyable",
        link: "no archived objects",
        side: Side::A,
        seed_step: None,
        doc: page!("XA015-objects-copyable.md"),
    },
    CheckInfo {
        id: "XA016",
        slug: "requester-pays",
        link: "requester pays handled",
        side: Side::A,
        seed_step: None,
        doc: page!("XA016-requester-pays.md"),
    },
];

/// Find a check by id (`XA003`, `xa3`) or slug.
pub fn lookup(name: &str) -> Option<&'static CheckInfo> {
    let n = name.trim();
    CATALOG.iter().find(|c| {
        c.id.eq_ignore_ascii_case(n)
            || c.slug.eq_ignore_ascii_case(n)
            || n.to_ascii_uppercase()
                .strip_prefix("XA")
                .and_then(|d| d.parse::<u32>().ok())
                .is_some_and(|d| format!("XA{d:03}") == c.id)
    })
}

/// Where a finding's evidence is.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// The document: "bucket policy of alice-data", "probe s3:GetObject"...
    pub document: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// JSON pointer of the document inside the snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// JSON pointer of the statement inside the document (`/Statement/1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    pub note: String,
    /// The text to underline when rendering.
    #[serde(skip)]
    pub span: Option<(Arc<Source>, Span)>,
}

/// How to fix a failing link.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The document to change ("bucket policy of alice-data").
    pub document: String,
    /// The exact statement to add (or the corrected one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
    /// The AWS CLI command that applies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub slug: &'static str,
    pub link: &'static str,
    pub status: Status,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Further lines (other failing requests, caveats).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// Links this finding bears on (XA014: the links its failed probes test).
    #[serde(skip)]
    pub related: Vec<&'static str>,
}

impl Finding {
    pub fn new(id: &'static str, status: Status, message: impl Into<String>) -> Finding {
        let info = lookup(id).unwrap_or(&CATALOG[0]);
        Finding {
            id: info.id,
            slug: info.slug,
            link: info.link,
            status,
            message: message.into(),
            evidence: Vec::new(),
            fix: None,
            details: Vec::new(),
            related: Vec::new(),
        }
    }
    pub fn info(&self) -> &'static CheckInfo {
        lookup(self.id).unwrap_or(&CATALOG[0])
    }
    pub fn with_evidence(mut self, e: Vec<Evidence>) -> Self {
        self.evidence = e;
        self
    }
    pub fn with_fix(mut self, f: Option<Fix>) -> Self {
        self.fix = f;
        self
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.details.push(d.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ready,
    Blocked,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ready => "ready",
            Verdict::Blocked => "blocked",
            Verdict::Inconclusive => "inconclusive",
        }
    }
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Ready => crate::exit::READY,
            Verdict::Blocked => crate::exit::BLOCKED,
            Verdict::Inconclusive => crate::exit::INCONCLUSIVE,
        }
    }
    pub fn of(findings: &[Finding]) -> Verdict {
        if findings.iter().any(|f| f.status == Status::Fail) {
            Verdict::Blocked
        } else if findings.iter().any(|f| f.status == Status::Unknown) {
            Verdict::Inconclusive
        } else {
            Verdict::Ready
        }
    }
}

type CheckFn = fn(&Ctx<'_>) -> Finding;

/// The checks in catalog order.
const RUNNERS: [CheckFn; 16] = [
    xa001_role_exists::run,
    xa002_source_bucket_policy::run,
    xa003_source_key_policy::run,
    xa004_destination_key::run,
    xa005_role_can_write::run,
    xa006_role_can_read::run,
    xa007_role_can_use_source_key::run,
    xa008_source_key_shareable::run,
    xa009_keys_healthy::run,
    xa010_destination_encryption::run,
    xa011_object_ownership::run,
    xa012_organization_policies::run,
    xa013_role_guardrails::run,
    xa014_live_probes::run,
    xa015_objects_copyable::run,
    xa016_requester_pays::run,
];

/// Checks skipped when XA001 finds that the role does not exist.
const NEED_ROLE: [&str; 7] = [
    "XA002", "XA003", "XA004", "XA005", "XA006", "XA007", "XA013",
];

/// Run every check on a snapshot.
pub fn run_all(s: &Snapshot) -> Vec<Finding> {
    let plan = Plan::new(s);
    let ctx = Ctx::new(s, &plan);
    let mut out: Vec<Finding> = Vec::with_capacity(16);
    let mut role_missing = false;
    for (info, run) in CATALOG.iter().zip(RUNNERS) {
        if role_missing && NEED_ROLE.contains(&info.id) {
            out.push(Finding::new(
                info.id,
                Status::Skip,
                format!("needs XA001: the role {} does not exist", plan.role_arn),
            ));
            continue;
        }
        let f = run(&ctx);
        if info.id == "XA001" && f.status == Status::Fail && ctx.role_not_found() {
            role_missing = true;
        }
        out.push(f);
    }
    // XA014: when a probe contradicts a link static analysis passed, say so.
    xa014_live_probes::annotate(&mut out);
    locate::attach(s, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_slugs_and_pages_are_permanent() {
        let ids: Vec<String> = CATALOG
            .iter()
            .map(|c| format!("{} {}", c.id, c.slug))
            .collect();
        assert_eq!(
            ids,
            vec![
                "XA001 role-exists",
                "XA002 source-bucket-policy-allows-role",
                "XA003 source-key-policy-allows-role",
                "XA004 destination-key-allows-role",
                "XA005 role-can-write-destination",
                "XA006 role-can-read-source",
                "XA007 role-can-use-source-key",
                "XA008 source-key-shareable",
                "XA009 keys-healthy",
                "XA010 destination-encryption",
                "XA011 object-ownership",
                "XA012 organization-policies",
                "XA013 role-guardrails-allow",
                "XA014 live-probes-agree",
                "XA015 objects-copyable",
                "XA016 requester-pays",
            ]
        );
        for c in CATALOG {
            assert!(
                c.doc.starts_with(&format!("# {} {}", c.id, c.slug)),
                "{} page title",
                c.id
            );
            for section in [
                "## What it checks",
                "## Why it fails",
                "## Evidence",
                "## How to fix it",
                "## Seed step",
            ] {
                assert!(c.doc.contains(section), "{} lacks {section}", c.id);
            }
        }
    }

    #[test]
    fn lookup_accepts_ids_and_slugs() {
        assert_eq!(lookup("XA003").map(|c| c.id), Some("XA003"));
        assert_eq!(lookup("xa3").map(|c| c.id), Some("XA003"));
        assert_eq!(lookup("requester-pays").map(|c| c.id), Some("XA016"));
        assert!(lookup("XA017").is_none());
    }
}
