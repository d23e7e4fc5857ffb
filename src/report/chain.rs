//! The permission chain as a graph, for the pictures (Mermaid, dot, the HTML
//! report's SVG): the real names along the chain, the nodes (caller, role,
//! buckets, keys, objects, organizations) and one edge per link, each carrying
//! the checks it stands for. Renderers only lay it out and colour it.

use crate::checks::plan::DestKey;
use crate::checks::{Finding, Plan, Status};
use crate::snapshot::model::{Field, Snapshot};

use super::Report;

/// The real names along the chain, gathered when the report is made.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    pub source_account: Option<String>,
    pub destination_account: String,
    /// `s3://bucket[/prefix]`.
    pub source: String,
    pub destination: String,
    pub role_arn: String,
    pub caller: Option<String>,
    /// The source keys in use: (what to call it, its first alias).
    pub source_keys: Vec<(String, Option<String>)>,
    pub destination_key: (String, Option<String>),
    /// "2 sampled objects", "census: 10,482 objects"...
    pub objects: String,
    /// "neither account is in an organization", "B: o-b2c3d4e5f6"...
    pub organizations: String,
}

/// `arn:aws:kms:R:A:key/ID` → `ID`; anything else as it is.
fn key_name(arn: &str) -> String {
    match arn.rsplit_once(":key/") {
        Some((_, id)) => id.to_string(),
        None => arn.to_string(),
    }
}

fn alias_of(s: &Snapshot, arn: &str) -> Option<String> {
    s.key(arn)
        .and_then(Field::value)
        .and_then(|k| k.aliases.first().cloned())
}

fn org_label(f: &Field<Option<crate::snapshot::model::Organization>>) -> String {
    match f {
        Field::Value(Some(o)) => o.id.clone().unwrap_or_else(|| "an organization".into()),
        Field::Value(None) => "none".into(),
        Field::Unreadable(_) => "unreadable".into(),
        Field::NotRead => "not read".into(),
    }
}

impl Chain {
    pub fn new(s: &Snapshot, plan: &Plan) -> Chain {
        let c = &s.copy;
        let source_keys = plan
            .source_keys
            .iter()
            .map(|k| (key_name(k), alias_of(s, k)))
            .collect();
        let destination_key = match &plan.dest_key {
            DestKey::Key(k) => (key_name(k), alias_of(s, k)),
            DestKey::AwsManaged => ("AWS managed key aws/s3".into(), None),
            DestKey::NoKms(what) => (format!("no KMS key ({what})"), None),
            DestKey::Unresolved(k) => (format!("key {k} (not resolved)"), None),
            DestKey::Unknown(_) => ("key not known".into(), None),
        };
        let census = s
            .bucket(&c.source.bucket)
            .and_then(|(_, b)| b.value())
            .and_then(|b| b.census.as_ref())
            .map(|c| c.objects);
        let objects = match census {
            Some(n) => format!("census: {n} object{}", if n == 1 { "" } else { "s" }),
            None if plan.objects_known => {
                let n = plan.objects.iter().filter(|o| !o.stand_in).count();
                format!("{n} sampled object{}", if n == 1 { "" } else { "s" })
            }
            None => "objects not listed".into(),
        };
        let org_of = |acct: Option<&str>| {
            acct.and_then(|a| s.accounts.get(a))
                .map(|a| org_label(&a.organization))
                .unwrap_or_else(|| "not read".into())
        };
        let (org_a, org_b) = (org_of(plan.a.as_deref()), org_of(Some(&plan.b)));
        let organizations = if org_a == "none" && org_b == "none" {
            "neither account is in one".to_string()
        } else {
            format!("A: {org_a}; B: {org_b}")
        };
        Chain {
            source_account: plan.a.clone(),
            destination_account: plan.b.clone(),
            source: c.source.to_string(),
            destination: c.destination.to_string(),
            role_arn: plan.role_arn.clone(),
            caller: c.caller.clone(),
            source_keys,
            destination_key,
            objects,
            organizations,
        }
    }
}

/// Which account box a node is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    A,
    B,
    Outside,
}

/// A node of the picture.
#[derive(Debug, Clone)]
pub struct Node {
    /// Stable id (Mermaid / dot node name, SVG element id).
    pub id: &'static str,
    pub place: Place,
    /// What it is: "role", "source bucket"...
    pub kind: &'static str,
    /// Its real name(s), one per line.
    pub names: Vec<String>,
    /// The checks judged on the node itself (XA009 on the keys...).
    pub checks: Vec<&'static str>,
}

/// An edge: one link of the chain.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: &'static str,
    pub to: &'static str,
    /// What the request is, in a word or two.
    pub caption: &'static str,
    pub checks: Vec<&'static str>,
}

/// The chain of one report.
#[derive(Debug, Clone)]
pub struct Graph<'r> {
    pub report: &'r Report,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A short mark per status, so the pictures do not rely on colour alone.
pub fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Fail => "✗",
        Status::Warn => "!",
        Status::Unknown => "?",
        Status::Skip => "–",
    }
}

/// The colour of a status: (stroke / text, fill).
pub fn colour(s: Option<Status>) -> (&'static str, &'static str) {
    match s {
        Some(Status::Pass) => ("#1a7f37", "#dafbe1"),
        Some(Status::Fail) => ("#cf222e", "#ffebe9"),
        Some(Status::Unknown) => ("#bc4c00", "#fff1e5"),
        Some(Status::Warn) => ("#9a6700", "#fff8c5"),
        Some(Status::Skip) => ("#6e7781", "#eaeef2"),
        None => ("#57606a", "#ffffff"),
    }
}

/// The status an edge or node shows for several checks: the most severe;
/// `skip` only when nothing was evaluated.
pub fn combined(statuses: impl IntoIterator<Item = Status>) -> Option<Status> {
    let rank = |s: Status| match s {
        Status::Fail => 4,
        Status::Unknown => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        Status::Skip => 0,
    };
    statuses.into_iter().max_by_key(|s| rank(*s))
}

impl<'r> Graph<'r> {
    pub fn new(r: &'r Report) -> Graph<'r> {
        let c = &r.chain;
        let role_name = c.role_arn.rsplit('/').next().unwrap_or(&c.role_arn);
        let mut sk_names = Vec::new();
        match c.source_keys.split_first() {
            Some(((name, alias), rest)) => {
                sk_names.push(name.clone());
                if let Some(a) = alias {
                    sk_names.push(a.clone());
                }
                if !rest.is_empty() {
                    sk_names.push(format!(
                        "+{} more key{}",
                        rest.len(),
                        if rest.len() == 1 { "" } else { "s" }
                    ));
                }
            }
            None => sk_names.push("no KMS key".into()),
        }
        let mut dk_names = vec![c.destination_key.0.clone()];
        if let Some(a) = &c.destination_key.1 {
            dk_names.push(a.clone());
        }
        let node = |id, place, kind, names: Vec<String>, checks: &[&'static str]| Node {
            id,
            place,
            kind,
            names,
            checks: checks.to_vec(),
        };
        let nodes = vec![
            node(
                "caller",
                Place::Outside,
                "caller",
                vec![c.caller.clone().unwrap_or_else(|| "not given".into())],
                &[],
            ),
            node(
                "org",
                Place::Outside,
                "organizations (SCPs, RCPs)",
                vec![c.organizations.clone()],
                &["XA012"],
            ),
            node(
                "sb",
                Place::A,
                "source bucket",
                vec![c.source.clone()],
                &["XA016"],
            ),
            node(
                "objects",
                Place::A,
                "source objects",
                vec![c.objects.clone()],
                &["XA011", "XA015"],
            ),
            node("sk", Place::A, "source key", sk_names, &["XA008", "XA009"]),
            node(
                "role",
                Place::B,
                "role",
                vec![role_name.to_string()],
                &["XA013", "XA014"],
            ),
            node(
                "db",
                Place::B,
                "destination bucket",
                vec![c.destination.clone()],
                &[],
            ),
            node("dk", Place::B, "destination key", dk_names, &["XA009"]),
        ];
        let edge = |from, to, caption, checks: &[&'static str]| Edge {
            from,
            to,
            caption,
            checks: checks.to_vec(),
        };
        let edges = vec![
            edge("caller", "role", "assumes", &["XA001"]),
            edge("role", "sb", "lists, reads", &["XA002", "XA006"]),
            edge("role", "sk", "kms:Decrypt", &["XA003", "XA007"]),
            edge("role", "db", "writes", &["XA005"]),
            edge("role", "dk", "kms:GenerateDataKey", &["XA004"]),
            edge("db", "dk", "default encryption", &["XA010"]),
            edge("sb", "objects", "holds", &[]),
        ];
        Graph {
            report: r,
            nodes,
            edges,
        }
    }

    pub fn finding(&self, id: &str) -> Option<&'r Finding> {
        self.report.checks.iter().find(|f| f.id == id)
    }

    /// The combined status of some checks (None: no checks, or none ran).
    pub fn status(&self, ids: &[&'static str]) -> Option<Status> {
        combined(
            ids.iter()
                .filter_map(|id| self.finding(id))
                .map(|f| f.status),
        )
    }

    /// `XA002 ✗ · XA006 ✓`
    pub fn marks(&self, ids: &[&'static str]) -> String {
        ids.iter()
            .map(|id| match self.finding(id) {
                Some(f) => format!("{id} {}", mark(f.status)),
                None => id.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// "Account A 111111111111 (source)"
    pub fn account_title(&self, place: Place) -> String {
        let c = &self.report.chain;
        match place {
            Place::A => match &c.source_account {
                Some(a) => format!("Account A {a} (source)"),
                None => "Account A (source, id not known)".into(),
            },
            Place::B => format!("Account B {} (destination)", c.destination_account),
            Place::Outside => String::new(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn walkthrough(name: &str) -> Report {
        let text = match name {
            "fixed" => include_str!("../../fixtures/walkthrough-fixed.json"),
            _ => include_str!("../../fixtures/walkthrough-as-published.json"),
        };
        let file = format!("fixtures/walkthrough-{name}.json");
        let snap = crate::snapshot::load_str(&file, text).expect("fixture loads");
        Report::new(&snap, Some(file)).with_snapshot_text(text)
    }

    #[test]
    fn every_check_is_drawn_exactly_once_per_place_it_belongs() {
        let r = walkthrough("as-published");
        let g = Graph::new(&r);
        let mut drawn: Vec<&str> = g.nodes.iter().flat_map(|n| n.checks.clone()).collect();
        drawn.extend(g.edges.iter().flat_map(|e| e.checks.clone()));
        for c in crate::checks::CATALOG {
            assert!(drawn.contains(&c.id), "{} is not drawn", c.id);
        }
        // XA009 judges both keys; everything else appears once
        drawn.sort_unstable();
        let n = drawn.len();
        drawn.dedup();
        assert_eq!(n - drawn.len(), 1);
    }

    #[test]
    fn nodes_carry_the_real_names() {
        let r = walkthrough("as-published");
        let g = Graph::new(&r);
        let names = |id| g.node(id).map(|n| n.names.join(" ")).unwrap_or_default();
        assert_eq!(names("role"), "Bobs_Data_Access_Role");
        assert_eq!(names("sb"), "s3://alice-data");
        assert_eq!(names("db"), "s3://bob-staging-bucket");
        assert_eq!(
            names("sk"),
            "8d3a6f2e-41b7-4c5e-9f0a-2b6c7d1e9a34 alias/alice-data"
        );
        assert_eq!(
            names("dk"),
            "5c9e1b7a-3d2f-4e8b-a6c0-71f4d2e8b953 alias/bob-staging"
        );
        assert_eq!(names("objects"), "2 sampled objects");
        assert_eq!(g.marks(&["XA002", "XA006"]), "XA002 ✗ · XA006 ✓");
        assert_eq!(g.status(&["XA002", "XA006"]), Some(Status::Fail));
    }

    #[test]
    fn combined_status_is_the_most_severe_and_skip_only_alone() {
        use Status::*;
        assert_eq!(combined([Pass, Fail]), Some(Fail));
        assert_eq!(combined([Pass, Skip]), Some(Pass));
        assert_eq!(combined([Skip, Skip]), Some(Skip));
        assert_eq!(combined([Warn, Unknown]), Some(Unknown));
        assert_eq!(combined([]), None);
    }
}
