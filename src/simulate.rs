//! `xacct simulate`: read a case (spec: simulate.md), decide it with the engine,
//! write the decision. Input problems are collected and reported together, each
//! pointing at its span.

use std::sync::Arc;

use serde::Serialize;

use crate::diag::{Located, Problems};
use crate::json::{self, Member, Node, Value};
use crate::policy::eval::{Decision, DecisionKind, Labeled, PolicySet, PolicyType, Request};
use crate::policy::model::Severity;
use crate::policy::{Context, CtxValue, ParseOptions, Policy, PolicyKind, Principal, Source};

/// A parsed simulate case: the request and every policy, with labels.
#[derive(Debug)]
pub struct Case {
    pub request: Request,
    pub identity: Vec<(String, Policy)>,
    pub resource: Option<(String, Policy)>,
    pub boundaries: Vec<(String, Policy)>,
    pub session: Option<(String, Policy)>,
    pub scp: Option<Vec<Vec<(String, Policy)>>>,
    pub rcp: Vec<Vec<(String, Policy)>>,
    pub endpoints: Vec<(String, Policy)>,
    /// The fixture-only `expect` block, when present (ignored by the simulator).
    pub expect: Option<serde_json::Value>,
    pub name: Option<String>,
}

/// Fields a case may carry besides the simulate input (fixtures use them).
const EXTRA_FIELDS: [&str; 5] = ["name", "source", "expect", "description", "$comment"];

impl Case {
    pub fn policy_set(&self) -> PolicySet<'_> {
        fn l((label, policy): &(String, Policy)) -> Labeled<'_> {
            Labeled {
                label: label.as_str(),
                policy,
            }
        }
        PolicySet {
            identity: self.identity.iter().map(l).collect(),
            resource: self.resource.as_ref().map(l),
            boundaries: self.boundaries.iter().map(l).collect(),
            session: self.session.as_ref().map(l),
            scp: self
                .scp
                .as_ref()
                .map(|levels| levels.iter().map(|lv| lv.iter().map(l).collect()).collect()),
            rcp: self
                .rcp
                .iter()
                .map(|lv| lv.iter().map(l).collect())
                .collect(),
            endpoints: self.endpoints.iter().map(l).collect(),
            grants: Vec::new(),
        }
    }

    /// Drop every policy's prepared hints, so that the engine takes its
    /// general path: for tests that prove the hints change no decision.
    #[doc(hidden)]
    pub fn without_hints(&mut self) {
        let mut all: Vec<&mut Policy> = Vec::new();
        all.extend(self.identity.iter_mut().map(|(_, p)| p));
        all.extend(self.resource.iter_mut().map(|(_, p)| p));
        all.extend(self.boundaries.iter_mut().map(|(_, p)| p));
        all.extend(self.session.iter_mut().map(|(_, p)| p));
        for level in self.scp.iter_mut().flatten() {
            all.extend(level.iter_mut().map(|(_, p)| p));
        }
        for level in self.rcp.iter_mut() {
            all.extend(level.iter_mut().map(|(_, p)| p));
        }
        all.extend(self.endpoints.iter_mut().map(|(_, p)| p));
        for p in all {
            p.hints.clear();
            p.action_hints.clear();
        }
    }

    pub fn decide(&self) -> Decision<'_> {
        crate::policy::evaluate(&self.request, &self.policy_set())
    }
}

/// The output document of simulate.md.
#[derive(Debug, Serialize)]
pub struct Output<'a> {
    pub decision: DecisionKind,
    pub blocked_by: &'a [PolicyType],
    pub unknown_because: &'a [crate::policy::eval::UnknownRef<'a>],
    pub matched: &'a [crate::policy::eval::MatchedRef<'a>],
}

pub fn output<'a>(d: &'a Decision<'_>) -> Output<'a> {
    Output {
        decision: d.decision,
        blocked_by: &d.blocked_by,
        unknown_because: &d.unknown_because,
        matched: &d.matched,
    }
}

/// Parse one case from its text.
pub fn parse_case(name: &str, text: &str) -> Result<Case, Problems> {
    let source = Source::new(name, text);
    let node = json::parse(text).map_err(|e| Problems {
        title: format!("{name} is not valid JSON"),
        items: vec![Located::new(&source, e.span, e.message)],
    })?;
    parse_case_node(&node, &source)
}

struct Reader<'a> {
    source: &'a Arc<Source>,
    errors: Vec<Located>,
}

impl Reader<'_> {
    fn err(&mut self, node_span: json::Span, msg: impl Into<String>) {
        self.errors.push(Located::new(self.source, node_span, msg));
    }

    fn string(&mut self, n: &Node, what: &str) -> Option<String> {
        match n.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.err(
                    n.span,
                    format!("`{what}` must be a string, not {}", n.type_name()),
                );
                None
            }
        }
    }

    fn policy(&mut self, n: &Node, label: String, opts: &ParseOptions) -> Option<(String, Policy)> {
        let policy = match &n.value {
            Value::String(text) => crate::policy::parse_text(&label, text, opts),
            Value::Object(_) => crate::policy::parse_node(n, self.source.clone(), opts),
            _ => {
                self.err(
                    n.span,
                    format!(
                        "`{label}` must be a policy (an object or a JSON string), not {}",
                        n.type_name()
                    ),
                );
                return None;
            }
        };
        let mut ok = true;
        for d in policy
            .defects
            .iter()
            .filter(|d| d.severity == Severity::Error)
        {
            ok = false;
            self.errors.push(
                Located::new(&policy.source, d.span, format!("{label}: {}", d.message))
                    .help(d.help.clone()),
            );
        }
        ok.then_some((label, policy))
    }

    fn policies(&mut self, n: &Node, label: &str, opts: &ParseOptions) -> Vec<(String, Policy)> {
        let Some(items) = n.as_array() else {
            self.err(n.span, format!("`{label}` must be an array of policies"));
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, p)| self.policy(p, format!("{label}[{i}]"), opts))
            .collect()
    }

    fn levels(&mut self, n: &Node, label: &str, kind: PolicyKind) -> Vec<Vec<(String, Policy)>> {
        let Some(items) = n.as_array() else {
            self.err(n.span, format!("`{label}` must be an array of levels"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, lv) in items.iter().enumerate() {
            let Some(members) = lv.as_object() else {
                self.err(
                    lv.span,
                    format!(
                        "`{label}[{i}]` must be an object {{\"level\": ..., \"policies\": [...]}}"
                    ),
                );
                continue;
            };
            let mut pols = None;
            for m in members {
                match m.key.as_str() {
                    "level" => {
                        self.string(&m.value, "level");
                    }
                    "policies" => {
                        pols = Some(self.policies(
                            &m.value,
                            &format!("{label}[{i}].policies"),
                            &ParseOptions::new(kind),
                        ))
                    }
                    other => self.err(
                        m.key_span,
                        format!("unknown field `{other}` in `{label}[{i}]`"),
                    ),
                }
            }
            match pols {
                Some(p) => out.push(p),
                None => self.err(lv.span, format!("`{label}[{i}]` has no `policies`")),
            }
        }
        out
    }

    fn context_value(&mut self, m: &Member) -> Option<CtxValue> {
        CtxValue::from_json(&m.value)
            .map_err(|span| {
                self.err(
                    span,
                    format!("context value of `{}` must be a string, boolean or number, or a list of them", m.key),
                )
            })
            .ok()
    }

    fn request(&mut self, n: &Node) -> Option<Request> {
        let Some(members) = n.as_object() else {
            self.err(n.span, "`request` must be an object");
            return None;
        };
        let mut principal = None;
        let mut action = None;
        let mut resource = None;
        let mut resource_account = None;
        let mut context = Context::new();
        for m in members {
            match m.key.as_str() {
                "principal" => {
                    if let Some(s) = self.string(&m.value, "principal") {
                        match Principal::parse(&s) {
                            Ok(p) => principal = Some(p),
                            Err(e) => self.err(m.value.span, e.to_string()),
                        }
                    }
                }
                "action" => {
                    if let Some(s) = self.string(&m.value, "action") {
                        if !s.contains(':') || s.contains('*') {
                            self.err(
                                m.value.span,
                                format!("`{s}` is not an action name like s3:GetObject"),
                            );
                        } else {
                            action = Some(s);
                        }
                    }
                }
                "resource" => resource = self.string(&m.value, "resource"),
                "resource_account" => {
                    if let Some(s) = self.string(&m.value, "resource_account") {
                        if crate::policy::principal::is_account_id(&s) {
                            resource_account = Some(s);
                        } else {
                            self.err(m.value.span, format!("`{s}` is not a 12-digit account id"));
                        }
                    }
                }
                "context" => match m.value.as_object() {
                    Some(entries) => {
                        for e in entries {
                            if let Some(v) = self.context_value(e) {
                                context.set(&e.key, v);
                            }
                        }
                    }
                    None => self.err(
                        m.value.span,
                        "`context` must be an object of condition keys",
                    ),
                },
                "unknown_keys" => match m.value.as_array() {
                    Some(items) => {
                        for it in items {
                            if let Some(k) = self.string(it, "unknown_keys[]") {
                                context.mark_unknown(&k);
                            }
                        }
                    }
                    None => self.err(m.value.span, "`unknown_keys` must be an array of key names"),
                },
                other => self.err(m.key_span, format!("unknown field `{other}` in `request`")),
            }
        }
        for (have, field) in [
            (principal.is_some(), "principal"),
            (action.is_some(), "action"),
            (resource.is_some(), "resource"),
        ] {
            if !have && !self.errors.iter().any(|e| e.message.contains(field)) {
                self.err(n.span, format!("`request` is missing `{field}`"));
            }
        }
        let mut req = Request {
            principal: principal?,
            action: action?,
            resource: resource?,
            resource_account,
            context,
        };
        req.derive_context();
        Some(req)
    }
}

/// How the resource policy is read: as the resource's own service stores it.
fn resource_policy_options(req: Option<&Request>) -> ParseOptions {
    let Some(req) = req else {
        return ParseOptions::new(PolicyKind::Resource);
    };
    let parts: Vec<&str> = req.resource.splitn(6, ':').collect();
    if parts.len() == 6 && parts[0] == "arn" {
        match parts[2] {
            "kms" if parts[5].starts_with("key/") => return ParseOptions::new(PolicyKind::Key),
            "s3" if parts[3].is_empty() => {
                let bucket = parts[5].split('/').next().unwrap_or("");
                return ParseOptions::bucket(bucket);
            }
            "iam"
                if parts[5].starts_with("role/")
                    && req.action.to_ascii_lowercase().starts_with("sts:") =>
            {
                return ParseOptions::new(PolicyKind::Trust);
            }
            _ => {}
        }
    }
    ParseOptions::new(PolicyKind::Resource)
}

pub fn parse_case_node(node: &Node, source: &Arc<Source>) -> Result<Case, Problems> {
    let mut r = Reader {
        source,
        errors: Vec::new(),
    };
    let Some(members) = node.as_object() else {
        return Err(Problems {
            title: format!("{} is not a simulate case", source.name),
            items: vec![Located::new(
                source,
                node.span,
                format!("a case must be a JSON object, not {}", node.type_name()),
            )],
        });
    };
    let mut seen = std::collections::BTreeSet::new();
    for m in members {
        if !seen.insert(m.key.as_str()) {
            r.err(m.key_span, format!("`{}` appears twice", m.key));
        }
    }
    let request = match node.get("request") {
        Some(n) => r.request(n),
        None => {
            r.err(node.span, "the case has no `request`");
            None
        }
    };
    let mut case = Case {
        request: Request {
            principal: Principal::Anonymous,
            action: String::new(),
            resource: String::new(),
            resource_account: None,
            context: Context::new(),
        },
        identity: Vec::new(),
        resource: None,
        boundaries: Vec::new(),
        session: None,
        scp: None,
        rcp: Vec::new(),
        endpoints: Vec::new(),
        expect: None,
        name: None,
    };
    for m in members {
        match m.key.as_str() {
            "request" => {}
            "identity_policies" => {
                case.identity = r.policies(
                    &m.value,
                    "identity_policies",
                    &ParseOptions::new(PolicyKind::Identity),
                )
            }
            "resource_policy" => {
                if !m.value.is_null() {
                    let opts = resource_policy_options(request.as_ref());
                    case.resource = r.policy(&m.value, "resource_policy".into(), &opts);
                }
            }
            "permissions_boundaries" => {
                case.boundaries = r.policies(
                    &m.value,
                    "permissions_boundaries",
                    &ParseOptions::new(PolicyKind::Boundary),
                )
            }
            "session_policy" => {
                if !m.value.is_null() {
                    case.session = r.policy(
                        &m.value,
                        "session_policy".into(),
                        &ParseOptions::new(PolicyKind::Session),
                    );
                }
            }
            "scp" => case.scp = Some(r.levels(&m.value, "scp", PolicyKind::Scp)),
            "rcp" => case.rcp = r.levels(&m.value, "rcp", PolicyKind::Rcp),
            "endpoint_policies" => {
                case.endpoints = r.policies(
                    &m.value,
                    "endpoint_policies",
                    &ParseOptions::new(PolicyKind::Endpoint),
                )
            }
            "expect" => case.expect = Some(m.value.to_serde()),
            "name" => case.name = m.value.as_str().map(str::to_string),
            k if EXTRA_FIELDS.contains(&k) => {}
            other => r.err(m.key_span, format!("unknown field `{other}`")),
        }
    }
    if !r.errors.is_empty() {
        return Err(Problems {
            title: format!("{}: the case cannot be simulated", source.name),
            items: r.errors,
        });
    }
    match request {
        Some(req) => {
            case.request = req;
            Ok(case)
        }
        None => Err(Problems {
            title: format!("{}: the case has no usable request", source.name),
            items: vec![Located::new(
                source,
                node.span,
                "missing or invalid `request`",
            )],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_account_kms_needs_both_sides() {
        let case = r#"{
          "request": {"principal": "arn:aws:sts::222222222222:assumed-role/Copy/s",
                      "action": "kms:Decrypt",
                      "resource": "arn:aws:kms:us-west-2:111111111111:key/k1",
                      "context": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}},
          "identity_policies": [{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-west-2:111111111111:key/k1"}]}],
          "resource_policy": {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:Decrypt","Resource":"*"}]}
        }"#;
        let c = parse_case("t", case).unwrap();
        assert_eq!(c.decide().decision, DecisionKind::Allowed);
        let no_identity = case.replace(
            "\"kms:Decrypt\",\"Resource\":\"arn",
            "\"kms:Encrypt\",\"Resource\":\"arn",
        );
        let c = parse_case("t", &no_identity).unwrap();
        let d = c.decide();
        assert_eq!(d.decision, DecisionKind::ImplicitDeny);
        assert_eq!(d.blocked_by, vec![PolicyType::Identity]);
    }

    #[test]
    fn grammar_errors_are_input_errors_with_spans() {
        let case = r#"{"request": {"principal": "arn:aws:iam::1:role/x", "action": "s3:GetObject"},
                       "identity_policies": [{"Statement": [{"Action": "s3:GetObject", "Resource": "*"}]}]}"#;
        let e = parse_case("t", case).unwrap_err();
        let all: Vec<String> = e.items.iter().map(|i| i.message.clone()).collect();
        assert!(all.iter().any(|m| m.contains("not a principal")), "{all:?}");
        assert!(
            all.iter().any(|m| m.contains("missing `resource`")),
            "{all:?}"
        );
        assert!(all.iter().any(|m| m.contains("no `Effect`")), "{all:?}");
    }
}
