//! XA008 source-key-shareable: no source object is encrypted with an AWS
//! managed key (`aws/s3`, whose policy cannot grant another account) or SSE-C;
//! `warn` when objects use several KMS keys, or SSE-S3.

use std::collections::BTreeSet;

use super::ctx::{Ctx, Found};
use super::{Finding, Status};

const ID: &str = "XA008";

enum Shareable {
    Yes,
    No(String),
    Unknown(String),
}

fn key_shareable(c: &Ctx<'_>, arn: &str) -> Shareable {
    match c.key(arn) {
        Found::Yes(k) => match k.is_aws_managed() {
            Some(true) => Shareable::No(format!(
                "{arn} is an AWS managed key (aws/s3): its key policy cannot be edited to let another account decrypt"
            )),
            Some(false) => Shareable::Yes,
            None => Shareable::Unknown(format!("whether {arn} is customer managed was not read")),
        },
        // an AWS managed key cannot be deleted; a missing key is XA009's
        Found::Missing(_) => Shareable::Yes,
        Found::Unknown(why) => Shareable::Unknown(format!(
            "cannot tell whether {arn} is an AWS managed key: {why}"
        )),
    }
}

pub fn run(c: &Ctx<'_>) -> Finding {
    let src = &c.s.copy.source;
    let sse_c_copy =
        c.s.copy
            .header("x-amz-copy-source-server-side-encryption-customer-algorithm")
            .is_some();
    let mut fails = Vec::new();
    let mut unknowns = Vec::new();
    let mut warns = Vec::new();
    let mut kms_keys: BTreeSet<String> = BTreeSet::new();
    let mut sse_s3 = Vec::new();

    let census = match c.bucket(&src.bucket) {
        Found::Yes(b) => b.census.as_ref(),
        _ => None,
    };
    let sampled: Vec<_> = c.plan.objects.iter().filter(|o| !o.stand_in).collect();
    for o in &sampled {
        match &o.encryption {
            None => unknowns.push(format!("the encryption of {} was not read", o.key)),
            Some(e) => match e.algorithm.as_str() {
                "SSE-C" if !sse_c_copy => fails.push(format!(
                    "{} is encrypted with SSE-C: the copy must send the customer key (x-amz-copy-source-server-side-encryption-customer-*)",
                    o.key
                )),
                "SSE-C" => {}
                "AES256" => sse_s3.push(o.key.clone()),
                _ => match &e.kms_key {
                    Some(k) => {
                        kms_keys.insert(k.clone());
                    }
                    None => fails.push(format!("{} is SSE-KMS with no key id: the AWS managed key aws/s3", o.key)),
                },
            },
        }
    }
    if let Some(cs) = census {
        for (enc, n) in &cs.by_encryption {
            let (alg, key) = enc.split_once(' ').unwrap_or((enc.as_str(), ""));
            let example = cs
                .examples
                .get(enc)
                .and_then(|v| v.first())
                .map(|k| format!(", e.g. {k}"))
                .unwrap_or_default();
            match alg {
                "SSE-C" if *n > 0 && !sse_c_copy => {
                    fails.push(format!("the census counts {n} SSE-C objects{example}"))
                }
                "AES256" if *n > 0 => sse_s3.push(format!("{n} objects (census){example}")),
                "aws:kms" | "aws:kms:dsse" if *n > 0 => {
                    if key.is_empty() {
                        fails.push(format!("the census counts {n} objects under the AWS managed key aws/s3{example}"));
                    } else {
                        kms_keys.insert(key.to_string());
                    }
                }
                // a HeadObject of the census failed (a fault, a denied read):
                // those objects could use any key, or SSE-C
                a if a.starts_with("unreadable") && *n > 0 => unknowns.push(format!(
                    "the census could not read the encryption of {n} objects ({enc}){example}"
                )),
                _ => {}
            }
        }
    }
    if sampled.is_empty() && census.is_none() {
        // nothing sampled: judge the key the copy expects, or the bucket default
        match c.plan.objects.first().and_then(|o| o.encryption.as_ref()) {
            Some(e) if e.is_kms() => match &e.kms_key {
                Some(k) => {
                    kms_keys.insert(k.clone());
                }
                None => fails.push(format!(
                    "{}'s default encryption uses the AWS managed key aws/s3",
                    src.bucket
                )),
            },
            Some(e) if e.algorithm == "AES256" => {
                sse_s3.push("the bucket's default encryption".into())
            }
            Some(_) => {}
            None if c.plan.objects_known => {}
            None => unknowns.push(format!(
                "no object of {src} was sampled and its default encryption was not read"
            )),
        }
    }
    for k in &kms_keys {
        // the objects under the key: sampled, else the census's examples
        let mut objs: Vec<&str> = sampled
            .iter()
            .filter(|o| {
                o.encryption.as_ref().and_then(|e| e.kms_key.as_deref()) == Some(k.as_str())
            })
            .map(|o| o.key.as_str())
            .take(3)
            .collect();
        if objs.is_empty()
            && let Some(cs) = census
        {
            objs = cs
                .by_encryption
                .keys()
                .filter(|enc| enc.split_once(' ').map(|(_, key)| key) == Some(k.as_str()))
                .filter_map(|enc| cs.examples.get(enc))
                .flatten()
                .map(String::as_str)
                .take(3)
                .collect();
        }
        let with_objects = |why: String| {
            if objs.is_empty() {
                why
            } else {
                format!("{why} (objects: {})", objs.join(", "))
            }
        };
        match key_shareable(c, k) {
            Shareable::Yes => {}
            Shareable::No(why) => fails.push(with_objects(why)),
            Shareable::Unknown(why) => unknowns.push(with_objects(why)),
        }
    }
    if kms_keys.len() > 1 {
        warns.push(format!(
            "objects use {} different KMS keys ({}): every one must let the role decrypt",
            kms_keys.len(),
            kms_keys.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !sse_s3.is_empty() {
        warns.push(format!(
            "some objects are SSE-S3 (AES256), not SSE-KMS: {}",
            sse_s3.join(", ")
        ));
    }
    let mut f = if let Some(first) = fails.first() {
        let mut f = Finding::new(ID, Status::Fail, first.clone());
        f.fix = Some(super::Fix {
            summary: format!(
                "re-encrypt the objects in account A with a customer managed key the role may use, e.g. aws s3 cp {src} {src} --recursive --sse aws:kms --sse-kms-key-id KEY-ARN; or have A push the data"
            ),
            account: c.plan.a.clone(),
            document: format!("objects of {}", src.bucket),
            statement: None,
            command: Some(format!(
                "aws s3 cp {src} {src} --recursive --sse aws:kms --sse-kms-key-id arn:aws:kms:REGION:{}:key/KEY-ID",
                c.plan.a.as_deref().unwrap_or("ACCOUNT-A")
            )),
        });
        f.details.extend(fails.iter().skip(1).cloned());
        f
    } else if let Some(first) = unknowns.first() {
        Finding::new(ID, Status::Unknown, first.clone())
    } else if !warns.is_empty() {
        Finding::new(ID, Status::Warn, warns.join("; "))
    } else if kms_keys.is_empty() {
        Finding::new(
            ID,
            Status::Pass,
            format!("no sampled object of {src} is SSE-KMS encrypted"),
        )
    } else {
        Finding::new(
            ID,
            Status::Pass,
            format!(
                "the source objects use the customer managed key {}",
                kms_keys.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    };
    if f.status == Status::Fail || f.status == Status::Unknown {
        f.details.extend(
            unknowns
                .iter()
                .skip(usize::from(f.status == Status::Unknown))
                .cloned(),
        );
        f.details.extend(warns);
    }
    f
}
