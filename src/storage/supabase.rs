use super::{ExportStream, StorageError, StoragePath};
use futures_util::TryStreamExt;
use std::time::Duration;

/// Most of an error answer's body that is read: Supabase's are small JSON
/// documents, and a server sending more must not grow the daemon's memory.
const ERROR_BODY_BYTES: usize = 64 << 10;

/// Characters left as they are in a path segment; everything else is percent-encoded.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn encode_segment(segment: &str, out: &mut String) {
    for &b in segment.as_bytes() {
        if is_unreserved(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Supabase Storage over HTTP: `GET /storage/v1/object/{bucket}/{path}` with the service key.
#[derive(Clone)]
pub struct SupabaseStorage {
    base_url: String,
    key: String,
    client: reqwest::Client,
    read_timeout: Duration,
}

impl std::fmt::Debug for SupabaseStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseStorage")
            .field("base_url", &self.base_url)
            .field("key", &"***")
            .finish()
    }
}

impl SupabaseStorage {
    /// `read_timeout` bounds each wait for more body bytes, so a stalled
    /// transfer fails instead of hanging the job.
    pub fn new(
        base_url: &str,
        key: &str,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Result<SupabaseStorage, reqwest::Error> {
        // Redirects are never followed: the key travels in headers that would
        // go along to wherever the redirect points.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .read_timeout(read_timeout)
            .user_agent(concat!("fullpass/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(SupabaseStorage {
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            client,
            read_timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn object_url(&self, path: &StoragePath) -> String {
        let mut url = format!("{}/storage/v1/object", self.base_url);
        for segment in path.segments() {
            url.push('/');
            encode_segment(segment, &mut url);
        }
        url
    }

    pub async fn open(&self, path: &StoragePath) -> Result<ExportStream, StorageError> {
        self.request(path).await.map_err(|e| e.scrubbed(&self.key))
    }

    async fn request(&self, path: &StoragePath) -> Result<ExportStream, StorageError> {
        let network = |e: reqwest::Error| StorageError::Network {
            path: path.to_string(),
            message: crate::net::describe_http_error(&e),
        };
        let response = self
            .client
            .get(self.object_url(path))
            .bearer_auth(&self.key)
            .header("apikey", &self.key)
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(StorageError::Http {
                path: path.to_string(),
                status,
                message: "storage answered with a redirect, which is not followed \
                          (the service key is only ever sent to SUPABASE_URL)"
                    .to_owned(),
            });
        }
        if !response.status().is_success() {
            let body = read_error_body(response, self.read_timeout).await;
            return Err(classify_error(path, status, &body));
        }
        let size = response.content_length();
        let stream = response
            .bytes_stream()
            .map_err(|e| std::io::Error::other(crate::net::describe_http_error(&e)));
        Ok(ExportStream {
            size,
            body: Box::pin(tokio_util::io::StreamReader::new(stream)),
        })
    }
}

/// The start of an error answer's body: at most [`ERROR_BODY_BYTES`], read for
/// at most `limit` in all, whatever the server keeps sending.
async fn read_error_body(mut response: reqwest::Response, limit: Duration) -> String {
    let mut body = Vec::new();
    let read = async {
        while body.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = ERROR_BODY_BYTES - body.len();
                    body.extend_from_slice(chunk.get(..room).unwrap_or(&chunk));
                }
                Ok(None) | Err(_) => break,
            }
        }
    };
    // Whatever arrived in time is enough to explain the error.
    let _ = tokio::time::timeout(limit, read).await;
    String::from_utf8_lossy(&body).into_owned()
}

/// Supabase answers a missing object with HTTP 400 and `"statusCode":"404"` in the body.
fn classify_error(path: &StoragePath, status: u16, body: &str) -> StorageError {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        parsed.as_ref().and_then(|v| match v.get(name) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let inner_status = field("statusCode");
    let message = field("message")
        .or_else(|| field("error"))
        .unwrap_or_else(|| body.chars().take(200).collect::<String>().trim().to_owned());
    let not_found = status == 404
        || inner_status.as_deref() == Some("404")
        || field("error").as_deref() == Some("not_found");
    if not_found {
        return StorageError::NotFound(path.to_string());
    }
    let path = path.to_string();
    match status {
        401 | 403 => StorageError::Denied {
            path,
            status,
            message,
        },
        _ => StorageError::Http {
            path,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_segments() {
        let s = SupabaseStorage::new(
            "http://h/",
            "k",
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .unwrap();
        let p = StoragePath::parse("imports/u 1/a?b#c%2e.json.gz").unwrap();
        assert_eq!(
            s.object_url(&p),
            "http://h/storage/v1/object/imports/u%201/a%3Fb%23c%252e.json.gz"
        );
    }

    #[test]
    fn supabase_400_with_404_body_is_not_found() {
        let p = StoragePath::parse("b/x").unwrap();
        let e = classify_error(
            &p,
            400,
            r#"{"statusCode":"404","error":"not_found","message":"Object not found"}"#,
        );
        assert!(matches!(e, StorageError::NotFound(_)));
        let e = classify_error(&p, 503, "upstream down");
        assert!(e.is_transient());
        let e = classify_error(
            &p,
            403,
            r#"{"statusCode":"403","message":"invalid signature"}"#,
        );
        assert!(!e.is_transient());
    }
}
