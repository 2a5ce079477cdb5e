//! A Supabase-Storage-like HTTP server on loopback, with scripted failures.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does for one request to a path.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Serve the stored object (or Supabase's 400/"404" body if there is none).
    Serve,
    /// Answer with this status and a JSON error body.
    Status(u16),
    /// Send headers, then the body in `chunk`-byte pieces every `every`.
    Trickle { chunk: usize, every: Duration },
    /// Never answer.
    Hang,
    /// Answer with this status and a body that never ends.
    EndlessError(u16),
    /// Answer `302 Found` pointing at this URL.
    Redirect(String),
    /// Answer with this status and a message that repeats the request's
    /// `Authorization` and `apikey` headers, as a careless proxy might.
    EchoHeaders(u16),
}

#[derive(Default)]
struct Inner {
    objects: HashMap<String, Vec<u8>>,
    /// Per-path script, consumed one entry per request; `Serve` when empty.
    scripts: HashMap<String, VecDeque<Behaviour>>,
    /// Used when a path has no script.
    default: Option<Behaviour>,
    requests: HashMap<String, usize>,
    /// Every header value of every request, in order.
    header_values: Vec<String>,
}

#[derive(Clone)]
pub struct StorageServer {
    pub url: String,
    pub key: String,
    inner: Arc<Mutex<Inner>>,
}

impl StorageServer {
    pub async fn start() -> StorageServer {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let key = format!("service-key-{}", uuid::Uuid::new_v4().simple());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/storage/v1/object/{*path}", axum::routing::get(get_object))
            .with_state((inner.clone(), key.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StorageServer { url, key, inner }
    }

    /// Stores `bytes` at `bucket/path`.
    pub fn put(&self, path: &str, bytes: Vec<u8>) {
        self.inner
            .lock()
            .unwrap()
            .objects
            .insert(path.to_owned(), bytes);
    }

    /// Scripts the next requests to `path`.
    pub fn script(&self, path: &str, behaviours: Vec<Behaviour>) {
        self.inner
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_owned(), behaviours.into());
    }

    /// What every unscripted request gets (default: serve).
    pub fn set_default(&self, behaviour: Behaviour) {
        self.inner.lock().unwrap().default = Some(behaviour);
    }

    /// Every header value this server was sent.
    pub fn header_values(&self) -> Vec<String> {
        self.inner.lock().unwrap().header_values.clone()
    }

    /// Requests to any path.
    pub fn total_requests(&self) -> usize {
        self.inner.lock().unwrap().requests.values().sum()
    }

    pub fn requests(&self, path: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .requests
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Environment for a daemon using this server as its storage.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SUPABASE_URL", self.url.clone()),
            ("SUPABASE_SERVICE_ROLE_KEY", self.key.clone()),
        ]
    }
}

async fn get_object(
    State((inner, key)): State<(Arc<Mutex<Inner>>, String)>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {key}"));
    let (behaviour, object) = {
        let mut inner = inner.lock().unwrap();
        *inner.requests.entry(path.clone()).or_default() += 1;
        let values = headers
            .values()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        inner.header_values.extend(values);
        let scripted = inner.scripts.get_mut(&path).and_then(|s| s.pop_front());
        let behaviour = scripted
            .or_else(|| inner.default.clone())
            .unwrap_or(Behaviour::Serve);
        (behaviour, inner.objects.get(&path).cloned())
    };
    if !authorised {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"statusCode":"403","error":"Unauthorized","message":"invalid signature"}"#,
        )
            .into_response();
    }
    match behaviour {
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Behaviour::EndlessError(code) => {
            let chunk = bytes::Bytes::from(vec![b'x'; 16 << 10]);
            let stream = futures_util::stream::unfold(chunk, |chunk| async move {
                // Slow enough that a client reading it all only grows, never finishes.
                tokio::time::sleep(Duration::from_millis(5)).await;
                Some((Ok::<_, std::io::Error>(chunk.clone()), chunk))
            });
            Response::builder()
                .status(code)
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Behaviour::Redirect(to) => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", to)
            .body(Body::empty())
            .unwrap(),
        Behaviour::EchoHeaders(code) => {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let message = format!(
                "rejected request with authorization: {} and apikey: {}",
                header("authorization"),
                header("apikey")
            );
            (
                StatusCode::from_u16(code).unwrap(),
                serde_json::json!({ "statusCode": code.to_string(), "error": "echo", "message": message })
                    .to_string(),
            )
                .into_response()
        }
        Behaviour::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            format!(r#"{{"statusCode":"{code}","error":"scripted","message":"scripted failure {code}"}}"#),
        )
            .into_response(),
        Behaviour::Serve | Behaviour::Trickle { .. } => {
            let Some(bytes) = object else {
                // What Supabase really answers for a missing object.
                return (
                    StatusCode::BAD_REQUEST,
                    r#"{"statusCode":"404","error":"not_found","message":"Object not found"}"#,
                )
                    .into_response();
            };
            match behaviour {
                Behaviour::Trickle { chunk, every } => {
                    let pieces: Vec<Vec<u8>> = bytes.chunks(chunk.max(1)).map(|c| c.to_vec()).collect();
                    let stream = futures_util::stream::unfold(pieces.into_iter(), move |mut it| async move {
                        let next = it.next()?;
                        tokio::time::sleep(every).await;
                        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(next)), it))
                    });
                    Response::builder()
                        .header("content-length", bytes.len())
                        .body(Body::from_stream(stream))
                        .unwrap()
                }
                _ => Response::builder()
                    .header("content-length", bytes.len())
                    .body(Body::from(bytes))
                    .unwrap(),
            }
        }
    }
}
