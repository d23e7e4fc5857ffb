//! A loopback HTTP/1.1 proxy in front of moto for tests and benchmarks: it
//! forwards every request to the upstream port and, by a [`Plan`] the test
//! sets, adds a fixed delay to each round trip (latency injection) or answers
//! some requests with a fault instead (503 SlowDown, 500, throttling in the
//! target service's own error format, a connection reset, a hang, a truncated
//! body). It records every request it saw (service, operation, round-trip
//! time) so a test or a bench can count calls and sum their latencies.
//!
//! ```ignore
//! let proxy = Proxy::start(moto.port, Plan::latency(Duration::from_millis(100))
//!     .fault(Match::operation("HeadObject"), Fault::SlowDown, Times::First(2)));
//! // point the SDK at proxy.endpoint
//! ```
//!
//! Use it from an integration test through `mod support;` (`support::proxy`),
//! from a bench with `#[path = "../tests/support/proxy.rs"] mod proxy;`. It
//! runs on a runtime of its own, so sync tests and async tests alike can use
//! it; dropping the `Proxy` stops it. Requests are parsed just enough to be
//! forwarded: Content-Length and chunked bodies, `Expect: 100-continue`,
//! keep-alive towards the client, one upstream connection per request.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How many requests a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Times {
    /// The first `n` matching requests, then the rule is spent.
    First(usize),
    /// Every matching request.
    Every,
}

/// What a proxied request is, as far as a rule can tell.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `s3`, `kms`, `iam`, `sts`, `organizations`… from the SigV4 credential
    /// scope; empty when unsigned.
    pub service: String,
    /// The API operation (`HeadObject`, `GetRole`, `Decrypt`…), inferred;
    /// empty when unknown.
    pub operation: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

type Predicate = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// Which requests a rule applies to.
#[derive(Clone)]
pub enum Match {
    Any,
    /// The signing service: `s3`, `kms`, `iam`, `sts`, `organizations`.
    Service(String),
    /// The API operation name, as [`Request::operation`] infers it.
    Operation(String),
    /// A substring of the path and query.
    PathContains(String),
    Custom(Predicate),
}

impl Match {
    pub fn any() -> Match {
        Match::Any
    }
    pub fn service(s: &str) -> Match {
        Match::Service(s.to_string())
    }
    pub fn operation(op: &str) -> Match {
        Match::Operation(op.to_string())
    }
    pub fn path_contains(s: &str) -> Match {
        Match::PathContains(s.to_string())
    }
    pub fn custom(f: impl Fn(&Request) -> bool + Send + Sync + 'static) -> Match {
        Match::Custom(Arc::new(f))
    }
    fn matches(&self, r: &Request) -> bool {
        match self {
            Match::Any => true,
            Match::Service(s) => r.service.eq_ignore_ascii_case(s),
            Match::Operation(op) => r.operation == *op,
            Match::PathContains(s) => r.target.contains(s.as_str()),
            Match::Custom(f) => f(r),
        }
    }
}

impl std::fmt::Debug for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Match::Any => write!(f, "Any"),
            Match::Service(s) => write!(f, "Service({s})"),
            Match::Operation(s) => write!(f, "Operation({s})"),
            Match::PathContains(s) => write!(f, "PathContains({s})"),
            Match::Custom(_) => write!(f, "Custom"),
        }
    }
}

/// What the proxy does instead of (or on top of) forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 503 with S3's `SlowDown` XML error body.
    SlowDown,
    /// 500 `InternalError` (S3), `KMSInternalException` (KMS),
    /// `InternalFailure` (IAM, STS, others), in the service's error format.
    InternalError,
    /// The service's own throttling answer: S3 503 `SlowDown`; KMS 400
    /// `ThrottlingException` (JSON); Organizations 400
    /// `TooManyRequestsException` (JSON); IAM and STS 400 `Throttling` (query
    /// XML, the code AWS sends for them).
    Throttle,
    /// Any status with an error code, in the service's error format.
    Status(u16, String),
    /// Read the request, then reset the connection (RST, no answer).
    Reset,
    /// Read the request and never answer (until the proxy is dropped).
    Hang,
    /// Forward, but send only half of the body the headers announce, then
    /// close the connection.
    Truncate,
    /// Forward after this much more delay.
    Delay(Duration),
}

#[derive(Debug, Clone)]
struct Rule {
    when: Match,
    fault: Fault,
    times: Times,
    used: usize,
}

/// Per-request behaviour: a latency added to every round trip, and fault
/// rules tried in order (the first live matching rule wins).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    latency: Duration,
    rules: Vec<Rule>,
}

impl Plan {
    /// Forward everything unchanged.
    pub fn pass() -> Plan {
        Plan::default()
    }
    /// Add `d` to every round trip (before the request goes upstream; faults
    /// are delayed too).
    pub fn latency(d: Duration) -> Plan {
        Plan {
            latency: d,
            rules: Vec::new(),
        }
    }
    pub fn with_latency(mut self, d: Duration) -> Plan {
        self.latency = d;
        self
    }
    /// Answer the requests `when` matches with `fault`, `times` times.
    pub fn fault(mut self, when: Match, fault: Fault, times: Times) -> Plan {
        self.rules.push(Rule {
            when,
            fault,
            times,
            used: 0,
        });
        self
    }

    /// The fault for this request, spending one use of its rule.
    fn take(&mut self, r: &Request) -> Option<Fault> {
        for rule in &mut self.rules {
            let live = match rule.times {
                Times::First(n) => rule.used < n,
                Times::Every => true,
            };
            if live && rule.when.matches(r) {
                rule.used += 1;
                return Some(rule.fault.clone());
            }
        }
        None
    }
}

/// One request the proxy handled.
#[derive(Debug, Clone)]
pub struct Seen {
    pub service: String,
    pub operation: String,
    pub method: String,
    pub target: String,
    pub fault: Option<Fault>,
    /// HTTP status sent back (None: reset, hang or upstream failure).
    pub status: Option<u16>,
    /// When the request was read, relative to the proxy's start.
    pub start: Duration,
    /// From the request read to the answer written (the added latency
    /// included).
    pub round_trip: Duration,
}

struct Shared {
    upstream: u16,
    plan: Mutex<Plan>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    started: Instant,
}

/// A running proxy; dropped, it stops (open connections are cut).
pub struct Proxy {
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Arc<Shared>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    /// Listen on a free 127.0.0.1 port and forward to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16, plan: Plan) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xacct-test-proxy")
            .enable_all()
            .build()
            .expect("the proxy's runtime");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = std_listener.local_addr().expect("its address").port();
        std_listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let shared = Arc::new(Shared {
            upstream,
            plan: Mutex::new(plan),
            seen: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            started: Instant::now(),
        });
        let s = shared.clone();
        rt.spawn(async move {
            let listener = TcpListener::from_std(std_listener).expect("a tokio listener");
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let _ = conn.set_nodelay(true);
                tokio::spawn(serve(conn, s.clone()));
            }
        });
        Proxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
            rt: Some(rt),
        }
    }

    /// Replace the plan (rules start unused).
    pub fn set_plan(&self, plan: Plan) {
        *lock(&self.shared.plan) = plan;
    }

    /// Every request handled so far, in the order they were answered.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// Forget the requests seen so far and the in-flight high-water mark.
    pub fn clear(&self) {
        lock(&self.shared.seen).clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// How many requests were handled.
    pub fn count(&self) -> usize {
        lock(&self.shared.seen).len()
    }

    /// How many of them had this operation name.
    pub fn count_op(&self, op: &str) -> usize {
        lock(&self.shared.seen)
            .iter()
            .filter(|s| s.operation == op)
            .count()
    }

    /// The most requests in flight at once since the start (or `clear`).
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One client connection: requests in turn (keep-alive) until it closes.
async fn serve(conn: TcpStream, shared: Arc<Shared>) {
    let (rd, mut wr) = conn.into_split();
    let mut rd = BufReader::new(rd);
    loop {
        let head = match read_head(&mut rd).await {
            Ok(Some(h)) => h,
            _ => return,
        };
        let t0 = Instant::now();
        let Some((method, target)) = request_line(&head.first) else {
            return;
        };
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && wr
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
        {
            return;
        }
        let Ok(body) = read_body(&mut rd, &head, false).await else {
            return;
        };
        let mut req = Request {
            method,
            target,
            headers: head.headers,
            body,
            service: String::new(),
            operation: String::new(),
        };
        req.service = service_of(&req);
        req.operation = operation_of(&req);
        let close_after = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));

        let n = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(n, Ordering::SeqCst);
        let (latency, fault) = {
            let mut plan = lock(&shared.plan);
            (plan.latency, plan.take(&req))
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let reply = reply(&req, fault.clone(), shared.upstream).await;
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        // recorded before it is written: whoever reads the answer sees the call
        lock(&shared.seen).push(Seen {
            service: req.service.clone(),
            operation: req.operation.clone(),
            method: req.method.clone(),
            target: req.target.clone(),
            fault,
            status: match &reply {
                Reply::Answer { resp, .. } => Some(resp.status),
                Reply::Reset | Reply::Hang => None,
            },
            start: t0.duration_since(shared.started),
            round_trip: t0.elapsed(),
        });
        let head_request = req.method == "HEAD";
        match reply {
            Reply::Answer { resp, truncate } => {
                let written = write_response(&mut wr, &resp, head_request, truncate).await;
                if written.is_err() || truncate || close_after {
                    let _ = wr.shutdown().await;
                    return;
                }
            }
            Reply::Reset => {
                // SO_LINGER 0 turns the close into a RST
                let _ = wr.as_ref().set_zero_linger();
                return;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
                return;
            }
        }
    }
}

enum Reply {
    Answer { resp: Response, truncate: bool },
    Reset,
    Hang,
}

/// The wire protocol of the request's service, for its error bodies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// S3: XML `<Error>`.
    RestXml,
    /// KMS, Organizations: JSON with `__type`.
    Json,
    /// IAM, STS: XML `<ErrorResponse>`.
    Query,
}

fn protocol(req: &Request) -> Protocol {
    if req.header("x-amz-target").is_some()
        || req
            .header("content-type")
            .is_some_and(|c| c.contains("amz-json"))
    {
        Protocol::Json
    } else if matches!(req.service.as_str(), "iam" | "sts")
        || String::from_utf8_lossy(&req.body).starts_with("Action=")
    {
        Protocol::Query
    } else {
        Protocol::RestXml
    }
}

async fn reply(req: &Request, fault: Option<Fault>, upstream: u16) -> Reply {
    let answer = |resp: Response| Reply::Answer {
        resp,
        truncate: false,
    };
    let proto = protocol(req);
    match fault {
        None | Some(Fault::Delay(_)) | Some(Fault::Truncate) => {
            if let Some(Fault::Delay(d)) = fault {
                tokio::time::sleep(d).await;
            }
            match forward(req, upstream).await {
                Ok(resp) => Reply::Answer {
                    resp,
                    truncate: fault == Some(Fault::Truncate),
                },
                Err(e) => answer(error_response(
                    proto,
                    502,
                    "BadGateway",
                    &format!("the test proxy could not reach its upstream: {e}"),
                )),
            }
        }
        Some(Fault::Reset) => Reply::Reset,
        Some(Fault::Hang) => Reply::Hang,
        Some(Fault::SlowDown) => answer(error_response(
            Protocol::RestXml,
            503,
            "SlowDown",
            "Please reduce your request rate.",
        )),
        Some(Fault::InternalError) => {
            let code = match (proto, req.service.as_str()) {
                (Protocol::RestXml, _) => "InternalError",
                (_, "kms") => "KMSInternalException",
                _ => "InternalFailure",
            };
            answer(error_response(
                proto,
                500,
                code,
                "We encountered an internal error. Please try again.",
            ))
        }
        Some(Fault::Throttle) => answer(match (proto, req.service.as_str()) {
            (Protocol::RestXml, _) => {
                error_response(proto, 503, "SlowDown", "Please reduce your request rate.")
            }
            (_, "organizations") => {
                error_response(proto, 400, "TooManyRequestsException", "Rate exceeded")
            }
            (Protocol::Json, _) => {
                error_response(proto, 400, "ThrottlingException", "Rate exceeded")
            }
            (Protocol::Query, _) => error_response(proto, 400, "Throttling", "Rate exceeded"),
        }),
        Some(Fault::Status(status, code)) => answer(error_response(
            proto,
            status,
            &code,
            "injected by the test proxy",
        )),
    }
}

struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The start line and headers; `None` at a clean end of stream.
async fn read_head<R: AsyncBufRead + Unpin>(rd: &mut R) -> std::io::Result<Option<Head>> {
    let mut first = String::new();
    loop {
        first.clear();
        if rd.read_line(&mut first).await? == 0 {
            return Ok(None);
        }
        if !first.trim().is_empty() {
            break;
        }
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Some(Head {
        first: first.trim_end().to_string(),
        headers,
    }))
}

fn request_line(first: &str) -> Option<(String, String)> {
    let mut parts = first.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    Some((method, target))
}

/// A message body: chunked, by Content-Length, or (responses only) to EOF.
async fn read_body<R: AsyncBufRead + Unpin>(
    rd: &mut R,
    head: &Head,
    response_to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            if rd.read_line(&mut size_line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let hex = size_line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if size == 0 {
                // trailers, up to the empty line
                loop {
                    let mut t = String::new();
                    if rd.read_line(&mut t).await? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                return Ok(body);
            }
            let at = body.len();
            body.resize(at + size, 0);
            rd.read_exact(&mut body[at..]).await?;
            let mut crlf = [0u8; 2];
            rd.read_exact(&mut crlf).await?;
        }
    }
    if let Some(n) = head.header("content-length") {
        let n: usize = n
            .parse()
            .map_err(|_| std::io::Error::other("bad Content-Length"))?;
        let mut body = vec![0u8; n];
        rd.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    if response_to_eof {
        rd.read_to_end(&mut body).await?;
    }
    Ok(body)
}

struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Send the request to the upstream on a connection of its own.
async fn forward(req: &Request, upstream: u16) -> std::io::Result<Response> {
    let conn = TcpStream::connect(("127.0.0.1", upstream)).await?;
    let _ = conn.set_nodelay(true);
    let (rd, mut wr) = conn.into_split();
    let mut out = format!("{} {} HTTP/1.1\r\n", req.method, req.target).into_bytes();
    for (k, v) in &req.headers {
        let lk = k.to_ascii_lowercase();
        if matches!(
            lk.as_str(),
            "connection" | "transfer-encoding" | "content-length" | "expect" | "keep-alive"
        ) {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    // the body was de-chunked: send it with its length
    let has_body = !req.body.is_empty()
        || req.header("content-length").is_some()
        || req.header("transfer-encoding").is_some();
    if has_body {
        out.extend_from_slice(format!("Content-Length: {}\r\n", req.body.len()).as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&req.body);
    wr.write_all(&out).await?;
    let mut rd = BufReader::new(rd);
    loop {
        let Some(head) = read_head(&mut rd).await? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        let mut parts = head.first.splitn(3, ' ');
        let _version = parts.next();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {:?}", head.first)))?;
        let reason = parts.next().unwrap_or("").to_string();
        if (100..200).contains(&status) {
            continue;
        }
        let no_body = req.method == "HEAD" || status == 204 || status == 304;
        let body = if no_body {
            Vec::new()
        } else {
            read_body(&mut rd, &head, true).await?
        };
        let headers = head
            .headers
            .into_iter()
            .filter(|(k, _)| {
                !matches!(
                    k.to_ascii_lowercase().as_str(),
                    "connection" | "transfer-encoding" | "keep-alive"
                )
            })
            .collect();
        return Ok(Response {
            status,
            reason,
            headers,
            body,
        });
    }
}

/// Write a response with its Content-Length (a HEAD answer keeps the
/// upstream's). `truncate`: only half the body, then the caller closes.
async fn write_response(
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    resp: &Response,
    head_request: bool,
    truncate: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason).into_bytes();
    let upstream_length = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.clone());
    for (k, v) in &resp.headers {
        if k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let length = if head_request {
        upstream_length.unwrap_or_else(|| "0".into())
    } else {
        resp.body.len().to_string()
    };
    out.extend_from_slice(format!("Content-Length: {length}\r\n").as_bytes());
    if truncate {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_request {
        let n = if truncate {
            resp.body.len() / 2
        } else {
            resp.body.len()
        };
        out.extend_from_slice(&resp.body[..n]);
    }
    wr.write_all(&out).await?;
    wr.flush().await
}

fn reason_of(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// An error in the protocol of the request's service.
fn error_response(proto: Protocol, status: u16, code: &str, message: &str) -> Response {
    let (content_type, body) = match proto {
        Protocol::RestXml => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>XACCTPROXY</RequestId><HostId>xacct-test-proxy</HostId></Error>"
            ),
        ),
        Protocol::Json => (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        ),
        Protocol::Query => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>XACCTPROXY</RequestId></ErrorResponse>",
                if status >= 500 { "Receiver" } else { "Sender" }
            ),
        ),
    };
    let mut headers = vec![
        ("Content-Type".to_string(), content_type.to_string()),
        ("x-amz-request-id".to_string(), "XACCTPROXY".to_string()),
        ("x-amzn-RequestId".to_string(), "XACCTPROXY".to_string()),
    ];
    if proto == Protocol::Json {
        headers.push(("x-amzn-ErrorType".to_string(), code.to_string()));
    }
    Response {
        status,
        reason: reason_of(status).into(),
        headers,
        body: body.into_bytes(),
    }
}

/// The service in the SigV4 credential scope:
/// `Credential=AKID/20260101/us-west-2/s3/aws4_request`.
fn service_of(req: &Request) -> String {
    req.header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split(',').next())
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
        .to_string()
}

fn query_has(query: &str, name: &str) -> bool {
    query
        .split('&')
        .any(|p| p.split('=').next().is_some_and(|k| k == name))
}

fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The operation: `X-Amz-Target` (JSON services), `Action=` (query
/// services), else S3's REST shape (path-style requests).
fn operation_of(req: &Request) -> String {
    if let Some(t) = req.header("x-amz-target") {
        return t.rsplit('.').next().unwrap_or(t).to_string();
    }
    let body = String::from_utf8_lossy(&req.body);
    if let Some(a) = query_value(&body, "Action").or_else(|| query_value(req.query(), "Action")) {
        return a.to_string();
    }
    if req.service != "s3" && !req.service.is_empty() {
        return String::new();
    }
    s3_operation(req)
}

fn s3_operation(req: &Request) -> String {
    let q = req.query();
    if let Some(op) = query_value(q, "x-id") {
        return op.to_string();
    }
    let path = req.path().trim_start_matches('/');
    let has_key = path.split_once('/').is_some_and(|(_, k)| !k.is_empty());
    let bucket_sub = [
        ("policy", "BucketPolicy"),
        ("encryption", "BucketEncryption"),
        ("ownershipControls", "BucketOwnershipControls"),
        ("publicAccessBlock", "PublicAccessBlock"),
        ("requestPayment", "BucketRequestPayment"),
        ("acl", "BucketAcl"),
        ("location", "BucketLocation"),
        ("versioning", "BucketVersioning"),
        ("tagging", "BucketTagging"),
    ];
    match req.method.as_str() {
        "HEAD" if has_key => "HeadObject".to_string(),
        "HEAD" => "HeadBucket".to_string(),
        "GET" if path.is_empty() => "ListBuckets".to_string(),
        "GET" if query_has(q, "list-type") => "ListObjectsV2".to_string(),
        "GET" if has_key && query_has(q, "acl") => "GetObjectAcl".to_string(),
        "GET" if has_key => "GetObject".to_string(),
        "PUT" if has_key && req.header("x-amz-copy-source").is_some() => "CopyObject".to_string(),
        "PUT" if has_key && query_has(q, "uploadId") => "UploadPart".to_string(),
        "PUT" if has_key => "PutObject".to_string(),
        "POST" if query_has(q, "uploads") => "CreateMultipartUpload".to_string(),
        "POST" if query_has(q, "uploadId") => "CompleteMultipartUpload".to_string(),
        "POST" if query_has(q, "delete") => "DeleteObjects".to_string(),
        "DELETE" if query_has(q, "uploadId") => "AbortMultipartUpload".to_string(),
        "DELETE" if has_key => "DeleteObject".to_string(),
        m => {
            let verb = match m {
                "GET" => "Get",
                "PUT" => "Put",
                "DELETE" => "Delete",
                _ => return String::new(),
            };
            match bucket_sub.iter().find(|(sub, _)| query_has(q, sub)) {
                // GetPublicAccessBlock has no "Bucket" in its name
                Some((_, name)) => format!("{verb}{name}"),
                None if m == "GET" => "ListObjects".to_string(),
                None if m == "PUT" => "CreateBucket".to_string(),
                None => "DeleteBucket".to_string(),
            }
        }
    }
}
