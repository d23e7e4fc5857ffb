//! KMS: a key as its owner reads it (DescribeKey, GetKeyPolicy, ListGrants,
//! ListAliases), keyed by its full ARN.

use super::aws::Account;
use super::docs;
use super::fail::Failure;
use crate::snapshot::load::is_key_arn;
use crate::snapshot::model::{Field, GrantConstraints, GrantDoc, Key};

/// A key id as the copy or a bucket names it: its region and account when
/// it is an ARN.
pub fn arn_parts(id: &str) -> Option<(&str, &str)> {
    if !is_key_arn(id) {
        return None;
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    Some((parts[3], parts[4]))
}

/// Read one key. `id` may be a key ARN, a key id or an alias (name or ARN):
/// the result is keyed by the key's ARN. `Err` holds a note when the key
/// cannot even be named by ARN.
pub async fn read_key(
    owner: &Account,
    id: &str,
    default_region: &str,
) -> Result<(String, Field<Key>, Vec<String>), String> {
    let region = arn_parts(id)
        .map(|(r, _)| r.to_string())
        .or_else(|| {
            id.starts_with("arn:aws:kms:")
                .then(|| id.split(':').nth(3).map(str::to_string))
                .flatten()
        })
        .unwrap_or_else(|| default_region.to_string());
    let kms = owner.kms(Some(&region));
    // Named by its ARN, the key's policy, grants and aliases are read beside
    // DescribeKey; otherwise they wait for the ARN it returns.
    let describe = async {
        match kms.describe_key().key_id(id).send().await {
            Ok(out) => Ok(out.key_metadata().cloned()),
            Err(e) => Err(Failure::from_sdk(&e)),
        }
    };
    let (described, early) = if is_key_arn(id) {
        let (d, details) = tokio::join!(describe, details(owner, &kms, id));
        (d, Some(details))
    } else {
        (describe.await, None)
    };
    let meta = match described {
        Ok(Some(m)) => m,
        Ok(None) => {
            return Err(format!("kms:DescribeKey on {id} returned no key metadata"));
        }
        Err(f) => {
            let arn = if is_key_arn(id) {
                id.to_string()
            } else if !id.contains('/') && !id.contains(':') {
                format!("arn:aws:kms:{region}:{}:key/{id}", owner.account)
            } else {
                return Err(format!(
                    "the key {id} could not be read (kms:DescribeKey failed: {}{})",
                    f.code,
                    if f.message.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", f.message)
                    }
                ));
            };
            return Ok((
                arn,
                Field::Unreadable(f.marker("kms:DescribeKey")),
                Vec::new(),
            ));
        }
    };
    let Some(arn) = meta.arn().map(str::to_string) else {
        return Err(format!("kms:DescribeKey on {id} returned no key ARN"));
    };
    let (policy, grants, aliases) = match early {
        Some(d) if arn == id => d,
        _ => details(owner, &kms, &arn).await,
    };
    let mut notes = Vec::new();
    // aliases only name the key (an AWS managed key is still told by its manager)
    let aliases = aliases.unwrap_or_else(|f| {
        notes.push(format!(
            "the aliases of {arn} were not read (kms:ListAliases failed: {})",
            f.code
        ));
        Vec::new()
    });
    let key = Key {
        pointer: docs::key_ptr(&owner.account, &arn),
        arn: arn.clone(),
        aliases,
        manager: meta.key_manager().map(|m| m.as_str().to_string()),
        state: meta.key_state().map(|s| s.as_str().to_string()),
        spec: meta.key_spec().map(|s| s.as_str().to_string()),
        usage: meta.key_usage().map(|u| u.as_str().to_string()),
        policy,
        grants,
    };
    Ok((arn, Field::Value(key), notes))
}

type Details = (
    Field<Option<crate::snapshot::model::PolicyDoc>>,
    Field<Vec<GrantDoc>>,
    Result<Vec<String>, Failure>,
);

/// A key's policy, grants and aliases, read at once.
async fn details(owner: &Account, kms: &aws_sdk_kms::Client, arn: &str) -> Details {
    let policy = async {
        match kms
            .get_key_policy()
            .key_id(arn)
            .policy_name("default")
            .send()
            .await
        {
            Ok(out) => Field::Value(
                out.policy()
                    .map(|p| docs::key_policy(&owner.account, arn, p.to_string())),
            ),
            Err(e) => Field::Unreadable(Failure::from_sdk(&e).marker("kms:GetKeyPolicy")),
        }
    };
    let grants = async {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let res = kms
                .list_grants()
                .key_id(arn)
                .set_marker(marker.clone())
                .send()
                .await;
            let page = match res {
                Ok(p) => p,
                Err(e) => {
                    return Field::Unreadable(Failure::from_sdk(&e).marker("kms:ListGrants"));
                }
            };
            for g in page.grants() {
                let constraints = g.constraints().map(|c| GrantConstraints {
                    encryption_context_subset: c
                        .encryption_context_subset()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                    encryption_context_equals: c
                        .encryption_context_equals()
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                });
                out.push(GrantDoc {
                    grantee: g
                        .grantee_principal()
                        .or(g.grantee_service_principal())
                        .unwrap_or_default()
                        .to_string(),
                    operations: g
                        .operations()
                        .iter()
                        .map(|o| o.as_str().to_string())
                        .collect(),
                    constraints: constraints.filter(|c| {
                        c.encryption_context_subset.is_some()
                            || c.encryption_context_equals.is_some()
                    }),
                });
            }
            marker = page.next_marker().map(str::to_string);
            if !page.truncated() || marker.is_none() {
                break;
            }
        }
        Field::Value(out)
    };
    let aliases = async {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let res = kms
                .list_aliases()
                .key_id(arn)
                .set_marker(marker.clone())
                .send()
                .await;
            let page = match res {
                Ok(p) => p,
                Err(e) => return Err(Failure::from_sdk(&e)),
            };
            out.extend(
                page.aliases()
                    .iter()
                    .filter_map(|a| a.alias_name().map(str::to_string)),
            );
            marker = page.next_marker().map(str::to_string);
            if !page.truncated() || marker.is_none() {
                break;
            }
        }
        out.sort();
        Ok(out)
    };
    tokio::join!(policy, grants, aliases)
}
