//! Network failures, described for error messages and logs.

/// What went wrong with an HTTP request, with its whole chain of causes
/// (reqwest's own message alone often hides the reason, e.g. "connection refused").
/// URLs appear in it; keys never do, since they travel in headers.
pub fn describe_http_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "reading the answer failed"
    } else {
        "request failed"
    };
    let mut message = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    message
}
