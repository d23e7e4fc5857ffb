//! From JSON text to a [`Policy`], with grammar validation that reports every
//! problem at once. Parsing never fails: a document AWS would refuse still gives
//! a `Policy`, whose `defects` say why (the checks turn those into findings).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::json::{self, Member, Node, Span, Value};

use super::condition::Operator;
use super::model::*;
use super::service::{self, Known};

/// How to read a policy: what kind of document it is and, for bucket policies,
/// which bucket it is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    pub kind: PolicyKind,
    pub bucket: Option<String>,
}

impl ParseOptions {
    pub fn new(kind: PolicyKind) -> Self {
        ParseOptions { kind, bucket: None }
    }
    pub fn bucket(name: &str) -> Self {
        ParseOptions {
            kind: PolicyKind::Bucket,
            bucket: Some(name.to_string()),
        }
    }
}

/// Parse a policy from its text (the exact string AWS returned, or a file).
pub fn parse_text(name: &str, text: &str, opts: &ParseOptions) -> Policy {
    let source = Source::new(name, text);
    match json::parse(text) {
        Ok(node) => parse_node(&node, source, opts),
        Err(e) => {
            let mut p = empty(source, opts.kind, Span::new(0, text.len()));
            p.defects.push(Defect {
                severity: Severity::Error,
                code: "not-json",
                message: format!("the policy is not valid JSON: {}", e.message),
                help: "AWS stores only well-formed JSON policy documents".into(),
                span: e.span,
            });
            p
        }
    }
}

/// Parse a policy that is a JSON object inside a larger document (`source`).
pub fn parse_node(node: &Node, source: Arc<Source>, opts: &ParseOptions) -> Policy {
    let mut p = empty(source, opts.kind, node.span);
    let mut v = Validator {
        opts,
        defects: Vec::new(),
    };
    v.document(node, &mut p);
    if p.version == Version::V2008 && p.source.text[node.span.start..node.span.end].contains("${") {
        v.warn(
            "variables-without-version",
            node.span,
            "the policy uses `${...}` but has no `\"Version\": \"2012-10-17\"`: the variables are literal text",
            "add \"Version\": \"2012-10-17\"",
        );
    }
    size_limit(
        &mut v,
        &p.source.text[node.span.start..node.span.end],
        node.span,
    );
    p.defects = v.defects;
    precompile(&mut p);
    p
}

/// Documented size limits: a document over them is refused by the service.
fn size_limit(v: &mut Validator<'_>, text: &str, span: Span) {
    // (limit, counts whitespace, who says so)
    let (limit, whitespace, what) = match v.kind() {
        PolicyKind::Bucket => (
            20 * 1024,
            true,
            "S3 accepts bucket policies of at most 20 KB",
        ),
        PolicyKind::Key => (32 * 1024, true, "KMS accepts key policies of at most 32 KB"),
        PolicyKind::Identity => (
            10_240,
            false,
            "IAM accepts at most 10,240 characters of inline policies per role (6,144 per managed policy), not counting white space",
        ),
        PolicyKind::Boundary => (
            6_144,
            false,
            "IAM accepts managed policies of at most 6,144 characters, not counting white space",
        ),
        PolicyKind::Trust => (
            4_096,
            false,
            "IAM accepts role trust policies of at most 4,096 characters (2,048 by default)",
        ),
        PolicyKind::Session => (
            2_048,
            true,
            "STS accepts session policies of at most 2,048 characters",
        ),
        PolicyKind::Scp | PolicyKind::Rcp => (
            5_120,
            true,
            "AWS Organizations accepts policies of at most 5,120 characters",
        ),
        PolicyKind::Endpoint => (
            20_480,
            true,
            "VPC endpoint policies hold at most 20,480 characters",
        ),
        PolicyKind::Resource => return,
    };
    let size = if whitespace {
        text.len()
    } else {
        text.chars().filter(|c| !c.is_whitespace()).count()
    };
    if size > limit {
        let start = Span::new(span.start, span.start + 1);
        v.error(
            "too-large",
            start,
            format!("the document is {size} characters long: {what}"),
            "split it (several inline or managed policies), or remove statements",
        );
    }
}

/// Prepare what evaluation needs and does not depend on the request, once the
/// document's Version is known.
fn precompile(p: &mut Policy) {
    use super::matching::{ActionHint, ActionPat, ArnPat};
    use super::model::StatementHint;
    let version = p.version;
    for st in &mut p.statements {
        if let Some(a) = &st.action {
            st.actions = a.items.iter().map(|i| ActionPat::new(&i.value)).collect();
        }
        if let Some(r) = &mut st.resource {
            r.compiled = r
                .items
                .iter()
                .map(|i| ArnPat::compile(&i.value, version))
                .collect();
        }
        for c in &mut st.conditions {
            let base = c.operator.base;
            c.patterns = c
                .texts
                .iter()
                .map(|t| super::condition::Compiled::new(base, t, version))
                .collect();
        }
    }
    let mut hints = Vec::with_capacity(p.statements.len());
    let mut action_hints = Vec::new();
    for st in &p.statements {
        let first = action_hints.len();
        action_hints.extend(st.actions.iter().map(ActionHint::of));
        let filter = match &st.action {
            Some(a) if !a.negated => {
                a.items
                    .iter()
                    .fold(0u64, |acc, i| match i.value.split_once(':') {
                        Some((svc, _)) if !svc.contains(['*', '?']) => {
                            acc | super::model::service_bit(&svc.to_ascii_lowercase())
                        }
                        _ => u64::MAX,
                    })
            }
            _ => u64::MAX,
        };
        let (Ok(first), Ok(end)) = (u32::try_from(first), u32::try_from(action_hints.len())) else {
            // beyond any real policy's size: leave the statements unprepared
            p.hints = Vec::new();
            p.action_hints = Vec::new();
            return;
        };
        hints.push(StatementHint {
            filter,
            first,
            end,
            negated: st.action.as_ref().is_some_and(|a| a.negated),
            live: st.effect.is_some() && st.action.is_some(),
        });
    }
    p.hints = hints;
    p.action_hints = action_hints;
}

fn empty(source: Arc<Source>, kind: PolicyKind, span: Span) -> Policy {
    Policy {
        kind,
        source,
        span,
        version: Version::V2008,
        id: None,
        statements: Vec::new(),
        defects: Vec::new(),
        hints: Vec::new(),
        action_hints: Vec::new(),
    }
}

struct Validator<'a> {
    opts: &'a ParseOptions,
    defects: Vec<Defect>,
}

const TYPOGRAPHIC: [char; 6] = [
    '\u{2018}', '\u{2019}', '\u{201A}', '\u{201C}', '\u{201D}', '\u{2032}',
];

impl Validator<'_> {
    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.defects.push(Defect {
            severity: Severity::Error,
            code,
            message: msg.into(),
            help: help.into(),
            span,
        });
    }
    fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.defects.push(Defect {
            severity: Severity::Warning,
            code,
            message: msg.into(),
            help: help.into(),
            span,
        });
    }
    fn kind(&self) -> PolicyKind {
        self.opts.kind
    }

    fn check_duplicates(&mut self, members: &[Member]) {
        let mut seen = BTreeSet::new();
        for m in members {
            if !seen.insert(m.key.as_str()) {
                self.error(
                    "duplicate-key",
                    m.key_span,
                    format!("`{}` appears twice in the same object", m.key),
                    "merge the two into one; which one AWS would keep is not defined",
                );
            }
        }
    }

    fn document(&mut self, node: &Node, p: &mut Policy) {
        let Some(members) = node.as_object() else {
            self.error(
                "not-an-object",
                node.span,
                format!(
                    "a policy document must be a JSON object, not {}",
                    node.type_name()
                ),
                "a policy looks like {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
            );
            return;
        };
        self.check_duplicates(members);
        let mut statement = None;
        for m in members {
            match m.key.as_str() {
                "Version" => match m.value.as_str() {
                    Some("2012-10-17") => p.version = Version::V2012,
                    Some("2008-10-17") => p.version = Version::V2008,
                    _ => self.error(
                        "bad-version",
                        m.value.span,
                        "`Version` must be \"2012-10-17\" or \"2008-10-17\"",
                        "use \"2012-10-17\", the current policy language version",
                    ),
                },
                "Id" => match m.value.as_str() {
                    Some(s) => p.id = Some(s.to_string()),
                    None => self.error("bad-id", m.value.span, "`Id` must be a string", ""),
                },
                "Statement" => statement = Some(&m.value),
                other => self.error(
                    "unknown-element",
                    m.key_span,
                    format!("unknown top-level element `{other}`"),
                    "a policy document has only `Version`, `Id` and `Statement`",
                ),
            }
        }
        let Some(st) = statement else {
            self.error(
                "missing-statement",
                node.span,
                "the policy has no `Statement`",
                "add \"Statement\": [ ... ] with at least one statement",
            );
            return;
        };
        match &st.value {
            Value::Object(_) => {
                if let Some(s) = self.statement(st, 0, "/Statement".into()) {
                    p.statements.push(s);
                }
            }
            Value::Array(items) => {
                if items.is_empty() {
                    self.error(
                        "missing-statement",
                        st.span,
                        "`Statement` is empty",
                        "add at least one statement",
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.statement(item, i, format!("/Statement/{i}")) {
                        p.statements.push(s);
                    }
                }
            }
            _ => self.error(
                "bad-statement",
                st.span,
                format!(
                    "`Statement` must be an object or an array of objects, not {}",
                    st.type_name()
                ),
                "",
            ),
        }
    }

    fn statement(&mut self, node: &Node, index: usize, pointer: String) -> Option<Statement> {
        let Some(members) = node.as_object() else {
            self.error(
                "bad-statement",
                node.span,
                format!("a statement must be an object, not {}", node.type_name()),
                "",
            );
            return None;
        };
        self.check_duplicates(members);
        let mut s = Statement {
            index,
            pointer: pointer.into(),
            span: node.span,
            sid: None,
            effect: None,
            principal: None,
            action: None,
            actions: Vec::new(),
            resource: None,
            conditions: Vec::new(),
        };
        let mut saw_effect = false;
        for m in members {
            match m.key.as_str() {
                "Sid" => match m.value.as_str() {
                    Some(sid) => {
                        if matches!(self.kind(), PolicyKind::Identity | PolicyKind::Boundary | PolicyKind::Session)
                            && !sid.chars().all(|c| c.is_ascii_alphanumeric())
                        {
                            self.error(
                                "bad-sid",
                                m.value.span,
                                format!("IAM requires an alphanumeric `Sid`, not `{sid}`"),
                                "use letters and digits only, e.g. \"ReadSourceBucket\"",
                            );
                        }
                        s.sid = Some(sid.into());
                    }
                    None => self.error("bad-sid", m.value.span, "`Sid` must be a string", ""),
                },
                "Effect" => {
                    saw_effect = true;
                    match m.value.as_str() {
                        Some("Allow") => s.effect = Some(Effect::Allow),
                        Some("Deny") => s.effect = Some(Effect::Deny),
                        _ => self.error(
                            "bad-effect",
                            m.value.span,
                            "`Effect` must be \"Allow\" or \"Deny\"",
                            "",
                        ),
                    }
                }
                "Principal" | "NotPrincipal" => {
                    let negated = m.key == "NotPrincipal";
                    if s.principal.is_some() {
                        self.error(
                            "principal-and-notprincipal",
                            m.key_span,
                            "a statement cannot have both `Principal` and `NotPrincipal`",
                            "keep one of them",
                        );
                    }
                    if !self.kind().needs_principal() {
                        self.error(
                            "prohibited-principal",
                            m.key_span,
                            format!(
                                "`{}` is not allowed in {} policy",
                                m.key,
                                article(self.kind())
                            ),
                            "identity policies apply to the identity they are attached to: remove the element",
                        );
                    }
                    s.principal = Some(self.principal(&m.value, negated));
                }
                "Action" | "NotAction" => {
                    let negated = m.key == "NotAction";
                    if s.action.is_some() {
                        self.error(
                            "action-and-notaction",
                            m.key_span,
                            "a statement cannot have both `Action` and `NotAction`",
                            "keep one of them",
                        );
                    }
                    let block = self.strings(&m.value, negated, &m.key);
                    for item in &block.items {
                        self.action(item);
                    }
                    s.action = Some(block);
                }
                "Resource" | "NotResource" => {
                    let negated = m.key == "NotResource";
                    if s.resource.is_some() {
                        self.error(
                            "resource-and-notresource",
                            m.key_span,
                            "a statement cannot have both `Resource` and `NotResource`",
                            "keep one of them",
                        );
                    }
                    if self.kind() == PolicyKind::Trust {
                        self.error(
                            "prohibited-resource",
                            m.key_span,
                            format!("`{}` is not allowed in a role trust policy", m.key),
                            "the resource of a trust policy is the role itself: remove the element",
                        );
                    }
                    let block = self.strings(&m.value, negated, &m.key);
                    for item in &block.items {
                        self.resource(item);
                    }
                    s.resource = Some(block);
                }
                "Condition" => s.conditions = self.conditions(&m.value),
                other => self.error(
                    "unknown-element",
                    m.key_span,
                    format!("unknown statement element `{other}`"),
                    "a statement has only Sid, Effect, Principal/NotPrincipal, Action/NotAction, Resource/NotResource and Condition",
                ),
            }
        }
        if !saw_effect {
            self.error(
                "missing-effect",
                node.span,
                "the statement has no `Effect`",
                "add \"Effect\": \"Allow\" (or \"Deny\")",
            );
        }
        if s.action.is_none() {
            self.error(
                "missing-action",
                node.span,
                "the statement has no `Action` or `NotAction`",
                "add the actions it is about, e.g. \"Action\": \"s3:GetObject\"",
            );
        }
        if s.resource.is_none() && self.kind() != PolicyKind::Trust {
            self.error(
                "missing-resource",
                node.span,
                "the statement has no `Resource` or `NotResource`",
                if self.kind() == PolicyKind::Key {
                    "in a key policy, use \"Resource\": \"*\" (it means this key)"
                } else {
                    "add the resources it applies to, e.g. \"Resource\": \"arn:aws:s3:::bucket/*\""
                },
            );
        }
        if s.principal.is_none() && self.kind().needs_principal() {
            self.error(
                "missing-principal",
                node.span,
                format!("{} policy statement must have a `Principal`", article(self.kind())),
                "name who the statement applies to, e.g. \"Principal\": {\"AWS\": \"arn:aws:iam::222222222222:role/BobCopyRole\"}",
            );
        }
        if let (Some(p), Some(Effect::Allow)) = (&s.principal, s.effect)
            && p.negated
        {
            self.warn(
                "notprincipal-with-allow",
                p.span,
                "`NotPrincipal` with `Allow` grants access to every principal not listed, anonymous users included",
                "name the principals with `Principal` instead",
            );
        }
        Some(s)
    }

    /// A string or an array of strings.
    fn strings(&mut self, node: &Node, negated: bool, what: &str) -> PatternBlock {
        let mut items = Vec::new();
        match &node.value {
            Value::String(s) => items.push(Spanned {
                value: s.clone(),
                span: node.span,
            }),
            Value::Array(a) => {
                if a.is_empty() {
                    self.error(
                        "empty-list",
                        node.span,
                        format!("`{what}` is an empty list"),
                        "list at least one value",
                    );
                }
                for n in a {
                    match n.as_str() {
                        Some(s) => items.push(Spanned {
                            value: s.to_string(),
                            span: n.span,
                        }),
                        None => self.error(
                            "bad-type",
                            n.span,
                            format!("`{what}` entries must be strings, not {}", n.type_name()),
                            "",
                        ),
                    }
                }
            }
            _ => self.error(
                "bad-type",
                node.span,
                format!(
                    "`{what}` must be a string or an array of strings, not {}",
                    node.type_name()
                ),
                "",
            ),
        }
        PatternBlock {
            negated,
            items,
            span: node.span,
            compiled: Vec::new(),
        }
    }

    fn typographic(&mut self, item: &Spanned<String>, what: &str) -> bool {
        if let Some(c) = item.value.chars().find(|c| TYPOGRAPHIC.contains(c)) {
            self.error(
                "typographic-quote",
                item.span,
                format!(
                    "{what} `{}` contains the typographic character {c:?}",
                    item.value
                ),
                "retype it with plain ASCII characters (IAM names cannot contain curly quotes)",
            );
            return true;
        }
        false
    }

    fn action(&mut self, item: &Spanned<String>) {
        if self.typographic(item, "the action") {
            return;
        }
        let a = item.value.as_str();
        if a == "*" {
            return;
        }
        let well_formed = a.split_once(':').is_some_and(|(svc, name)| {
            !svc.is_empty()
                && svc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
        });
        if !well_formed {
            self.error(
                "bad-action",
                item.span,
                format!("`{a}` is not a valid action: expected `service:ActionName`"),
                "write actions as service prefix, colon, name, e.g. \"s3:GetObject\"",
            );
            return;
        }
        let svc = a.split(':').next().unwrap_or("").to_ascii_lowercase();
        if self.kind() == PolicyKind::Bucket && svc != "s3" {
            self.error(
                "bad-action",
                item.span,
                format!("`{a}` is not an S3 action: a bucket policy can only name s3: actions"),
                "S3 refuses the policy (MalformedPolicy: Policy has invalid action)",
            );
            return;
        }
        if self.kind() == PolicyKind::Trust && svc != "sts" {
            self.error(
                "bad-action",
                item.span,
                format!("`{a}` is not an STS action: a trust policy can only name sts: actions"),
                "use sts:AssumeRole (and sts:TagSession / sts:SetSourceIdentity if needed)",
            );
            return;
        }
        if service::action_pattern_known(a) == Known::No {
            let msg = format!("`{a}` matches no {} action", svc.to_uppercase());
            if self.kind() == PolicyKind::Bucket {
                self.error(
                    "unknown-action",
                    item.span,
                    msg,
                    "S3 refuses a bucket policy with an unknown action; check the spelling",
                );
            } else {
                self.warn(
                    "unknown-action",
                    item.span,
                    msg,
                    "the statement never matches it; check the spelling",
                );
            }
        }
    }

    fn resource(&mut self, item: &Spanned<String>) {
        if self.typographic(item, "the resource") {
            return;
        }
        let r = item.value.as_str();
        if r == "*" {
            return;
        }
        let parts: Vec<&str> = r.splitn(6, ':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() {
            self.error(
                "bad-resource",
                item.span,
                format!("`{r}` is not an ARN"),
                "a resource is \"*\" or an ARN such as arn:aws:s3:::bucket/*",
            );
            return;
        }
        if self.kind() == PolicyKind::Bucket
            && let Some(bucket) = &self.opts.bucket
        {
            let inside = parts[2] == "s3" && {
                let res = parts[5];
                let name = res.split('/').next().unwrap_or("");
                crate::policy::matching::glob_str(name, bucket, false) || name == *bucket
            };
            if !inside {
                self.error(
                    "resource-outside-bucket",
                    item.span,
                    format!("`{r}` is not bucket `{bucket}` or an object in it"),
                    format!(
                        "S3 refuses the policy (Policy has invalid resource); use arn:aws:s3:::{bucket} or arn:aws:s3:::{bucket}/*"
                    ),
                );
            }
        }
    }

    fn principal(&mut self, node: &Node, negated: bool) -> PrincipalBlock {
        let mut block = PrincipalBlock {
            negated,
            any: false,
            entries: Vec::new(),
            span: node.span,
        };
        match &node.value {
            Value::String(s) if s == "*" => block.any = true,
            Value::Object(members) => {
                self.check_duplicates(members);
                if members.is_empty() {
                    self.error("empty-principal", node.span, "the principal is empty", "");
                }
                for m in members {
                    let kind = match m.key.as_str() {
                        "AWS" => PrincipalType::Aws,
                        "Service" => PrincipalType::Service,
                        "Federated" => PrincipalType::Federated,
                        "CanonicalUser" => PrincipalType::CanonicalUser,
                        other => {
                            self.error(
                                "bad-principal-type",
                                m.key_span,
                                format!("unknown principal type `{other}`"),
                                "use AWS, Service, Federated or CanonicalUser",
                            );
                            continue;
                        }
                    };
                    let block_items = self.strings(&m.value, false, &m.key);
                    for item in block_items.items {
                        self.principal_value(kind, &item);
                        block
                            .entries
                            .push(PrincipalEntry::new(kind, item.value, item.span));
                    }
                }
            }
            _ => self.error(
                "bad-principal",
                node.span,
                "`Principal` must be \"*\" or an object such as {\"AWS\": \"arn:...\"}",
                "",
            ),
        }
        block
    }

    fn principal_value(&mut self, kind: PrincipalType, item: &Spanned<String>) {
        // keep going after a curly quote: a missing account id is a second problem
        self.typographic(item, "the principal");
        let v = item.value.as_str();
        match kind {
            PrincipalType::Aws => {
                if v == "*" || super::principal::is_account_id(v) {
                    return;
                }
                if is_unique_id(v) {
                    self.warn(
                        "unique-id-principal",
                        item.span,
                        format!("`{v}` is a unique id, not an ARN: what is left when the principal it named was deleted"),
                        "it matches nothing, not even a new role of the same name: put the role ARN back",
                    );
                    return;
                }
                let parts: Vec<&str> = v.splitn(6, ':').collect();
                if parts.len() != 6 || parts[0] != "arn" || !matches!(parts[2], "iam" | "sts") {
                    self.error(
                        "bad-principal",
                        item.span,
                        format!("`{v}` is not a valid AWS principal"),
                        "use an account id, arn:aws:iam::ACCOUNT:root, a role/user ARN or an assumed-role session ARN",
                    );
                    return;
                }
                if parts[4].is_empty() {
                    self.error(
                        "principal-without-account",
                        item.span,
                        format!("the principal ARN `{v}` has no account id"),
                        format!(
                            "put the 12-digit account id between the colons: arn:aws:{}::ACCOUNT:{}",
                            parts[2], parts[5]
                        ),
                    );
                    return;
                }
                if !super::principal::is_account_id(parts[4]) {
                    self.error(
                        "bad-principal",
                        item.span,
                        format!("`{}` in `{v}` is not a 12-digit account id", parts[4]),
                        "",
                    );
                    return;
                }
                if v.contains('*') || v.contains('?') {
                    self.error(
                        "principal-wildcard",
                        item.span,
                        format!("`{v}`: a wildcard cannot match part of a principal ARN"),
                        "use \"*\" with an aws:PrincipalArn condition (ArnLike) instead",
                    );
                    return;
                }
                let res = parts[5];
                let ok = match parts[2] {
                    "iam" => {
                        res == "root"
                            || res.strip_prefix("role/").is_some_and(|r| !r.is_empty())
                            || res.strip_prefix("user/").is_some_and(|r| !r.is_empty())
                    }
                    _ => {
                        res.strip_prefix("assumed-role/")
                            .is_some_and(|r| r.contains('/'))
                            || res.starts_with("federated-user/")
                    }
                };
                if !ok {
                    self.error(
                        "bad-principal",
                        item.span,
                        format!("`{v}` is not a principal ARN (root, user, role or assumed-role session)"),
                        "",
                    );
                }
            }
            PrincipalType::Service => {
                if v != "*" && !v.contains(".amazonaws.com") {
                    self.error(
                        "bad-principal",
                        item.span,
                        format!("`{v}` is not a service principal"),
                        "service principals look like s3.amazonaws.com",
                    );
                }
            }
            PrincipalType::Federated | PrincipalType::CanonicalUser => {}
        }
    }

    fn conditions(&mut self, node: &Node) -> Vec<Condition> {
        let mut out = Vec::new();
        let Some(ops) = node.as_object() else {
            self.error(
                "bad-condition",
                node.span,
                format!("`Condition` must be an object, not {}", node.type_name()),
                "write {\"StringEquals\": {\"key\": \"value\"}}",
            );
            return out;
        };
        self.check_duplicates(ops);
        for op_member in ops {
            let Some(operator) = Operator::parse(&op_member.key) else {
                self.error(
                    "unknown-operator",
                    op_member.key_span,
                    format!("`{}` is not a condition operator", op_member.key),
                    "see the IAM condition operator reference (StringEquals, ArnLike, Bool, IpAddress, ...)",
                );
                continue;
            };
            let Some(keys) = op_member.value.as_object() else {
                self.error(
                    "bad-condition",
                    op_member.value.span,
                    format!(
                        "the value of `{}` must be an object of condition keys, not {}",
                        op_member.key,
                        op_member.value.type_name()
                    ),
                    "",
                );
                continue;
            };
            self.check_duplicates(keys);
            for k in keys {
                let values = self.condition_values(&k.value, &k.key, operator.base);
                self.condition_key(&k.key, k.key_span);
                out.push(Condition {
                    operator: operator.clone(),
                    operator_span: op_member.key_span,
                    key: k.key.clone(),
                    key_lc: k.key.to_ascii_lowercase(),
                    key_hash: super::context::key_hash(&k.key.to_ascii_lowercase()),
                    key_span: k.key_span,
                    texts: values.iter().map(|v| v.value.clone()).collect(),
                    patterns: Vec::new(),
                    values,
                });
            }
        }
        out
    }

    fn condition_key(&mut self, key: &str, span: Span) {
        if !key.contains(':') {
            self.error(
                "bad-condition-key",
                span,
                format!("`{key}` is not a condition key: expected `service:name`"),
                "",
            );
            return;
        }
        if service::condition_key_known(key) == Known::No {
            let svc = key.split(':').next().unwrap_or("");
            if self.kind() == PolicyKind::Bucket && svc.eq_ignore_ascii_case("s3") {
                self.error(
                    "unknown-condition-key",
                    span,
                    format!("`{key}` is not an S3 condition key"),
                    "S3 refuses the policy (Policy has an invalid condition key); check the spelling",
                );
            } else {
                self.warn(
                    "unknown-condition-key",
                    span,
                    format!("`{key}` is not a documented condition key"),
                    "a request never carries it: check the spelling",
                );
            }
        }
    }

    fn condition_values(
        &mut self,
        node: &Node,
        key: &str,
        op: super::condition::OpBase,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        let mut one = |v: &mut Self, n: &Node| {
            let text = match &n.value {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(raw, _) => raw.clone(),
                _ => {
                    v.error(
                        "bad-condition-value",
                        n.span,
                        format!(
                            "a condition value must be a string, number or boolean, not {}",
                            n.type_name()
                        ),
                        "",
                    );
                    return;
                }
            };
            if let Err(e) = op.check_value(&text) {
                v.error(
                    "bad-condition-value",
                    n.span,
                    format!("{e} (for {} on `{key}`)", op.name()),
                    "",
                );
            }
            out.push(Spanned {
                value: text,
                span: n.span,
            });
        };
        match &node.value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.error(
                        "empty-list",
                        node.span,
                        format!("the condition on `{key}` has no values"),
                        "list at least one value",
                    );
                }
                for n in items {
                    one(self, n);
                }
            }
            _ => one(self, node),
        }
        out
    }
}

fn is_unique_id(v: &str) -> bool {
    v.len() >= 16
        && v.starts_with('A')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn article(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "an identity",
        PolicyKind::Boundary => "a permissions boundary",
        PolicyKind::Session => "a session",
        PolicyKind::Resource => "a resource",
        PolicyKind::Bucket => "a bucket",
        PolicyKind::Key => "a key",
        PolicyKind::Trust => "a trust",
        PolicyKind::Scp => "a service control",
        PolicyKind::Rcp => "a resource control",
        PolicyKind::Endpoint => "a VPC endpoint",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(p: &Policy) -> Vec<&'static str> {
        p.defects.iter().map(|d| d.code).collect()
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = r#"{"Version": "2012-10-17", "Extra": 1, "Statement": [
            {"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Principal": "*"},
            {"Effect": "Allow", "Action": "GetObject", "Resource": "bucket"}
        ]}"#;
        let p = parse_text("t", text, &ParseOptions::new(PolicyKind::Identity));
        let c = codes(&p);
        for want in [
            "unknown-element",
            "missing-effect",
            "prohibited-principal",
            "bad-action",
            "bad-resource",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
        assert_eq!(p.statements.len(), 2);
        let d = p.defects.iter().find(|d| d.code == "bad-action").unwrap();
        assert_eq!(&text[d.span.start..d.span.end], "\"GetObject\"");
    }

    #[test]
    fn walkthrough_principal_defects() {
        let text = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam:::role/Bob\u{2019}s_Data_Access_Role\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::alice-data/*\"}]}";
        let p = parse_text("t", text, &ParseOptions::bucket("alice-data"));
        assert!(codes(&p).contains(&"typographic-quote"));
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam:::role/BobRole"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-data/*"}]}"#;
        let p = parse_text("t", text, &ParseOptions::bucket("alice-data"));
        assert_eq!(codes(&p), vec!["principal-without-account"]);
    }

    #[test]
    fn key_policy_statement_without_principal_is_rejected() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}"#;
        let p = parse_text("t", text, &ParseOptions::new(PolicyKind::Key));
        assert_eq!(codes(&p), vec!["missing-principal"]);
        assert!(!p.is_valid());
    }

    #[test]
    fn unknown_actions_depend_on_the_service_that_stores_the_policy() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}"#;
        let p = parse_text("t", text, &ParseOptions::bucket("b"));
        assert!(!p.is_valid());
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}"#;
        let p = parse_text("t", text, &ParseOptions::new(PolicyKind::Identity));
        assert!(p.is_valid());
        assert_eq!(codes(&p), vec!["unknown-action"]);
    }

    #[test]
    fn bucket_policy_resources_must_be_the_bucket() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#;
        let p = parse_text("t", text, &ParseOptions::bucket("b"));
        assert_eq!(codes(&p), vec!["resource-outside-bucket"]);
    }

    #[test]
    fn conditions_are_validated() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",
            "Condition":{"StringEqualz":{"aws:a":"x"},"NumericLessThan":{"s3:max-keys":"ten"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}]}"#;
        let p = parse_text("t", text, &ParseOptions::new(PolicyKind::Identity));
        assert_eq!(codes(&p), vec!["unknown-operator", "bad-condition-value"]);
        assert_eq!(p.statements[0].conditions.len(), 2);
    }

    #[test]
    fn not_json_is_a_defect_not_a_panic() {
        let p = parse_text("t", "{\"Version\": ", &ParseOptions::new(PolicyKind::Key));
        assert_eq!(codes(&p), vec!["not-json"]);
    }
}
