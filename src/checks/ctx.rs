//! What every check shares: the snapshot and plan, lookups that say "found",
//! "does not exist" or "cannot tell", the judging of planned requests against a
//! check's own documents, and evidence and fixes built from decisions.

use std::collections::BTreeMap;

use serde_json::json;

use crate::policy::eval::{Decision, DecisionKind, Labeled, PolicySet, PolicyType};
use crate::policy::{Defect, Severity, Tri};
use crate::snapshot::model::{Bucket, Field, Key, PolicyDoc, Role, Snapshot, Unreadable};

use super::plan::{Plan, PlannedRequest};
use super::{Evidence, Fix};

pub struct Ctx<'a> {
    pub s: &'a Snapshot,
    pub plan: &'a Plan,
}

/// A thing looked up in the snapshot.
pub enum Found<'a, T> {
    Yes(&'a T),
    /// Read, and it does not exist.
    Missing(&'a Unreadable),
    /// Not read, or its read failed: the reason.
    Unknown(String),
}

/// The documents a check judges, and those it should judge but cannot read.
#[derive(Default)]
pub struct Docs<'a> {
    pub docs: Vec<&'a PolicyDoc>,
    pub missing: Vec<String>,
}

impl<'a> Docs<'a> {
    pub fn add(&mut self, d: &'a PolicyDoc) {
        self.docs.push(d);
    }
    pub fn extend(&mut self, other: Docs<'a>) {
        self.docs.extend(other.docs);
        self.missing.extend(other.missing);
    }
    pub fn labeled(&self) -> Vec<Labeled<'a>> {
        self.docs.iter().map(|d| labeled(d)).collect()
    }
}

pub fn labeled(d: &PolicyDoc) -> Labeled<'_> {
    Labeled {
        label: d.pointer.as_str(),
        policy: &d.policy,
    }
}

/// What a check reads off a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The whole decision.
    Full,
    /// The identity policies allow and do not deny.
    Identity,
    /// The identity policies, or a KMS grant, allow; identity policies do not deny.
    IdentityOrGrant,
    /// The resource policy allows and does not deny.
    Resource,
    /// The key policy or a grant allows; the key policy does not deny.
    ResourceOrGrant,
    /// Every SCP level allows; no SCP or RCP denies.
    Organization,
    /// Boundary, session and endpoint policies allow and do not deny.
    Guardrails,
}

impl Want {
    fn deny_types(self) -> &'static [PolicyType] {
        match self {
            Want::Full => &[],
            Want::Identity | Want::IdentityOrGrant => &[PolicyType::Identity],
            Want::Resource | Want::ResourceOrGrant => &[PolicyType::Resource],
            Want::Organization => &[PolicyType::Scp, PolicyType::Rcp],
            Want::Guardrails => &[
                PolicyType::Boundary,
                PolicyType::Session,
                PolicyType::Endpoint,
            ],
        }
    }

    pub fn read(self, d: &Decision) -> Tri {
        let g = &d.gates;
        let not_denied = Tri::all(self.deny_types().iter().map(|t| g.deny_of(*t).not()));
        match self {
            Want::Full => d.tri(),
            Want::Identity => g.identity.and(not_denied),
            Want::IdentityOrGrant => g.identity.or(g.grant).and(not_denied),
            Want::Resource => g.resource.and(not_denied),
            Want::ResourceOrGrant => g.resource.or(g.grant).and(not_denied),
            Want::Organization => g.scp.and(not_denied),
            Want::Guardrails => g.boundary.and(g.session).and(g.endpoint).and(not_denied),
        }
    }

    /// Did a judged document deny explicitly?
    pub fn denied(self, d: &Decision) -> bool {
        match self {
            Want::Full => d.decision == DecisionKind::ExplicitDeny,
            _ => self
                .deny_types()
                .iter()
                .any(|t| d.gates.deny_of(*t).is_true()),
        }
    }
}

/// One planned request, decided.
pub struct Trial<'p> {
    pub req: &'p PlannedRequest,
    /// Borrows the judged documents, which outlive the planned requests.
    pub decision: Decision<'p>,
    pub tri: Tri,
}

/// The outcome of judging a link.
pub struct Judgement<'p, 'a> {
    pub tri: Tri,
    pub trials: Vec<Trial<'p>>,
    /// Judged documents AWS would refuse, with their errors.
    pub invalid: Vec<(&'a PolicyDoc, Vec<&'a Defect>)>,
    pub missing: Vec<String>,
}

impl<'p> Judgement<'p, '_> {
    pub fn first(&self, t: Tri) -> Option<&Trial<'p>> {
        self.trials.iter().find(|x| x.tri == t)
    }
    pub fn count(&self, t: Tri) -> usize {
        self.trials.iter().filter(|x| x.tri == t).count()
    }
}

impl<'a> Ctx<'a> {
    pub fn new(s: &'a Snapshot, plan: &'a Plan) -> Self {
        Ctx { s, plan }
    }

    pub fn role(&self) -> Found<'a, Role> {
        match self.s.role_by_arn(&self.plan.role_arn) {
            Some(Field::Value(r)) => Found::Yes(r),
            Some(Field::Unreadable(u)) if u.is_not_found() => Found::Missing(u),
            Some(Field::Unreadable(u)) => Found::Unknown(u.describe()),
            Some(Field::NotRead) => {
                Found::Unknown(format!("role {} was not read", self.plan.role_arn))
            }
            None => Found::Unknown(if self.s.accounts.contains_key(&self.plan.b) {
                format!(
                    "role {} was not read in account {}",
                    self.plan.role_arn, self.plan.b
                )
            } else {
                format!("account {} (B) was not read", self.plan.b)
            }),
        }
    }

    /// The destination bucket was read and does not exist (XA005 reports it).
    pub fn destination_missing(&self) -> bool {
        matches!(
            self.bucket(&self.s.copy.destination.bucket),
            Found::Missing(_)
        )
    }

    pub fn role_not_found(&self) -> bool {
        matches!(self.role(), Found::Missing(_))
    }

    pub fn bucket(&self, name: &str) -> Found<'a, Bucket> {
        match self.s.bucket(name) {
            Some((_, Field::Value(b))) => Found::Yes(b),
            Some((_, Field::Unreadable(u))) if u.is_not_found() => Found::Missing(u),
            Some((_, Field::Unreadable(u))) => Found::Unknown(u.describe()),
            Some((_, Field::NotRead)) | None => {
                Found::Unknown(format!("bucket {name} was not read"))
            }
        }
    }

    pub fn key(&self, arn: &str) -> Found<'a, Key> {
        match self.s.key(arn) {
            Some(Field::Value(k)) => Found::Yes(k),
            Some(Field::Unreadable(u)) if u.is_not_found() => Found::Missing(u),
            Some(Field::Unreadable(u)) => Found::Unknown(u.describe()),
            Some(Field::NotRead) | None => Found::Unknown(format!("key {arn} was not read")),
        }
    }

    /// A key and its policy, or the finding that says why there is nothing to
    /// judge (the key does not exist, has no policy, or was not read).
    pub fn key_and_policy(
        &self,
        id: &'static str,
        side: &str,
        key_arn: &str,
    ) -> Result<(&'a Key, &'a PolicyDoc), Box<super::Finding>> {
        use super::{Finding, Status};
        let fail = |status: Status, msg: String| Err(Box::new(Finding::new(id, status, msg)));
        let key = match self.key(key_arn) {
            Found::Yes(k) => k,
            Found::Missing(u) => {
                return fail(
                    Status::Fail,
                    format!(
                        "the {side} key {key_arn} does not exist ({}): nobody can use it",
                        u.describe()
                    ),
                );
            }
            Found::Unknown(why) => {
                return fail(
                    Status::Unknown,
                    format!("cannot read the key policy of the {side} key {key_arn}: {why}"),
                );
            }
        };
        match &key.policy {
            Field::Value(Some(d)) => Ok((key, d)),
            Field::Value(None) => fail(
                Status::Fail,
                format!("the {side} key {key_arn} has no key policy: nobody is allowed to use it"),
            ),
            Field::Unreadable(u) => {
                let f = Finding::new(
                    id,
                    Status::Unknown,
                    format!(
                        "the key policy of {key_arn} is unreadable: {}",
                        u.describe()
                    ),
                );
                let other_account =
                    self.plan.b.as_str() != crate::arn::account(key_arn).unwrap_or("");
                Err(Box::new(if other_account {
                    f.detail("GetKeyPolicy is not available across accounts: ask the key's owner, or run with --source-profile")
                } else {
                    f
                }))
            }
            Field::NotRead => fail(
                Status::Unknown,
                format!("the key policy of {key_arn} was not read"),
            ),
        }
    }

    /// P's identity policies (inline and managed).
    pub fn identity_docs(&self) -> Docs<'a> {
        let mut d = Docs::default();
        match self.role() {
            Found::Yes(r) => {
                for (what, field) in [
                    ("inline", &r.inline_policies),
                    ("managed", &r.managed_policies),
                ] {
                    match field {
                        Field::Value(map) => {
                            for (name, p) in map {
                                match p {
                                    Field::Value(doc) => d.add(doc),
                                    Field::Unreadable(u) => d
                                        .missing
                                        .push(format!("{what} policy {name}: {}", u.describe())),
                                    Field::NotRead => {
                                        d.missing.push(format!("{what} policy {name} was not read"))
                                    }
                                }
                            }
                        }
                        Field::Unreadable(u) => d
                            .missing
                            .push(format!("{what} policies of the role: {}", u.describe())),
                        Field::NotRead => d
                            .missing
                            .push(format!("{what} policies of the role were not read")),
                    }
                }
            }
            Found::Missing(u) => d.missing.push(u.describe()),
            Found::Unknown(why) => d.missing.push(why),
        }
        d
    }

    /// A document field that may be absent, unreadable or `null`.
    pub fn doc_field(
        &self,
        f: &'a Field<Option<PolicyDoc>>,
        what: &str,
    ) -> (Option<&'a PolicyDoc>, Option<String>) {
        match f {
            Field::Value(Some(d)) => (Some(d), None),
            Field::Value(None) => (None, None),
            Field::Unreadable(u) => (None, Some(format!("{what}: {}", u.describe()))),
            Field::NotRead => (None, Some(format!("{what} was not read"))),
        }
    }

    /// Judge planned requests against a check's documents.
    pub fn judge<'p>(
        &self,
        reqs: &'p [PlannedRequest],
        docs: &Docs<'a>,
        want: Want,
        set: impl Fn(&PlannedRequest) -> PolicySet<'a>,
    ) -> Judgement<'p, 'a>
    where
        'a: 'p,
    {
        let invalid: Vec<(&PolicyDoc, Vec<&Defect>)> = docs
            .docs
            .iter()
            .filter_map(|d| {
                let errs: Vec<&Defect> = d
                    .policy
                    .defects
                    .iter()
                    .filter(|x| x.severity == Severity::Error)
                    .collect();
                (!errs.is_empty()).then_some((*d, errs))
            })
            .collect();
        let mut trials = Vec::with_capacity(reqs.len());
        for r in reqs {
            let decision = crate::policy::evaluate(&r.request, &set(r));
            let mut tri = want.read(&decision);
            if !(docs.missing.is_empty() || tri.is_false() && want.denied(&decision)) {
                // an unreadable document could allow, or deny
                tri = Tri::Unknown;
            }
            trials.push(Trial {
                req: r,
                decision,
                tri,
            });
        }
        // alternatives (one of them is made, which one is not known): agreeing
        // alternatives decide, disagreeing ones make the outcome unknown
        let mut groups: BTreeMap<u32, Vec<Tri>> = BTreeMap::new();
        let mut singles = Vec::new();
        for t in &trials {
            match t.req.alternative {
                0 => singles.push(t.tri),
                g => groups.entry(g).or_default().push(t.tri),
            }
        }
        let grouped = groups.values().map(|v| {
            if v.iter().all(|t| *t == v[0]) {
                v[0]
            } else {
                Tri::Unknown
            }
        });
        let mut tri = Tri::all(singles.into_iter().chain(grouped));
        if !invalid.is_empty() {
            tri = Tri::False;
        }
        Judgement {
            tri,
            trials,
            invalid,
            missing: docs.missing.clone(),
        }
    }

    /// Find a judged document by its label (its pointer).
    pub fn doc_by_pointer(&self, docs: &Docs<'a>, pointer: &str) -> Option<&'a PolicyDoc> {
        docs.docs.iter().copied().find(|d| d.pointer == pointer)
    }

    /// Evidence for a decided request: the denying statements, the statements
    /// that hang on unknown keys, or the documents that give no allow.
    pub fn evidence(&self, docs: &Docs<'a>, t: &Trial<'_>, want: Want) -> Vec<Evidence> {
        let mut out = Vec::new();
        let types = want.deny_types();
        for m in t.decision.denies() {
            if !types.is_empty() && !m.policy_type.is_some_and(|ty| types.contains(&ty)) {
                continue;
            }
            if let Some(d) = self.doc_by_pointer(docs, m.policy) {
                out.push(statement_evidence(
                    d,
                    m.pointer,
                    format!(
                        "explicitly denies {} on {}",
                        t.req.request.action, t.req.request.resource
                    ),
                ));
            }
        }
        if !out.is_empty() {
            return out;
        }
        if t.tri == Tri::Unknown {
            for u in &t.decision.unknown_because {
                if let Some(d) = self.doc_by_pointer(docs, u.policy) {
                    out.push(statement_evidence(
                        d,
                        u.pointer,
                        format!(
                            "depends on `{}`, whose value in the request is not known",
                            u.key
                        ),
                    ));
                }
            }
            return out;
        }
        for d in &docs.docs {
            out.push(document_evidence(
                d,
                format!(
                    "no statement allows {} on {}",
                    t.req.request.action, t.req.request.resource
                ),
            ));
        }
        out
    }
}

/// The account id of a document, from its pointer `/accounts/ID/...`.
pub fn doc_account(d: &PolicyDoc) -> Option<String> {
    d.pointer
        .strip_prefix("/accounts/")
        .and_then(|r| r.split('/').next())
        .map(str::to_string)
}

pub fn statement_evidence(d: &PolicyDoc, stmt_pointer: &str, note: String) -> Evidence {
    let st = d
        .policy
        .statements
        .iter()
        .find(|s| &*s.pointer == stmt_pointer);
    let sid = st.and_then(|s| s.sid.clone());
    Evidence {
        document: d.title.clone(),
        account: doc_account(d),
        pointer: Some(d.pointer.clone()),
        statement: Some(stmt_pointer.to_string()),
        note: match sid {
            Some(sid) => format!("statement {stmt_pointer} (Sid \"{sid}\") {note}"),
            None => format!("statement {stmt_pointer} {note}"),
        },
        span: st.map(|s| (d.policy.source.clone(), s.span)),
    }
}

pub fn document_evidence(d: &PolicyDoc, note: String) -> Evidence {
    Evidence {
        document: d.title.clone(),
        account: doc_account(d),
        pointer: Some(d.pointer.clone()),
        statement: None,
        note,
        // the document's opening brace: enough to show which document it is
        span: Some((
            d.policy.source.clone(),
            crate::json::Span::new(d.policy.span.start, d.policy.span.start + 1),
        )),
    }
}

pub fn defect_evidence(d: &PolicyDoc, defect: &Defect) -> Evidence {
    let stmt = d
        .policy
        .statements
        .iter()
        .find(|s| s.span.start <= defect.span.start && defect.span.end <= s.span.end)
        .map(|s| s.pointer.to_string());
    Evidence {
        document: d.title.clone(),
        account: doc_account(d),
        pointer: Some(d.pointer.clone()),
        statement: stmt,
        note: format!(
            "AWS rejects this document: {} ({})",
            defect.message, defect.help
        ),
        span: Some((d.policy.source.clone(), defect.span)),
    }
}

/// Problems shown as evidence per document: a hostile document can have
/// hundreds of thousands, and every renderer would repeat them all.
const MAX_DEFECT_EVIDENCE: usize = 20;

/// Evidence for documents AWS would refuse to store.
pub fn invalid_evidence(invalid: &[(&PolicyDoc, Vec<&Defect>)]) -> Vec<Evidence> {
    let mut out = Vec::new();
    for (d, errs) in invalid {
        out.extend(
            errs.iter()
                .take(MAX_DEFECT_EVIDENCE)
                .map(|e| defect_evidence(d, e)),
        );
        if errs.len() > MAX_DEFECT_EVIDENCE {
            out.push(document_evidence(
                d,
                format!(
                    "and {} more problems AWS would reject in this document (`xacct lint` on the document lists them all)",
                    errs.len() - MAX_DEFECT_EVIDENCE
                ),
            ));
        }
    }
    out
}

/// "AWS rejects the bucket policy of b: <first problem> (and N more)", for a message.
pub fn defect_summary(invalid: &[(&PolicyDoc, Vec<&Defect>)]) -> String {
    invalid
        .iter()
        .map(|(d, errs)| {
            let first = errs.first().map_or("", |e| e.message.as_str());
            let more = match errs.len() {
                0 | 1 => String::new(),
                n => format!(
                    " (and {} more problem{})",
                    n - 1,
                    if n > 2 { "s" } else { "" }
                ),
            };
            format!("AWS rejects the {}: {first}{more}", d.title)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn unknown_reason(t: &Trial<'_>) -> String {
    let keys: Vec<String> = t
        .decision
        .unknown_because
        .iter()
        .map(|u| format!("`{}`", u.key))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if keys.is_empty() {
        String::new()
    } else {
        format!(
            "the decision depends on {} whose value is not known",
            keys.join(", ")
        )
    }
}

/// Text for "why unknown": unreadable documents first, else unknown keys.
pub fn unknown_message(j: &Judgement<'_, '_>) -> String {
    if !j.missing.is_empty() {
        return format!("cannot be decided: {}", j.missing.join("; "));
    }
    match j.first(Tri::Unknown) {
        Some(t) => format!(
            "cannot be decided for {}: {}",
            t.req.describe(),
            unknown_reason(t)
        ),
        None => "cannot be decided".into(),
    }
}

pub fn policy_json(statements: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn statement_value(stmts: Vec<serde_json::Value>) -> serde_json::Value {
    if stmts.len() == 1 {
        stmts.into_iter().next().unwrap_or_default()
    } else {
        serde_json::Value::Array(stmts)
    }
}

/// Read the bucket policy, merge, write it back: put-bucket-policy replaces the
/// whole document, so the statement is merged into what is there.
pub fn bucket_policy_command(bucket: &str) -> String {
    format!(
        "aws s3api get-bucket-policy --bucket {bucket} --query Policy --output text > policy.json\n# edit policy.json: add or correct the statement above, keep the others\naws s3api put-bucket-policy --bucket {bucket} --policy file://policy.json"
    )
}

/// Read the key policy, merge, write it back: put-key-policy replaces the whole
/// policy, and dropping the account's root statement can lock the key.
pub fn key_policy_command(key_arn: &str) -> String {
    format!(
        "aws kms get-key-policy --key-id {key_arn} --policy-name default --query Policy --output text > key-policy.json\n# edit key-policy.json: add or correct the statement above, keep the others (and the root statement)\naws kms put-key-policy --key-id {key_arn} --policy-name default --policy file://key-policy.json"
    )
}

/// Evidence that points at a place in the snapshot that is not a policy.
pub fn pointer_evidence(
    document: String,
    account: Option<String>,
    pointer: String,
    note: String,
) -> Evidence {
    Evidence {
        document,
        account,
        pointer: Some(pointer),
        statement: None,
        note,
        span: None,
    }
}

pub fn bucket_policy_fix(
    bucket: &str,
    account: Option<String>,
    stmts: Vec<serde_json::Value>,
    summary: String,
) -> Fix {
    Fix {
        summary,
        account,
        document: format!("bucket policy of {bucket}"),
        statement: Some(statement_value(stmts)),
        command: Some(bucket_policy_command(bucket)),
    }
}

pub fn key_policy_fix(key_arn: &str, stmts: Vec<serde_json::Value>, summary: String) -> Fix {
    Fix {
        summary,
        account: crate::arn::account(key_arn).map(str::to_string),
        document: format!("key policy of {key_arn}"),
        statement: Some(statement_value(stmts)),
        command: Some(key_policy_command(key_arn)),
    }
}

pub fn role_policy_fix(plan: &Plan, stmts: Vec<serde_json::Value>, summary: String) -> Fix {
    let role = plan.role_arn.rsplit('/').next().unwrap_or("ROLE");
    Fix {
        summary,
        account: Some(plan.b.clone()),
        document: format!("an inline policy of role {role}"),
        statement: Some(statement_value(stmts.clone())),
        command: Some(format!(
            "aws iam put-role-policy --role-name {role} --policy-name xacct-copy --policy-document '{}'",
            serde_json::to_string(&policy_json(stmts)).unwrap_or_default()
        )),
    }
}

/// A fix for documents AWS would refuse: say what to correct in each.
pub fn defect_fix(
    invalid: &[(&PolicyDoc, Vec<&Defect>)],
    corrected: Option<serde_json::Value>,
    command: Option<String>,
) -> Fix {
    let (doc, account) = invalid
        .first()
        .map(|(d, _)| (d.title.clone(), doc_account(d)))
        .unwrap_or_default();
    let n: usize = invalid.iter().map(|(_, e)| e.len()).sum();
    Fix {
        summary: format!(
            "correct the {n} problem{} marked above so AWS accepts the document{}",
            if n == 1 { "" } else { "s" },
            if corrected.is_some() {
                "; the copy needs these statements in it"
            } else {
                ""
            }
        ),
        account,
        document: doc,
        statement: corrected,
        command,
    }
}

/// Group request resources by action, for fix statements.
pub fn resources_by_action(trials: &[&Trial<'_>]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in trials {
        let e = m.entry(t.req.request.action.clone()).or_default();
        if !e.contains(&t.req.request.resource) {
            e.push(t.req.request.resource.clone());
        }
    }
    m
}

/// A corrected copy of a deny statement: the same statement with an exception
/// for the copying role.
pub fn deny_exception(
    d: &PolicyDoc,
    stmt_pointer: &str,
    role_arn: &str,
) -> Option<serde_json::Value> {
    let st = d
        .policy
        .statements
        .iter()
        .find(|s| &*s.pointer == stmt_pointer)?;
    let text = d.policy.source.text.get(st.span.start..st.span.end)?;
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    let obj = v.as_object_mut()?;
    let cond = obj.entry("Condition").or_insert_with(|| json!({}));
    let cond = cond.as_object_mut()?;
    let arn_not = cond.entry("ArnNotEquals").or_insert_with(|| json!({}));
    arn_not
        .as_object_mut()?
        .insert("aws:PrincipalArn".into(), json!(role_arn));
    Some(v)
}

/// How a policy link check words its finding.
pub struct LinkWords<'w> {
    pub id: &'static str,
    /// "the bucket policy of alice-data".
    pub subject: String,
    pub pass: String,
    /// Builds the fix for the requests no document allows.
    pub grant_fix: &'w dyn Fn(&[&Trial<'_>]) -> Option<Fix>,
    /// Statements that would make a rejected document right.
    pub corrected: Option<serde_json::Value>,
    pub corrected_command: Option<String>,
}

/// Turn a judgement of a policy link into a finding.
pub fn link_finding(
    c: &Ctx<'_>,
    j: &Judgement<'_, '_>,
    docs: &Docs<'_>,
    want: Want,
    w: LinkWords<'_>,
) -> super::Finding {
    use super::{Finding, Status};
    let p = &c.plan.role_arn;
    if !j.invalid.is_empty() {
        return Finding::new(w.id, Status::Fail, defect_summary(&j.invalid))
            .with_evidence(invalid_evidence(&j.invalid))
            .with_fix(Some(defect_fix(
                &j.invalid,
                w.corrected,
                w.corrected_command,
            )));
    }
    match j.tri {
        Tri::True => Finding::new(w.id, Status::Pass, w.pass),
        Tri::False => {
            let fails: Vec<&Trial<'_>> = j.trials.iter().filter(|t| t.tri.is_false()).collect();
            let Some(first) = fails.first() else {
                return Finding::new(
                    w.id,
                    Status::Fail,
                    format!("{} does not allow the copy", w.subject),
                );
            };
            let denied = want.denied(&first.decision);
            let req = &first.req.request;
            let mut f = if denied {
                let deny = first.decision.denies().find(|m| {
                    want.deny_types().is_empty()
                        || m.policy_type
                            .is_some_and(|t| want.deny_types().contains(&t))
                });
                let doc = deny.and_then(|m| c.doc_by_pointer(docs, m.policy));
                let what = doc.map_or(w.subject.clone(), |d| d.title.clone());
                let fix = match (deny, doc) {
                    (Some(m), Some(d)) => deny_exception(d, m.pointer, p).map(|st| Fix {
                        summary: format!(
                            "statement {} of the {} denies the role: exempt the role (or narrow the statement)",
                            m.pointer, d.title
                        ),
                        account: doc_account(d),
                        document: d.title.clone(),
                        statement: Some(st),
                        command: None,
                    }),
                    _ => None,
                };
                let fix = fix.map(|mut f| {
                    f.command = command_for(&f.document, c);
                    f
                });
                Finding::new(
                    w.id,
                    Status::Fail,
                    format!(
                        "the {what} explicitly denies {p} {} on {}",
                        req.action, req.resource
                    ) + &note_suffix(first.req.note.as_str()),
                )
                .with_fix(fix)
            } else {
                Finding::new(
                    w.id,
                    Status::Fail,
                    format!(
                        "no statement in {} allows {p} {} on {}",
                        w.subject, req.action, req.resource
                    ) + &note_suffix(first.req.note.as_str()),
                )
                .with_fix((w.grant_fix)(&fails))
            };
            f.evidence = c.evidence(docs, first, want);
            let mut seen = vec![first.req.describe()];
            let mut more = 0;
            for t in fails.iter().skip(1) {
                let d = t.req.describe();
                if seen.contains(&d) {
                    continue;
                }
                seen.push(d.clone());
                if seen.len() <= 6 {
                    f.details.push(format!("also denied: {d}"));
                } else {
                    more += 1;
                }
            }
            if more > 0 {
                f.details.push(format!("... and {more} more requests"));
            }
            f
        }
        Tri::Unknown => {
            let ev = j
                .first(Tri::Unknown)
                .map(|t| c.evidence(docs, t, want))
                .unwrap_or_default();
            Finding::new(
                w.id,
                Status::Unknown,
                format!("{}: {}", w.subject, unknown_message(j)),
            )
            .with_evidence(ev)
        }
    }
}

fn note_suffix(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(" ({note})")
    }
}

/// The CLI command that rewrites a document, by its title.
fn command_for(title: &str, c: &Ctx<'_>) -> Option<String> {
    if let Some(b) = title.strip_prefix("bucket policy of ") {
        return Some(bucket_policy_command(b));
    }
    if let Some(k) = title.strip_prefix("key policy of ") {
        return Some(key_policy_command(k));
    }
    if let Some(rest) = title.strip_prefix("inline policy ") {
        let name = rest.split(" of role ").next().unwrap_or("POLICY");
        let role = c.plan.role_arn.rsplit('/').next().unwrap_or("ROLE");
        return Some(format!(
            "aws iam put-role-policy --role-name {role} --policy-name {name} --policy-document file://policy.json"
        ));
    }
    if let Some(rest) = title.strip_prefix("managed policy ") {
        let arn = rest.split(" attached").next().unwrap_or("POLICY-ARN");
        return Some(format!(
            "aws iam create-policy-version --policy-arn {arn} --policy-document file://policy.json --set-as-default"
        ));
    }
    None
}

/// Allow statements (identity-policy form) for the given failing requests.
pub fn identity_statements(fails: &[&Trial<'_>], sid_prefix: &str) -> Vec<serde_json::Value> {
    resources_by_action(fails)
        .into_iter()
        .enumerate()
        .map(|(i, (action, resources))| {
            let res = generalize(&resources);
            json!({
                "Sid": format!("{sid_prefix}{}", i + 1),
                "Effect": "Allow",
                "Action": action,
                "Resource": if res.len() == 1 { json!(res[0]) } else { json!(res) },
            })
        })
        .collect()
}

/// Object ARNs become `bucket/prefix*` so the statement covers every object.
pub fn generalize(resources: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in resources {
        let g = match r.strip_prefix("arn:aws:s3:::") {
            Some(rest) if rest.contains('/') => {
                let bucket = rest.split('/').next().unwrap_or("");
                format!("arn:aws:s3:::{bucket}/*")
            }
            _ => r.clone(),
        };
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}
