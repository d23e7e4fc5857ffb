//! Live mode: turn the copy flags into a `copy` block, and read AWS into a
//! snapshot. The AWS reads themselves live in `gather/`.

use std::collections::BTreeMap;

use crate::cli::{AwsArgs, CopyArgs, MethodArg};
use crate::diag::{Located, Problems};
use crate::json::Span;
use crate::policy::{CtxValue, ParseOptions, PolicyKind, Source};
use crate::snapshot::model::{CopySpec, Method, PolicyDoc, RawPolicy, S3Location, Snapshot};

/// Why a live run could not read AWS: each is one line, with a hint.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("no AWS region for {what}")]
    Region { what: String },
    #[error("the credentials for {what} are missing or unusable: {cause}")]
    Credentials { what: String, cause: String },
    #[error("cannot reach {endpoint}: {cause}")]
    Unreachable { endpoint: String, cause: String },
    #[error("gave up after {seconds} s (--timeout)")]
    Timeout { seconds: u64 },
    #[error(
        "--profile is {identity} in account {account}, but the copying role {role} is in another account"
    )]
    WrongAccount {
        identity: String,
        account: String,
        role: String,
    },
    #[error("{0}")]
    Aws(String),
}

impl GatherError {
    pub fn exit_code(&self) -> u8 {
        match self {
            GatherError::WrongAccount { .. } => crate::exit::INPUT,
            _ => crate::exit::AWS,
        }
    }
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            GatherError::Region { .. } => {
                "pass --region, or set AWS_REGION or a region in the profile".into()
            }
            GatherError::Credentials { .. } => "check the profile (--profile for B, --source-profile for A): run `aws sts get-caller-identity --profile NAME`, `aws sso login` if the session expired, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
            GatherError::Unreachable { .. } => "check the network, a proxy, or AWS_ENDPOINT_URL; or run `xacct doctor --snapshot FILE` offline".into(),
            GatherError::Timeout { .. } => {
                "raise --timeout, or lower --sample / drop --census".into()
            }
            GatherError::WrongAccount { .. } => {
                "--profile must be account B, the account of --role-arn (the destination)".into()
            }
            GatherError::Aws(_) => return None,
        })
    }
}

/// Build the `copy` block from flags, reporting every bad flag at once.
pub fn copy_spec(a: &CopyArgs) -> Result<CopySpec, Problems> {
    let flags = Source::new("command line", "");
    let mut errors = Vec::new();
    let mut need = |v: &Option<String>, flag: &str| -> Option<String> {
        if v.is_none() {
            errors.push(Located::new(
                &flags,
                Span::default(),
                format!("{flag} is required (or use --snapshot FILE)"),
            ));
        }
        v.clone()
    };
    let source = need(&a.source, "--source");
    let destination = need(&a.destination, "--destination");
    let principal = need(&a.role_arn, "--role-arn");
    let loc = |s: Option<String>, flag: &str, errors: &mut Vec<Located>| -> Option<S3Location> {
        let s = s?;
        let l = S3Location::parse(&s);
        if l.is_none() {
            errors.push(Located::new(
                &flags,
                Span::default(),
                format!("{flag} `{s}` is not s3://bucket[/prefix]"),
            ));
        }
        l
    };
    let source = loc(source, "--source", &mut errors);
    let destination = loc(destination, "--destination", &mut errors);
    if let Some(p) = &principal
        && let Some(why) = crate::snapshot::load::role_arn_problem(p)
    {
        errors.push(Located::new(
            &flags,
            Span::default(),
            format!("--role-arn `{p}` is not an IAM role ARN: {why}"),
        ));
    }
    for (k, flag) in [
        (&a.source_key, "--source-key"),
        (&a.destination_key, "--destination-key"),
    ] {
        if let Some(k) = k
            && !crate::snapshot::load::is_key_arn(k)
        {
            errors.push(Located::new(
                &flags,
                Span::default(),
                format!("{flag} `{k}` is not a KMS key ARN"),
            ));
        }
    }
    let mut request = BTreeMap::new();
    for h in &a.headers {
        match h.split_once('=') {
            Some((n, v)) if !n.is_empty() => {
                request.insert(n.trim().to_ascii_lowercase(), v.to_string());
            }
            _ => errors.push(Located::new(
                &flags,
                Span::default(),
                format!("--header `{h}` is not NAME=VALUE"),
            )),
        }
    }
    let mut context = Vec::new();
    for c in &a.context {
        match c.split_once('=') {
            Some((k, v)) if k.contains(':') => {
                context.push((k.to_string(), CtxValue::Single(v.to_string())))
            }
            _ => errors.push(Located::new(
                &flags,
                Span::default(),
                format!("--context `{c}` is not KEY=VALUE with a key like aws:SourceVpce"),
            )),
        }
    }
    let mut session_policy = None;
    if let Some(path) = &a.session_policy {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let policy = crate::policy::parse_text(
                    &path.display().to_string(),
                    &text,
                    &ParseOptions::new(PolicyKind::Session),
                );
                for d in policy.errors() {
                    errors.push(
                        Located::new(&policy.source, d.span, d.message.clone())
                            .help(d.help.clone()),
                    );
                }
                session_policy = Some(PolicyDoc {
                    policy,
                    raw: RawPolicy::Text(text),
                    pointer: "/copy/session_policy".into(),
                    title: "session policy".into(),
                });
            }
            Err(e) => errors.push(Located::new(
                &flags,
                Span::default(),
                format!("cannot read --session-policy {}: {e}", path.display()),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Problems {
            title: "the copy is not fully described".into(),
            items: errors,
        });
    }
    match (source, destination, principal) {
        (Some(source), Some(destination), Some(principal)) => Ok(CopySpec {
            source,
            destination,
            principal,
            caller: a.caller.clone(),
            source_key: a.source_key.clone(),
            destination_key: a.destination_key.clone(),
            method: match a.method {
                MethodArg::Cli => Method::Cli,
                MethodArg::GetPut => Method::GetPut,
            },
            request,
            session_policy,
            context,
        }),
        _ => Err(Problems {
            title: "the copy is not fully described".into(),
            items: Vec::new(),
        }),
    }
}

/// Read both accounts into a snapshot (the AWS I/O is in `gather/`).
pub fn gather(copy: CopySpec, aws: &AwsArgs) -> Result<Snapshot, GatherError> {
    crate::gather::run(copy, aws)
}
