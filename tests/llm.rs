//! The LLM extractor against a fake model server on 127.0.0.1 (real HTTP), and a real
//! PostgreSQL for checkpoints.

mod common;
#[path = "common/fake_llm.rs"]
mod fake_llm;

use chrono::{NaiveDate, TimeZone, Utc};
use fake_llm::{Api, FakeLlm, Kind, Reply, Request};
use fullpass::extract::{Category, Fact};
use fullpass::ingest::{Conversation, Message, Role, Sink};
use fullpass::llm::{
    ApiKey, ApiStyle, Checkpoints, ExtractRules, ExtractorKind, LlmArgs, LlmError, LlmExtractor,
    LlmUsage,
};
use regex::Regex;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "test-key-123";

/// The secret filter of these tests: API keys and `password: ...`.
struct TestRules {
    secret: Regex,
}

impl TestRules {
    fn new() -> Arc<TestRules> {
        Arc::new(TestRules {
            secret: Regex::new(r"sk-[A-Za-z0-9]{20,}|(?i:password:?\s*)\S+").unwrap(),
        })
    }
}

impl ExtractRules for TestRules {
    fn redact(&self, text: &str) -> String {
        self.secret.replace_all(text, "[redacted]").into_owned()
    }
    fn contains_secret(&self, text: &str) -> bool {
        self.secret.is_match(text)
    }
    /// Keeps every candidate, in a stable order: what is tested is what the LLM side did.
    fn consolidate(&self, mut candidates: Vec<Fact>) -> Vec<Fact> {
        candidates.sort_by(|a, b| (a.category, &a.value).cmp(&(b.category, &b.value)));
        candidates
    }
}

fn args(api: ApiStyle, base_url: String) -> LlmArgs {
    LlmArgs {
        extractor: ExtractorKind::Llm,
        llm_api: api,
        llm_base_url: Some(base_url),
        llm_api_key: Some(ApiKey::new(KEY)),
        llm_model: Some("test-model".to_owned()),
        llm_concurrency: 3,
        llm_timeout: Duration::from_secs(10),
        llm_max_output_tokens: 1000,
        llm_job_token_budget: 1_000_000,
        llm_chunk_tokens: 2000,
        llm_max_retries: 5,
        llm_retry_base: Duration::from_millis(10),
        llm_retry_max: Duration::from_secs(2),
        llm_reduce_batch: 150,
    }
}

fn extractor(args: LlmArgs) -> LlmExtractor {
    LlmExtractor::new(args.validate().unwrap(), TestRules::new()).unwrap()
}

fn openai(server: &FakeLlm) -> LlmArgs {
    args(ApiStyle::Openai, server.base_url(Api::Openai))
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 4, d).unwrap()
}

/// A conversation on 2024-04-`d` whose user says each of `said`, after a short assistant reply.
fn conversation(id: &str, d: u32, said: &[&str]) -> Conversation {
    let time = Utc.with_ymd_and_hms(2024, 4, d, 9, 0, 0).single();
    let mut messages = Vec::new();
    for text in said {
        messages.push(Message {
            role: Role::User,
            text: (*text).to_owned(),
            time,
        });
        messages.push(Message {
            role: Role::Assistant,
            text: "Thanks for telling me. Anything else?".to_owned(),
            time,
        });
    }
    Conversation {
        id: id.to_owned(),
        title: Some(format!("Chat {id}")),
        messages,
        ..Conversation::default()
    }
}

/// Feeds `conversations` through the collector on a blocking thread, as ingest does,
/// and runs the extractor. Returns its result and what it spent.
async fn extract(
    extractor: &LlmExtractor,
    conversations: Vec<Conversation>,
    checkpoints: Option<Checkpoints<'_>>,
) -> (Result<Vec<Fact>, LlmError>, LlmUsage) {
    let (mut collector, chunks) = extractor.collector();
    let feeder = tokio::task::spawn_blocking(move || {
        for c in conversations {
            if collector.conversation(c).is_err() {
                return;
            }
        }
        let _ = collector.finish();
    });
    let usage = extractor.new_usage();
    let result = extractor.run(chunks, checkpoints, &usage).await;
    feeder.await.unwrap();
    if let Ok((_, returned)) = &result {
        assert_eq!(returned, &usage.snapshot());
    }
    (result.map(|(facts, _)| facts), usage.snapshot())
}

fn find<'a>(facts: &'a [Fact], value: &str) -> Option<&'a Fact> {
    facts.iter().find(|f| f.value == value)
}

fn values(facts: &[Fact]) -> Vec<&str> {
    facts.iter().map(|f| f.value.as_str()).collect()
}

fn sample_export() -> Vec<Conversation> {
    vec![
        conversation(
            "conv-1",
            2,
            &[
                "Hi! I live in Lisbon and I work as a nurse.",
                "I love hiking",
            ],
        ),
        conversation(
            "conv-2",
            5,
            &["I have a dog named Rex", "I love hiking in the mountains"],
        ),
        conversation(
            "conv-3",
            9,
            &["Still here: I live in Lisbon, near the river."],
        ),
    ]
}

/// What the sample export must give with the fake model, whatever the protocol.
fn assert_sample_facts(facts: &[Fact]) {
    let home = find(facts, "Lives in Lisbon").expect("home");
    assert_eq!(home.category, Category::Location);
    assert_eq!(home.slot.as_deref(), Some("home"));
    assert_eq!(home.mentions, 2);
    assert_eq!(home.conversations, ["conv-1", "conv-3"]);
    assert_eq!(
        (home.first_seen, home.last_seen),
        (Some(day(2)), Some(day(9)))
    );
    assert_eq!(home.source, fullpass::extract::Source::Llm);
    assert!(find(facts, "Works as a nurse").is_some());
    assert!(find(facts, "Has a dog named Rex").is_some());
    // Reduce merged the shorter statement into the longer one, by id.
    let hiking = find(facts, "Loves hiking in the mountains").expect("hiking");
    assert_eq!(hiking.mentions, 2);
    assert_eq!(hiking.first_seen, Some(day(2)));
    assert!(find(facts, "Loves hiking").is_none(), "{:?}", values(facts));
    assert_eq!(facts.len(), 4, "{:?}", values(facts));
}

#[tokio::test]
async fn openai_compatible_happy_path() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(openai(&server));
    let (facts, usage) = extract(&extractor, sample_export(), None).await;
    assert_sample_facts(&facts.unwrap());

    // One map request (the export fits one chunk) and one reduce request.
    assert_eq!((server.map_requests(), server.reduce_requests()), (1, 1));
    assert_eq!(usage.requests, 2);
    assert_eq!(
        (usage.chunks, usage.chunks_skipped, usage.retries),
        (1, 0, 0)
    );
    assert_eq!((usage.input_tokens, usage.output_tokens), server.tokens());
    assert_eq!(usage.estimated_requests, 0);
    // Six answers; "Lives in Lisbon" (c1, c3) is one fact of two conversations.
    assert_eq!(usage.facts_proposed, 5);
    assert_eq!(
        (usage.api.as_str(), usage.model.as_str()),
        ("openai", "test-model")
    );

    let seen = server.seen();
    let map = seen.iter().find(|r| r.kind == Kind::Map).unwrap();
    assert_eq!(
        map.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(map.body["model"], "test-model");
    assert_eq!(map.body["max_completion_tokens"], 1000);
    let format = &map.body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["name"], "record_facts");
    let categories = &format["json_schema"]["schema"]["properties"]["facts"]["items"]["properties"]
        ["category"]["enum"];
    assert_eq!(categories.as_array().unwrap().len(), Category::ALL.len());
    let system = map.body["messages"][0]["content"].as_str().unwrap();
    for guard in [
        "hypotheticals",
        "fiction",
        "translate",
        "other people's traits",
        "passing states",
        "secrets",
    ] {
        assert!(system.contains(guard), "the prompt explains {guard:?}");
    }
    assert!(map.input.contains("## c1 | 2024-04-02 | Chat conv-1"));
    assert!(map.input.contains("[user] Hi! I live in Lisbon"));
    assert!(
        map.input
            .contains("[assistant, cut] Thanks for telling me.")
    );
    let reduce = seen.iter().find(|r| r.kind == Kind::Reduce).unwrap();
    assert_eq!(
        reduce.body["response_format"]["json_schema"]["name"],
        "review_facts"
    );
    assert!(reduce.input.contains(r#""id":"f1""#));
}

#[tokio::test]
async fn anthropic_happy_path() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(args(ApiStyle::Anthropic, server.base_url(Api::Anthropic)));
    let (facts, usage) = extract(&extractor, sample_export(), None).await;
    assert_sample_facts(&facts.unwrap());
    assert_eq!(usage.requests, 2);
    assert_eq!((usage.input_tokens, usage.output_tokens), server.tokens());
    assert_eq!(usage.api, "anthropic");

    let seen = server.seen();
    let map = seen.iter().find(|r| r.kind == Kind::Map).unwrap();
    assert_eq!(map.header("x-api-key"), Some(KEY));
    assert_eq!(map.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(map.header("authorization"), None);
    assert_eq!(
        map.body["tool_choice"],
        json!({"type": "tool", "name": "record_facts"})
    );
    assert_eq!(map.body["tools"][0]["name"], "record_facts");
    assert_eq!(
        map.body["tools"][0]["input_schema"]["required"],
        json!(["facts"])
    );
    assert_eq!(map.body["max_tokens"], 1000);
    let reduce = seen.iter().find(|r| r.kind == Kind::Reduce).unwrap();
    assert_eq!(reduce.body["tool_choice"]["name"], "review_facts");
}

#[tokio::test]
async fn rate_limit_with_retry_after_then_success() {
    let server = FakeLlm::start(|r: &Request| match r.n {
        1 => Reply::Status {
            status: 429,
            body: r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#.to_owned(),
            retry_after: Some("1".to_owned()),
        },
        _ => Reply::Model,
    })
    .await;
    let extractor = extractor(openai(&server));
    let started = Instant::now();
    let (facts, usage) = extract(
        &extractor,
        vec![conversation("only", 3, &["I live in Quito"])],
        None,
    )
    .await;
    let facts = facts.unwrap();
    assert_eq!(values(&facts), ["Lives in Quito"]);
    // The retry base is 10ms: only Retry-After explains a wait of a second.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests(), 2);
    assert_eq!((usage.requests, usage.retries), (2, 1));
    // The rejected request cost nothing.
    assert_eq!((usage.input_tokens, usage.output_tokens), server.tokens());
}

#[tokio::test]
async fn overload_and_server_errors_past_the_retry_cap_fail_transiently() {
    let server = FakeLlm::start(|r: &Request| match r.n {
        1 => Reply::Status {
            status: 529,
            body: r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .to_owned(),
            retry_after: None,
        },
        _ => Reply::Status {
            status: 500,
            body:
                r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#
                    .to_owned(),
            retry_after: None,
        },
    })
    .await;
    let mut a = args(ApiStyle::Anthropic, server.base_url(Api::Anthropic));
    a.llm_max_retries = 3;
    let extractor = extractor(a);
    let (result, usage) = extract(&extractor, sample_export(), None).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::Unavailable { retries: 3, .. }),
        "{error}"
    );
    assert!(error.is_transient());
    assert!(
        error.to_string().contains("Internal server error"),
        "{error}"
    );
    assert_eq!(server.requests(), 4);
    assert_eq!((usage.requests, usage.retries), (4, 3));
}

#[tokio::test]
async fn a_long_retry_after_hands_the_job_back_to_the_queue() {
    let server = FakeLlm::start(|_| Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#
            .to_owned(),
        retry_after: Some("3600".to_owned()),
    })
    .await;
    let extractor = extractor(openai(&server));
    let started = Instant::now();
    let (result, _) = extract(&extractor, sample_export(), None).await;
    let error = result.unwrap_err();
    assert!(matches!(error, LlmError::RetryLater { .. }), "{error}");
    assert!(error.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn refusals_and_quota_errors_are_not_retried() {
    let unauthorized = FakeLlm::start(|_| Reply::Status {
        status: 401,
        body: r#"{"error":{"message":"Incorrect API key provided: test-****-123.","type":"invalid_request_error","code":"invalid_api_key"}}"#.to_owned(),
        retry_after: None,
    })
    .await;
    let (result, usage) = extract(&extractor(openai(&unauthorized)), sample_export(), None).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::Rejected { status: 401, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(
        error.to_string().contains("Incorrect API key provided"),
        "{error}"
    );
    assert_eq!(unauthorized.requests(), 1);
    assert_eq!(usage.retries, 0);

    let out_of_quota = FakeLlm::start(|_| Reply::Status {
        status: 429,
        body: r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","code":"insufficient_quota"}}"#.to_owned(),
        retry_after: Some("1".to_owned()),
    })
    .await;
    let (result, _) = extract(&extractor(openai(&out_of_quota)), sample_export(), None).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::Quota { status: 429, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("exceeded your current quota"));
    assert_eq!(out_of_quota.requests(), 1);

    for status in [400, 403] {
        let server = FakeLlm::start(move |_| Reply::Status {
            status,
            body: r#"{"type":"error","error":{"type":"permission_error","message":"not allowed"}}"#
                .to_owned(),
            retry_after: None,
        })
        .await;
        let a = args(ApiStyle::Anthropic, server.base_url(Api::Anthropic));
        let (result, _) = extract(&extractor(a), sample_export(), None).await;
        assert!(!result.unwrap_err().is_transient());
        assert_eq!(server.requests(), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn fenced_and_truncated_json_is_repaired() {
    let server = FakeLlm::start(|r: &Request| match r.kind {
        Kind::Map if r.input.contains("Porto") => Reply::Text(
            "Here are the facts:\n```json\n{\"facts\": [{\"category\": \"location\", \"slot\": \"home\", \"statement\": \"Lives in Porto\", \"conversations\": [\"c1\"]}]}\n```".to_owned(),
        ),
        Kind::Map => Reply::Truncated(
            "```json\n{\"facts\": [{\"category\": \"work\", \"slot\": \"job\", \"statement\": \"Works as a welder\", \"conversations\": [\"c1\"]}, {\"category\": \"pets\", \"slot\": null, \"statement\": \"Has a ca".to_owned(),
        ),
        Kind::Reduce => Reply::Model,
    })
    .await;
    let mut a = openai(&server);
    a.llm_chunk_tokens = 200;
    let filler = "Some more words here. ".repeat(20);
    let conversations = vec![
        conversation("porto", 1, &[&format!("I live in Porto. {filler}")]),
        conversation(
            "welder",
            2,
            &[&format!("I work as a welder and I have a cat. {filler}")],
        ),
    ];
    let (facts, usage) = extract(&extractor(a), conversations, None).await;
    let facts = facts.unwrap();
    assert_eq!(values(&facts), ["Lives in Porto", "Works as a welder"]);
    assert_eq!(
        find(&facts, "Works as a welder").unwrap().conversations,
        ["welder"]
    );
    assert_eq!(usage.chunks, 2);
    assert_eq!(usage.chunks_skipped, 0);
    assert_eq!(server.map_requests(), 2);
}

#[tokio::test]
async fn a_chunk_that_never_parses_is_retried_then_skipped() {
    let server = FakeLlm::start(|r: &Request| match r.kind {
        Kind::Map if r.input.contains("garbled") => {
            Reply::Text("I'm sorry, I can't produce that.".to_owned())
        }
        Kind::Map if r.input.contains("Oslo") => Reply::Json(json!({"facts": [
            {"category": "location", "slot": "home", "statement": "Lives in Oslo", "conversations": ["c1"]},
            {"category": "astrology", "slot": null, "statement": "Is a Virgo", "conversations": ["c1"]},
            {"category": "work", "slot": null, "statement": "Works nights", "conversations": ["c7"]},
        ]})),
        _ => Reply::Model,
    })
    .await;
    let mut a = openai(&server);
    a.llm_chunk_tokens = 200;
    let filler = "Filler words to fill the chunk. ".repeat(12);
    let conversations = vec![
        conversation("ok-1", 1, &[&format!("I live in Oslo. {filler}")]),
        conversation("bad", 2, &[&format!("garbled {filler}")]),
        conversation("ok-2", 3, &[&format!("I have a dog named Fido. {filler}")]),
    ];
    let (facts, usage) = extract(&extractor(a), conversations, None).await;
    let facts = facts.unwrap();
    assert_eq!(values(&facts), ["Lives in Oslo", "Has a dog named Fido"]);
    assert_eq!(usage.chunks, 3);
    assert_eq!(usage.chunks_skipped, 1);
    // Unknown category and unknown label: those facts dropped, the chunk kept.
    assert_eq!(usage.facts_invalid, 2);
    let garbled_requests = server
        .seen()
        .iter()
        .filter(|r| r.input.contains("garbled"))
        .count();
    assert_eq!(garbled_requests, 2);
    assert_eq!(server.map_requests(), 4);
}

#[tokio::test]
async fn concurrency_cap_is_never_exceeded() {
    let server = FakeLlm::with_latency(Duration::from_millis(150), |_| Reply::Model).await;
    let mut a = openai(&server);
    a.llm_chunk_tokens = 200;
    a.llm_concurrency = 3;
    let filler = "Filler words to fill the chunk. ".repeat(12);
    let conversations: Vec<Conversation> = (0..12u8)
        .map(|i| {
            let topic = char::from(b'a' + i);
            let text = format!("I love topic {topic}. {filler}");
            conversation(&format!("c-{topic}"), 1 + u32::from(i), &[&text])
        })
        .collect();
    let started = Instant::now();
    let (facts, usage) = extract(&extractor(a), conversations, None).await;
    assert_eq!(facts.unwrap().len(), 12);
    assert_eq!(usage.chunks, 12);
    assert_eq!(server.map_requests(), 12);
    assert_eq!(server.max_in_flight(), 3);
    // 12 requests of 150ms, 3 at a time, plus one reduce: well under the serial 1.95s.
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_token_budget_stops_a_job_before_it_is_exceeded() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let mut a = openai(&server);
    a.llm_chunk_tokens = 200;
    a.llm_concurrency = 1;
    a.llm_max_output_tokens = 300;
    // Instructions and schema are ~1,100 tokens a request: room for about three chunks.
    a.llm_job_token_budget = 5_000;
    let filler = "Filler words to fill the chunk. ".repeat(12);
    let conversations: Vec<Conversation> = (0..10)
        .map(|i| {
            conversation(
                &format!("c-{i}"),
                1 + i,
                &[&format!("I love topic{i}. {filler}")],
            )
        })
        .collect();
    let (result, usage) = extract(&extractor(a), conversations, None).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::Budget { budget: 5_000, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("FULLPASS_LLM_JOB_TOKEN_BUDGET"));
    let (input, output) = server.tokens();
    assert!(input + output <= 5_000, "{input} + {output}");
    assert!(
        server.requests() >= 2 && server.requests() < 10,
        "{}",
        server.requests()
    );
    assert_eq!(usage.total_tokens(), input + output);
}

#[tokio::test]
async fn no_secret_from_the_input_reaches_the_server_or_the_facts() {
    let api_key = "sk-abcdefghijklmnopqrstuvwxyz123456";
    let server = FakeLlm::start(|r: &Request| match r.kind {
        Kind::Map => {
            let mut answer = fake_llm::model_facts(&r.input);
            // A model that invents a secret anyway: the output filter drops it.
            answer["facts"].as_array_mut().unwrap().push(json!({
                "category": "preferences", "slot": null,
                "statement": "Uses the key sk-ZYXWVUTSRQPONMLKJIHGFEDCBA", "conversations": ["c1"],
            }));
            Reply::Json(answer)
        }
        Kind::Reduce => Reply::Model,
    })
    .await;
    let mut leaky = conversation(
        "leaky",
        4,
        &[&format!(
            "My OpenAI key is {api_key}, why does it fail? I live in Tromso"
        )],
    );
    leaky.title = Some(format!("Debugging {api_key}"));
    leaky.messages.push(Message {
        role: Role::Assistant,
        text: "Never share your password: opensesame42 with anyone.".to_owned(),
        time: None,
    });
    leaky.messages.push(Message {
        role: Role::User,
        text: "ok, my password: opensesame42 is changed".to_owned(),
        time: None,
    });
    let (facts, usage) = extract(&extractor(openai(&server)), vec![leaky], None).await;
    let facts = facts.unwrap();
    assert_eq!(values(&facts), ["Lives in Tromso"]);
    assert_eq!(usage.facts_with_secrets, 1);
    assert!(server.requests() >= 1);
    for request in server.seen() {
        let body = request.body.to_string();
        assert!(!body.contains(api_key), "key sent in request {}", request.n);
        assert!(
            !body.contains("opensesame42"),
            "password sent in request {}",
            request.n
        );
        assert!(!body.contains(KEY), "the API key belongs in a header only");
    }
    assert!(server.seen()[0].input.contains("[redacted]"));
}

#[tokio::test]
async fn large_candidate_sets_are_reduced_per_category_in_batches_of_ids() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let mut a = openai(&server);
    a.llm_reduce_batch = 4;
    // 6 hobbies, each also said at greater length (12 interests), and 2 pets.
    let hobbies = [
        "chess", "cycling", "knitting", "pottery", "rowing", "sailing",
    ];
    let mut said: Vec<String> = hobbies.iter().map(|h| format!("I love {h}")).collect();
    said.extend(hobbies.iter().map(|h| format!("I love {h} with friends")));
    said.push("I have a dog named Ace".to_owned());
    said.push("I have a dog named Bo".to_owned());
    let said: Vec<&str> = said.iter().map(String::as_str).collect();
    let (facts, usage) = extract(&extractor(a), vec![conversation("many", 6, &said)], None).await;
    let facts = facts.unwrap();
    let mut expected: Vec<String> = hobbies
        .iter()
        .map(|h| format!("Loves {h} with friends"))
        .collect();
    expected.push("Has a dog named Ace".to_owned());
    expected.push("Has a dog named Bo".to_owned());
    let mut got: Vec<String> = facts.iter().map(|f| f.value.clone()).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    // Both wordings come from the one conversation: one mention.
    for f in facts.iter().filter(|f| f.category == Category::Interests) {
        assert_eq!(f.mentions, 1, "{}", f.value);
    }
    let reduces: Vec<Request> = server
        .seen()
        .into_iter()
        .filter(|r| r.kind == Kind::Reduce)
        .collect();
    assert!(reduces.len() >= 4, "{}", reduces.len());
    assert_eq!(usage.reduce_requests as usize, reduces.len());
    for r in &reduces {
        let facts_shown = r.input.lines().skip(1).count();
        assert!((2..=4).contains(&facts_shown), "{}", r.input);
        let categories: std::collections::HashSet<&str> = r
            .input
            .lines()
            .skip(1)
            .map(|l| {
                if l.contains("\"interests\"") {
                    "interests"
                } else {
                    "other"
                }
            })
            .collect();
        assert_eq!(categories.len(), 1, "one category per batch: {}", r.input);
    }
}

#[tokio::test]
async fn a_killed_job_resumes_without_requesting_finished_chunks_again() {
    let db = common::migrated().await;
    let client = db.client().await;
    let user_id = uuid::Uuid::new_v4();
    client
        .execute(
            "insert into public.user_profiles (user_id) values ($1)",
            &[&user_id],
        )
        .await
        .unwrap();
    let filler = "Filler words to fill the chunk. ".repeat(12);
    let export: Vec<Conversation> = (0..6)
        .map(|i| {
            conversation(
                &format!("conv-{i}"),
                1 + i,
                &[&format!("I have a dog named Dog{i}. {filler}")],
            )
        })
        .collect();
    let settings = |server: &FakeLlm| {
        let mut a = openai(server);
        a.llm_chunk_tokens = 200;
        a.llm_concurrency = 1;
        a
    };

    // First run: three chunks answered, then the server stalls and the job is killed.
    let stalling =
        FakeLlm::start(|r: &Request| if r.n <= 3 { Reply::Model } else { Reply::Hang }).await;
    let first = extractor(settings(&stalling));
    let checkpoints = Checkpoints {
        client: &client,
        user_id,
    };
    let killed = tokio::time::timeout(
        Duration::from_secs(2),
        extract(&first, export.clone(), Some(checkpoints)),
    )
    .await;
    assert!(killed.is_err(), "the first run must not finish");
    assert_eq!(stalling.map_requests(), 4);
    let saved: i64 = client
        .query_one(
            "select count(*) from fullpass.llm_chunks where user_id = $1",
            &[&user_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(saved, 3);

    // Second run: only the three unfinished chunks are requested.
    let healthy = FakeLlm::start(|_| Reply::Model).await;
    let second = extractor(settings(&healthy));
    let (facts, usage) = extract(&second, export, Some(checkpoints)).await;
    let facts = facts.unwrap();
    let mut dogs: Vec<&str> = values(&facts);
    dogs.sort();
    assert_eq!(
        dogs,
        (0..6)
            .map(|i| format!("Has a dog named Dog{i}"))
            .collect::<Vec<_>>()
    );
    let dog0 = find(&facts, "Has a dog named Dog0").unwrap();
    assert_eq!(dog0.conversations, ["conv-0"]);
    assert_eq!(dog0.first_seen, Some(day(1)));
    assert_eq!(healthy.map_requests(), 3);
    for r in healthy.seen().iter().filter(|r| r.kind == Kind::Map) {
        for done in ["Dog0", "Dog1", "Dog2"] {
            assert!(!r.input.contains(done), "{done} was requested again");
        }
    }
    assert_eq!((usage.chunks, usage.chunks_from_checkpoint), (6, 3));
    assert_eq!(checkpoints.forget().await.unwrap(), 6);
    assert_eq!(
        fullpass::llm::forget_older_than(&client, Duration::ZERO)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn jobs_can_run_on_spawned_tasks() {
    fn spawnable<T: Send>(_: &T) {}
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(openai(&server));
    let usage = extractor.new_usage();
    let (_, chunks) = extractor.collector();
    let db = common::TestDb::new().await;
    let client = db.client().await;
    let checkpoints = Checkpoints {
        client: &client,
        user_id: uuid::Uuid::new_v4(),
    };
    spawnable(&extractor.run(chunks, Some(checkpoints), &usage));
    spawnable(&extractor.extract_export(
        std::io::empty(),
        fullpass::ingest::Limits::default(),
        Some(checkpoints),
        &usage,
        |_| Ok(()),
    ));
}

/// A small ChatGPT export: one conversation whose first user message was edited
/// (the abandoned version must not be read), gzip-compressed.
fn chatgpt_export() -> Vec<u8> {
    let node = |id: &str, role: &str, time: f64, text: &str, parent: &str, children: &[&str]| {
        json!({
            "id": id,
            "message": {
                "id": id,
                "author": {"role": role},
                "create_time": time,
                "content": {"content_type": "text", "parts": [text]},
                "recipient": "all",
            },
            "parent": parent,
            "children": children,
        })
    };
    let export = json!([{
        "title": "Moving abroad",
        "create_time": 1714000000.0,
        "update_time": 1714000300.0,
        "conversation_id": "conv-e2e",
        "mapping": {
            "root": {"id": "root", "message": null, "parent": null, "children": ["old", "new"]},
            "old": node("old", "user", 1714000000.0, "I live in Madrid", "root", &[]),
            "new": node("new", "user", 1714000100.0, "I live in Lima and I work as a chef", "root", &["answer"]),
            "answer": node("answer", "assistant", 1714000200.0, "Lima is lovely. What do you cook?", "new", &["more"]),
            "more": node("more", "user", 1714000300.0, "Mostly ceviche. I have a dog named Taco", "answer", &[]),
        },
        "current_node": "more",
    }]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, export.to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn a_whole_export_through_the_reader() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(openai(&server));
    let usage = extractor.new_usage();
    let out = extractor
        .extract_export(
            std::io::Cursor::new(chatgpt_export()),
            fullpass::ingest::Limits::default(),
            None,
            &usage,
            |_| Ok(()),
        )
        .await
        .unwrap();
    assert_eq!(out.stats.conversations, 1);
    assert_eq!(
        values(&out.facts),
        ["Lives in Lima", "Works as a chef", "Has a dog named Taco"]
    );
    let lima = find(&out.facts, "Lives in Lima").unwrap();
    assert_eq!(lima.conversations, ["conv-e2e"]);
    assert_eq!(lima.first_seen, NaiveDate::from_ymd_opt(2024, 4, 24));
    assert_eq!(out.usage, usage.snapshot());
    assert_eq!(out.usage.chunks, 1);
    let map = server
        .seen()
        .into_iter()
        .find(|r| r.kind == Kind::Map)
        .unwrap();
    assert!(
        !map.input.contains("Madrid"),
        "the abandoned branch was sent"
    );
    assert!(
        map.input
            .contains("[assistant, cut] Lima is lovely. What do you cook?\n[user] Mostly ceviche.")
    );
}

#[tokio::test]
async fn an_unreadable_export_is_an_ingest_error_and_costs_nothing() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(openai(&server));
    let usage = extractor.new_usage();
    let mut broken = chatgpt_export();
    broken.truncate(broken.len() / 2);
    let error = extractor
        .extract_export(
            std::io::Cursor::new(broken),
            fullpass::ingest::Limits::default(),
            None,
            &usage,
            |_| Ok(()),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, LlmError::Ingest(_)), "{error}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn a_read_stopped_by_the_caller_is_reported_as_cancelled() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let extractor = extractor(openai(&server));
    let usage = extractor.new_usage();
    let error = extractor
        .extract_export(
            std::io::Cursor::new(chatgpt_export()),
            fullpass::ingest::Limits::default(),
            None,
            &usage,
            |_| Err(fullpass::ingest::Cancelled),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            LlmError::Ingest(fullpass::ingest::IngestError::Cancelled)
        ),
        "{error}"
    );
}

#[tokio::test]
async fn the_builtin_secret_filter_and_consolidator_plug_in() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let rules = Arc::new(fullpass::llm::BuiltinRules {
        settings: fullpass::extract::ExtractSettings::default(),
    });
    let extractor = LlmExtractor::new(openai(&server).validate().unwrap(), rules).unwrap();
    let key = "sk-proj-Q2x9Lm4Vt7Rb1Nc8Kd3Hf6Jw0Ps5Yz";
    let export = vec![
        conversation("a", 1, &["I live in Oslo and I work as a carpenter"]),
        conversation("b", 3, &[&format!("Why is my key {key} rejected?")]),
        conversation("c", 8, &["I no longer live in Oslo. I live in Bergen now"]),
    ];
    let (facts, usage) = extract(&extractor, export, None).await;
    let facts = facts.unwrap();
    for request in server.seen() {
        assert!(!request.body.to_string().contains(key));
    }
    assert!(server.seen()[0].input.contains("[REDACTED]"));
    let bergen = find(&facts, "Lives in Bergen").expect("current home");
    assert!(!bergen.ended);
    // Oslo is not a current home any more: gone, past, or a previous value of Bergen.
    assert!(
        facts.iter().all(|f| f.value != "Lives in Oslo" || f.ended),
        "{facts:#?}"
    );
    assert!(find(&facts, "Works as a carpenter").is_some());
    assert_eq!(usage.facts_proposed, 4);
    let markdown = fullpass::memory::render_markdown(&facts);
    assert!(markdown.contains("Bergen"), "{markdown}");
    assert!(markdown.contains("carpenter"), "{markdown}");
}

/// The daemon with `FULLPASS_EXTRACTOR=llm`: the model's facts reach `memory_md`,
/// the usage reaches `full_pass_stats`, and the checkpoints are cleared.
#[tokio::test]
async fn the_daemon_runs_the_llm_extractor_end_to_end() {
    use common::daemon::DaemonProcess;
    use common::export::{conversations_json, gzip, sample_export};
    let server = FakeLlm::start(|_| Reply::Model).await;
    let db = common::migrated().await;
    let storage = tempfile::tempdir().unwrap();
    common::put_export(
        storage.path(),
        "imports/llm.json.gz",
        &gzip(&conversations_json(&sample_export())),
    );
    let base = server.base_url(Api::Openai);
    let _daemon = DaemonProcess::spawn(
        &db.url,
        storage.path(),
        &[
            ("FULLPASS_EXTRACTOR", "llm"),
            ("FULLPASS_LLM_API", "openai"),
            ("FULLPASS_LLM_BASE_URL", base.as_str()),
            ("FULLPASS_LLM_API_KEY", KEY),
            ("FULLPASS_LLM_MODEL", "fake-model"),
        ],
    );
    let c = db.client().await;
    let id = common::insert_profile(&c, Some("imports/llm.json.gz"), Some("pending")).await;
    let r = common::wait_for_status(&c, id, &["complete", "failed"], Duration::from_secs(30)).await;
    assert_eq!(r.status.as_deref(), Some("complete"), "{r:?}");
    let md = r.memory_md.unwrap();
    // The fake model's own wording, which the built-in rules never write.
    assert!(md.contains("Has a dog named Pixel"), "{md}");
    assert!(server.map_requests() >= 1);
    let llm = &r.stats.unwrap()["llm"];
    assert!(llm["requests"].as_u64().unwrap() >= 1, "{llm}");
    let left: i64 = c
        .query_one(
            "select count(*) from fullpass.llm_chunks where user_id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "checkpoints kept after completion");
}

/// Where `key` first appears as a JSON key in `raw`.
fn key_position(raw: &str, key: &str) -> usize {
    raw.find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} missing from {raw}"))
}

#[tokio::test]
async fn requests_ask_for_temperature_zero_and_the_statement_first() {
    for api in [Api::Openai, Api::Anthropic] {
        let server = FakeLlm::start(|_| Reply::Model).await;
        let style = match api {
            Api::Openai => ApiStyle::Openai,
            Api::Anthropic => ApiStyle::Anthropic,
        };
        let extractor = extractor(args(style, server.base_url(api)));
        let (facts, _) = extract(&extractor, sample_export(), None).await;
        assert_sample_facts(&facts.unwrap());
        let seen = server.seen();
        assert!(seen.len() >= 2, "{api:?}: a map and a reduce request");
        for request in &seen {
            assert_eq!(
                request.body["temperature"],
                json!(0),
                "{api:?} request {}",
                request.n
            );
        }
        let map = seen.iter().find(|r| r.kind == Kind::Map).unwrap();
        // The schema's fact properties, as they went over the wire: statement first.
        let items = &map.raw[key_position(&map.raw, "items")..];
        let statement = key_position(items, "statement");
        for later in ["category", "slot", "conversations", "ended"] {
            assert!(
                statement < key_position(items, later),
                "{api:?}: statement before {later} in {items}"
            );
        }
    }
}

/// A small model's habits: the same fact over and over, and the prompt's own examples.
fn small_model_map(request: &Request) -> Reply {
    if request.kind == Kind::Reduce {
        return Reply::Model;
    }
    let lisbon = json!({"category": "location", "slot": "home", "statement": "Lives in Lisbon", "conversations": ["c1"]});
    let mut facts = vec![lisbon; 10];
    facts.push(json!({"category": "pets", "slot": null, "statement": "Has a dog named Max", "conversations": ["c1", "c2"]}));
    facts.push(json!({"category": "health", "slot": "diet", "statement": "Is vegetarian", "conversations": ["c2"]}));
    // Cites both, but only c2 says it.
    facts.push(json!({"category": "pets", "slot": null, "statement": "Has a dog named Rex", "conversations": ["c1", "c2"]}));
    Reply::Json(json!({ "facts": facts }))
}

#[tokio::test]
async fn repeated_and_ungrounded_facts_do_not_reach_memory() {
    let server = FakeLlm::start(small_model_map).await;
    let rules = Arc::new(fullpass::llm::BuiltinRules {
        settings: fullpass::extract::ExtractSettings::default(),
    });
    let extractor = LlmExtractor::new(openai(&server).validate().unwrap(), rules).unwrap();
    let export = vec![
        conversation("a", 1, &["Hi, I live in Lisbon, near the river."]),
        conversation("b", 3, &["I have a dog named Rex and I eat everything."]),
    ];
    let (facts, usage) = extract(&extractor, export, None).await;
    let facts = facts.unwrap();
    let home = find(&facts, "Lives in Lisbon").expect("home");
    assert_eq!(home.mentions, 1, "ten copies citing one conversation");
    assert_eq!(home.conversations, ["a"]);
    let rex = find(&facts, "Has a dog named Rex").expect("pet");
    assert_eq!(
        (rex.mentions, rex.conversations.as_slice()),
        (1, &["b".to_owned()][..])
    );
    assert!(
        find(&facts, "Has a dog named Max").is_none(),
        "{:?}",
        values(&facts)
    );
    assert!(
        find(&facts, "Is vegetarian").is_none(),
        "{:?}",
        values(&facts)
    );
    assert_eq!(usage.facts_ungrounded, 2);
    let markdown = fullpass::memory::render_markdown(&facts);
    assert!(
        !markdown.contains("10×") && !markdown.contains("Max"),
        "{markdown}"
    );
}

/// `fullpass process --extractor llm` on an export, against `base_url`, with `extra` flags.
async fn process_cli(export: Vec<u8>, base_url: &str, extra: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json.gz");
    std::fs::write(&file, export).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fullpass"))
        .arg("process")
        .arg(&file)
        .args(["--extractor", "llm", "--llm-model", "test-model"])
        .args(["--llm-base-url", base_url])
        .args(extra)
        .env_clear()
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("fullpass process finished")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_job_where_every_chunk_failed_is_an_error_not_an_empty_memory() {
    let server = FakeLlm::start(|r: &Request| match r.kind {
        Kind::Map => Reply::Text("Sure! Here is what I found about the user.".to_owned()),
        Kind::Reduce => Reply::Model,
    })
    .await;
    let (result, usage) = extract(&extractor(openai(&server)), sample_export(), None).await;
    let error = result.expect_err("no chunk got an answer");
    assert!(
        matches!(error, LlmError::NoChunkSucceeded { chunks: 1, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    assert!(error.to_string().contains("holds no JSON"), "{error}");
    assert_eq!((usage.chunks, usage.chunks_skipped), (1, 1));
    assert_eq!(server.reduce_requests(), 0);

    // The CLI exits non-zero and says why; stdout gets no memory.
    let (ok, stdout, stderr) =
        process_cli(chatgpt_export(), &server.base_url(Api::Openai), &[]).await;
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("no chunk of conversation text got a usable answer"),
        "{stderr}"
    );
    assert!(stdout.trim().is_empty(), "{stdout}");
}

#[tokio::test]
async fn a_model_server_that_is_not_there_fails_fast_naming_the_setting() {
    // A port nobody listens on (refused), and a host that does not resolve.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    for base_url in [
        format!("http://{closed}/v1"),
        "http://fullpass-model-server.invalid/v1".to_owned(),
    ] {
        let mut a = args(ApiStyle::Openai, base_url.clone());
        // The defaults: one retry per second, doubling, 20 per job (minutes of retries).
        a.llm_retry_base = Duration::from_secs(1);
        a.llm_retry_max = Duration::from_secs(60);
        a.llm_max_retries = 20;
        let extractor = extractor(a);
        let started = Instant::now();
        let run = extract(&extractor, sample_export(), None);
        let (result, usage) = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("{base_url}: still retrying after 30s"));
        let elapsed = started.elapsed();
        let error = result.expect_err("nothing to talk to");
        assert!(
            elapsed < Duration::from_secs(10),
            "{base_url}: failed after {elapsed:?}"
        );
        assert!(matches!(error, LlmError::Unreachable { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains("FULLPASS_LLM_BASE_URL"), "{message}");
        assert!(message.contains(&base_url), "{message}");
        assert!(usage.retries <= 3, "{usage:?}");
    }
}

#[tokio::test]
async fn a_request_too_large_for_the_context_says_which_setting_to_lower() {
    // llama.cpp's answer when the prompt does not fit its context.
    let server = FakeLlm::start(|_| Reply::Status {
        status: 400,
        body: r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":2911,"n_ctx":2048}}"#.to_owned(),
        retry_after: None,
    })
    .await;
    let (result, usage) = extract(&extractor(openai(&server)), sample_export(), None).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::TooLarge { status: 400, .. }),
        "{error}"
    );
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(
        message.contains("lower FULLPASS_LLM_CHUNK_TOKENS (now 2000)"),
        "{message}"
    );
    assert!(
        message.contains("exceeds the available context size"),
        "{message}"
    );
    assert_eq!((server.requests(), usage.retries), (1, 0));

    // A reduce request that does not fit points at the reduce batch instead.
    let server = FakeLlm::start(|r: &Request| match r.kind {
        Kind::Map => Reply::Model,
        Kind::Reduce => Reply::Status {
            status: 413,
            body: "Request Entity Too Large".to_owned(),
            retry_after: None,
        },
    })
    .await;
    let (result, _) = extract(&extractor(openai(&server)), sample_export(), None).await;
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("lower FULLPASS_LLM_REDUCE_BATCH (now 150)"),
        "{message}"
    );
}

#[tokio::test]
async fn quoted_passwords_are_redacted_whole_and_plain_code_is_sent_as_it_is() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let rules = Arc::new(fullpass::llm::BuiltinRules {
        settings: fullpass::extract::ExtractSettings::default(),
    });
    let extractor = LlmExtractor::new(openai(&server).validate().unwrap(), rules).unwrap();
    let error = r#"I live in Lima. Why this? psql: error: connection failed: "host=db user=app password='Blue sky,42' dbname=shop" and {"password": "correct horse, battery"}"#;
    let code = "def login(user, password=None):\n    password = os.getenv(\"DB_PASSWORD\")\n    if (password == confirmPassword) {\n    user.password = hashed_password";
    let export = vec![conversation("db", 2, &[error, code])];
    let (facts, _) = extract(&extractor, export, None).await;
    assert!(find(&facts.unwrap(), "Lives in Lima").is_some());
    let map = server
        .seen()
        .into_iter()
        .find(|r| r.kind == Kind::Map)
        .unwrap();
    for piece in ["Blue", "sky", "42", "correct", "horse", "battery"] {
        assert!(!map.input.contains(piece), "{piece:?} sent: {}", map.input);
    }
    for line in code.lines() {
        assert!(
            map.input.contains(line.trim()),
            "{line:?} not sent as it is: {}",
            map.input
        );
    }
}

/// `fullpass config --check` with the LLM extractor pointed at `base_url`.
async fn config_check(base_url: &str) -> (bool, String, Duration) {
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fullpass"))
        .args(["config", "--check"])
        .env_clear()
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("SUPABASE_URL", "https://x.supabase.co")
        .env("SUPABASE_SERVICE_ROLE_KEY", "service-key")
        .env("FULLPASS_EXTRACTOR", "llm")
        .env("FULLPASS_LLM_BASE_URL", base_url)
        .env("FULLPASS_LLM_MODEL", "test-model")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("fullpass config --check finished")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, started.elapsed())
}

#[tokio::test]
async fn config_check_asks_the_model_server() {
    let server = FakeLlm::start(|_| Reply::Model).await;
    let (ok, text, _) = config_check(&server.base_url(Api::Openai)).await;
    assert!(ok, "{text}");
    assert!(text.contains("model server: ok"), "{text}");
    assert_eq!(server.requests(), 1);
    let request = &server.seen()[0];
    assert_eq!(request.body["model"], "test-model");

    let refusing = FakeLlm::start(|_| Reply::Status {
        status: 404,
        body: r#"{"error":{"message":"model 'test-model' not found","type":"not_found_error"}}"#
            .to_owned(),
        retry_after: None,
    })
    .await;
    let (ok, text, _) = config_check(&refusing.base_url(Api::Openai)).await;
    assert!(!ok, "{text}");
    assert!(text.contains("model 'test-model' not found"), "{text}");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let (ok, text, elapsed) = config_check(&format!("http://{closed}/v1")).await;
    assert!(!ok, "{text}");
    assert!(text.contains("FULLPASS_LLM_BASE_URL"), "{text}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
