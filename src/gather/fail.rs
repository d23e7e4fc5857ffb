//! Turning an SDK error into data: the error code and message a marker or a
//! probe records, and whether it means the network or the credentials failed.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::snapshot::model::{Outcome, Unreadable};

/// What went wrong with one call.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
    /// `x-amz-bucket-region`, which S3 sends even with a 403 or a redirect.
    pub bucket_region: Option<String>,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// AWS answered with an error.
    Service,
    /// The request never got an answer: connection refused, DNS, TLS.
    Network,
    Timeout,
    /// Credentials could not be loaded, or the request could not be built.
    Client,
}

/// Codes that say the credentials themselves are unusable.
pub fn is_credential_code(code: &str) -> bool {
    matches!(
        code,
        "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "InvalidToken"
            | "AuthFailure"
            | "RequestExpired"
    )
}

fn code_of_status(status: u16) -> String {
    match status {
        301 => "PermanentRedirect".into(),
        400 => "BadRequest".into(),
        403 => "AccessDenied".into(),
        404 => "NotFound".into(),
        500 => "InternalError".into(),
        503 => "ServiceUnavailable".into(),
        s => format!("HTTP{s}"),
    }
}

/// One line, whatever the error says.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Failure {
    pub fn from_sdk<E>(e: &SdkError<E, Response>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = e.code().map(str::to_string);
        let message = e.message().map(one_line);
        match e {
            SdkError::ServiceError(se) => {
                let raw = se.raw();
                let status = raw.status().as_u16();
                Failure {
                    code: code
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| code_of_status(status)),
                    message: message.unwrap_or_default(),
                    status: Some(status),
                    bucket_region: raw.headers().get("x-amz-bucket-region").map(str::to_string),
                    kind: Kind::Service,
                }
            }
            SdkError::ResponseError(re) => {
                let raw = re.raw();
                let status = raw.status().as_u16();
                Failure {
                    // a body cut short or garbled on the way: a fault, not an
                    // answer (XA014 and the markers say so)
                    code: if status >= 500 {
                        code_of_status(status)
                    } else {
                        "IncompleteResponse".into()
                    },
                    // the cause only: the error's own rendering carries the
                    // whole raw response
                    message: format!(
                        "the response could not be read (HTTP {status}): {}",
                        std::error::Error::source(e)
                            .map(|c| one_line(&DisplayErrorContext(c).to_string()))
                            .unwrap_or_else(|| "no cause given".into())
                    ),
                    status: Some(status),
                    bucket_region: raw.headers().get("x-amz-bucket-region").map(str::to_string),
                    kind: Kind::Service,
                }
            }
            SdkError::DispatchFailure(df) => {
                // a connection reset or closed mid-answer is `io` or
                // `other` (hyper's IncompleteMessage); only the `user` kind
                // is xacct's own request that could not be sent
                let kind = if df.is_timeout() {
                    Kind::Timeout
                } else if df.is_user() {
                    Kind::Client
                } else if df.is_io() || df.is_other() {
                    Kind::Network
                } else {
                    Kind::Client
                };
                Failure {
                    code: match kind {
                        Kind::Network => "NetworkError".into(),
                        Kind::Timeout => "Timeout".into(),
                        _ => "ClientError".into(),
                    },
                    message: one_line(&DisplayErrorContext(e).to_string()),
                    status: None,
                    bucket_region: None,
                    kind,
                }
            }
            SdkError::TimeoutError(_) => Failure {
                code: "Timeout".into(),
                message: one_line(&DisplayErrorContext(e).to_string()),
                status: None,
                bucket_region: None,
                kind: Kind::Timeout,
            },
            _ => Failure {
                code: "ClientError".into(),
                message: one_line(&DisplayErrorContext(e).to_string()),
                status: None,
                bucket_region: None,
                kind: Kind::Client,
            },
        }
    }

    /// Rename the generic 404 a HEAD request gets (it has no body to name it).
    pub fn not_found_as(mut self, code: &str) -> Failure {
        if self.code == "NotFound" {
            self.code = code.to_string();
        }
        self
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }

    /// A fault, not an answer: the network, a timeout, a cut-short
    /// response, a 5xx or throttling (what the SDK retries). It says nothing
    /// about permissions.
    pub fn is_fault(&self) -> bool {
        let c = self.code.to_ascii_lowercase();
        matches!(self.kind, Kind::Network | Kind::Timeout)
            || self.status.is_some_and(|s| s >= 500)
            || c == "incompleteresponse"
            || c.contains("priorrequestnotcomplete")
            || self.is_throttling()
    }

    /// The service asked us to slow down (S3 `SlowDown`, throttling, a
    /// request-rate limit), as opposed to failing. S3 answers a HEAD
    /// request's SlowDown with a bare 503 (a HEAD response has no body to
    /// name it), so every 503 counts: slowing down is the right answer to an
    /// overloaded service too.
    pub fn is_throttling(&self) -> bool {
        let c = self.code.to_ascii_lowercase();
        self.status == Some(503)
            || ["throttl", "slowdown", "toomanyrequests", "limitexceeded"]
                .iter()
                .any(|k| c.contains(k))
    }

    pub fn marker(&self, call: &str) -> Unreadable {
        Unreadable {
            call: call.to_string(),
            error: self.code.clone(),
            message: self.message.clone(),
        }
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::Error {
            error: self.code.clone(),
            message: self.message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }

    #[test]
    fn head_requests_name_their_404() {
        let f = Failure {
            code: "NotFound".into(),
            message: String::new(),
            status: Some(404),
            bucket_region: None,
            kind: Kind::Service,
        };
        assert_eq!(f.not_found_as("NoSuchBucket").code, "NoSuchBucket");
        assert!(is_credential_code("ExpiredToken"));
        assert!(!is_credential_code("AccessDenied"));
    }
}
