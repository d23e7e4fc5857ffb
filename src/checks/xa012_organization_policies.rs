//! XA012 organization-policies: every SCP level of B's organization allows each
//! request of the copy, and no SCP or RCP (of the organization owning each
//! resource) denies one.

use crate::policy::eval::{Labeled, PolicySet};
use crate::snapshot::model::{Field, Organization, PolicyDoc};

use super::ctx::{Ctx, Docs, Found, LinkWords, Trial, Want, labeled, link_finding};
use super::plan::Step;
use super::{Finding, Status};

const ID: &str = "XA012";

type Levels<'a> = Vec<Vec<&'a PolicyDoc>>;

/// The policy levels of one kind, with what could not be read.
fn levels<'a>(
    f: &'a Field<Vec<Vec<Field<PolicyDoc>>>>,
    what: &str,
    missing: &mut Vec<String>,
) -> Option<Levels<'a>> {
    match f {
        Field::Value(lv) => Some(
            lv.iter()
                .map(|level| {
                    level
                        .iter()
                        .filter_map(|p| match p {
                            Field::Value(d) => Some(d),
                            Field::Unreadable(u) => {
                                missing.push(format!("a {what}: {}", u.describe()));
                                None
                            }
                            Field::NotRead => None,
                        })
                        .collect()
                })
                .collect(),
        ),
        Field::Unreadable(u) => {
            missing.push(format!("the {what}s: {}", u.describe()));
            None
        }
        // not read: snapshot.md says the checks that need it skip that part
        Field::NotRead => None,
    }
}

enum Org<'a> {
    NotRead,
    Unreadable(String),
    None,
    In(&'a Organization),
}

fn org<'a>(c: &Ctx<'a>, account: Option<&str>) -> Org<'a> {
    let Some(id) = account else {
        return Org::NotRead;
    };
    match c.s.accounts.get(id).map(|a| &a.organization) {
        Some(Field::Value(Some(o))) => Org::In(o),
        Some(Field::Value(None)) => Org::None,
        Some(Field::Unreadable(u)) => {
            Org::Unreadable(format!("the organization of {id}: {}", u.describe()))
        }
        _ => Org::NotRead,
    }
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let b_org = org(c, Some(&c.plan.b));
    let a_org = org(c, c.plan.a.as_deref());
    if !matches!(b_org, Org::In(_) | Org::None | Org::Unreadable(_))
        && !matches!(a_org, Org::In(_) | Org::None | Org::Unreadable(_))
    {
        return Finding::new(
            ID,
            Status::Skip,
            "the snapshot holds no organization data (SCPs and RCPs were not read)",
        );
    }
    let mut docs = Docs::default();
    // what was not read is left out (snapshot.md: its checks skip), and said
    let mut not_read = Vec::new();
    let scp = match &b_org {
        Org::In(o) => {
            if o.scp.is_not_read() {
                not_read.push("the SCPs of B's organization".to_string());
            }
            levels(&o.scp, "service control policy", &mut docs.missing)
        }
        Org::None => None,
        Org::NotRead => {
            not_read.push(format!("the organization of B ({})", c.plan.b));
            None
        }
        Org::Unreadable(why) => {
            docs.missing.push(why.clone());
            None
        }
    };
    fn rcp_of<'a>(
        o: &Org<'a>,
        who: &str,
        missing: &mut Vec<String>,
        not_read: &mut Vec<String>,
    ) -> Levels<'a> {
        match o {
            Org::In(org) => {
                if org.rcp.is_not_read() {
                    not_read.push(format!("the RCPs of {who}'s organization"));
                }
                levels(&org.rcp, "resource control policy", missing).unwrap_or_default()
            }
            Org::None => Vec::new(),
            Org::NotRead => {
                not_read.push(format!("the organization of {who}"));
                Vec::new()
            }
            Org::Unreadable(why) => {
                missing.push(why.clone());
                Vec::new()
            }
        }
    }
    let rcp_a = rcp_of(&a_org, "A", &mut docs.missing, &mut not_read);
    let rcp_b = if c.plan.same_account() {
        Vec::new()
    } else {
        rcp_of(&b_org, "B", &mut docs.missing, &mut not_read)
    };
    not_read.dedup();
    docs.missing.dedup();
    // what can be judged: a policy kind that was read, or known not to apply
    let scp_known = match &b_org {
        Org::None => true,
        Org::In(o) => !o.scp.is_not_read(),
        _ => false,
    };
    let rcp_known = |o: &Org<'_>| match o {
        Org::None => true,
        Org::In(org) => !org.rcp.is_not_read(),
        _ => false,
    };
    let (rcp_a_known, rcp_b_known) = (rcp_known(&a_org), rcp_known(&b_org));
    if !scp_known && !rcp_a_known && !rcp_b_known && docs.missing.is_empty() {
        return Finding::new(
            ID,
            Status::Skip,
            format!(
                "no SCP or RCP that applies was read: {}",
                not_read.join(", ")
            ),
        );
    }
    for lv in scp.iter().flatten().chain(rcp_a.iter()).chain(rcp_b.iter()) {
        for d in lv {
            docs.add(d);
        }
    }
    fn to_labels<'a>(lv: &Levels<'a>) -> Vec<Vec<Labeled<'a>>> {
        lv.iter()
            .map(|l| l.iter().map(|d| labeled(d)).collect())
            .collect()
    }
    let scp_l = scp.as_ref().map(|l| to_labels(l));
    let rcp_a_l = to_labels(&rcp_a);
    let rcp_b_l = to_labels(&rcp_b);
    let reqs = c.plan.all_requests(c.s);
    let a = c.plan.a.clone();
    let j = c.judge(&reqs, &docs, Want::Organization, |r| {
        let owner = r.request.resource_account.clone();
        // RCPs do not apply to AWS managed keys
        let aws_managed_key = r.step == Step::DecryptSource
            && matches!(c.key(&r.request.resource), Found::Yes(k) if k.is_aws_managed() == Some(true));
        let rcp = if aws_managed_key {
            Vec::new()
        } else if owner == a {
            rcp_a_l.clone()
        } else {
            rcp_b_l.clone()
        };
        PolicySet { scp: scp_l.clone(), rcp, ..Default::default() }
    });
    let fix = |_fails: &[&Trial<'_>]| {
        Some(super::Fix {
            summary: format!(
                "an SCP level of B's organization allows nothing for this request: attach a policy that allows it at that level (e.g. FullAWSAccess), or add an exception for {}",
                c.plan.role_arn
            ),
            account: Some(c.plan.b.clone()),
            document: "service control policies of B's organization".into(),
            statement: None,
            command: Some("aws organizations attach-policy --policy-id p-FullAWSAccess --target-id TARGET  # in the management account".into()),
        })
    };
    let mut f = link_finding(
        c,
        &j,
        &docs,
        Want::Organization,
        LinkWords {
            id: ID,
            subject: "the organization policies (SCP levels of B's organization)".into(),
            pass: match (&b_org, &a_org) {
                (Org::None, Org::None) => {
                    "neither account is in an organization: no SCP or RCP applies".into()
                }
                // say only what was judged
                _ => {
                    let mut judged = Vec::new();
                    match &b_org {
                        Org::None => {
                            judged.push("B is in no organization (no SCP applies)".to_string())
                        }
                        _ if scp_known => judged.push(
                            "every SCP level of B's organization allows the copy's requests"
                                .to_string(),
                        ),
                        _ => {}
                    }
                    for (who, known) in [("A", rcp_a_known), ("B", rcp_b_known)] {
                        if known && !(who == "B" && c.plan.same_account()) {
                            judged.push(format!("no RCP of {who}'s organization denies them"));
                        }
                    }
                    judged.join("; ")
                }
            },
            grant_fix: &fix,
            corrected: None,
            corrected_command: None,
        },
    );
    if !not_read.is_empty() && f.status != Status::Skip {
        f.details.push(format!(
            "not read, so not judged: {} (give xacct read access in that organization's management account, or add them to the snapshot)",
            not_read.join(", ")
        ));
    }
    if f.status == Status::Fail
        && let Some(fix) = &mut f.fix
        && fix.command.is_none()
    {
        fix.command = Some("aws organizations update-policy --policy-id p-XXXXXXXX --content file://policy.json  # in the management account".into());
    }
    f
}
