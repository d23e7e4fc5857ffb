//! Loading a snapshot file: parse with spans, validate the whole document up
//! front and report every problem at once, each at its span (exit code 2).
//! Policy documents AWS would reject are *not* input errors: they load, and
//! the checks that judge them fail with the defect as evidence.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Located, Problems};
use crate::json::{self, Member, Node, Span, Value, pointer_token};
use crate::policy::principal::is_account_id;
use crate::policy::{CtxValue, ParseOptions, PolicyKind, Source, parse_node, parse_text};

use super::model::*;

/// Load a snapshot from bytes (a file's content).
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<Snapshot, Problems> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            let at = e.valid_up_to();
            let source = Source::new(name, lossy);
            return Err(Problems {
                title: format!("{name} is not UTF-8 text"),
                items: vec![Located::new(
                    &source,
                    Span::new(at, at + 1),
                    format!("invalid UTF-8 at byte {at}"),
                )],
            });
        }
    };
    load_str(name, &text)
}

pub fn load_str(name: &str, text: &str) -> Result<Snapshot, Problems> {
    let source = Source::new(name, text);
    let root = json::parse(text).map_err(|e| Problems {
        title: format!("{name} is not valid JSON"),
        items: vec![Located::new(&source, e.span, e.message.clone()).help(
            "a snapshot is one JSON document (xacct-snapshot/1); fix the syntax at the marked spot",
        )],
    })?;
    let mut r = Loader {
        source: source.clone(),
        errors: Vec::new(),
        notes: Vec::new(),
    };
    let snap = r.snapshot(&root);
    if !r.errors.is_empty() || snap.is_none() {
        return Err(Problems {
            title: format!("{name} is not a valid {FORMAT} snapshot"),
            items: r.errors,
        });
    }
    let mut snap = snap.ok_or_else(|| Problems {
        title: format!("{name} is not a valid snapshot"),
        items: Vec::new(),
    })?;
    snap.notes = r.notes;
    Ok(snap)
}

struct Loader {
    source: Arc<Source>,
    errors: Vec<Located>,
    notes: Vec<String>,
}

fn ptr(base: &str, token: &str) -> String {
    format!("{base}/{}", pointer_token(token))
}

impl Loader {
    fn err(&mut self, span: Span, msg: impl Into<String>) {
        self.errors.push(Located::new(&self.source, span, msg));
    }
    fn err_help(&mut self, span: Span, msg: impl Into<String>, help: impl Into<String>) {
        self.errors
            .push(Located::new(&self.source, span, msg).help(help));
    }

    fn object<'n>(&mut self, n: &'n Node, what: &str) -> Option<&'n [Member]> {
        match n.as_object() {
            Some(m) => {
                let mut seen = std::collections::BTreeSet::new();
                for member in m {
                    if !seen.insert(member.key.as_str()) {
                        self.err(
                            member.key_span,
                            format!("`{}` appears twice in {what}", member.key),
                        );
                    }
                }
                Some(m)
            }
            None => {
                self.err(
                    n.span,
                    format!("{what} must be an object, not {}", n.type_name()),
                );
                None
            }
        }
    }

    fn string(&mut self, n: &Node, what: &str) -> Option<String> {
        match n.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.err(
                    n.span,
                    format!("{what} must be a string, not {}", n.type_name()),
                );
                None
            }
        }
    }

    fn opt_string(&mut self, n: &Node, what: &str) -> Option<String> {
        if n.is_null() {
            None
        } else {
            self.string(n, what)
        }
    }

    fn boolean(&mut self, n: &Node, what: &str) -> Option<bool> {
        match n.as_bool() {
            Some(b) => Some(b),
            None => {
                self.err(
                    n.span,
                    format!("{what} must be true or false, not {}", n.type_name()),
                );
                None
            }
        }
    }

    fn count(&mut self, n: &Node, what: &str) -> Option<u64> {
        match &n.value {
            Value::Number(raw, _) if raw.bytes().all(|b| b.is_ascii_digit()) => {
                match raw.parse::<u64>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        self.err(n.span, format!("{what} is out of range"));
                        None
                    }
                }
            }
            _ => {
                self.err(
                    n.span,
                    format!(
                        "{what} must be a non-negative integer, not {}",
                        n.type_name()
                    ),
                );
                None
            }
        }
    }

    fn unknown_field(&mut self, m: &Member, within: &str) {
        self.notes.push(format!(
            "ignored unknown field `{}` in {within} (line {})",
            m.key,
            json::line_col(&self.source.text, m.key_span.start).0
        ));
    }

    /// An item that may be an unreadable marker.
    fn marker(&mut self, n: &Node) -> Option<Unreadable> {
        let inner = n.get("unreadable")?;
        let members = n.as_object()?;
        if members.len() != 1 {
            self.err(
                n.span,
                "an unreadable marker has only the `unreadable` field",
            );
        }
        let Some(fields) = self.object(inner, "`unreadable`") else {
            return Some(Unreadable {
                call: String::new(),
                error: String::new(),
                message: String::new(),
            });
        };
        let mut u = Unreadable {
            call: String::new(),
            error: String::new(),
            message: String::new(),
        };
        for f in fields {
            match f.key.as_str() {
                "call" => {
                    u.call = self
                        .string(&f.value, "`unreadable.call`")
                        .unwrap_or_default()
                }
                "error" => {
                    u.error = self
                        .string(&f.value, "`unreadable.error`")
                        .unwrap_or_default()
                }
                "message" => {
                    u.message = self
                        .opt_string(&f.value, "`unreadable.message`")
                        .unwrap_or_default()
                }
                _ => self.unknown_field(f, "an unreadable marker"),
            }
        }
        if u.call.is_empty() || u.error.is_empty() {
            self.err_help(
                inner.span,
                "an unreadable marker needs `call` and `error`",
                "e.g. {\"unreadable\": {\"call\": \"s3:GetBucketPolicy\", \"error\": \"AccessDenied\", \"message\": \"...\"}}",
            );
        }
        Some(u)
    }

    /// A policy: object or exact string; `null` allowed when `nullable`.
    fn policy(
        &mut self,
        n: &Node,
        pointer: String,
        title: String,
        opts: &ParseOptions,
    ) -> Option<PolicyDoc> {
        match &n.value {
            Value::String(text) => {
                let policy = parse_text(&format!("{title} ({pointer})"), text, opts);
                Some(PolicyDoc {
                    policy,
                    raw: RawPolicy::Text(text.clone()),
                    pointer,
                    title,
                })
            }
            Value::Object(_) => {
                let policy = parse_node(n, self.source.clone(), opts);
                Some(PolicyDoc {
                    policy,
                    raw: RawPolicy::Json,
                    pointer,
                    title,
                })
            }
            _ => {
                self.err(
                    n.span,
                    format!(
                        "{title} must be a policy document (a JSON object or string), not {}",
                        n.type_name()
                    ),
                );
                None
            }
        }
    }

    fn field_policy(
        &mut self,
        n: &Node,
        pointer: String,
        title: String,
        opts: &ParseOptions,
    ) -> Field<Option<PolicyDoc>> {
        if let Some(u) = self.marker(n) {
            return Field::Unreadable(u);
        }
        if n.is_null() {
            return Field::Value(None);
        }
        match self.policy(n, pointer, title, opts) {
            Some(p) => Field::Value(Some(p)),
            None => Field::NotRead,
        }
    }

    fn snapshot(&mut self, root: &Node) -> Option<Snapshot> {
        let members = self.object(root, "a snapshot")?;
        let mut format = None;
        let mut description = None;
        let mut copy_node = None;
        let mut accounts_node = None;
        let mut probes = Vec::new();
        let mut expect = None;
        for m in members {
            match m.key.as_str() {
                "format" => {
                    format = self.string(&m.value, "`format`");
                    if let Some(f) = &format
                        && f != FORMAT
                    {
                        self.err_help(
                            m.value.span,
                            format!("unknown snapshot format `{f}`"),
                            format!("this xacct reads \"{FORMAT}\""),
                        );
                    }
                }
                "description" => description = self.opt_string(&m.value, "`description`"),
                "copy" => copy_node = Some(&m.value),
                "accounts" => accounts_node = Some(&m.value),
                "probes" => probes = self.probes(&m.value),
                "expect" => {
                    self.expect(&m.value);
                    expect = Some(m.value.to_serde());
                }
                _ => self.unknown_field(m, "the snapshot"),
            }
        }
        if format.is_none() && !self.errors.iter().any(|e| e.message.contains("`format`")) {
            self.err_help(
                root.span,
                "the snapshot has no `format`",
                format!("add \"format\": \"{FORMAT}\""),
            );
        }
        let accounts = match accounts_node {
            Some(n) => self.accounts(n),
            None => {
                self.err(root.span, "the snapshot has no `accounts`");
                BTreeMap::new()
            }
        };
        let copy = match copy_node {
            Some(n) => self.copy(n, &accounts),
            None => {
                self.err(root.span, "the snapshot has no `copy` block");
                None
            }
        };
        Some(Snapshot {
            format: format.unwrap_or_default(),
            description,
            copy: copy?,
            accounts,
            probes,
            expect,
            notes: Vec::new(),
        })
    }

    fn expect(&mut self, n: &Node) {
        let Some(members) = self.object(n, "`expect`") else {
            return;
        };
        for m in members {
            match m.key.as_str() {
                "verdict"
                    if !matches!(m.value.as_str(), Some("ready" | "blocked" | "inconclusive")) =>
                {
                    self.err(
                        m.value.span,
                        "`expect.verdict` must be ready, blocked or inconclusive",
                    );
                }
                "failing" if m.value.as_array().is_none() => {
                    self.err(
                        m.value.span,
                        "`expect.failing` must be an array of check ids",
                    );
                }
                "checks" => {
                    if let Some(cs) = self.object(&m.value, "`expect.checks`") {
                        for c in cs {
                            if !matches!(
                                c.value.as_str(),
                                Some("pass" | "fail" | "warn" | "unknown" | "skip")
                            ) {
                                self.err(
                                    c.value.span,
                                    "a check status is pass, fail, warn, unknown or skip",
                                );
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn copy(&mut self, n: &Node, accounts: &BTreeMap<String, Account>) -> Option<CopySpec> {
        let members = self.object(n, "`copy`")?;
        let mut source = None;
        let mut destination = None;
        let mut principal = None;
        let mut principal_span = n.span;
        let mut caller = None;
        let mut source_key = None;
        let mut destination_key = None;
        let mut method = Method::Cli;
        let mut request = BTreeMap::new();
        let mut session_policy = None;
        let mut context = Vec::new();
        for m in members {
            let v = &m.value;
            match m.key.as_str() {
                "source" | "destination" => {
                    let s = self.string(v, &format!("`copy.{}`", m.key));
                    let loc = s.as_deref().and_then(S3Location::parse);
                    if s.is_some() && loc.is_none() {
                        self.err_help(
                            v.span,
                            format!("`copy.{}` is not an S3 location", m.key),
                            "write s3://bucket or s3://bucket/prefix/ (bucket names are lower case)",
                        );
                    }
                    if m.key == "source" {
                        source = loc;
                    } else {
                        destination = loc;
                    }
                }
                "principal" => {
                    principal_span = v.span;
                    if let Some(s) = self.string(v, "`copy.principal`") {
                        if let Some(why) = role_arn_problem(&s) {
                            self.err_help(
                                v.span,
                                format!("`{s}` is not an IAM role ARN"),
                                format!(
                                    "the copying principal is a role: arn:aws:iam::ACCOUNT:role/NAME; {why}"
                                ),
                            );
                        }
                        principal = Some(s);
                    }
                }
                "caller" => {
                    caller = self.opt_string(v, "`copy.caller`");
                    if let Some(c) = &caller
                        && crate::policy::Principal::parse(c).is_err()
                    {
                        self.err(v.span, format!("`{c}` is not a principal ARN"));
                    }
                }
                "source_key" | "destination_key" => {
                    let k = self.opt_string(v, &format!("`copy.{}`", m.key));
                    if let Some(arn) = &k
                        && !is_key_arn(arn)
                    {
                        self.err_help(
                            v.span,
                            format!("`{arn}` is not a KMS key ARN"),
                            "use the full key ARN: arn:aws:kms:REGION:ACCOUNT:key/KEY-ID",
                        );
                    }
                    if m.key == "source_key" {
                        source_key = k;
                    } else {
                        destination_key = k;
                    }
                }
                "method" => match v.as_str() {
                    Some("cli") => method = Method::Cli,
                    Some("get-put") => method = Method::GetPut,
                    _ => self.err(v.span, "`copy.method` is \"cli\" or \"get-put\""),
                },
                "request" => {
                    if let Some(headers) = self.object(v, "`copy.request`") {
                        for h in headers {
                            if let Some(val) = self.string(&h.value, &format!("header `{}`", h.key))
                            {
                                request.insert(h.key.to_ascii_lowercase(), val);
                            }
                        }
                    }
                }
                "session_policy" => {
                    if !v.is_null() {
                        session_policy = self.policy(
                            v,
                            "/copy/session_policy".into(),
                            "session policy".into(),
                            &ParseOptions::new(PolicyKind::Session),
                        );
                    }
                }
                "context" => {
                    if let Some(entries) = self.object(v, "`copy.context`") {
                        for e in entries {
                            if let Some(cv) = self.context_value(e) {
                                context.push((e.key.clone(), cv));
                            }
                        }
                    }
                }
                _ => self.unknown_field(m, "`copy`"),
            }
        }
        for (have, f) in [
            (source.is_some(), "source"),
            (destination.is_some(), "destination"),
            (principal.is_some(), "principal"),
        ] {
            if !have && !members.iter().any(|m| m.key == f) {
                self.err(n.span, format!("`copy` has no `{f}`"));
            }
        }
        // The role is in B: the account that owns the destination bucket.
        if let (Some(p), Some(dst)) = (&principal, &destination)
            && let Some(role_acct) = role_account(p)
            && let Some((b, _)) = accounts
                .iter()
                .find(|(_, a)| a.buckets.contains_key(&dst.bucket))
            && b != role_acct
        {
            self.err_help(
                principal_span,
                format!(
                    "the copying role is in account {role_acct}, but the destination bucket {} is in account {b}",
                    dst.bucket
                ),
                "the role that copies must be in B, the destination account",
            );
        }
        Some(CopySpec {
            source: source?,
            destination: destination?,
            principal: principal?,
            caller,
            source_key,
            destination_key,
            method,
            request,
            session_policy,
            context,
        })
    }

    fn context_value(&mut self, m: &Member) -> Option<CtxValue> {
        CtxValue::from_json(&m.value)
            .map_err(|span| {
                self.err(
                    span,
                    format!(
                        "`{}` must be a string, boolean or number, or a list of them",
                        m.key
                    ),
                )
            })
            .ok()
    }

    fn accounts(&mut self, n: &Node) -> BTreeMap<String, Account> {
        let mut out = BTreeMap::new();
        let Some(members) = self.object(n, "`accounts`") else {
            return out;
        };
        for m in members {
            if !is_account_id(&m.key) {
                self.err_help(
                    m.key_span,
                    format!("`{}` is not an account id", m.key),
                    "accounts are keyed by their 12-digit id",
                );
                continue;
            }
            let base = ptr("/accounts", &m.key);
            if let Some(acct) = self.account(&m.key, &m.value, &base) {
                out.insert(m.key.clone(), acct);
            }
        }
        out
    }

    fn account(&mut self, id: &str, n: &Node, base: &str) -> Option<Account> {
        let members = self.object(n, &format!("account {id}"))?;
        let mut acct = Account {
            id: id.to_string(),
            ..Account::default()
        };
        for m in members {
            let v = &m.value;
            let p = ptr(base, &m.key);
            match m.key.as_str() {
                "organization" => acct.organization = self.organization(v, &p),
                "buckets" => {
                    if let Some(bs) = self.object(v, "`buckets`") {
                        for b in bs {
                            let bp = ptr(&p, &b.key);
                            let f = self.item(&b.value, |s, n| s.bucket(&b.key, n, &bp));
                            acct.buckets.insert(b.key.clone(), f);
                        }
                    }
                }
                "keys" => {
                    if let Some(ks) = self.object(v, "`keys`") {
                        for k in ks {
                            if !is_key_arn(&k.key) {
                                self.err_help(
                                    k.key_span,
                                    format!("`{}` is not a KMS key ARN", k.key),
                                    "keys are keyed by full key ARN: arn:aws:kms:REGION:ACCOUNT:key/ID",
                                );
                                continue;
                            }
                            let kp = ptr(&p, &k.key);
                            let f = self.item(&k.value, |s, n| s.key(&k.key, n, &kp));
                            acct.keys.insert(k.key.clone(), f);
                        }
                    }
                }
                "roles" => {
                    if let Some(rs) = self.object(v, "`roles`") {
                        for r in rs {
                            let rp = ptr(&p, &r.key);
                            let f = self.item(&r.value, |s, n| s.role(id, &r.key, n, &rp));
                            acct.roles.insert(r.key.clone(), f);
                        }
                    }
                }
                "vpc_endpoints" => {
                    if let Some(es) = self.object(v, "`vpc_endpoints`") {
                        for e in es {
                            let ep = ptr(&p, &e.key);
                            let f = self.item(&e.value, |s, n| {
                                let members = s.object(n, "a VPC endpoint")?;
                                let mut policy = Field::NotRead;
                                for m in members {
                                    if m.key == "policy" {
                                        policy = s.field_policy(
                                            &m.value,
                                            ptr(&ep, "policy"),
                                            format!("endpoint policy of {}", e.key),
                                            &ParseOptions::new(PolicyKind::Endpoint),
                                        );
                                    } else {
                                        s.unknown_field(m, "a VPC endpoint");
                                    }
                                }
                                Some(Endpoint { policy })
                            });
                            acct.vpc_endpoints.insert(e.key.clone(), f);
                        }
                    }
                }
                _ => self.unknown_field(m, &format!("account {id}")),
            }
        }
        Some(acct)
    }

    fn item<T>(&mut self, n: &Node, f: impl FnOnce(&mut Self, &Node) -> Option<T>) -> Field<T> {
        if let Some(u) = self.marker(n) {
            return Field::Unreadable(u);
        }
        match f(self, n) {
            Some(v) => Field::Value(v),
            None => Field::NotRead,
        }
    }

    fn organization(&mut self, n: &Node, base: &str) -> Field<Option<Organization>> {
        if let Some(u) = self.marker(n) {
            return Field::Unreadable(u);
        }
        if n.is_null() {
            return Field::Value(None);
        }
        let Some(members) = self.object(n, "`organization`") else {
            return Field::NotRead;
        };
        let mut org = Organization {
            id: None,
            scp: Field::NotRead,
            rcp: Field::NotRead,
        };
        for m in members {
            match m.key.as_str() {
                "id" => org.id = self.opt_string(&m.value, "`organization.id`"),
                "scp" | "rcp" => {
                    let kind = if m.key == "scp" {
                        PolicyKind::Scp
                    } else {
                        PolicyKind::Rcp
                    };
                    let p = ptr(base, &m.key);
                    let levels = self.item(&m.value, |s, n| {
                        let Some(levels) = n.as_array() else {
                            s.err(
                                n.span,
                                format!("`{}` is a list of levels, each a list of policies", m.key),
                            );
                            return None;
                        };
                        let mut out = Vec::new();
                        for (i, lv) in levels.iter().enumerate() {
                            let Some(pols) = lv.as_array() else {
                                s.err(lv.span, "an organization level is a list of policies");
                                continue;
                            };
                            let mut level = Vec::new();
                            for (j, pn) in pols.iter().enumerate() {
                                let pp = format!("{p}/{i}/{j}");
                                let title = format!("{} {} (level {i})", m.key.to_uppercase(), j);
                                let f = s.item(pn, |s, pn| {
                                    s.policy(
                                        pn,
                                        pp.clone(),
                                        title.clone(),
                                        &ParseOptions::new(kind),
                                    )
                                });
                                level.push(f);
                            }
                            out.push(level);
                        }
                        Some(out)
                    });
                    if kind == PolicyKind::Scp {
                        org.scp = levels;
                    } else {
                        org.rcp = levels;
                    }
                }
                _ => self.unknown_field(m, "`organization`"),
            }
        }
        Field::Value(Some(org))
    }

    fn encryption(&mut self, n: &Node, what: &str) -> Option<Encryption> {
        let members = self.object(n, what)?;
        let mut e = Encryption {
            algorithm: String::new(),
            kms_key: None,
            bucket_key: None,
        };
        for m in members {
            match m.key.as_str() {
                "algorithm" => {
                    e.algorithm = self.string(&m.value, "`algorithm`").unwrap_or_default();
                    if !matches!(
                        e.algorithm.as_str(),
                        "AES256" | "aws:kms" | "aws:kms:dsse" | "SSE-C"
                    ) {
                        self.err_help(
                            m.value.span,
                            format!("unknown encryption algorithm `{}`", e.algorithm),
                            "one of AES256, aws:kms, aws:kms:dsse, SSE-C",
                        );
                    }
                }
                "kms_key" => e.kms_key = self.opt_string(&m.value, "`kms_key`"),
                "bucket_key" => {
                    if !m.value.is_null() {
                        e.bucket_key = self.boolean(&m.value, "`bucket_key`");
                    }
                }
                _ => self.unknown_field(m, what),
            }
        }
        if e.algorithm.is_empty() && !members.iter().any(|m| m.key == "algorithm") {
            self.err(n.span, format!("{what} has no `algorithm`"));
        }
        Some(e)
    }

    fn bucket(&mut self, name: &str, n: &Node, base: &str) -> Option<Bucket> {
        let members = self.object(n, &format!("bucket {name}"))?;
        let mut b = Bucket {
            objects: Field::Value(BTreeMap::new()),
            ..Bucket::not_read(name, base.to_string())
        };
        for m in members {
            let v = &m.value;
            match m.key.as_str() {
                "region" => b.region = self.opt_string(v, "`region`"),
                "policy" => {
                    b.policy = self.field_policy(
                        v,
                        ptr(base, "policy"),
                        format!("bucket policy of {name}"),
                        &ParseOptions::bucket(name),
                    )
                }
                "encryption" => {
                    b.encryption = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None if v.is_null() => Field::Value(None),
                        None => match self.encryption(v, "`encryption`") {
                            Some(e) => Field::Value(Some(e)),
                            None => Field::NotRead,
                        },
                    }
                }
                "ownership" => {
                    b.ownership = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None => {
                            let s = self.opt_string(v, "`ownership`");
                            if let Some(o) = &s
                                && !matches!(
                                    o.as_str(),
                                    "BucketOwnerEnforced" | "BucketOwnerPreferred" | "ObjectWriter"
                                )
                            {
                                self.err(v.span, "`ownership` is BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter");
                            }
                            Field::Value(s)
                        }
                    }
                }
                "requester_pays" => {
                    b.requester_pays = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None => match self.boolean(v, "`requester_pays`") {
                            Some(x) => Field::Value(x),
                            None => Field::NotRead,
                        },
                    }
                }
                "public_access_block" => {
                    b.public_access_block = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None if v.is_null() => Field::Value(None),
                        None => {
                            let mut pab = PublicAccessBlock {
                                block_public_acls: None,
                                ignore_public_acls: None,
                                block_public_policy: None,
                                restrict_public_buckets: None,
                            };
                            if let Some(fields) = self.object(v, "`public_access_block`") {
                                for f in fields {
                                    let val = self.boolean(&f.value, &format!("`{}`", f.key));
                                    match f.key.as_str() {
                                        "block_public_acls" => pab.block_public_acls = val,
                                        "ignore_public_acls" => pab.ignore_public_acls = val,
                                        "block_public_policy" => pab.block_public_policy = val,
                                        "restrict_public_buckets" => {
                                            pab.restrict_public_buckets = val
                                        }
                                        _ => self.unknown_field(f, "`public_access_block`"),
                                    }
                                }
                            }
                            Field::Value(Some(pab))
                        }
                    }
                }
                "census" => b.census = self.census(v),
                "objects" => {
                    b.objects = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None => {
                            let mut objs = BTreeMap::new();
                            if let Some(os) = self.object(v, "`objects`") {
                                for o in os {
                                    let f = self.item(&o.value, |s, n| s.object_entry(n));
                                    objs.insert(o.key.clone(), f);
                                }
                            }
                            Field::Value(objs)
                        }
                    }
                }
                _ => self.unknown_field(m, &format!("bucket {name}")),
            }
        }
        Some(b)
    }

    fn census(&mut self, n: &Node) -> Option<Census> {
        let members = self.object(n, "`census`")?;
        let mut c = Census::default();
        for m in members {
            match m.key.as_str() {
                "objects" => c.objects = self.count(&m.value, "`census.objects`").unwrap_or(0),
                "foreign_owned" => {
                    c.foreign_owned = self.count(&m.value, "`census.foreign_owned`").unwrap_or(0)
                }
                "by_encryption" | "by_storage_class" => {
                    let mut map = BTreeMap::new();
                    if let Some(es) = self.object(&m.value, &format!("`census.{}`", m.key)) {
                        for e in es {
                            if let Some(v) = self.count(&e.value, &format!("`{}`", e.key)) {
                                map.insert(e.key.clone(), v);
                            }
                        }
                    }
                    if m.key == "by_encryption" {
                        c.by_encryption = map;
                    } else {
                        c.by_storage_class = map;
                    }
                }
                "examples" => {
                    if let Some(es) = self.object(&m.value, "`census.examples`") {
                        for e in es {
                            let keys: Vec<String> = e
                                .value
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|k| k.as_str().map(str::to_string))
                                        .collect()
                                })
                                .unwrap_or_default();
                            c.examples.insert(e.key.clone(), keys);
                        }
                    }
                }
                _ => self.unknown_field(m, "`census`"),
            }
        }
        Some(c)
    }

    fn object_entry(&mut self, n: &Node) -> Option<Object> {
        let members = self.object(n, "an object")?;
        let mut o = Object::default();
        for m in members {
            let v = &m.value;
            match m.key.as_str() {
                "size" => {
                    if !v.is_null() {
                        o.size = self.count(v, "`size`");
                    }
                }
                "encryption" => {
                    if !v.is_null() {
                        o.encryption = self.encryption(v, "the object's `encryption`");
                    }
                }
                "owner" => o.owner = self.opt_string(v, "`owner`"),
                "storage_class" => o.storage_class = self.opt_string(v, "`storage_class`"),
                "restore" => {
                    let r = self.opt_string(v, "`restore`");
                    if let Some(s) = &r
                        && !matches!(s.as_str(), "ongoing" | "completed")
                    {
                        self.err(v.span, "`restore` is null, \"ongoing\" or \"completed\"");
                    }
                    o.restore = Some(r);
                }
                "archive_status" => o.archive_status = self.opt_string(v, "`archive_status`"),
                _ => self.unknown_field(m, "an object"),
            }
        }
        Some(o)
    }

    fn key(&mut self, arn: &str, n: &Node, base: &str) -> Option<Key> {
        let members = self.object(n, &format!("key {arn}"))?;
        let mut k = Key {
            arn: arn.to_string(),
            pointer: base.to_string(),
            aliases: Vec::new(),
            manager: None,
            state: None,
            spec: None,
            usage: None,
            policy: Field::NotRead,
            grants: Field::Value(Vec::new()),
        };
        for m in members {
            let v = &m.value;
            match m.key.as_str() {
                "aliases" => {
                    k.aliases = match v.as_array() {
                        Some(a) => a
                            .iter()
                            .filter_map(|x| self.string(x, "an alias"))
                            .collect(),
                        None => {
                            self.err(v.span, "`aliases` must be an array of alias names");
                            Vec::new()
                        }
                    }
                }
                "manager" => {
                    k.manager = self.opt_string(v, "`manager`");
                    if let Some(mg) = &k.manager
                        && mg != "CUSTOMER"
                        && mg != "AWS"
                    {
                        self.err(v.span, "`manager` is CUSTOMER or AWS");
                    }
                }
                "state" => k.state = self.opt_string(v, "`state`"),
                "spec" => k.spec = self.opt_string(v, "`spec`"),
                "usage" => k.usage = self.opt_string(v, "`usage`"),
                "policy" => {
                    k.policy = self.field_policy(
                        v,
                        ptr(base, "policy"),
                        format!("key policy of {arn}"),
                        &ParseOptions::new(PolicyKind::Key),
                    )
                }
                "grants" => {
                    k.grants = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None => Field::Value(self.grants(v)),
                    }
                }
                _ => self.unknown_field(m, &format!("key {arn}")),
            }
        }
        Some(k)
    }

    fn grants(&mut self, n: &Node) -> Vec<GrantDoc> {
        let mut out = Vec::new();
        let Some(items) = n.as_array() else {
            self.err(n.span, "`grants` must be an array");
            return out;
        };
        for g in items {
            let Some(members) = self.object(g, "a grant") else {
                continue;
            };
            let mut grant = GrantDoc {
                grantee: String::new(),
                operations: Vec::new(),
                constraints: None,
            };
            for m in members {
                match m.key.as_str() {
                    "grantee" => {
                        grant.grantee = self.string(&m.value, "`grantee`").unwrap_or_default()
                    }
                    "operations" => {
                        grant.operations = m
                            .value
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|x| x.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                    }
                    "constraints" => {
                        if m.value.is_null() {
                            continue;
                        }
                        let mut c = GrantConstraints::default();
                        if let Some(cs) = self.object(&m.value, "`constraints`") {
                            for cm in cs {
                                let map: BTreeMap<String, String> = cm
                                    .value
                                    .as_object()
                                    .map(|o| {
                                        o.iter()
                                            .filter_map(|e| {
                                                e.value
                                                    .as_str()
                                                    .map(|v| (e.key.clone(), v.to_string()))
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                match cm.key.as_str() {
                                    "encryption_context_subset" => {
                                        c.encryption_context_subset = Some(map)
                                    }
                                    "encryption_context_equals" => {
                                        c.encryption_context_equals = Some(map)
                                    }
                                    _ => self.unknown_field(cm, "grant constraints"),
                                }
                            }
                        }
                        grant.constraints = Some(c);
                    }
                    _ => self.unknown_field(m, "a grant"),
                }
            }
            if grant.grantee.is_empty() {
                self.err(g.span, "a grant needs a `grantee`");
            }
            out.push(grant);
        }
        out
    }

    fn role(&mut self, account: &str, name: &str, n: &Node, base: &str) -> Option<Role> {
        let members = self.object(n, &format!("role {name}"))?;
        let mut r = Role {
            name: name.to_string(),
            pointer: base.to_string(),
            arn: format!("arn:aws:iam::{account}:role/{name}"),
            trust_policy: Field::NotRead,
            inline_policies: Field::Value(BTreeMap::new()),
            managed_policies: Field::Value(BTreeMap::new()),
            permissions_boundary: Field::Value(None),
            tags: BTreeMap::new(),
        };
        for m in members {
            let v = &m.value;
            let p = ptr(base, &m.key);
            match m.key.as_str() {
                "arn" => {
                    if let Some(a) = self.string(v, "`arn`") {
                        if role_account(&a) != Some(account) {
                            self.err(
                                v.span,
                                format!("`{a}` is not a role ARN of account {account}"),
                            );
                        }
                        r.arn = a;
                    }
                }
                "trust_policy" => {
                    r.trust_policy = match self.field_policy(
                        v,
                        p,
                        format!("trust policy of role {name}"),
                        &ParseOptions::new(PolicyKind::Trust),
                    ) {
                        Field::Value(Some(d)) => Field::Value(d),
                        Field::Value(None) => Field::NotRead,
                        Field::Unreadable(u) => Field::Unreadable(u),
                        Field::NotRead => Field::NotRead,
                    }
                }
                "inline_policies" | "managed_policies" => {
                    let inline = m.key == "inline_policies";
                    let f = match self.marker(v) {
                        Some(u) => Field::Unreadable(u),
                        None => {
                            let mut map = BTreeMap::new();
                            if let Some(ps) = self.object(v, &format!("`{}`", m.key)) {
                                for pm in ps {
                                    let pp = ptr(&p, &pm.key);
                                    let title = if inline {
                                        format!("inline policy {} of role {name}", pm.key)
                                    } else {
                                        format!("managed policy {} attached to role {name}", pm.key)
                                    };
                                    let f = self.item(&pm.value, |s, n| {
                                        s.policy(
                                            n,
                                            pp.clone(),
                                            title.clone(),
                                            &ParseOptions::new(PolicyKind::Identity),
                                        )
                                    });
                                    map.insert(pm.key.clone(), f);
                                }
                            }
                            Field::Value(map)
                        }
                    };
                    if inline {
                        r.inline_policies = f;
                    } else {
                        r.managed_policies = f;
                    }
                }
                "permissions_boundary" => {
                    r.permissions_boundary = self.field_policy(
                        v,
                        p,
                        format!("permissions boundary of role {name}"),
                        &ParseOptions::new(PolicyKind::Boundary),
                    )
                }
                "tags" => {
                    if let Some(ts) = self.object(v, "`tags`") {
                        for t in ts {
                            if let Some(val) = self.string(&t.value, "a tag value") {
                                r.tags.insert(t.key.clone(), val);
                            }
                        }
                    }
                }
                _ => self.unknown_field(m, &format!("role {name}")),
            }
        }
        Some(r)
    }

    fn probes(&mut self, n: &Node) -> Vec<Probe> {
        let mut out = Vec::new();
        let Some(items) = n.as_array() else {
            self.err(n.span, "`probes` must be an array");
            return out;
        };
        for p in items {
            let Some(members) = self.object(p, "a probe") else {
                continue;
            };
            let mut probe = Probe {
                as_principal: None,
                call: String::new(),
                target: String::new(),
                detail: None,
                outcome: Outcome::Ok,
            };
            let mut saw_outcome = false;
            for m in members {
                match m.key.as_str() {
                    "as" => probe.as_principal = self.opt_string(&m.value, "`as`"),
                    "call" => probe.call = self.string(&m.value, "`call`").unwrap_or_default(),
                    "target" => {
                        probe.target = self.string(&m.value, "`target`").unwrap_or_default()
                    }
                    "detail" => probe.detail = self.opt_string(&m.value, "`detail`"),
                    "outcome" => {
                        saw_outcome = true;
                        match &m.value.value {
                            Value::String(s) if s == "ok" => probe.outcome = Outcome::Ok,
                            Value::Object(_) => {
                                let error = m.value.get("error").and_then(Node::as_str);
                                let message =
                                    m.value.get("message").and_then(Node::as_str).unwrap_or("");
                                match error {
                                    Some(e) => {
                                        probe.outcome = Outcome::Error {
                                            error: e.to_string(),
                                            message: message.to_string(),
                                        }
                                    }
                                    None => self.err(
                                        m.value.span,
                                        "a failed probe's outcome needs an `error`",
                                    ),
                                }
                            }
                            _ => self.err(
                                m.value.span,
                                "`outcome` is \"ok\" or {\"error\": ..., \"message\": ...}",
                            ),
                        }
                    }
                    _ => self.unknown_field(m, "a probe"),
                }
            }
            if probe.call.is_empty() || !saw_outcome {
                self.err(p.span, "a probe needs `call` and `outcome`");
            }
            out.push(probe);
        }
        out
    }
}

/// The account of a role ARN.
pub fn role_account(arn: &str) -> Option<&str> {
    let a = crate::arn::Arn::parse(arn)?;
    (role_arn_problem(arn).is_none()).then_some(a.account)
}

/// Why `arn` cannot name an IAM role, in the words of IAM's own limits; `None`
/// when it can.
pub fn role_arn_problem(arn: &str) -> Option<&'static str> {
    let Some(a) = crate::arn::Arn::parse(arn) else {
        return Some("a role ARN is arn:aws:iam::ACCOUNT:role/NAME");
    };
    let partition_ok = a.partition.starts_with("aws")
        && a.partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
    if !partition_ok || a.service != "iam" {
        return Some("a role ARN is arn:aws:iam::ACCOUNT:role/NAME");
    }
    if !a.region.is_empty() {
        return Some("IAM is global: a role ARN has no region (arn:aws:iam::ACCOUNT:role/NAME)");
    }
    if !is_account_id(a.account) {
        return Some("the account id of a role ARN is 12 digits");
    }
    let Some(path_name) = a.resource.strip_prefix("role/") else {
        return Some("a role ARN is arn:aws:iam::ACCOUNT:role/NAME");
    };
    let (path, name) = match path_name.rsplit_once('/') {
        Some((p, n)) => (p, n),
        None => ("", path_name),
    };
    let name_ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if !name_ok {
        return Some(
            "a role name is 1 to 64 letters, digits and +=,.@_- (no wildcards, spaces or typographic quotes)",
        );
    }
    if path.len() > 510 || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Some("a role path is printable ASCII without spaces, at most 512 characters");
    }
    None
}

pub fn is_key_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && is_account_id(parts[4])
        && parts[5].strip_prefix("key/").is_some_and(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"format": "xacct-snapshot/1",
      "copy": {"source": "s3://alice-data", "destination": "s3://bob-data",
               "principal": "arn:aws:iam::222222222222:role/BobCopy"},
      "accounts": {}}"#;

    #[test]
    fn minimal_snapshot_loads() {
        let s = load_str("t", MIN).unwrap();
        assert_eq!(s.copy.source.bucket, "alice-data");
        assert_eq!(s.copy.method, Method::Cli);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_span() {
        let t = r#"{"format": "xacct-snapshot/2",
          "copy": {"source": "alice-data", "destination": "s3://bob-data",
                   "principal": "arn:aws:iam::222222222222:user/Bob"},
          "accounts": {"12345": {}}}"#;
        let e = load_str("t", t).unwrap_err();
        let msgs: Vec<&str> = e.items.iter().map(|i| i.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("unknown snapshot format")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("not an S3 location")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("not an IAM role ARN")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("not an account id")),
            "{msgs:?}"
        );
        let fmt = e
            .items
            .iter()
            .find(|i| i.message.contains("format"))
            .unwrap();
        assert_eq!(&t[fmt.span.start..fmt.span.end], "\"xacct-snapshot/2\"");
    }

    #[test]
    fn role_outside_destination_account_is_an_input_error() {
        let t = MIN.replace(
            "\"accounts\": {}",
            "\"accounts\": {\"333333333333\": {\"buckets\": {\"bob-data\": {}}}}",
        );
        let e = load_str("t", &t).unwrap_err();
        assert!(
            e.items[0].message.contains("destination bucket"),
            "{:?}",
            e.items[0].message
        );
    }

    #[test]
    fn a_rejected_policy_is_not_an_input_error() {
        let t = MIN.replace(
            "\"accounts\": {}",
            r#""accounts": {"111111111111": {"buckets": {"alice-data": {"policy": "{not json"}}}}"#,
        );
        let s = load_str("t", &t).unwrap();
        let b = s.accounts["111111111111"].buckets["alice-data"]
            .value()
            .unwrap();
        let doc = b.policy.value().unwrap().as_ref().unwrap();
        assert!(!doc.policy.is_valid());
    }

    #[test]
    fn not_json_points_at_the_spot() {
        let e = load_str("t", "{\"format\": \"xacct-snapshot/1\",}").unwrap_err();
        assert!(e.items[0].message.contains("trailing comma"));
    }
}
