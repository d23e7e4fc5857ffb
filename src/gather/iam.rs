//! IAM and Organizations in B (and A): the copying role with every policy that
//! applies to it, the organization id, and the IAM policy simulator's answer
//! for the role's identity side (a cross-check; moto does not implement it).

use std::collections::BTreeMap;

use futures::StreamExt;

use super::aws::{Account, role_name};
use super::docs;
use super::fail::Failure;
use crate::snapshot::model::{Field, Organization, PolicyDoc, Role};

/// A managed policy's default version (GetPolicy, then GetPolicyVersion).
async fn managed_document(
    iam: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<String, (String, Failure)> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| ("iam:GetPolicy".to_string(), Failure::from_sdk(&e)))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_string();
    let out = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| ("iam:GetPolicyVersion".to_string(), Failure::from_sdk(&e)))?;
    Ok(docs::iam_decode(
        out.policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default(),
    ))
}

/// The role in its account, read with that account's credentials.
///
/// The policy listings need only the role's name: they run beside GetRole,
/// and the documents they name are fetched concurrently.
pub async fn read_role(b: &Account, role_arn: &str) -> (String, Field<Role>) {
    let name = role_name(role_arn).to_string();
    let acct = b.account.clone();
    let iam = b.iam();
    // GetRole, then the permissions boundary it names
    let role_and_boundary = async {
        let role = match iam.get_role().role_name(&name).send().await {
            Ok(out) => match out.role() {
                Some(r) => r.clone(),
                None => {
                    return Err(crate::snapshot::model::Unreadable {
                        call: "iam:GetRole".into(),
                        error: "EmptyResponse".into(),
                        message: "GetRole returned no role".into(),
                    });
                }
            },
            Err(e) => return Err(Failure::from_sdk(&e).marker("iam:GetRole")),
        };
        let boundary = match role
            .permissions_boundary()
            .and_then(|p| p.permissions_boundary_arn())
        {
            None => Field::Value(None),
            Some(arn) => match managed_document(&iam, arn).await {
                Ok(text) => Field::Value(Some(docs::boundary(&acct, &name, text))),
                Err((call, f)) => Field::Unreadable(f.marker(&call)),
            },
        };
        Ok((role, boundary))
    };
    let inline = async {
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            match iam
                .list_role_policies()
                .role_name(&name)
                .set_marker(marker.clone())
                .send()
                .await
            {
                Ok(page) => {
                    names.extend(page.policy_names().iter().cloned());
                    marker = page.marker().map(str::to_string);
                    if !page.is_truncated() || marker.is_none() {
                        break;
                    }
                }
                Err(e) => {
                    return Field::Unreadable(Failure::from_sdk(&e).marker("iam:ListRolePolicies"));
                }
            }
        }
        let docs: Vec<(String, Field<PolicyDoc>)> = futures::stream::iter(names)
            .map(|pname| {
                let iam = &iam;
                let name = &name;
                let acct = &acct;
                async move {
                    let f = match iam
                        .get_role_policy()
                        .role_name(name)
                        .policy_name(&pname)
                        .send()
                        .await
                    {
                        Ok(out) => Field::Value(docs::inline_policy(
                            acct,
                            name,
                            &pname,
                            docs::iam_decode(out.policy_document()),
                        )),
                        Err(e) => {
                            Field::Unreadable(Failure::from_sdk(&e).marker("iam:GetRolePolicy"))
                        }
                    };
                    (pname, f)
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        Field::Value(docs.into_iter().collect::<BTreeMap<_, _>>())
    };
    let managed = async {
        let mut arns = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            match iam
                .list_attached_role_policies()
                .role_name(&name)
                .set_marker(marker.clone())
                .send()
                .await
            {
                Ok(page) => {
                    arns.extend(
                        page.attached_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_string)),
                    );
                    marker = page.marker().map(str::to_string);
                    if !page.is_truncated() || marker.is_none() {
                        break;
                    }
                }
                Err(e) => {
                    return Field::Unreadable(
                        Failure::from_sdk(&e).marker("iam:ListAttachedRolePolicies"),
                    );
                }
            }
        }
        let docs: Vec<(String, Field<PolicyDoc>)> = futures::stream::iter(arns)
            .map(|arn| {
                let iam = &iam;
                let name = &name;
                let acct = &acct;
                async move {
                    let f = match managed_document(iam, &arn).await {
                        Ok(text) => Field::Value(docs::managed_policy(acct, name, &arn, text)),
                        Err((call, f)) => Field::Unreadable(f.marker(&call)),
                    };
                    (arn, f)
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        Field::Value(docs.into_iter().collect::<BTreeMap<_, _>>())
    };
    let (role, inline_policies, managed_policies) =
        tokio::join!(role_and_boundary, inline, managed);
    let (role, permissions_boundary) = match role {
        Ok(r) => r,
        Err(marker) => return (name, Field::Unreadable(marker)),
    };
    let trust_policy = match role.assume_role_policy_document() {
        Some(t) => Field::Value(docs::trust_policy(&acct, &name, docs::iam_decode(t))),
        None => Field::NotRead,
    };
    let tags: BTreeMap<String, String> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let r = Role {
        pointer: docs::role_ptr(&acct, &name),
        name: name.clone(),
        arn: role.arn().to_string(),
        trust_policy,
        inline_policies,
        managed_policies,
        permissions_boundary,
        tags,
    };
    (name, Field::Value(r))
}

/// The account's organization: its id, or `None` when it is in none.
pub async fn read_organization(who: &Account) -> Field<Option<Organization>> {
    match who.organizations().describe_organization().send().await {
        Ok(out) => Field::Value(Some(Organization {
            id: out.organization().and_then(|o| o.id()).map(str::to_string),
            // SCPs and RCPs are readable only from the management account
            scp: Field::NotRead,
            rcp: Field::NotRead,
        })),
        Err(e) => {
            let f = Failure::from_sdk(&e);
            if f.is("AWSOrganizationsNotInUseException") {
                Field::Value(None)
            } else {
                Field::Unreadable(f.marker("organizations:DescribeOrganization"))
            }
        }
    }
}

/// The IAM policy simulator's decision for one action on one resource.
pub struct Simulated {
    pub action: String,
    pub resource: String,
    pub decision: String,
}

/// Ask `iam:SimulatePrincipalPolicy` about the role's identity side, all
/// requests at once. `Err` says why the simulator is not available. The
/// cross-check is advisory: a failed call is not retried (its backoff would
/// lengthen every run against an endpoint without the simulator).
pub async fn simulate(
    b: &Account,
    role_arn: &str,
    requests: &[(&str, String)],
) -> Result<Vec<Simulated>, String> {
    let iam = b.iam();
    let answers = futures::future::join_all(requests.iter().map(|(action, resource)| {
        iam.simulate_principal_policy()
            .policy_source_arn(role_arn)
            .action_names(*action)
            .resource_arns(resource)
            .customize()
            .config_override(
                aws_sdk_iam::config::Config::builder()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
    }))
    .await;
    let mut out = Vec::new();
    for ((_, resource), res) in requests.iter().zip(answers) {
        match res {
            Ok(r) => {
                for e in r.evaluation_results() {
                    out.push(Simulated {
                        action: e.eval_action_name().to_string(),
                        resource: e.eval_resource_name().unwrap_or(resource).to_string(),
                        decision: e.eval_decision().as_str().to_string(),
                    });
                }
            }
            Err(e) => {
                let f = Failure::from_sdk(&e);
                return Err(format!(
                    "iam:SimulatePrincipalPolicy failed: {}{}",
                    f.code,
                    if f.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", f.message)
                    }
                ));
            }
        }
    }
    Ok(out)
}
