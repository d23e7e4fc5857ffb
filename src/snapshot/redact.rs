//! `--redact`: replace account ids, resource names and principal names with
//! stable placeholders so a customer can share a snapshot. The same name always
//! becomes the same placeholder, everywhere (copy block, keys of maps, inside
//! policy documents), so the redacted snapshot gives the same verdict.
//!
//! Replaced: account ids, organization ids, bucket and object names, VPC
//! endpoint ids, and the names in ARNs of roles, users, sessions, keys,
//! aliases and customer managed policies, and inline policy names.
//!
//! Limit: a policy that matches names by a fragment (`arn:aws:s3:::alice-*`)
//! no longer matches once the name is replaced; such fragments are kept when
//! they are found, at the cost of revealing them.

use std::collections::BTreeMap;

use super::model::{Field, Snapshot};

/// Collects names and hands out placeholders in order of first sight.
#[derive(Default)]
struct Names {
    map: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Names {
    fn add(&mut self, kind: &'static str, name: &str) {
        // short names and AWS's own words would be replaced inside other text
        const KEEP: [&str; 16] = [
            "aws", "s3", "kms", "iam", "sts", "root", "role", "user", "key", "alias", "data",
            "arn", "service", "objects", "bucket", "policy",
        ];
        if name.len() < 4
            || KEEP.contains(&name.to_ascii_lowercase().as_str())
            || self.map.contains_key(name)
        {
            return;
        }
        let n = self.counts.entry(kind).or_insert(0);
        *n += 1;
        let placeholder = match kind {
            "account" => format!("{:012}", 100_000_000_000u64 + *n as u64),
            "key" => format!("00000000-0000-4000-8000-{:012}", *n),
            "org" => format!("o-redacted{n:02}"),
            "vpce" => format!("vpce-redacted{n:02}"),
            other => format!("{other}-{n}"),
        };
        self.map.insert(name.to_string(), placeholder);
    }
}

fn arn_name_parts(text: &str, names: &mut Names) {
    // role, user, assumed-role sessions, key ids, aliases named anywhere in text
    for (marker, kind) in [
        (":role/", "role"),
        (":user/", "user"),
        (":assumed-role/", "role"),
        (":key/", "key"),
        (":alias/", "alias"),
        (":federated-user/", "user"),
        (":policy/", "policy"),
    ] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            let after = &rest[i + marker.len()..];
            // AWS managed policies (arn:aws:iam::aws:policy/...) name nobody
            if marker == ":policy/" && rest[..i].ends_with(":aws") {
                rest = after;
                continue;
            }
            let end = after
                .find(|c: char| {
                    matches!(
                        c,
                        '"' | '\'' | ',' | ' ' | '\\' | ']' | '}' | '*' | '?' | '$'
                    )
                })
                .unwrap_or(after.len());
            let path = &after[..end];
            for (j, seg) in path.split('/').enumerate() {
                // sessions: role/session; paths: a/b/name
                let k = if marker == ":assumed-role/" && j > 0 {
                    "session"
                } else {
                    kind
                };
                if !seg.is_empty() && !seg.starts_with("aws") {
                    names.add(k, seg);
                }
            }
            rest = &after[end..];
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '=' | '@')
}

/// Replace whole names only: a match must not continue a longer name.
fn replace_names(text: &str, pairs: &[(&String, &String)]) -> String {
    let mut out = text.to_string();
    for (from, to) in pairs {
        if !out.contains(from.as_str()) {
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(from.as_str()) {
            let before = rest[..i].chars().next_back();
            let after = rest[i + from.len()..].chars().next();
            result.push_str(&rest[..i]);
            if before.is_some_and(is_name_char) || after.is_some_and(is_name_char) {
                result.push_str(from);
            } else {
                result.push_str(to);
            }
            rest = &rest[i + from.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Replace names in every string and map key of a JSON value; policies held as
/// strings are text too, so names inside them are replaced the same way.
fn replace_in(v: &mut serde_json::Value, pairs: &[(&String, &String)]) {
    match v {
        serde_json::Value::String(s) => {
            // a policy held as a string: redact it as JSON (its Ids and Sids too)
            match serde_json::from_str::<serde_json::Value>(s) {
                Ok(mut inner) if inner.is_object() => {
                    replace_in(&mut inner, pairs);
                    *s = serde_json::to_string_pretty(&inner)
                        .unwrap_or_else(|_| replace_names(s, pairs));
                }
                _ => *s = replace_names(s, pairs),
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| replace_in(x, pairs)),
        serde_json::Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut x) in old {
                match (&mut x, k.as_str()) {
                    // free text: names may be glued to other words; they do not
                    // take part in any decision, so replace every occurrence
                    (
                        serde_json::Value::String(t),
                        "Sid" | "Id" | "message" | "description" | "detail",
                    ) => {
                        for (from, to) in pairs {
                            *t = t.replace(from.as_str(), to);
                        }
                    }
                    _ => replace_in(&mut x, pairs),
                }
                m.insert(replace_names(&k, pairs), x);
            }
        }
        _ => {}
    }
}

/// A copy of the snapshot with names replaced by placeholders.
pub fn redact(s: &Snapshot) -> Result<Snapshot, String> {
    let text = serde_json::to_string(s).map_err(|e| e.to_string())?;
    let mut names = Names::default();
    for (id, acct) in &s.accounts {
        names.add("account", id);
        if let Field::Value(Some(org)) = &acct.organization
            && let Some(o) = &org.id
        {
            names.add("org", o);
        }
        for b in acct.buckets.keys() {
            names.add("bucket", b);
        }
        for (b, f) in &acct.buckets {
            let _ = b;
            if let Field::Value(bucket) = f
                && let Field::Value(objs) = &bucket.objects
            {
                for k in objs.keys() {
                    names.add("object", k);
                }
            }
        }
        for v in acct.vpc_endpoints.keys() {
            names.add("vpce", v);
        }
        // inline policy names are the customer's words too
        for r in acct.roles.values() {
            if let Field::Value(role) = r
                && let Field::Value(inline) = &role.inline_policies
            {
                for n in inline.keys() {
                    names.add("policy", n);
                }
            }
        }
    }
    for b in [&s.copy.source.bucket, &s.copy.destination.bucket] {
        names.add("bucket", b);
    }
    // every 12-digit number that stands where an account id stands
    for w in text.split(|c: char| !c.is_ascii_digit()) {
        if w.len() == 12 {
            names.add("account", w);
        }
    }
    arn_name_parts(&text, &mut names);
    // longest first, so that a name inside another is replaced in the right order
    let mut pairs: Vec<(&String, &String)> = names.map.iter().collect();
    pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if let Some(obj) = v.as_object_mut() {
        for (k, field) in obj.iter_mut() {
            if k != "format" {
                replace_in(field, &pairs);
            }
        }
    }
    let out = v.to_string();
    let mut r = super::load::load_str("redacted snapshot", &out).map_err(|p| p.one_line())?;
    r.description = Some("redacted with xacct snapshot --redact".into());
    r.expect = s.expect.clone();
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_replaced_consistently() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/walkthrough-fixed.json"
        ))
        .expect("fixture");
        let s = super::super::load::load_str("t", &text).expect("loads");
        let r = redact(&s).expect("redacts");
        let out = serde_json::to_string(&r).expect("serializes");
        for secret in [
            "111111111111",
            "222222222222",
            "alice-data",
            "bob-staging-bucket",
            "Bobs_Data_Access_Role",
            "8d3a6f2e",
        ] {
            assert!(!out.contains(secret), "{secret} survived redaction");
        }
    }
}
