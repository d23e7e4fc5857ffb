//! XA009 keys-healthy: SK and DK exist, are `Enabled`, are symmetric
//! `ENCRYPT_DECRYPT` keys, and are in the same region as their bucket.

use super::ctx::{Ctx, Found};
use super::plan::DestKey;
use super::{Finding, Fix, Status};

const ID: &str = "XA009";

fn region(arn: &str) -> &str {
    crate::arn::region(arn).unwrap_or("")
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let mut keys: Vec<(String, &str, Option<&str>)> = c
        .plan
        .source_keys
        .iter()
        .map(|k| (k.clone(), "source", c.plan.src_region.as_deref()))
        .collect();
    let mut unknowns = Vec::new();
    match &c.plan.dest_key {
        DestKey::Key(k) => keys.push((k.clone(), "destination", c.plan.dst_region.as_deref())),
        DestKey::Unknown(_) if c.destination_missing() => {}
        DestKey::Unknown(why) => unknowns.push(format!(
            "cannot tell which key encrypts the destination: {why}"
        )),
        DestKey::Unresolved(id) => unknowns.push(format!(
            "the destination key `{id}` matches no key that was read"
        )),
        DestKey::AwsManaged | DestKey::NoKms(_) => {}
    }
    if c.plan.source_keys.is_empty() && c.plan.objects.iter().any(|o| o.encryption.is_none()) {
        unknowns.push("the source objects' encryption was not read".into());
    }
    let mut fails: Vec<(String, Option<Fix>)> = Vec::new();
    for (arn, side, bucket_region) in &keys {
        if let Some(br) = bucket_region
            && region(arn) != *br
        {
            fails.push((
                format!("the {side} key {arn} is in {}, but its bucket is in {br}: S3 can only use a key in the bucket's region", region(arn)),
                None,
            ));
        }
        match c.key(arn) {
            Found::Missing(u) => fails.push((
                format!("the {side} key {arn} does not exist ({})", u.describe()),
                None,
            )),
            Found::Unknown(why) => unknowns.push(format!("the {side} key: {why}")),
            Found::Yes(k) => {
                match k.state.as_deref() {
                    Some("Enabled") => {}
                    Some(state) => {
                        let cmd = match state {
                            "Disabled" => Some(format!("aws kms enable-key --key-id {arn}")),
                            "PendingDeletion" => Some(format!(
                                "aws kms cancel-key-deletion --key-id {arn} && aws kms enable-key --key-id {arn}"
                            )),
                            _ => None,
                        };
                        fails.push((
                            format!(
                                "the {side} key {arn} is {state}, not Enabled: S3 cannot use it"
                            ),
                            cmd.map(|command| Fix {
                                summary: format!("make the {side} key usable again"),
                                account: crate::arn::account(arn).map(str::to_string),
                                document: format!("key {arn}"),
                                statement: None,
                                command: Some(command),
                            }),
                        ));
                    }
                    None => {
                        unknowns.push(format!("the state of the {side} key {arn} was not read"))
                    }
                }
                match k.spec.as_deref() {
                    Some("SYMMETRIC_DEFAULT") | None => {}
                    Some(spec) => fails.push((format!("the {side} key {arn} is a {spec} key: S3 only uses symmetric encryption keys (SYMMETRIC_DEFAULT)"), None)),
                }
                match k.usage.as_deref() {
                    Some("ENCRYPT_DECRYPT") | None => {}
                    Some(u) => fails.push((
                        format!("the {side} key {arn} has usage {u}: S3 needs ENCRYPT_DECRYPT"),
                        None,
                    )),
                }
                if k.spec.is_none() && k.usage.is_none() && k.state.is_some() {
                    unknowns.push(format!("the key spec and usage of {arn} were not read"));
                }
            }
        }
    }
    if let Some((msg, fix)) = fails.first().cloned() {
        let mut f = Finding::new(ID, Status::Fail, msg).with_fix(fix);
        f.details
            .extend(fails.iter().skip(1).map(|(m, _)| m.clone()));
        return f;
    }
    if let Some(u) = unknowns.first() {
        let mut f = Finding::new(ID, Status::Unknown, u.clone());
        f.details.extend(unknowns.iter().skip(1).cloned());
        return f;
    }
    if keys.is_empty() {
        return Finding::new(ID, Status::Pass, "the copy uses no KMS key");
    }
    let names: Vec<String> = keys
        .iter()
        .map(|(k, side, _)| format!("{side} {k}"))
        .collect();
    Finding::new(
        ID,
        Status::Pass,
        format!(
            "enabled symmetric keys in their buckets' regions: {}",
            names.join("; ")
        ),
    )
}
