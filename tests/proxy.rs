//! The test proxy (tests/support/proxy.rs): latency, every fault, operation
//! names, against a tiny local upstream; and the SDK's reading of the
//! injected errors, against moto.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use support::proxy::{Fault, Match, Plan, Proxy, Times};

/// An upstream that answers every request with `200`, the body
/// `method target`, chunked when the path says `/chunked`.
fn upstream() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("port");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut rd = BufReader::new(conn.try_clone().expect("clone"));
                let mut first = String::new();
                if rd.read_line(&mut first).is_err() {
                    return;
                }
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if rd.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                let _ = rd.read_exact(&mut body);
                let mut parts = first.split_whitespace();
                let method = parts.next().unwrap_or("");
                let target = parts.next().unwrap_or("");
                let text = format!("{method} {target} {}", String::from_utf8_lossy(&body));
                let mut w = conn;
                let resp = if target.starts_with("/chunked") {
                    let half = text.len() / 2;
                    format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
                        half,
                        &text[..half],
                        text.len() - half,
                        &text[half..]
                    )
                } else if method == "HEAD" {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nx-amz-meta-a: b\r\n\r\n",
                        text.len()
                    )
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    )
                };
                let _ = w.write_all(resp.as_bytes());
            });
        }
    });
    port
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a connection of its own; reads the body by Content-Length.
fn request(port: u16, raw: &str) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_millis(800)))?;
    s.write_all(raw.as_bytes())?;
    read_answer(&mut BufReader::new(s), raw.starts_with("HEAD"))
}

fn read_answer<R: BufRead>(rd: &mut R, head: bool) -> std::io::Result<Answer> {
    let mut first = String::new();
    if rd.read_line(&mut first)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status = first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("status line {first:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        rd.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut a = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    if !head {
        let len: usize = a
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        a.body = vec![0u8; len];
        rd.read_exact(&mut a.body)?;
    }
    Ok(a)
}

const GET: &str = "GET /bucket/some/key HTTP/1.1\r\nHost: x\r\n\r\n";

fn signed(service: &str, extra: &str, body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-west-2/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn forwards_with_the_added_latency_and_records_each_call() {
    let proxy = Proxy::start(upstream(), Plan::latency(Duration::from_millis(150)));
    let t = Instant::now();
    let a = request(proxy.port, GET).expect("answer");
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.text(), "GET /bucket/some/key ");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].operation, "GetObject");
    assert!(seen[0].round_trip >= Duration::from_millis(150));
    assert_eq!(seen[0].status, Some(200));
}

#[test]
fn keeps_the_client_connection_alive_and_passes_bodies() {
    let proxy = Proxy::start(upstream(), Plan::pass());
    let s = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let mut rd = BufReader::new(s);
    for i in 0..3 {
        let body = format!("n={i}");
        // the second one chunked, the third with Expect: 100-continue
        let req = match i {
            1 => format!(
                "PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            ),
            _ => format!(
                "PUT /b/k HTTP/1.1\r\nHost: x\r\n{}Content-Length: {}\r\n\r\n{body}",
                if i == 2 {
                    "Expect: 100-continue\r\n"
                } else {
                    ""
                },
                body.len()
            ),
        };
        w.write_all(req.as_bytes()).expect("write");
        let mut a = read_answer(&mut rd, false).expect("answer");
        if a.status == 100 {
            a = read_answer(&mut rd, false).expect("answer after 100");
        }
        assert_eq!(a.status, 200);
        assert_eq!(a.text(), format!("PUT /b/k {body}"));
    }
    assert_eq!(proxy.count_op("PutObject"), 3);
}

#[test]
fn a_chunked_upstream_answer_arrives_with_its_length() {
    let proxy = Proxy::start(upstream(), Plan::pass());
    let a = request(proxy.port, "GET /chunked/x HTTP/1.1\r\nHost: x\r\n\r\n").expect("answer");
    assert_eq!(a.text(), "GET /chunked/x ");
    let a = request(proxy.port, "HEAD /b/k HTTP/1.1\r\nHost: x\r\n\r\n").expect("answer");
    assert_eq!(a.header("content-length"), Some("10"));
    assert_eq!(a.header("x-amz-meta-a"), Some("b"));
}

#[test]
fn slow_down_the_first_two_matching_requests_only() {
    let plan = Plan::pass().fault(
        Match::operation("GetObject"),
        Fault::SlowDown,
        Times::First(2),
    );
    let proxy = Proxy::start(upstream(), plan);
    let head = request(proxy.port, "HEAD /b/k HTTP/1.1\r\nHost: x\r\n\r\n").expect("head");
    assert_eq!(head.status, 200, "another operation is not touched");
    for _ in 0..2 {
        let a = request(proxy.port, GET).expect("answer");
        assert_eq!(a.status, 503);
        assert!(a.text().contains("<Code>SlowDown</Code>"), "{}", a.text());
    }
    assert_eq!(request(proxy.port, GET).expect("answer").status, 200);
    let faults: Vec<_> = proxy.seen().into_iter().map(|s| s.fault).collect();
    assert_eq!(
        faults,
        vec![None, Some(Fault::SlowDown), Some(Fault::SlowDown), None]
    );
}

#[test]
fn throttling_speaks_each_service_s_protocol() {
    let plan = Plan::pass().fault(Match::any(), Fault::Throttle, Times::Every);
    let proxy = Proxy::start(upstream(), plan);
    let kms = request(
        proxy.port,
        &signed(
            "kms",
            "X-Amz-Target: TrentService.Decrypt\r\nContent-Type: application/x-amz-json-1.1\r\n",
            "{}",
        ),
    )
    .expect("kms");
    assert_eq!(kms.status, 400);
    assert!(kms.text().contains("\"__type\":\"ThrottlingException\""));
    let iam = request(
        proxy.port,
        &signed(
            "iam",
            "Content-Type: application/x-www-form-urlencoded\r\n",
            "Action=GetRole&Version=2010-05-08&RoleName=r",
        ),
    )
    .expect("iam");
    assert_eq!(iam.status, 400);
    assert!(
        iam.text().contains("<Code>Throttling</Code>"),
        "{}",
        iam.text()
    );
    let s3 = request(proxy.port, GET).expect("s3");
    assert_eq!(s3.status, 503);
    let ops: Vec<_> = proxy
        .seen()
        .into_iter()
        .map(|s| (s.service, s.operation))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("kms".to_string(), "Decrypt".to_string()),
            ("iam".to_string(), "GetRole".to_string()),
            (String::new(), "GetObject".to_string()),
        ]
    );
}

#[test]
fn internal_errors_and_any_status() {
    let plan = Plan::pass()
        .fault(
            Match::path_contains("/one"),
            Fault::InternalError,
            Times::Every,
        )
        .fault(
            Match::path_contains("/two"),
            Fault::Status(403, "AccessDenied".into()),
            Times::Every,
        );
    let proxy = Proxy::start(upstream(), plan);
    let a = request(proxy.port, "GET /one/k HTTP/1.1\r\nHost: x\r\n\r\n").expect("one");
    assert_eq!(a.status, 500);
    assert!(a.text().contains("<Code>InternalError</Code>"));
    let a = request(proxy.port, "GET /two/k HTTP/1.1\r\nHost: x\r\n\r\n").expect("two");
    assert_eq!(a.status, 403);
    assert!(a.text().contains("<Code>AccessDenied</Code>"));
}

#[test]
fn reset_hang_and_truncate() {
    let plan = Plan::pass()
        .fault(Match::path_contains("/reset"), Fault::Reset, Times::Every)
        .fault(Match::path_contains("/hang"), Fault::Hang, Times::Every)
        .fault(Match::path_contains("/cut"), Fault::Truncate, Times::Every);
    let proxy = Proxy::start(upstream(), plan);
    let reset = request(proxy.port, "GET /reset/k HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(reset.is_err(), "a reset connection gives no answer");
    let t = Instant::now();
    let hang = request(proxy.port, "GET /hang/k HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(hang.is_err());
    assert!(
        t.elapsed() >= Duration::from_millis(700),
        "it hung until the client gave up"
    );
    // the truncated body: the length announced, half of it sent, then EOF
    let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
    s.write_all(b"GET /cut/some-long-key-name HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut all = String::new();
    s.read_to_string(&mut all).expect("read to EOF");
    let (head, body) = all.split_once("\r\n\r\n").expect("head and body");
    let announced: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.parse().ok())
        .expect("a length");
    assert_eq!(announced, "GET /cut/some-long-key-name ".len());
    assert_eq!(body.len(), announced / 2);
}

#[test]
fn delay_one_operation_and_change_the_plan() {
    let proxy = Proxy::start(
        upstream(),
        Plan::pass().fault(
            Match::operation("HeadObject"),
            Fault::Delay(Duration::from_millis(200)),
            Times::Every,
        ),
    );
    let t = Instant::now();
    request(proxy.port, GET).expect("get");
    assert!(t.elapsed() < Duration::from_millis(200));
    let t = Instant::now();
    request(proxy.port, "HEAD /b/k HTTP/1.1\r\nHost: x\r\n\r\n").expect("head");
    assert!(t.elapsed() >= Duration::from_millis(200));
    proxy.set_plan(Plan::latency(Duration::from_millis(100)));
    let t = Instant::now();
    request(proxy.port, GET).expect("get");
    assert!(t.elapsed() >= Duration::from_millis(100));
    proxy.clear();
    assert_eq!(proxy.count(), 0);
}

#[test]
fn names_the_s3_operations_xacct_sends() {
    let proxy = Proxy::start(upstream(), Plan::pass());
    let cases = [
        ("HEAD /b HTTP/1.1", "HeadBucket"),
        ("HEAD /b/k HTTP/1.1", "HeadObject"),
        (
            "GET /b?list-type=2&fetch-owner=true HTTP/1.1",
            "ListObjectsV2",
        ),
        ("GET /b?policy HTTP/1.1", "GetBucketPolicy"),
        ("GET /b?encryption HTTP/1.1", "GetBucketEncryption"),
        (
            "GET /b?ownershipControls HTTP/1.1",
            "GetBucketOwnershipControls",
        ),
        ("GET /b?publicAccessBlock HTTP/1.1", "GetPublicAccessBlock"),
        ("GET /b?requestPayment HTTP/1.1", "GetBucketRequestPayment"),
        ("GET /b?acl HTTP/1.1", "GetBucketAcl"),
        ("GET /b/k?x-id=GetObject HTTP/1.1", "GetObject"),
        ("POST /b/k?uploads HTTP/1.1", "CreateMultipartUpload"),
        ("DELETE /b/k?uploadId=1 HTTP/1.1", "AbortMultipartUpload"),
    ];
    for (line, _) in cases {
        let head = line.starts_with("HEAD");
        let raw = format!("{line}\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).expect("connect");
        s.write_all(raw.as_bytes()).expect("write");
        read_answer(&mut BufReader::new(s), head).expect("answer");
    }
    let ops: Vec<String> = proxy.seen().into_iter().map(|s| s.operation).collect();
    let want: Vec<String> = cases.iter().map(|(_, op)| op.to_string()).collect();
    assert_eq!(ops, want);
}

/// The SDK reads the injected errors as AWS's: S3 retries SlowDown; KMS and
/// IAM name the throttling code.
#[test]
fn the_sdk_reads_injected_faults_against_moto() {
    let moto = support::Moto::start();
    let plan = Plan::pass()
        .fault(
            Match::operation("HeadBucket"),
            Fault::SlowDown,
            Times::First(2),
        )
        .fault(Match::operation("ListKeys"), Fault::Throttle, Times::Every)
        .fault(Match::operation("GetRole"), Fault::Throttle, Times::Every);
    let proxy = Proxy::start(moto.port, plan);
    let rt = support::runtime();
    rt.block_on(async {
        let creds = support::account_creds(&proxy.endpoint, support::A).await;
        let cfg = support::config(&proxy.endpoint, &creds);
        let s3 = support::s3(&cfg);
        s3.create_bucket()
            .bucket("proxy-bucket")
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(support::REGION.into())
                    .build(),
            )
            .send()
            .await
            .expect("CreateBucket");
        // the standard retry (3 attempts) gets through two SlowDowns
        s3.head_bucket()
            .bucket("proxy-bucket")
            .send()
            .await
            .expect("HeadBucket after two SlowDowns");
        assert_eq!(proxy.count_op("HeadBucket"), 3);

        let no_retry = cfg
            .to_builder()
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        let kms = aws_sdk_kms::Client::new(&no_retry);
        let e = kms.list_keys().send().await.expect_err("throttled");
        assert_eq!(
            aws_sdk_kms::error::ProvideErrorMetadata::code(&e),
            Some("ThrottlingException")
        );
        let iam = aws_sdk_iam::Client::new(&no_retry);
        let e = iam
            .get_role()
            .role_name("r")
            .send()
            .await
            .expect_err("throttled");
        assert_eq!(
            aws_sdk_iam::error::ProvideErrorMetadata::code(&e),
            Some("Throttling")
        );
    });
}
