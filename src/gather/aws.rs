//! Reaching AWS: one SDK configuration per account (the standard chain:
//! environment, profiles, SSO, `AWS_ENDPOINT_URL`), the identity check that
//! turns unusable credentials into a one-line cause, the role session for the
//! probes, and per-region clients.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::{RetryConfig, RetryMode};
use aws_smithy_types::timeout::TimeoutConfig;

use super::fail::{Failure, Kind, is_credential_code};
use crate::live::GatherError;

/// Set to a file path, every operation the SDK sends is appended to it as
/// `service:Operation` (tests use it to prove the doctor only reads).
pub const OPERATION_LOG_ENV: &str = "XACCT_OPERATION_LOG";

/// Which account a configuration reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
    Role,
}

impl Side {
    fn what(self) -> &'static str {
        match self {
            Side::A => "account A (--source-profile)",
            Side::B => "account B (--profile)",
            Side::Role => "the copying role",
        }
    }
}

/// A configured account: its SDK configuration and who it is.
#[derive(Clone)]
pub struct Account {
    pub side: Side,
    pub config: SdkConfig,
    pub account: String,
    pub arn: String,
    log: Option<OperationLog>,
}

#[derive(Debug, Clone)]
struct OperationLog {
    path: Arc<std::path::PathBuf>,
    lock: Arc<Mutex<()>>,
}

impl OperationLog {
    fn from_env() -> Option<OperationLog> {
        let p = std::env::var_os(OPERATION_LOG_ENV).filter(|v| !v.is_empty())?;
        Some(OperationLog {
            path: Arc::new(p.into()),
            lock: Arc::new(Mutex::new(())),
        })
    }
}

impl Intercept for OperationLog {
    fn name(&self) -> &'static str {
        "xacct-operation-log"
    }
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use std::io::Write;
        if let Some(m) = cfg.load::<Metadata>() {
            let _guard = self
                .lock
                .lock()
                .map_err(|_| "operation log lock poisoned")?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path.as_ref())?;
            writeln!(f, "{}:{}", m.service(), m.name())?;
        }
        Ok(())
    }
}

fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Load one account's configuration; fails when no region can be found.
pub async fn load(
    side: Side,
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<SdkConfig, GatherError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(GatherError::Region {
            what: side.what().into(),
        });
    }
    Ok(adaptive_retry(config))
}

/// Retry in adaptive mode: after a throttling answer (S3 `SlowDown`, KMS
/// `ThrottlingException`, IAM `Throttling`) the client also slows its own
/// request rate. The attempt count configured (`AWS_MAX_ATTEMPTS`,
/// `max_attempts`) stands; an explicit `AWS_RETRY_MODE` wins.
fn adaptive_retry(config: SdkConfig) -> SdkConfig {
    if std::env::var_os("AWS_RETRY_MODE").is_some_and(|v| !v.is_empty()) {
        return config;
    }
    let retry = config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::standard)
        .with_retry_mode(RetryMode::Adaptive);
    config.to_builder().retry_config(retry).build()
}

/// Check the credentials (loadable, and accepted by STS) and learn the account.
pub async fn connect(side: Side, config: SdkConfig) -> Result<Account, GatherError> {
    let Some(provider) = config.credentials_provider() else {
        return Err(GatherError::Credentials {
            what: side.what().into(),
            cause: "no credentials provider is configured".into(),
        });
    };
    if let Err(e) = provider.provide_credentials().await {
        return Err(GatherError::Credentials {
            what: side.what().into(),
            cause: one_line(&aws_smithy_types::error::display::DisplayErrorContext(&e).to_string()),
        });
    }
    let log = OperationLog::from_env();
    let mut account = Account {
        side,
        config,
        account: String::new(),
        arn: String::new(),
        log,
    };
    let sts = account.sts();
    match sts.get_caller_identity().send().await {
        Ok(out) => {
            account.account = out.account().unwrap_or_default().to_string();
            account.arn = out.arn().unwrap_or_default().to_string();
            Ok(account)
        }
        Err(e) => Err(fatal(side, &Failure::from_sdk(&e), &account.config)),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first call failed: say why the run cannot go on.
fn fatal(side: Side, f: &Failure, config: &SdkConfig) -> GatherError {
    let endpoint = config
        .endpoint_url()
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "AWS STS in {}",
                config.region().map(|r| r.as_ref()).unwrap_or("?")
            )
        });
    match f.kind {
        Kind::Network | Kind::Timeout => GatherError::Unreachable {
            endpoint,
            cause: f.message.clone(),
        },
        Kind::Client => GatherError::Credentials {
            what: side.what().into(),
            cause: f.message.clone(),
        },
        Kind::Service if is_credential_code(&f.code) || f.status == Some(403) => {
            GatherError::Credentials {
                what: side.what().into(),
                cause: format!("{}: {}", f.code, f.message),
            }
        }
        Kind::Service => GatherError::Aws(format!(
            "sts:GetCallerIdentity for {} failed: {}: {}",
            side.what(),
            f.code,
            f.message
        )),
    }
}

/// The role session the probes run as.
pub enum RoleSession {
    Ready(Box<Account>),
    /// Why the doctor could not act as the role (a note, not a probe: the
    /// identity running xacct need not be the one that runs the copy).
    Unavailable(String),
}

/// The role's name from its ARN (the path dropped).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Act as the role: B's identity when it already is a session of the role,
/// otherwise an STS AssumeRole with session name `xacct-doctor` (and the
/// copy's session policy, so that the probes meet the same limits).
pub async fn role_session(
    b: &Account,
    role_arn: &str,
    session_policy: Option<&str>,
) -> RoleSession {
    let name = role_name(role_arn);
    let role_acct = crate::snapshot::load::role_account(role_arn).unwrap_or("");
    let is_role = b.account == role_acct
        && b.arn
            .strip_prefix(&format!("arn:aws:sts::{}:assumed-role/", b.account))
            .and_then(|rest| rest.split('/').next())
            == Some(name);
    if is_role {
        let mut me = b.clone();
        me.side = Side::Role;
        return RoleSession::Ready(Box::new(me));
    }
    let out = match b
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("xacct-doctor")
        .set_policy(session_policy.map(str::to_string))
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let f = Failure::from_sdk(&e);
            return RoleSession::Unavailable(format!(
                "no probes were made: {} could not assume {role_arn} (sts:AssumeRole failed: {}{}); run xacct as an identity the role trusts to probe",
                b.arn,
                f.code,
                if f.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.message)
                }
            ));
        }
    };
    let (Some(c), Some(user)) = (out.credentials(), out.assumed_role_user()) else {
        return RoleSession::Unavailable(
            "no probes were made: sts:AssumeRole returned no credentials".into(),
        );
    };
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        std::time::SystemTime::try_from(*c.expiration()).ok(),
        "xacct-assume-role",
    );
    let config = b
        .config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build();
    RoleSession::Ready(Box::new(Account {
        side: Side::Role,
        config,
        account: role_acct.to_string(),
        arn: user.arn().to_string(),
        log: b.log.clone(),
    }))
}

impl Account {
    pub fn region(&self) -> &str {
        self.config
            .region()
            .map(|r| r.as_ref())
            .unwrap_or("us-east-1")
    }
    fn local_endpoint(&self) -> bool {
        self.config.endpoint_url().is_some()
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::config::Builder::from(&self.config);
        if let Some(l) = &self.log {
            b = b.interceptor(l.clone());
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let mut b = aws_sdk_iam::config::Builder::from(&self.config);
        if let Some(l) = &self.log {
            b = b.interceptor(l.clone());
        }
        aws_sdk_iam::Client::from_conf(b.build())
    }
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let mut b = aws_sdk_organizations::config::Builder::from(&self.config);
        if let Some(l) = &self.log {
            b = b.interceptor(l.clone());
        }
        aws_sdk_organizations::Client::from_conf(b.build())
    }
    /// S3 in a bucket's region (path-style against a local endpoint).
    pub fn s3(&self, region: Option<&str>) -> aws_sdk_s3::Client {
        let mut b = aws_sdk_s3::config::Builder::from(&self.config);
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        if self.local_endpoint() {
            b = b.force_path_style(true);
        }
        if let Some(l) = &self.log {
            b = b.interceptor(l.clone());
        }
        aws_sdk_s3::Client::from_conf(b.build())
    }
    /// KMS in a key's region.
    pub fn kms(&self, region: Option<&str>) -> aws_sdk_kms::Client {
        let mut b = aws_sdk_kms::config::Builder::from(&self.config);
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        if let Some(l) = &self.log {
            b = b.interceptor(l.clone());
        }
        aws_sdk_kms::Client::from_conf(b.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: &str, kind: Kind, status: Option<u16>) -> Failure {
        Failure {
            code: code.into(),
            message: "m".into(),
            status,
            bucket_region: None,
            kind,
        }
    }

    #[test]
    fn the_first_call_tells_why_aws_cannot_be_used() {
        let cfg = SdkConfig::builder()
            .region(Region::new("us-west-2"))
            .build();
        let unreachable = fatal(Side::B, &failure("NetworkError", Kind::Network, None), &cfg);
        assert!(matches!(unreachable, GatherError::Unreachable { .. }));
        assert!(unreachable.to_string().contains("AWS STS in us-west-2"));
        let expired = fatal(
            Side::A,
            &failure("ExpiredToken", Kind::Service, Some(403)),
            &cfg,
        );
        assert!(matches!(expired, GatherError::Credentials { .. }));
        assert!(expired.to_string().contains("account A (--source-profile)"));
        assert_eq!(expired.exit_code(), crate::exit::AWS);
        assert!(expired.hint().is_some());
        let no_creds = fatal(Side::B, &failure("ClientError", Kind::Client, None), &cfg);
        assert!(matches!(no_creds, GatherError::Credentials { .. }));
    }

    #[test]
    fn role_names_drop_the_path() {
        assert_eq!(
            role_name("arn:aws:iam::222222222222:role/team/Copy"),
            "Copy"
        );
    }
}
