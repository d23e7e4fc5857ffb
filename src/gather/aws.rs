//! Reaching AWS: one SDK configuration per account (the standard chain:
//! environment, profiles, SSO, `AWS_ENDPOINT_URL`), the identity check that
//! turns unusable credentials into a one-line cause, the role session for the
//! probes, and per-region clients. Every client carries the guard (only the
//! operations of `operations.rs`, writes only with `--probe-writes`, each
//! logged when `XACCT_OPERATION_LOG` is set) and the run's time budget.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

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
/// `service:Operation<TAB>identity` (`A`, `B` or `role`); tests use it to
/// prove the doctor only reads, and what each identity needs.
pub const OPERATION_LOG_ENV: &str = "XACCT_OPERATION_LOG";

/// Which account a configuration reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
    Role,
}

impl Side {
    /// How the operation log and the registry name the identity.
    pub fn label(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
            Side::Role => "role",
        }
    }
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
    budget: Budget,
    /// `--probe-writes`: this identity may send the write probe.
    writes: bool,
}

/// The run's time budget (`--timeout`). Each request gets a share of what is
/// left, so that a call that hangs becomes an `unreadable` marker (or a
/// failed probe) in time for the run to finish, instead of the whole run
/// giving up.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    total: Duration,
    /// When the last request must be over: the timeout less a reserve for
    /// assembling the snapshot and judging it.
    end: Instant,
}

impl Budget {
    pub fn new(total: Duration) -> Budget {
        let reserve = (total / 10).clamp(Duration::from_millis(250), Duration::from_secs(3));
        Budget {
            total,
            end: Instant::now() + total.saturating_sub(reserve),
        }
    }

    /// Timeouts for a client made now: one operation (all its attempts) may
    /// take a third of the run, so a hung call leaves time for the calls
    /// that depend on it; each attempt half of that, so there is room for a
    /// retry; never past the budget's end.
    fn timeouts(&self) -> TimeoutConfig {
        let left = self.end.saturating_duration_since(Instant::now());
        let floor = Duration::from_millis(50);
        let operation = left.min(self.total / 3).max(floor);
        let attempt = (operation / 2).clamp(floor, Duration::from_secs(30));
        TimeoutConfig::builder()
            .connect_timeout(attempt.min(Duration::from_secs(5)))
            .operation_attempt_timeout(attempt)
            .operation_timeout(operation)
            .build()
    }
}

/// The operation log's file, shared by every client.
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

    fn append(&self, line: &str) -> Result<(), BoxError> {
        use std::io::Write;
        let _guard = self
            .lock
            .lock()
            .map_err(|_| "operation log lock poisoned")?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path.as_ref())?;
        // one write of the whole line: appends from other clients' logs (each
        // has its own lock) never land inside it
        f.write_all(format!("{line}\n").as_bytes())?;
        Ok(())
    }
}

/// On every client: refuses what `operations.rs` does not list for this
/// identity (and writes without `--probe-writes`) before anything is sent,
/// and logs what is sent.
#[derive(Debug, Clone)]
struct Guard {
    side: Side,
    writes: bool,
    log: Option<OperationLog>,
}

impl Intercept for Guard {
    fn name(&self) -> &'static str {
        "xacct-operation-guard"
    }
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(m) = cfg.load::<Metadata>() else {
            return Err("an operation without a name: xacct does not send it".into());
        };
        let name = format!("{}:{}", m.service(), m.name());
        super::operations::allowed(&name, self.side, self.writes)?;
        if let Some(l) = &self.log {
            l.append(&format!("{name}\t{}", self.side.label()))?;
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
    Ok(retry_mode(config))
}

/// Retries: the SDK's standard mode (exponential backoff with jitter, for
/// throttling, 5xx, timeouts and broken connections), with the attempt count
/// configured (`AWS_MAX_ATTEMPTS`, `max_attempts`, else 3). Not adaptive
/// mode: its client-side rate limiter, started from the rate of a handful of
/// calls, holds the retry after a single `SlowDown` past the operation's
/// time budget, so one throttled read became a timeout (tests/live_faults.rs).
/// The census paces itself (`rate.rs`). An explicit `AWS_RETRY_MODE` wins.
fn retry_mode(config: SdkConfig) -> SdkConfig {
    if std::env::var_os("AWS_RETRY_MODE").is_some_and(|v| !v.is_empty()) {
        return config;
    }
    let retry = config
        .retry_config()
        .cloned()
        .unwrap_or_else(RetryConfig::standard)
        .with_retry_mode(RetryMode::Standard);
    config.to_builder().retry_config(retry).build()
}

/// Check the credentials (loadable, and accepted by STS) and learn the account.
pub async fn connect(
    side: Side,
    config: SdkConfig,
    budget: Budget,
) -> Result<Account, GatherError> {
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
        budget,
        writes: false,
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
    /// identity running xacct need not be the one that runs the copy). When
    /// AssumeRole met a fault (throttling, 5xx, a timeout, a broken
    /// connection) rather than an answer, the failure comes along: it is
    /// recorded as a probe that could not complete, so the verdict cannot be
    /// `ready` on probes that were never made.
    Unavailable(String, Option<Failure>),
}

/// The role's name from its ARN (the path dropped).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// What `sts:AssumeRole` into the copying role gave B.
pub struct Assumed {
    creds: Credentials,
    arn: String,
}

/// Assume the role with B's configuration, with session name `xacct-doctor`
/// and the copy's session policy (so that the probes meet the same limits).
/// Sent beside B's GetCallerIdentity rather than after it, to save a round
/// trip: [`role_session`] drops it when B already is a session of the role.
pub async fn assume_role(
    b_config: &SdkConfig,
    budget: Budget,
    role_arn: &str,
    session_policy: Option<&str>,
) -> Result<Assumed, Failure> {
    let sts = sts_client(b_config, Side::B, budget, OperationLog::from_env());
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("xacct-doctor")
        .set_policy(session_policy.map(str::to_string))
        .send()
        .await
        .map_err(|e| Failure::from_sdk(&e))?;
    let (Some(c), Some(user)) = (out.credentials(), out.assumed_role_user()) else {
        return Err(Failure {
            code: "NoCredentials".into(),
            message: "sts:AssumeRole returned no credentials".into(),
            status: None,
            bucket_region: None,
            kind: Kind::Service,
        });
    };
    Ok(Assumed {
        creds: Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "xacct-assume-role",
        ),
        arn: user.arn().to_string(),
    })
}

/// Act as the role: B's identity when it already is a session of the role,
/// otherwise the session [`assume_role`] obtained.
pub fn role_session(
    b: &Account,
    role_arn: &str,
    assumed: Result<Assumed, Failure>,
    writes: bool,
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
        me.writes = writes;
        return RoleSession::Ready(Box::new(me));
    }
    let assumed = match assumed {
        Ok(a) => a,
        Err(f) if f.code == "NoCredentials" => {
            return RoleSession::Unavailable(format!("no probes were made: {}", f.message), None);
        }
        Err(f) => {
            let why = format!(
                "no probes were made: {} could not assume {role_arn} (sts:AssumeRole failed: {}{}){}",
                b.arn,
                f.code,
                if f.message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.message)
                },
                if f.is_fault() {
                    "; AWS did not answer (after retries), so the probes are owed: run again"
                } else {
                    "; run xacct as an identity the role trusts to probe"
                }
            );
            let fault = f.is_fault().then_some(f);
            return RoleSession::Unavailable(why, fault);
        }
    };
    let config = b
        .config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(assumed.creds))
        .build();
    RoleSession::Ready(Box::new(Account {
        side: Side::Role,
        config,
        account: role_acct.to_string(),
        arn: assumed.arn,
        log: b.log.clone(),
        budget: b.budget,
        writes,
    }))
}

/// An STS client for one identity, behind the guard and within the budget.
fn sts_client(
    config: &SdkConfig,
    side: Side,
    budget: Budget,
    log: Option<OperationLog>,
) -> aws_sdk_sts::Client {
    let b = aws_sdk_sts::config::Builder::from(config)
        .interceptor(Guard {
            side,
            writes: false,
            log,
        })
        .timeout_config(budget.timeouts());
    aws_sdk_sts::Client::from_conf(b.build())
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
    fn guard(&self) -> Guard {
        Guard {
            side: self.side,
            writes: self.writes,
            log: self.log.clone(),
        }
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        sts_client(&self.config, self.side, self.budget, self.log.clone())
    }
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let b = aws_sdk_iam::config::Builder::from(&self.config)
            .interceptor(self.guard())
            .timeout_config(self.budget.timeouts());
        aws_sdk_iam::Client::from_conf(b.build())
    }
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let b = aws_sdk_organizations::config::Builder::from(&self.config)
            .interceptor(self.guard())
            .timeout_config(self.budget.timeouts());
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
        b = b
            .interceptor(self.guard())
            .timeout_config(self.budget.timeouts());
        aws_sdk_s3::Client::from_conf(b.build())
    }
    /// KMS in a key's region.
    pub fn kms(&self, region: Option<&str>) -> aws_sdk_kms::Client {
        let mut b = aws_sdk_kms::config::Builder::from(&self.config);
        if let Some(r) = region {
            b = b.region(Region::new(r.to_string()));
        }
        b = b
            .interceptor(self.guard())
            .timeout_config(self.budget.timeouts());
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
