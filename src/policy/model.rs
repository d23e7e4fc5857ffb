//! The policy model: what a parsed IAM policy document holds, with the span of
//! every statement and element in the text it came from.

use std::sync::Arc;

use crate::json::Span;

use super::condition::Operator;

/// The text a policy was parsed from, with a name for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source {
            name: name.into(),
            text: text.into(),
        })
    }
}

/// What kind of document a policy is; grammar rules differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An IAM identity policy (inline or managed) of a user or role.
    Identity,
    /// A permissions boundary (identity-policy grammar).
    Boundary,
    /// A session policy passed at AssumeRole (identity-policy grammar).
    Session,
    /// A resource policy of unspecified type (simulate's `resource_policy`).
    Resource,
    /// An S3 bucket policy.
    Bucket,
    /// A KMS key policy.
    Key,
    /// A role trust policy.
    Trust,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A VPC endpoint policy.
    Endpoint,
}

impl PolicyKind {
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Boundary => "boundary",
            PolicyKind::Session => "session",
            PolicyKind::Resource => "resource",
            PolicyKind::Bucket => "bucket",
            PolicyKind::Key => "key",
            PolicyKind::Trust => "trust",
            PolicyKind::Scp => "scp",
            PolicyKind::Rcp => "rcp",
            PolicyKind::Endpoint => "endpoint",
        }
    }
    pub fn from_name(s: &str) -> Option<PolicyKind> {
        Some(match s {
            "identity" => PolicyKind::Identity,
            "boundary" => PolicyKind::Boundary,
            "session" => PolicyKind::Session,
            "resource" => PolicyKind::Resource,
            "bucket" => PolicyKind::Bucket,
            "key" => PolicyKind::Key,
            "trust" => PolicyKind::Trust,
            "scp" => PolicyKind::Scp,
            "rcp" => PolicyKind::Rcp,
            "endpoint" => PolicyKind::Endpoint,
            _ => return None,
        })
    }
    /// Documents whose statements say who they apply to.
    pub fn needs_principal(self) -> bool {
        matches!(
            self,
            PolicyKind::Resource
                | PolicyKind::Bucket
                | PolicyKind::Key
                | PolicyKind::Trust
                | PolicyKind::Rcp
                | PolicyKind::Endpoint
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2008-10-17`, or no Version at all: policy variables are plain text.
    V2008,
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// AWS would refuse to store the document.
    Error,
    /// Stored by AWS, but a trap: it does not do what it seems to.
    Warning,
}

/// A problem in a policy document, located in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defect {
    pub severity: Severity,
    /// A stable kebab-case code, e.g. `principal-without-account`.
    pub code: &'static str,
    pub message: String,
    pub help: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalType {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub kind: PrincipalType,
    pub value: String,
    pub span: Span,
    /// An `AWS` value, read once: what it names.
    pub aws: super::principal::AwsName,
}

impl PrincipalEntry {
    pub fn new(kind: PrincipalType, value: String, span: Span) -> PrincipalEntry {
        let aws = if kind == PrincipalType::Aws {
            super::principal::AwsName::read(&value)
        } else {
            super::principal::AwsName::Other
        };
        PrincipalEntry {
            kind,
            value,
            span,
            aws,
        }
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalBlock {
    pub negated: bool,
    /// `"Principal": "*"`.
    pub any: bool,
    pub entries: Vec<PrincipalEntry>,
    pub span: Span,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternBlock {
    pub negated: bool,
    pub items: Vec<Spanned<String>>,
    pub span: Span,
    /// Each item's wildcard pattern, when it has no policy variable to resolve.
    pub compiled: Vec<Option<super::matching::ArnPat>>,
}

/// One `"Operator": {"key": values}` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: Operator,
    pub operator_span: Span,
    /// The key as written.
    pub key: String,
    /// The key in lower case (keys are case-insensitive).
    pub key_lc: String,
    /// `context::key_hash` of `key_lc`: the request context finds the key by it.
    pub key_hash: u64,
    pub key_span: Span,
    pub values: Vec<Spanned<String>>,
    /// The values' texts, for evaluation.
    pub texts: Vec<String>,
    /// Each value's pattern when it needs no request context (no variables).
    pub patterns: Vec<Option<super::condition::Compiled>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the Statement array (0 when Statement is a single object).
    pub index: usize,
    /// JSON pointer of the statement within the document, e.g. `/Statement/1`.
    pub pointer: Arc<str>,
    pub span: Span,
    pub sid: Option<Arc<str>>,
    /// None when missing or invalid (a defect says so); such a statement never applies.
    pub effect: Option<Effect>,
    pub principal: Option<PrincipalBlock>,
    pub action: Option<PatternBlock>,
    /// The action entries prepared for matching.
    pub actions: Vec<super::matching::ActionPat>,
    pub resource: Option<PatternBlock>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub source: Arc<Source>,
    /// The span of the whole document within `source.text`.
    pub span: Span,
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
    pub defects: Vec<Defect>,
    /// Per statement, what the engine reads first to skip it; empty or of
    /// another length when not prepared (the engine then reads every statement).
    pub hints: Vec<StatementHint>,
    /// Every statement's action entries as hints, in order; a statement's are
    /// `action_hints[first..end]`, one per entry of its `actions`.
    pub action_hints: Vec<super::matching::ActionHint>,
}

/// A statement, as the engine's first filter reads it: a few bytes in one
/// array per policy, so skipping a statement whose actions cannot match the
/// request never touches the statement itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementHint {
    /// A 64-bit filter of the services its `Action` names (`u64::MAX` for `*`,
    /// `NotAction` or anything unusual): a statement whose filter lacks the
    /// request's service bit cannot apply.
    pub filter: u64,
    pub first: u32,
    pub end: u32,
    /// `NotAction`.
    pub negated: bool,
    /// It has an Effect and an Action; a statement without both never applies.
    pub live: bool,
}

/// The filter bit of a (lower-cased) service prefix.
pub fn service_bit(service_lc: &str) -> u64 {
    // FNV-1a: stable, cheap, no allocation
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in service_lc.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    1u64 << (h % 64)
}

impl Policy {
    /// Defects that make AWS refuse the document.
    pub fn errors(&self) -> impl Iterator<Item = &Defect> {
        self.defects
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }
    pub fn statement_text(&self, st: &Statement) -> &str {
        self.source
            .text
            .get(st.span.start..st.span.end)
            .unwrap_or("")
    }
}
