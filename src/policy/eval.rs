//! Request evaluation: AWS's authorization logic over every policy type, in three
//! values. Explicit deny beats allow; no allow is an implicit deny; same-account
//! requests need identity OR resource policy, cross-account ones both; KMS key
//! policies are primary; boundaries, session policies, SCP levels and endpoint
//! policies must each allow; RCPs only deny.

use std::collections::BTreeMap;

use serde::Serialize;

use super::context::{Context, CtxValue, Lookup};
use super::matching::{ActionKey, ArnParts, Hinted, resource_matches, variable_keys};
use super::model::{Effect, Policy, PolicyKind, Statement};
use super::principal::{Principal, PrincipalMatch, match_block};
use super::service;
use super::tri::Tri;

/// One request to decide.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    /// The account owning the resource; from the ARN when it has one, else the
    /// principal's.
    pub resource_account: Option<String>,
    pub context: Context,
}

impl Request {
    pub fn resource_account(&self) -> Option<String> {
        self.resource_account_str().map(str::to_string)
    }

    fn resource_account_str(&self) -> Option<&str> {
        if let Some(a) = &self.resource_account {
            return Some(a);
        }
        if let Some(acct) = crate::arn::account(&self.resource) {
            return Some(acct);
        }
        self.principal.account()
    }

    /// Fill in the keys a request always carries and that follow from the
    /// principal and resource, unless the caller said something about them.
    pub fn derive_context(&mut self) {
        let ra = self.resource_account();
        let p = &self.principal;
        let c = &mut self.context;
        if let Some(arn) = p.principal_arn() {
            c.set_default("aws:PrincipalArn", CtxValue::Single(arn));
        }
        if let Some(acct) = p.account() {
            c.set_default("aws:PrincipalAccount", CtxValue::Single(acct.to_string()));
            if self.action.to_ascii_lowercase().starts_with("kms:") {
                c.set_default("kms:CallerAccount", CtxValue::Single(acct.to_string()));
            }
        }
        c.set_default(
            "aws:PrincipalType",
            CtxValue::Single(p.principal_type().to_string()),
        );
        if let Principal::User { name, .. } = p {
            c.set_default("aws:username", CtxValue::Single(name.clone()));
        }
        c.set_default(
            "aws:PrincipalIsAWSService",
            CtxValue::Single(p.is_service().to_string()),
        );
        if let Some(ra) = ra {
            c.set_default("aws:ResourceAccount", CtxValue::Single(ra));
        }
    }
}

/// A policy with the name it is reported under (`identity_policies[0]`, or the
/// doctor's `role BobCopyRole inline policy copy`).
#[derive(Debug, Clone, Copy)]
pub struct Labeled<'a> {
    pub label: &'a str,
    pub policy: &'a Policy,
}

/// A KMS grant, as the doctor reads it from ListGrants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub label: String,
    pub grantee: String,
    /// Operation names without the `kms:` prefix (`Decrypt`).
    pub operations: Vec<String>,
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

/// Everything that takes part in one decision. Absent parts do not take part.
#[derive(Debug, Clone, Default)]
pub struct PolicySet<'a> {
    pub identity: Vec<Labeled<'a>>,
    pub resource: Option<Labeled<'a>>,
    pub boundaries: Vec<Labeled<'a>>,
    pub session: Option<Labeled<'a>>,
    /// SCP levels from the root down; `None`: the account is in no organization.
    pub scp: Option<Vec<Vec<Labeled<'a>>>>,
    pub rcp: Vec<Vec<Labeled<'a>>>,
    pub endpoints: Vec<Labeled<'a>>,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    Identity,
    Resource,
    Boundary,
    Session,
    Scp,
    Rcp,
    Endpoint,
}

impl PolicyType {
    /// Every type, in order (`denies` is indexed by it).
    pub const ALL: [PolicyType; 7] = [
        PolicyType::Identity,
        PolicyType::Resource,
        PolicyType::Boundary,
        PolicyType::Session,
        PolicyType::Scp,
        PolicyType::Rcp,
        PolicyType::Endpoint,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Endpoint => "endpoint",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
    Unknown,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "allowed",
            DecisionKind::ImplicitDeny => "implicit_deny",
            DecisionKind::ExplicitDeny => "explicit_deny",
            DecisionKind::Unknown => "unknown",
        }
    }
}

/// A statement whose outcome hangs on a key nobody knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownRef<'a> {
    pub key: &'a str,
    pub policy: &'a str,
    pub statement: usize,
    #[serde(skip)]
    pub pointer: &'a str,
    #[serde(skip)]
    pub effect: Option<Effect>,
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedRef<'a> {
    pub policy: &'a str,
    pub statement: usize,
    pub sid: Option<&'a str>,
    #[serde(serialize_with = "ser_effect")]
    pub effect: Effect,
    #[serde(skip)]
    pub pointer: &'a str,
    #[serde(skip)]
    pub policy_type: Option<PolicyType>,
}

fn ser_effect<S: serde::Serializer>(e: &Effect, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}

/// Each gate's own answer, for messages that say which side is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gates {
    pub identity: Tri,
    pub resource: Tri,
    /// KMS: the key policy grants the principal directly (not by delegation).
    pub resource_direct: Tri,
    /// KMS: the key policy delegates to the principal's account (its root).
    pub resource_delegates: Tri,
    pub boundary: Tri,
    pub session: Tri,
    pub scp: Tri,
    pub endpoint: Tri,
    pub grant: Tri,
    pub deny: Tri,
    /// Explicit denies per policy type.
    pub denies: [Tri; 7],
}

impl Gates {
    pub fn deny_of(&self, ty: PolicyType) -> Tri {
        self.denies[ty as usize]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    pub decision: DecisionKind,
    pub blocked_by: Vec<PolicyType>,
    pub unknown_because: Vec<UnknownRef<'a>>,
    pub matched: Vec<MatchedRef<'a>>,
    #[serde(skip)]
    pub gates: Gates,
}

impl<'a> Decision<'a> {
    pub fn allowed(&self) -> bool {
        self.decision == DecisionKind::Allowed
    }
    /// The deny statements that applied.
    pub fn denies(&self) -> impl Iterator<Item = &MatchedRef<'a>> {
        self.matched.iter().filter(|m| m.effect == Effect::Deny)
    }
    /// As a three-valued "is it allowed".
    pub fn tri(&self) -> Tri {
        match self.decision {
            DecisionKind::Allowed => Tri::True,
            DecisionKind::Unknown => Tri::Unknown,
            _ => Tri::False,
        }
    }
}

/// How one statement relates to the request.
#[derive(Debug, Clone)]
struct StmtEval<'a> {
    applies: Tri,
    principal: PrincipalMatch,
    unknown_keys: Vec<&'a str>,
}

/// The request's action in lower case, and its service.
#[derive(Clone, Copy)]
struct ActionLc<'a> {
    lc: &'a str,
    svc: &'a str,
    /// The resource, split into its ARN parts once.
    resource: ArnParts<'a>,
}

fn eval_statement<'a>(
    st: &'a Statement,
    policy: &'a Policy,
    req: &Request,
    act: ActionLc<'_>,
    resource: &str,
    has_boundary: bool,
    action_checked: bool,
) -> StmtEval<'a> {
    let no = StmtEval {
        applies: Tri::False,
        principal: PrincipalMatch::No,
        unknown_keys: Vec::new(),
    };
    if st.effect.is_none() {
        return no;
    }
    // Action (unless the policy's hints have already matched it)
    let Some(action) = &st.action else { return no };
    if !action_checked {
        let hit = st.actions.iter().any(|a| a.matches(act.lc, act.svc));
        if hit == action.negated {
            return no;
        }
    }
    // Principal
    let principal = if policy.kind.needs_principal() {
        match &st.principal {
            // a Deny with NotPrincipal always applies to principals that have a
            // permissions boundary (IAM User Guide, NotPrincipal)
            Some(block) if block.negated && st.effect == Some(Effect::Deny) && has_boundary => {
                PrincipalMatch::Wildcard
            }
            Some(block) => match_block(block, &req.principal, policy.kind == PolicyKind::Endpoint),
            None => PrincipalMatch::No,
        }
    } else {
        PrincipalMatch::Wildcard
    };
    if !principal.matched() {
        return no;
    }
    let mut unknown_keys = Vec::new();
    // Resource (a trust policy's resource is the role itself)
    let res = match &st.resource {
        None if policy.kind == PolicyKind::Trust => Tri::True,
        None => Tri::False,
        Some(block) => {
            let mut any = Tri::False;
            for (item, compiled) in block.items.iter().zip(&block.compiled) {
                let m = if resource == "*" {
                    resourceless_matches(&item.value, &req.action)
                } else if let Some(p) = compiled {
                    Tri::from(p.matches(&act.resource))
                } else {
                    resource_matches(&item.value, policy.version, &req.context, resource)
                };
                if m == Tri::Unknown {
                    unknown_keys.extend(unknown_vars(&item.value, &req.context));
                }
                any = any.or(m);
                if any.is_true() {
                    break;
                }
            }
            if block.negated { any.not() } else { any }
        }
    };
    if res.is_false() {
        return no;
    }
    // Conditions: every entry must hold
    let mut cond = Tri::True;
    for c in &st.conditions {
        let r = c.operator.eval_hashed(
            &c.key_lc,
            c.key_hash,
            &c.texts,
            &c.patterns,
            policy.version,
            &req.context,
        );
        if r == Tri::Unknown {
            match req.context.lookup_hashed(&c.key_lc, c.key_hash) {
                Lookup::Unknown { .. } => unknown_keys.push(c.key.as_str()),
                _ => {
                    for v in &c.texts {
                        unknown_keys.extend(unknown_vars(v, &req.context));
                    }
                }
            }
        }
        cond = cond.and(r);
        if cond.is_false() {
            return no;
        }
    }
    let applies = res.and(cond);
    if applies != Tri::Unknown {
        unknown_keys.clear();
    }
    unknown_keys.dedup();
    // "Principal": "*" narrowed by an aws:PrincipalArn condition is not limited by
    // boundaries or session policies (IAM User Guide, Principal element)
    let principal = if principal == PrincipalMatch::Wildcard
        && applies.is_true()
        && st.principal.as_ref().is_some_and(|b| !b.negated)
        && st
            .conditions
            .iter()
            .any(|c| c.key_lc == "aws:principalarn" && !c.operator.base.is_negated())
    {
        PrincipalMatch::Exact
    } else {
        principal
    };
    StmtEval {
        applies,
        principal,
        unknown_keys,
    }
}

/// For an action that takes no resource, a Resource entry grants it when it
/// covers every resource of the action's service: `*`, or an ARN such as
/// `arn:aws:s3:::*` whose region, account and resource parts are wildcards.
fn resourceless_matches(pattern: &str, action: &str) -> Tri {
    if !pattern.is_empty() && pattern.chars().all(|c| c == '*') {
        return Tri::True;
    }
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let svc = action.split(':').next().unwrap_or("");
    let wild = |s: &str| s.chars().all(|c| c == '*');
    Tri::from(
        parts.len() == 6
            && parts[0] == "arn"
            && (parts[2] == "*" || parts[2].eq_ignore_ascii_case(svc))
            && wild(parts[3])
            && wild(parts[4])
            && !parts[5].is_empty()
            && wild(parts[5]),
    )
}

fn unknown_vars<'a>(text: &'a str, ctx: &Context) -> Vec<&'a str> {
    variable_keys(text)
        .into_iter()
        .filter(|k| matches!(ctx.lookup(k), Lookup::Unknown { .. }))
        .collect()
}

/// The allow/deny outcome of one policy document.
#[derive(Debug, Clone)]
struct PolicyEval {
    deny: Tri,
    allow: Tri,
    /// Allows naming the exact user or session ARN.
    allow_exact: Tri,
    /// Allows through the principal's own account (root) — KMS delegation.
    allow_account: Tri,
    /// Every other allow (role ARN, `*`, service).
    allow_other: Tri,
}

struct Evaluator<'r, 'a> {
    req: &'r Request,
    action_lc: &'r str,
    /// The action's service, lower case.
    svc_lc: &'r str,
    resource: &'r str,
    /// The resource split into its ARN parts, once per decision.
    resource_parts: ArnParts<'r>,
    has_boundary: bool,
    /// The action's prefix hashes, for the policies' hints.
    action_key: ActionKey,
    service_bit: u64,
    matched: Vec<MatchedRef<'a>>,
    unknowns: Vec<UnknownRef<'a>>,
}

impl<'a> Evaluator<'_, 'a> {
    /// Does statement `i`'s Action (or NotAction) let the request's action
    /// through? Reads the policy's hint arrays, and the statement's own
    /// patterns only when a hint cannot decide.
    #[inline]
    fn actions_match(&self, policy: &Policy, i: usize, st: &Statement, bit: u64) -> bool {
        let Some(h) = policy.hints.get(i) else {
            return false;
        };
        if !h.live || h.filter & bit == 0 {
            return false;
        }
        let hints = policy
            .action_hints
            .get(h.first as usize..h.end as usize)
            .unwrap_or(&[]);
        let mut hit = false;
        for (j, a) in hints.iter().enumerate() {
            hit = match self.action_key.test(a) {
                Hinted::No => false,
                Hinted::Yes => true,
                Hinted::Check => st
                    .actions
                    .get(j)
                    .is_some_and(|p| p.matches(self.action_lc, self.svc_lc)),
            };
            if hit {
                break;
            }
        }
        hit != h.negated
    }

    fn policy(&mut self, lp: &Labeled<'a>, ty: PolicyType) -> PolicyEval {
        let has_boundary = self.has_boundary;
        let mut out = PolicyEval {
            deny: Tri::False,
            allow: Tri::False,
            allow_exact: Tri::False,
            allow_account: Tri::False,
            allow_other: Tri::False,
        };
        let act = ActionLc {
            lc: self.action_lc,
            svc: self.svc_lc,
            resource: self.resource_parts,
        };
        let bit = self.service_bit;
        let policy = lp.policy;
        // the hints, when prepared, reject most statements without reading them
        let hinted = policy.hints.len() == policy.statements.len();
        for (i, st) in policy.statements.iter().enumerate() {
            if hinted && !self.actions_match(policy, i, st, bit) {
                continue;
            }
            let mut e = eval_statement(
                st,
                policy,
                self.req,
                act,
                self.resource,
                has_boundary,
                hinted,
            );
            if e.applies.is_false() {
                continue;
            }
            let Some(effect) = st.effect else { continue };
            if e.applies.is_true() {
                self.matched.push(MatchedRef {
                    policy: lp.label,
                    statement: st.index,
                    sid: st.sid.as_deref(),
                    effect,
                    pointer: &st.pointer,
                    policy_type: Some(ty),
                });
            } else {
                for key in std::mem::take(&mut e.unknown_keys) {
                    self.unknowns.push(UnknownRef {
                        key,
                        policy: lp.label,
                        statement: st.index,
                        pointer: &st.pointer,
                        effect: Some(effect),
                    });
                }
            }
            match effect {
                Effect::Deny => out.deny = out.deny.or(e.applies),
                Effect::Allow => {
                    out.allow = out.allow.or(e.applies);
                    match e.principal {
                        PrincipalMatch::Exact => out.allow_exact = out.allow_exact.or(e.applies),
                        PrincipalMatch::Account => {
                            out.allow_account = out.allow_account.or(e.applies)
                        }
                        _ => out.allow_other = out.allow_other.or(e.applies),
                    }
                }
            }
        }
        out
    }
}

fn grant_allows(grants: &[Grant], req: &Request) -> Tri {
    if grants.is_empty() {
        return Tri::False;
    }
    let op = match req.action.split_once(':') {
        Some((svc, op)) if svc.eq_ignore_ascii_case("kms") => op,
        _ => return Tri::False,
    };
    let who = req.principal.principal_arn();
    let mut any = Tri::False;
    for g in grants {
        let grantee_ok = Some(&g.grantee) == who.as_ref()
            || req.principal.display() == g.grantee
            || req
                .principal
                .account()
                .is_some_and(|a| g.grantee == format!("arn:aws:iam::{a}:root"));
        if !grantee_ok || !g.operations.iter().any(|o| o.eq_ignore_ascii_case(op)) {
            continue;
        }
        let mut ok = Tri::True;
        let pairs = g
            .encryption_context_subset
            .iter()
            .chain(g.encryption_context_equals.iter());
        for constraint in pairs {
            for (k, v) in constraint {
                let key = format!("kms:EncryptionContext:{k}");
                ok = ok.and(match req.context.lookup(&key) {
                    Lookup::Present(cv) => Tri::from(cv.values().iter().any(|x| x == v)),
                    Lookup::Absent => Tri::False,
                    Lookup::Unknown { .. } => Tri::Unknown,
                });
            }
        }
        if let Some(eq) = &g.encryption_context_equals {
            // no other context keys than the ones listed
            if let Lookup::Present(keys) = req.context.lookup("kms:EncryptionContextKeys") {
                ok = ok.and(Tri::from(keys.values().iter().all(|k| eq.contains_key(k))));
            }
        }
        any = any.or(ok);
    }
    any
}

/// Decide one request.
pub fn evaluate<'a>(req: &Request, set: &PolicySet<'a>) -> Decision<'a> {
    // lower-cased on the stack: action names are short ASCII
    let mut buf = [0u8; 128];
    let owned;
    let action_lc: &str = match req.action.len() {
        n if n <= buf.len() && req.action.is_ascii() => {
            buf[..n].copy_from_slice(req.action.as_bytes());
            buf[..n].make_ascii_lowercase();
            match std::str::from_utf8(&buf[..n]) {
                Ok(s) => s,
                Err(_) => {
                    owned = req.action.to_lowercase();
                    &owned
                }
            }
        }
        _ => {
            owned = req.action.to_lowercase();
            &owned
        }
    };
    let resource = service::effective_resource(action_lc, &req.resource);
    // the request's resource split once, for matching and for the KMS test
    let request_parts = ArnParts::new(&req.resource);
    let resource_parts = if resource == req.resource.as_str() {
        request_parts
    } else {
        ArnParts::new(resource)
    };
    let svc_lc = action_lc.split(':').next().unwrap_or("");
    let mut ev = Evaluator {
        req,
        action_lc,
        svc_lc,
        action_key: ActionKey::new(action_lc, svc_lc),
        service_bit: super::model::service_bit(svc_lc),
        resource,
        resource_parts,
        has_boundary: !set.boundaries.is_empty(),
        matched: Vec::with_capacity(8),
        unknowns: Vec::new(),
    };
    let p = &req.principal;
    let has_identity = p.has_identity();
    let is_kms = request_parts.is_kms_key();
    let ra = req.resource_account_str();
    let same = p.account().is_some() && p.account() == ra;

    let mut deny = Tri::False;
    let mut denies = [Tri::False; 7];
    let mut note_deny = |d: Tri, ty: PolicyType, deny: &mut Tri| {
        *deny = deny.or(d);
        denies[ty as usize] = denies[ty as usize].or(d);
    };

    // Identity side
    let mut identity = Tri::False;
    if has_identity {
        for lp in &set.identity {
            let e = ev.policy(lp, PolicyType::Identity);
            note_deny(e.deny, PolicyType::Identity, &mut deny);
            identity = identity.or(e.allow);
        }
        if matches!(p, Principal::Root { .. }) {
            // the root user has every permission its account has
            identity = Tri::True;
        }
    }
    let mut boundary = Tri::True;
    let mut session = Tri::True;
    let mut scp = Tri::True;
    if has_identity {
        for lp in &set.boundaries {
            let e = ev.policy(lp, PolicyType::Boundary);
            note_deny(e.deny, PolicyType::Boundary, &mut deny);
            boundary = boundary.and(e.allow);
        }
        if let Some(lp) = &set.session {
            let e = ev.policy(lp, PolicyType::Session);
            note_deny(e.deny, PolicyType::Session, &mut deny);
            session = e.allow;
        }
        if let Some(levels) = &set.scp {
            for level in levels {
                let mut level_allow = Tri::False;
                for lp in level {
                    let e = ev.policy(lp, PolicyType::Scp);
                    note_deny(e.deny, PolicyType::Scp, &mut deny);
                    level_allow = level_allow.or(e.allow);
                }
                scp = scp.and(level_allow);
            }
        }
    }
    // Resource side
    let (mut r_any, mut r_exact, mut r_account, mut r_other) =
        (Tri::False, Tri::False, Tri::False, Tri::False);
    if let Some(lp) = &set.resource {
        let e = ev.policy(lp, PolicyType::Resource);
        note_deny(e.deny, PolicyType::Resource, &mut deny);
        r_any = e.allow;
        r_exact = e.allow_exact;
        r_account = e.allow_account;
        r_other = e.allow_other;
    }
    // RCPs restrict every principal, AWS service principals included
    for level in &set.rcp {
        for lp in level {
            let e = ev.policy(lp, PolicyType::Rcp);
            note_deny(e.deny, PolicyType::Rcp, &mut deny);
        }
    }
    let mut endpoint = Tri::True;
    for lp in &set.endpoints {
        let e = ev.policy(lp, PolicyType::Endpoint);
        note_deny(e.deny, PolicyType::Endpoint, &mut deny);
        endpoint = endpoint.and(e.allow);
    }
    let grant = if is_kms {
        grant_allows(&set.grants, req)
    } else {
        Tri::False
    };

    let limits = boundary.and(session);
    // the key policy's grant of the principal itself (not via its account)
    let r_direct = r_exact.or(r_other);
    let allowed_core = if !has_identity {
        r_any
    } else if is_kms {
        if same {
            grant
                .or(r_exact)
                .or(r_other.or(r_account.and(identity)).and(limits))
        } else if service::kms_cross_account(&req.action) {
            grant.or(r_any.and(identity).and(limits))
        } else {
            // KMS refuses this operation from another account, whatever the policies say
            Tri::False
        }
    } else if same {
        // an account principal in the same account delegates to its identity
        // policies: it grants nothing by itself
        r_exact.or(identity.or(r_other).and(limits))
    } else {
        identity.and(limits).and(r_any)
    };
    let allowed = allowed_core.and(scp).and(endpoint);

    let gates = Gates {
        identity,
        resource: r_any,
        resource_direct: r_direct,
        resource_delegates: r_account,
        boundary,
        session,
        scp,
        endpoint,
        grant,
        deny,
        denies,
    };

    let always = service::always_allowed(&req.action);
    let protected = p.has_identity() && service::protected_role_change(&req.action, &req.resource);
    let (decision, blocked_by) = if always {
        (DecisionKind::Allowed, Vec::new())
    } else if protected && !deny.is_true() {
        // no policy of the account can grant a change to an AWS-managed role
        (DecisionKind::ImplicitDeny, vec![PolicyType::Identity])
    } else if deny.is_true() {
        // the policy types with a definite explicit deny, in their order
        let explicit = PolicyType::ALL
            .into_iter()
            .filter(|t| denies[*t as usize].is_true())
            .collect();
        (DecisionKind::ExplicitDeny, explicit)
    } else if allowed.is_false() {
        let mut b = Vec::new();
        let resource_given = set.resource.is_some();
        if !has_identity {
            if r_any.is_false() {
                b.push(PolicyType::Resource);
            }
        } else if is_kms {
            if grant.is_false() {
                if same {
                    if r_direct.is_false() && r_account.is_false() {
                        b.push(PolicyType::Resource);
                    }
                    if r_direct.is_false() && identity.is_false() && r_account.maybe() {
                        b.push(PolicyType::Identity);
                    }
                } else if !service::kms_cross_account(&req.action) {
                    b.push(PolicyType::Resource);
                } else {
                    if identity.is_false() {
                        b.push(PolicyType::Identity);
                    }
                    if r_any.is_false() {
                        b.push(PolicyType::Resource);
                    }
                }
            }
        } else if same {
            if identity.is_false() && r_direct.is_false() {
                b.push(PolicyType::Identity);
                if resource_given {
                    b.push(PolicyType::Resource);
                }
            }
        } else {
            if identity.is_false() {
                b.push(PolicyType::Identity);
            }
            if r_any.is_false() {
                b.push(PolicyType::Resource);
            }
        }
        if has_identity && boundary.is_false() {
            b.push(PolicyType::Boundary);
        }
        if has_identity && session.is_false() {
            b.push(PolicyType::Session);
        }
        if scp.is_false() {
            b.push(PolicyType::Scp);
        }
        if endpoint.is_false() {
            b.push(PolicyType::Endpoint);
        }
        b.sort();
        b.dedup();
        (DecisionKind::ImplicitDeny, b)
    } else if deny.is_false() && allowed.is_true() {
        (DecisionKind::Allowed, Vec::new())
    } else {
        (DecisionKind::Unknown, Vec::new())
    };

    let mut unknown_because = Vec::new();
    if decision == DecisionKind::Unknown {
        for u in ev.unknowns {
            if !unknown_because.contains(&u) {
                unknown_because.push(u);
            }
        }
    }
    Decision {
        decision,
        blocked_by,
        unknown_because,
        matched: ev.matched,
        gates,
    }
}

#[cfg(test)]
mod policy_type_tests {
    use super::PolicyType;

    /// `Gates::denies` is indexed by `PolicyType as usize`, and `blocked_by`
    /// lists types in `ALL`'s order: both must be the declaration order.
    #[test]
    fn all_is_every_type_in_index_and_sort_order() {
        for (i, t) in PolicyType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
        let mut sorted = PolicyType::ALL;
        sorted.sort();
        assert_eq!(sorted, PolicyType::ALL);
    }
}
