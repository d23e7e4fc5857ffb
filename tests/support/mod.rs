//! A local AWS for the live tests: moto_server on a free 127.0.0.1 port (never
//! real AWS), two accounts in it through STS AssumeRole, provisioning from a
//! snapshot fixture, and running the xacct binary against it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::Value;

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";
pub const REGION: &str = "us-west-2";
/// The bootstrap credentials (moto accepts any) used only to call AssumeRole.
pub const BOOT_KEY: &str = "AKIAXACCTBOOTSTRAP01";
pub const BOOT_SECRET: &str = "xacct-bootstrap-secret-never-printed";

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A moto_server of this test's own.
pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_server.py"),
        )
    }

    /// A moto_server that can also create many objects in one call
    /// ([`Moto::bulk_objects`]).
    pub fn start_bulk() -> Moto {
        Moto::start_with(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_bulk.py"))
    }

    /// moto_server through another launcher script.
    pub fn start_with(launcher: &Path) -> Moto {
        let Some(moto) = which("moto_server") else {
            panic!(
                "moto_server is not on PATH: the live tests need it. Run ./scripts/test (it installs moto into .venv), or `pip install -r tests/requirements.txt` and put its bin directory on PATH"
            );
        };
        // moto_server's own interpreter runs the launcher that adds request payment
        let python = moto
            .parent()
            .map(|d| d.join("python3"))
            .filter(|p| p.is_file())
            .or_else(|| which("python3"))
            .expect("python3 next to moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(python)
            .arg(launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env_remove("MOTO_ACCOUNT_ID")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let mut m = Moto {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while !m.ready() {
            if let Ok(Some(status)) = m.child.try_wait() {
                panic!("moto_server exited: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        m
    }

    /// Create `count` one-byte objects `PREFIX0000000`… in `account`'s
    /// `bucket` inside moto (needs [`Moto::start_bulk`]); object `i` is made
    /// as `kinds[i % kinds.len()]` says (`encryption`, `kms_key`,
    /// `bucket_key`, `storage`). Returns the seconds moto took.
    pub fn bulk_objects(
        &self,
        account: &str,
        bucket: &str,
        prefix: &str,
        count: usize,
        kinds: Value,
    ) -> f64 {
        let body = serde_json::json!({
            "account": account, "bucket": bucket, "prefix": prefix,
            "count": count, "kinds": kinds,
        })
        .to_string();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("moto answers");
        let req = format!(
            "POST /_xacct/bulk-objects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).expect("bulk request");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("bulk answer");
        let v: Value = answer
            .split_once("\r\n\r\n")
            .and_then(|(_, b)| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        assert_eq!(v["objects"], count, "bulk creation failed: {answer}");
        v["seconds"].as_f64().unwrap_or(f64::NAN)
    }

    fn ready(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let req = format!(
            "GET /moto-api/data.json HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if s.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fixture under `fixtures/`, as JSON.
pub fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// A fresh moto with both accounts, a fixture provisioned in them (the
/// returned fixture carries the ARNs moto made), and a scratch folder whose
/// AWS profiles `a` and `b` are the two accounts: how the live tests start.
pub struct Provisioned {
    pub moto: Moto,
    pub creds: BTreeMap<String, Creds>,
    pub fixture: Value,
    pub scratch: Scratch,
}

pub fn provisioned(fixture_name: &str, tag: &str) -> Provisioned {
    let moto = Moto::start();
    let rt = runtime();
    let (creds, fixture) = rt.block_on(async {
        let mut creds = BTreeMap::new();
        creds.insert(A.to_string(), account_creds(&moto.endpoint, A).await);
        creds.insert(B.to_string(), account_creds(&moto.endpoint, B).await);
        let f = provision(&moto.endpoint, &fixture(fixture_name), &creds).await;
        (creds, f)
    });
    let scratch = Scratch::new(tag);
    scratch.write_profiles(&[("a", &creds[A]), ("b", &creds[B])]);
    Provisioned {
        moto,
        creds,
        fixture,
        scratch,
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[derive(Debug, Clone)]
pub struct Creds {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

pub fn config(endpoint: &str, c: &Creds) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .http_client(http_client())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                &c.key,
                &c.secret,
                c.token.clone(),
                None,
                "test",
            )),
        )
        .build()
}

/// The census world's skeleton: the source bucket in A, the destination
/// bucket in B and a copying role in B that B's root may assume.
pub async fn census_buckets_and_role(
    a: &SdkConfig,
    b: &SdkConfig,
    src: &str,
    dst: &str,
    role: &str,
) {
    let loc = || {
        aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(REGION.into())
            .build()
    };
    for (cfg, bucket) in [(a, src), (b, dst)] {
        s3(cfg)
            .create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(loc())
            .send()
            .await
            .expect("CreateBucket");
    }
    aws_sdk_iam::Client::new(b)
        .create_role()
        .role_name(role)
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .expect("CreateRole");
}

pub fn s3(cfg: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(true)
            .build(),
    )
}

/// Credentials bound to `account` (moto: AssumeRole into any role of it).
pub async fn account_creds(endpoint: &str, account: &str) -> Creds {
    let boot = Creds {
        key: BOOT_KEY.into(),
        secret: BOOT_SECRET.into(),
        token: None,
    };
    let sts = aws_sdk_sts::Client::new(&config(endpoint, &boot));
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/x"))
        .role_session_name("provision")
        .send()
        .await
        .expect("AssumeRole into the account");
    let c = out.credentials().expect("credentials");
    Creds {
        key: c.access_key_id().into(),
        secret: c.secret_access_key().into(),
        token: Some(c.session_token().into()),
    }
}

/// A key policy that lets the account use the key but nobody describe it.
pub const DENY_DESCRIBE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"},{"Sid":"NoDescribe","Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:DescribeKey","Resource":"*"}]}"#;

fn doc_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn key_uuid(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Create every key of the fixture, then rewrite the fixture with the key ids
/// moto chose (moto cannot take a key id), and provision the rest from it.
pub async fn provision(endpoint: &str, fixture: &Value, creds: &BTreeMap<String, Creds>) -> Value {
    let mut text = fixture.to_string();
    let accounts = fixture["accounts"].as_object().expect("accounts");
    for (acct, a) in accounts {
        let Some(c) = creds.get(acct) else { continue };
        let cfg = config(endpoint, c);
        let kms = aws_sdk_kms::Client::new(&cfg);
        if let Some(keys) = a["keys"].as_object() {
            for (arn, k) in keys {
                if let Some(u) = k.get("unreadable") {
                    // a key its reader may not describe: moto refuses
                    // DescribeKey when the key policy denies it to "*"
                    if u["call"] == "kms:DescribeKey" && u["error"] == "AccessDeniedException" {
                        let out = kms
                            .create_key()
                            .policy(DENY_DESCRIBE)
                            .send()
                            .await
                            .expect("CreateKey");
                        let id = out.key_metadata().expect("metadata").key_id().to_string();
                        text = text.replace(key_uuid(arn), &id);
                    }
                    continue;
                }
                let mut req = kms.create_key().description(format!("fixture key {arn}"));
                if let Some(s) = k["spec"].as_str() {
                    req = req.key_spec(s.into());
                }
                if let Some(u) = k["usage"].as_str() {
                    req = req.key_usage(u.into());
                }
                let out = req.send().await.expect("CreateKey");
                let id = out.key_metadata().expect("metadata").key_id().to_string();
                text = text.replace(key_uuid(arn), &id);
            }
        }
    }
    let fixture: Value = serde_json::from_str(&text).expect("rewritten fixture");
    let accounts = fixture["accounts"].as_object().expect("accounts");
    for (acct, a) in accounts {
        let Some(c) = creds.get(acct) else { continue };
        let cfg = config(endpoint, c);
        provision_account(&cfg, acct, a).await;
    }
    fixture
}

async fn provision_account(cfg: &SdkConfig, acct: &str, a: &Value) {
    let kms = aws_sdk_kms::Client::new(cfg);
    let iam = aws_sdk_iam::Client::new(cfg);
    let s3c = s3(cfg);
    if let Some(keys) = a["keys"].as_object() {
        for (arn, k) in keys {
            if k.get("unreadable").is_some() {
                continue;
            }
            for alias in k["aliases"].as_array().into_iter().flatten() {
                kms.create_alias()
                    .alias_name(alias.as_str().unwrap_or_default())
                    .target_key_id(arn)
                    .send()
                    .await
                    .expect("CreateAlias");
            }
            for g in k["grants"].as_array().into_iter().flatten() {
                let mut req = kms
                    .create_grant()
                    .key_id(arn)
                    .grantee_principal(g["grantee"].as_str().unwrap_or_default());
                for op in g["operations"].as_array().into_iter().flatten() {
                    req = req.operations(op.as_str().unwrap_or_default().into());
                }
                if let Some(c) = g["constraints"].as_object() {
                    let mut b = aws_sdk_kms::types::GrantConstraints::builder();
                    for (kind, map) in c {
                        for (ck, cv) in map.as_object().into_iter().flatten() {
                            let v = cv.as_str().unwrap_or_default();
                            b = if kind == "encryption_context_subset" {
                                b.encryption_context_subset(ck, v)
                            } else {
                                b.encryption_context_equals(ck, v)
                            };
                        }
                    }
                    req = req.constraints(b.build());
                }
                req.send().await.expect("CreateGrant");
            }
            match k["state"].as_str() {
                Some("Disabled") => {
                    kms.disable_key()
                        .key_id(key_uuid(arn))
                        .send()
                        .await
                        .expect("DisableKey");
                }
                Some("PendingDeletion") => {
                    kms.schedule_key_deletion()
                        .key_id(key_uuid(arn))
                        .pending_window_in_days(7)
                        .send()
                        .await
                        .expect("ScheduleKeyDeletion");
                }
                _ => {}
            }
            if let Some(p) = k.get("policy").filter(|p| !p.is_null()) {
                kms.put_key_policy()
                    .key_id(arn)
                    .policy_name("default")
                    .policy(doc_text(p))
                    .send()
                    .await
                    .expect("PutKeyPolicy");
            }
        }
    }
    if let Some(roles) = a["roles"].as_object() {
        for (name, r) in roles {
            if r.get("unreadable").is_some() {
                continue;
            }
            let mut req = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(doc_text(&r["trust_policy"]));
            for (k, v) in r["tags"].as_object().into_iter().flatten() {
                req = req.tags(
                    aws_sdk_iam::types::Tag::builder()
                        .key(k)
                        .value(v.as_str().unwrap_or_default())
                        .build()
                        .expect("tag"),
                );
            }
            req.send().await.expect("CreateRole");
            for (pname, p) in r["inline_policies"].as_object().into_iter().flatten() {
                iam.put_role_policy()
                    .role_name(name)
                    .policy_name(pname)
                    .policy_document(doc_text(p))
                    .send()
                    .await
                    .expect("PutRolePolicy");
            }
            for (parn, p) in r["managed_policies"].as_object().into_iter().flatten() {
                let pname = parn.rsplit('/').next().unwrap_or_default();
                let out = iam
                    .create_policy()
                    .policy_name(pname)
                    .policy_document(doc_text(p))
                    .send()
                    .await
                    .expect("CreatePolicy");
                let arn = out.policy().and_then(|p| p.arn()).expect("policy arn");
                assert_eq!(arn, parn, "managed policy ARN as in the fixture");
                iam.attach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .expect("AttachRolePolicy");
            }
            if let Some(bd) = r.get("permissions_boundary").filter(|b| !b.is_null()) {
                let out = iam
                    .create_policy()
                    .policy_name(format!("xacct-test-boundary-{name}"))
                    .policy_document(doc_text(bd))
                    .send()
                    .await
                    .expect("CreatePolicy (boundary)");
                iam.put_role_permissions_boundary()
                    .role_name(name)
                    .permissions_boundary(out.policy().and_then(|p| p.arn()).expect("arn"))
                    .send()
                    .await
                    .expect("PutRolePermissionsBoundary");
            }
        }
    }
    if let Some(buckets) = a["buckets"].as_object() {
        for (name, bk) in buckets {
            if bk.get("unreadable").is_some() {
                continue;
            }
            provision_bucket(&s3c, acct, name, bk).await;
        }
    }
}

async fn provision_bucket(s3c: &aws_sdk_s3::Client, _acct: &str, name: &str, bk: &Value) {
    use aws_sdk_s3::types::*;
    let region = bk["region"].as_str().unwrap_or(REGION);
    let mut req = s3c.create_bucket().bucket(name);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(region.into())
                .build(),
        );
    }
    req.send().await.expect("CreateBucket");
    // objects first: moto checks bucket policies on object writes
    for (key, o) in bk["objects"].as_object().into_iter().flatten() {
        let size = o["size"].as_u64().unwrap_or(16) as usize;
        let mut body = vec![b'z'; size];
        let marker = b"XACCT-OBJECT-PAYLOAD";
        let n = marker.len().min(size);
        body[..n].copy_from_slice(&marker[..n]);
        let mut req = s3c.put_object().bucket(name).key(key).body(body.into());
        if let Some(e) = o["encryption"].as_object() {
            let alg = e["algorithm"].as_str().unwrap_or("AES256");
            req = req.server_side_encryption(alg.into());
            if let Some(k) = e.get("kms_key").and_then(Value::as_str) {
                req = req.ssekms_key_id(k);
            }
            if let Some(bkey) = e.get("bucket_key").and_then(Value::as_bool) {
                req = req.bucket_key_enabled(bkey);
            }
        }
        if let Some(sc) = o["storage_class"].as_str() {
            req = req.storage_class(sc.into());
        }
        req.send().await.expect("PutObject");
    }
    if let Some(e) = bk["encryption"].as_object() {
        let mut d = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(e["algorithm"].as_str().unwrap_or("AES256").into());
        if let Some(k) = e.get("kms_key").and_then(Value::as_str) {
            d = d.kms_master_key_id(k);
        }
        let mut rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(d.build().expect("sse"));
        if let Some(bkey) = e.get("bucket_key").and_then(Value::as_bool) {
            rule = rule.bucket_key_enabled(bkey);
        }
        s3c.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule.build())
                    .build()
                    .expect("config"),
            )
            .send()
            .await
            .expect("PutBucketEncryption");
    }
    if let Some(o) = bk["ownership"].as_str() {
        s3c.put_bucket_ownership_controls()
            .bucket(name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(
                        OwnershipControlsRule::builder()
                            .object_ownership(o.into())
                            .build()
                            .expect("rule"),
                    )
                    .build()
                    .expect("controls"),
            )
            .send()
            .await
            .expect("PutBucketOwnershipControls");
    }
    if let Some(p) = bk["public_access_block"].as_object() {
        let f = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
        s3c.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(f("block_public_acls"))
                    .ignore_public_acls(f("ignore_public_acls"))
                    .block_public_policy(f("block_public_policy"))
                    .restrict_public_buckets(f("restrict_public_buckets"))
                    .build(),
            )
            .send()
            .await
            .expect("PutPublicAccessBlock");
    }
    if bk["requester_pays"].as_bool() == Some(true) {
        s3c.put_bucket_request_payment()
            .bucket(name)
            .request_payment_configuration(
                RequestPaymentConfiguration::builder()
                    .payer(Payer::Requester)
                    .build()
                    .expect("payer"),
            )
            .send()
            .await
            .expect("PutBucketRequestPayment");
    }
    if let Some(p) = bk.get("policy").filter(|p| !p.is_null()) {
        s3c.put_bucket_policy()
            .bucket(name)
            .policy(doc_text(p))
            .send()
            .await
            .expect("PutBucketPolicy");
    }
}

/// A scratch directory with a shared credentials file holding profiles `a`
/// and `b`, for the xacct process.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        // one directory per call: tests of one binary run in parallel, and two
        // of them sharing a directory would remove each other's files
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("xacct-live-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch { dir }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn write_profiles(&self, profiles: &[(&str, &Creds)]) {
        let mut creds = String::new();
        let mut config = String::new();
        for (name, c) in profiles {
            creds.push_str(&format!(
                "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                c.key, c.secret
            ));
            if let Some(t) = &c.token {
                creds.push_str(&format!("aws_session_token = {t}\n"));
            }
            config.push_str(&format!("[profile {name}]\nregion = {REGION}\n"));
        }
        std::fs::write(self.path("credentials"), creds).expect("credentials file");
        std::fs::write(self.path("config"), config).expect("config file");
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The xacct binary with a clean AWS environment pointed at `endpoint`.
pub fn xacct(endpoint: Option<&str>, scratch: &Scratch) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xacct"));
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str()
            && k.starts_with("AWS_")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_SHARED_CREDENTIALS_FILE", scratch.path("credentials"))
        .env("AWS_CONFIG_FILE", scratch.path("config"))
        .env("AWS_MAX_ATTEMPTS", "2")
        .env("NO_COLOR", "1")
        .env_remove("XACCT_OPERATION_LOG");
    if let Some(e) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", e);
    }
    cmd
}

/// The copy flags of a fixture's `copy` block.
pub fn copy_flags(fixture: &Value) -> Vec<String> {
    let c = &fixture["copy"];
    let mut out = Vec::new();
    for (field, flag) in [
        ("source", "--source"),
        ("destination", "--destination"),
        ("principal", "--role-arn"),
        ("caller", "--caller"),
        ("source_key", "--source-key"),
        ("destination_key", "--destination-key"),
        ("method", "--method"),
    ] {
        if let Some(v) = c[field].as_str() {
            out.push(flag.to_string());
            out.push(v.to_string());
        }
    }
    for (k, v) in c["request"].as_object().into_iter().flatten() {
        out.push("--header".into());
        out.push(format!("{k}={}", v.as_str().unwrap_or_default()));
    }
    out
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub mod proxy;
