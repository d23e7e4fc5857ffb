//! Who makes a request, and whether a policy's `Principal` names them.

use super::matching::same;
use super::model::{PrincipalBlock, PrincipalEntry, PrincipalType};

/// The principal of a request, parsed from what the user gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `arn:aws:iam::ID:root` or a bare account id.
    Root {
        account: String,
    },
    User {
        account: String,
        arn: String,
        name: String,
    },
    /// A role, standing for any session of it (the doctor knows the role, not the
    /// session name the copy will use).
    Role {
        account: String,
        arn: String,
        name: String,
    },
    Session {
        account: String,
        arn: String,
        role: String,
        session: String,
    },
    FederatedUser {
        account: String,
        arn: String,
    },
    Service {
        name: String,
    },
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a principal: expected an IAM user, role, assumed-role session or account root ARN, a service principal such as `s3.amazonaws.com`, or `anonymous`"
)]
pub struct BadPrincipal(pub String);

impl Principal {
    pub fn parse(s: &str) -> Result<Principal, BadPrincipal> {
        let bad = || BadPrincipal(s.to_string());
        if s == "anonymous" || s == "*" {
            return Ok(Principal::Anonymous);
        }
        if is_account_id(s) {
            return Ok(Principal::Root {
                account: s.to_string(),
            });
        }
        if !s.starts_with("arn:") {
            if s.ends_with(".amazonaws.com") || s.ends_with(".amazonaws.com.cn") {
                return Ok(Principal::Service {
                    name: s.to_string(),
                });
            }
            return Err(bad());
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || !is_account_id(parts[4]) {
            return Err(bad());
        }
        let (service, account, res) = (parts[2], parts[4].to_string(), parts[5]);
        match service {
            "iam" => {
                if res == "root" {
                    Ok(Principal::Root { account })
                } else if let Some(r) = res.strip_prefix("user/") {
                    let name = r.rsplit('/').next().unwrap_or(r).to_string();
                    Ok(Principal::User {
                        account,
                        arn: s.to_string(),
                        name,
                    })
                } else if let Some(r) = res.strip_prefix("role/") {
                    let name = r.rsplit('/').next().unwrap_or(r).to_string();
                    if name.is_empty() {
                        return Err(bad());
                    }
                    Ok(Principal::Role {
                        account,
                        arn: s.to_string(),
                        name,
                    })
                } else {
                    Err(bad())
                }
            }
            "sts" => {
                if let Some(r) = res.strip_prefix("assumed-role/") {
                    let (role, session) = r.split_once('/').ok_or_else(bad)?;
                    Ok(Principal::Session {
                        account,
                        arn: s.to_string(),
                        role: role.to_string(),
                        session: session.to_string(),
                    })
                } else if res.starts_with("federated-user/") {
                    Ok(Principal::FederatedUser {
                        account,
                        arn: s.to_string(),
                    })
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Root { account }
            | Principal::User { account, .. }
            | Principal::Role { account, .. }
            | Principal::Session { account, .. }
            | Principal::FederatedUser { account, .. } => Some(account),
            Principal::Service { .. } | Principal::Anonymous => None,
        }
    }

    /// The value of `aws:PrincipalArn`.
    pub fn principal_arn(&self) -> Option<String> {
        match self {
            Principal::Root { account } => Some(format!("arn:aws:iam::{account}:root")),
            Principal::User { arn, .. }
            | Principal::Role { arn, .. }
            | Principal::FederatedUser { arn, .. } => Some(arn.clone()),
            Principal::Session { account, role, .. } => {
                Some(format!("arn:aws:iam::{account}:role/{role}"))
            }
            Principal::Service { .. } | Principal::Anonymous => None,
        }
    }

    /// The value of `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::Root { .. } => "Account",
            Principal::User { .. } => "User",
            Principal::Role { .. } | Principal::Session { .. } => "AssumedRole",
            Principal::FederatedUser { .. } => "FederatedUser",
            Principal::Service { .. } => "Service",
            Principal::Anonymous => "Anonymous",
        }
    }

    /// Principals that have identity policies (and so SCPs, boundaries...).
    pub fn has_identity(&self) -> bool {
        !matches!(self, Principal::Service { .. } | Principal::Anonymous)
    }

    pub fn is_service(&self) -> bool {
        matches!(self, Principal::Service { .. })
    }

    /// A readable form for messages.
    pub fn display(&self) -> String {
        match self {
            Principal::Root { account } => format!("arn:aws:iam::{account}:root"),
            Principal::User { arn, .. }
            | Principal::Role { arn, .. }
            | Principal::Session { arn, .. }
            | Principal::FederatedUser { arn, .. } => arn.clone(),
            Principal::Service { name } => name.clone(),
            Principal::Anonymous => "anonymous".into(),
        }
    }
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// How a policy's principal entry matched the request's principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalMatch {
    No,
    /// `"*"` (everyone).
    Wildcard,
    /// The principal's account (`ID` or `arn:aws:iam::ID:root`).
    Account,
    /// The role ARN (matches every session of the role).
    Role,
    /// The exact IAM user ARN or assumed-role session ARN.
    Exact,
    /// A service principal by name.
    Service,
}

impl PrincipalMatch {
    pub fn matched(self) -> bool {
        self != PrincipalMatch::No
    }
}

/// Match one `Principal` entry value.
pub fn match_entry(entry: &PrincipalEntry, p: &Principal) -> PrincipalMatch {
    let v = entry.value.as_str();
    match entry.kind {
        PrincipalType::Aws => match_aws(v, &entry.aws, p),
        PrincipalType::Service => match p {
            Principal::Service { name } if name.eq_ignore_ascii_case(v) => PrincipalMatch::Service,
            _ if v == "*" => PrincipalMatch::Wildcard,
            _ => PrincipalMatch::No,
        },
        PrincipalType::Federated => match p {
            Principal::FederatedUser { arn, .. } if arn == v => PrincipalMatch::Exact,
            _ => PrincipalMatch::No,
        },
        PrincipalType::CanonicalUser => PrincipalMatch::No,
    }
}

/// What an `AWS` principal value names, read once when the policy is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsName {
    /// `*`
    Any,
    /// `111122223333` or `arn:aws:iam::111122223333:root`: the account.
    Account(String),
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`, with the name alone.
    Role { account: String, name: String },
    /// `arn:aws:iam::ACCOUNT:user/...`
    User { account: String },
    /// `arn:aws:sts::ACCOUNT:...` (a session or federated user).
    Sts { account: String },
    /// Anything else (unique ids left by deleted principals, other services,
    /// malformed values): it matches nobody.
    Other,
}

impl AwsName {
    pub fn read(v: &str) -> AwsName {
        if v == "*" {
            return AwsName::Any;
        }
        if is_account_id(v) {
            return AwsName::Account(v.to_string());
        }
        let Some(arn) = crate::arn::Arn::parse(v) else {
            return AwsName::Other;
        };
        let account = arn.account.to_string();
        let res = arn.resource;
        match arn.service {
            "iam" if res == "root" => AwsName::Account(account),
            "iam" => {
                if let Some(role_path) = res.strip_prefix("role/") {
                    let name = role_path.rsplit('/').next().unwrap_or(role_path);
                    AwsName::Role {
                        account,
                        name: name.to_string(),
                    }
                } else if res.starts_with("user/") {
                    AwsName::User { account }
                } else {
                    AwsName::Other
                }
            }
            "sts" => AwsName::Sts { account },
            _ => AwsName::Other,
        }
    }
}

fn match_aws(v: &str, name: &AwsName, p: &Principal) -> PrincipalMatch {
    if *name == AwsName::Any {
        return PrincipalMatch::Wildcard;
    }
    let Some(account) = p.account() else {
        return PrincipalMatch::No;
    };
    match name {
        AwsName::Any => PrincipalMatch::Wildcard,
        AwsName::Account(a) if same(a, account) => PrincipalMatch::Account,
        AwsName::Role { account: a, name } if same(a, account) => match p {
            Principal::Role { arn, .. } if same(arn, v) => PrincipalMatch::Role,
            // a session ARN carries the role name but not its path
            Principal::Session { role, .. } if same(role, name) => PrincipalMatch::Role,
            _ => PrincipalMatch::No,
        },
        AwsName::User { account: a } if same(a, account) => match p {
            Principal::User { arn, .. } if same(arn, v) => PrincipalMatch::Exact,
            _ => PrincipalMatch::No,
        },
        AwsName::Sts { account: a } if same(a, account) => match p {
            Principal::Session { arn, .. } | Principal::FederatedUser { arn, .. }
                if same(arn, v) =>
            {
                PrincipalMatch::Exact
            }
            _ => PrincipalMatch::No,
        },
        _ => PrincipalMatch::No,
    }
}

/// How a whole `Principal` / `NotPrincipal` block applies to the request.
/// `account_is_root`: in gateway VPC endpoint policies an account id names
/// the account's root user only.
pub fn match_block(block: &PrincipalBlock, p: &Principal, account_is_root: bool) -> PrincipalMatch {
    if block.negated {
        return if not_principal_excludes(block, p) {
            PrincipalMatch::No
        } else {
            PrincipalMatch::Wildcard
        };
    }
    if block.any {
        return PrincipalMatch::Wildcard;
    }
    block
        .entries
        .iter()
        .map(|e| match match_entry(e, p) {
            PrincipalMatch::Account if account_is_root && !matches!(p, Principal::Root { .. }) => {
                PrincipalMatch::No
            }
            m => m,
        })
        .max()
        .unwrap_or(PrincipalMatch::No)
}

/// `NotPrincipal` spares a principal only when every identity AWS checks for
/// it is listed: the account, then the role, then the session (or the account
/// and the user). Listing only the role leaves its sessions denied.
pub fn not_principal_excludes(block: &PrincipalBlock, p: &Principal) -> bool {
    if block.any {
        return true;
    }
    let listed = |pred: &dyn Fn(&PrincipalEntry) -> bool| block.entries.iter().any(pred);
    let aws = |e: &PrincipalEntry| e.kind == PrincipalType::Aws;
    let account_listed = |acct: &str| {
        listed(&|e| aws(e) && (e.value == acct || e.value == format!("arn:aws:iam::{acct}:root")))
    };
    match p {
        Principal::Root { account } => account_listed(account),
        Principal::User { account, arn, .. } | Principal::FederatedUser { account, arn } => {
            account_listed(account) && listed(&|e| aws(e) && e.value == *arn)
        }
        Principal::Session {
            account, role, arn, ..
        } => {
            account_listed(account)
                && listed(&|e| {
                    aws(e)
                        && e.value
                            .starts_with(&format!("arn:aws:iam::{account}:role/"))
                        && e.value.rsplit('/').next() == Some(role.as_str())
                })
                && listed(&|e| aws(e) && e.value == *arn)
        }
        // the session the copy will use is not known: it cannot be listed
        Principal::Role { .. } => false,
        Principal::Service { name } => {
            listed(&|e| e.kind == PrincipalType::Service && e.value.eq_ignore_ascii_case(name))
        }
        Principal::Anonymous => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Span;

    fn entry(v: &str) -> PrincipalEntry {
        PrincipalEntry::new(PrincipalType::Aws, v.into(), Span::default())
    }

    #[test]
    fn role_matches_its_sessions_ignoring_path() {
        let s = Principal::parse("arn:aws:sts::222222222222:assumed-role/Copy/xacct").unwrap();
        assert_eq!(
            match_entry(&entry("arn:aws:iam::222222222222:role/data/Copy"), &s),
            PrincipalMatch::Role
        );
        assert_eq!(
            match_entry(&entry("222222222222"), &s),
            PrincipalMatch::Account
        );
        assert_eq!(
            match_entry(&entry("arn:aws:iam::222222222222:root"), &s),
            PrincipalMatch::Account
        );
        assert_eq!(
            match_entry(
                &entry("arn:aws:sts::222222222222:assumed-role/Copy/xacct"),
                &s
            ),
            PrincipalMatch::Exact
        );
        assert_eq!(
            match_entry(
                &entry("arn:aws:sts::222222222222:assumed-role/Copy/other"),
                &s
            ),
            PrincipalMatch::No
        );
        assert_eq!(match_entry(&entry("AROAEXAMPLEID"), &s), PrincipalMatch::No);
        assert_eq!(match_entry(&entry("111111111111"), &s), PrincipalMatch::No);
    }

    #[test]
    fn parses_principals() {
        assert_eq!(
            Principal::parse("arn:aws:iam::222222222222:role/a/b/R")
                .unwrap()
                .principal_arn(),
            Some("arn:aws:iam::222222222222:role/a/b/R".into())
        );
        assert!(Principal::parse("arn:aws:iam:::role/R").is_err());
        assert!(matches!(
            Principal::parse("s3.amazonaws.com").unwrap(),
            Principal::Service { .. }
        ));
    }
}
