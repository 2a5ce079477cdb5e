//! A model server for tests: real HTTP on 127.0.0.1 (random port) speaking both the
//! OpenAI chat-completions and the Anthropic messages protocol, answering from a script.
//!
//! Its default "model" reads the chunk like the real one would be asked to, with a few
//! fixed patterns ("I live in X", "I no longer live in X" (ended), "I work as a X",
//! "I have a dog named X", "I love X"),
//! citing the conversation label the sentence is under; its default reduce merges a
//! statement into a longer one that starts with it. It counts requests, requests in
//! flight (and the most at once), and tokens (4 characters each, reported as `usage`).
#![allow(dead_code)]

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use regex::Regex;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Openai,
    Anthropic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Map,
    Reduce,
}

/// One request as the script sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// 1 for the first request the server received.
    pub n: usize,
    pub api: Api,
    pub kind: Kind,
    /// The user message: the chunk (map) or the numbered facts (reduce).
    pub input: String,
    pub body: Value,
    /// The body as sent, for what parsing loses (key order).
    pub raw: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The fake model's own answer (map: pattern facts; reduce: prefix merges).
    Model,
    /// This JSON as the answer (OpenAI: content text; Anthropic: tool input).
    Json(Value),
    /// This text as the answer (OpenAI: content; Anthropic: a text block).
    Text(String),
    /// This text, marked as stopped at the output token limit.
    Truncated(String),
    /// An HTTP error.
    Status {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
    /// Never answers.
    Hang,
}

pub type Script = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Counters, for assertions.
#[derive(Default)]
pub struct Counters {
    pub requests: AtomicUsize,
    pub map_requests: AtomicUsize,
    pub reduce_requests: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub input_tokens: AtomicU64,
    pub output_tokens: AtomicU64,
    pub requests_seen: Mutex<Vec<Request>>,
}

struct ServerState {
    script: Script,
    latency: Duration,
    counters: Arc<Counters>,
}

pub struct FakeLlm {
    pub addr: std::net::SocketAddr,
    pub counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

struct InFlight(Arc<Counters>);

impl InFlight {
    fn enter(counters: &Arc<Counters>) -> InFlight {
        let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(counters.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FakeLlm {
    pub async fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeLlm {
        FakeLlm::with_latency(Duration::ZERO, script).await
    }

    /// Every answer waits `latency` first (so concurrent requests overlap).
    pub async fn with_latency(
        latency: Duration,
        script: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> FakeLlm {
        let counters = Arc::new(Counters::default());
        let state = Arc::new(ServerState {
            script: Arc::new(script),
            latency,
            counters: counters.clone(),
        });
        let app = axum::Router::new()
            .route(
                "/v1/chat/completions",
                post(|s: State<Arc<ServerState>>, h: HeaderMap, b: Bytes| {
                    handle(Api::Openai, s, h, b)
                }),
            )
            .route(
                "/v1/messages",
                post(|s: State<Arc<ServerState>>, h: HeaderMap, b: Bytes| {
                    handle(Api::Anthropic, s, h, b)
                }),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm {
            addr,
            counters,
            task,
        }
    }

    /// The base URL as fullpass is configured with it.
    pub fn base_url(&self, api: Api) -> String {
        match api {
            Api::Openai => format!("http://{}/v1", self.addr),
            Api::Anthropic => format!("http://{}", self.addr),
        }
    }

    pub fn requests(&self) -> usize {
        self.counters.requests.load(Ordering::SeqCst)
    }

    pub fn map_requests(&self) -> usize {
        self.counters.map_requests.load(Ordering::SeqCst)
    }

    pub fn reduce_requests(&self) -> usize {
        self.counters.reduce_requests.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.counters.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn tokens(&self) -> (u64, u64) {
        (
            self.counters.input_tokens.load(Ordering::SeqCst),
            self.counters.output_tokens.load(Ordering::SeqCst),
        )
    }

    pub fn seen(&self) -> Vec<Request> {
        self.counters.requests_seen.lock().unwrap().clone()
    }
}

async fn handle(
    api: Api,
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let counters = &state.counters;
    let _in_flight = InFlight::enter(counters);
    let n = counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let raw = String::from_utf8_lossy(&body).into_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (system, input) = match api {
        Api::Openai => (
            body["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            body["messages"][1]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        ),
        Api::Anthropic => (
            body["system"][0]["text"].as_str().unwrap_or("").to_owned(),
            body["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        ),
    };
    let kind = if input.starts_with("Facts:") {
        counters.reduce_requests.fetch_add(1, Ordering::SeqCst);
        Kind::Reduce
    } else {
        counters.map_requests.fetch_add(1, Ordering::SeqCst);
        Kind::Map
    };
    let request = Request {
        n,
        api,
        kind,
        input: input.clone(),
        body: body.clone(),
        raw,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
    };
    counters.requests_seen.lock().unwrap().push(request.clone());
    let reply = (state.script)(&request);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    let (answer, truncated) = match reply {
        Reply::Hang => std::future::pending().await,
        Reply::Status {
            status,
            body,
            retry_after,
        } => {
            let mut response = Response::builder()
                .status(status)
                .header("content-type", "application/json");
            if let Some(after) = retry_after {
                response = response.header("retry-after", after);
            }
            return response.body(Body::from(body)).unwrap();
        }
        Reply::Model => match kind {
            Kind::Map => (Answer::Json(model_facts(&input)), false),
            Kind::Reduce => (Answer::Json(model_decisions(&input)), false),
        },
        Reply::Json(v) => (Answer::Json(v), false),
        Reply::Text(t) => (Answer::Text(t), false),
        Reply::Truncated(t) => (Answer::Text(t), true),
    };
    let input_tokens = tokens(&system) + tokens(&input);
    let answer_text = match &answer {
        Answer::Json(v) => v.to_string(),
        Answer::Text(t) => t.clone(),
    };
    let output_tokens = tokens(&answer_text);
    counters
        .input_tokens
        .fetch_add(input_tokens, Ordering::SeqCst);
    counters
        .output_tokens
        .fetch_add(output_tokens, Ordering::SeqCst);
    let envelope = match api {
        Api::Openai => json!({
            "id": format!("chatcmpl-{n}"),
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer_text},
                "finish_reason": if truncated { "length" } else { "stop" },
            }],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }),
        Api::Anthropic => {
            let tool = body["tool_choice"]["name"].clone();
            let content = match answer {
                Answer::Json(v) => {
                    json!([{"type": "tool_use", "id": "toolu_1", "name": tool, "input": v}])
                }
                Answer::Text(t) => json!([{"type": "text", "text": t}]),
            };
            json!({
                "id": format!("msg_{n}"),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": if truncated { "max_tokens" } else { "tool_use" },
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            })
        }
    };
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(envelope.to_string()))
        .unwrap()
}

enum Answer {
    Json(Value),
    Text(String),
}

/// The fake model's map answer: pattern facts, each citing the label it appears under.
pub fn model_facts(chunk: &str) -> Value {
    let patterns: [(Regex, &str, Option<&str>, &str); 5] = [
        (
            Regex::new(r"I no longer live in ([A-Z][a-z]+)").unwrap(),
            "location",
            Some("home"),
            "Lives in ",
        ),
        (
            Regex::new(r"I live in ([A-Z][a-z]+)").unwrap(),
            "location",
            Some("home"),
            "Lives in ",
        ),
        (
            Regex::new(r"I work as an? ([a-z]+(?: [a-z]+)?)").unwrap(),
            "work",
            Some("job"),
            "Works as a ",
        ),
        (
            Regex::new(r"I have a dog named ([A-Z][a-z0-9]+)").unwrap(),
            "pets",
            None,
            "Has a dog named ",
        ),
        (
            Regex::new(r"I love ([a-z0-9]+(?: [a-z0-9]+)*)").unwrap(),
            "interests",
            None,
            "Loves ",
        ),
    ];
    let mut label = String::new();
    let mut facts = Vec::new();
    for line in chunk.lines() {
        if let Some(header) = line.strip_prefix("## ") {
            label = header.split(" | ").next().unwrap_or("").to_owned();
            continue;
        }
        if line.starts_with("[assistant") {
            continue;
        }
        for (re, category, slot, prefix) in &patterns {
            for caps in re.captures_iter(line) {
                facts.push(json!({
                    "category": category,
                    "slot": slot,
                    "statement": format!("{prefix}{}", &caps[1]),
                    "conversations": [label],
                    "ended": caps[0].contains("no longer"),
                }));
            }
        }
    }
    json!({ "facts": facts })
}

/// The fake model's reduce answer: a statement that starts another one of the same
/// category is merged into it; same-slot facts are superseded by the newest.
pub fn model_decisions(input: &str) -> Value {
    let facts: Vec<Value> = input
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut decisions = Vec::new();
    for a in &facts {
        let a_text = a["statement"].as_str().unwrap_or("").to_lowercase();
        for b in &facts {
            let b_text = b["statement"].as_str().unwrap_or("").to_lowercase();
            if a["id"] == b["id"] || a["category"] != b["category"] {
                continue;
            }
            if b_text.starts_with(&a_text) && b_text.len() > a_text.len() {
                decisions.push(json!({"id": a["id"], "action": "merge", "target": b["id"]}));
                break;
            }
            if !a["slot"].is_null()
                && a["slot"] == b["slot"]
                && a["last_seen"].as_str() < b["last_seen"].as_str()
            {
                decisions.push(json!({"id": a["id"], "action": "supersede", "target": b["id"]}));
                break;
            }
        }
    }
    json!({ "decisions": decisions })
}
