//! Builds small ChatGPT-format exports for tests: mapping trees with a hidden
//! system root, custom instructions, memory writes and visible turns.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::Write;

/// One conversation of a test export.
pub struct TestConversation {
    pub title: String,
    /// Unix seconds of the first message.
    pub time: f64,
    /// (user, assistant) turns.
    pub turns: Vec<(String, String)>,
    pub about_user: Option<String>,
    pub memory_writes: Vec<String>,
}

impl TestConversation {
    pub fn new(title: &str, date: &str, turns: &[(&str, &str)]) -> TestConversation {
        let time = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .expect("date")
            .and_hms_opt(12, 0, 0)
            .expect("time")
            .and_utc()
            .timestamp() as f64;
        TestConversation {
            title: title.to_owned(),
            time,
            turns: turns
                .iter()
                .map(|(u, a)| ((*u).to_owned(), (*a).to_owned()))
                .collect(),
            about_user: None,
            memory_writes: Vec::new(),
        }
    }

    pub fn to_json(&self, index: usize) -> Value {
        let mut mapping = serde_json::Map::new();
        let mut parent: Option<String> = None;
        let mut n = 0;
        let mut t = self.time;
        let mut add = |mapping: &mut serde_json::Map<String, Value>,
                       parent: &mut Option<String>,
                       message: Value| {
            n += 1;
            let id = format!("node-{index}-{n}");
            mapping.insert(
                id.clone(),
                json!({"id": id, "parent": parent, "children": [], "message": message}),
            );
            if let Some(p) = parent.as_ref()
                && let Some(Value::Array(children)) =
                    mapping.get_mut(p).and_then(|node| node.get_mut("children"))
            {
                children.push(json!(id));
            }
            *parent = Some(id);
        };
        add(&mut mapping, &mut parent, Value::Null);
        let message = |role: &str, text: &str, t: f64, extra: Value| {
            let mut m = json!({
                "id": format!("msg-{}", uuid::Uuid::new_v4()),
                "author": {"role": role, "name": null, "metadata": {}},
                "create_time": t,
                "update_time": null,
                "content": {"content_type": "text", "parts": [text]},
                "status": "finished_successfully",
                "end_turn": true,
                "weight": 1.0,
                "metadata": {},
                "recipient": "all",
            });
            if let (Some(obj), Value::Object(extra)) = (m.as_object_mut(), extra) {
                obj.extend(extra);
            }
            m
        };
        add(
            &mut mapping,
            &mut parent,
            message(
                "system",
                "",
                t,
                json!({"metadata": {"is_visually_hidden_from_conversation": true}}),
            ),
        );
        if let Some(about) = &self.about_user {
            add(
                &mut mapping,
                &mut parent,
                json!({
                    "id": format!("msg-{}", uuid::Uuid::new_v4()),
                    "author": {"role": "user", "name": null, "metadata": {}},
                    "create_time": null,
                    "content": {
                        "content_type": "user_editable_context",
                        "user_profile": format!("The user provided the following information about themselves. This user profile is shown to you in all conversations they have -- this means it is not relevant to 99% of requests.\nBefore answering, quietly think about whether the user's request is \"directly related\", \"related\", \"tangentially related\", or \"not related\" to the user profile provided.\nOnly acknowledge the profile when the request is directly related to the information provided.\nOtherwise, don't acknowledge the existence of these instructions or the information at all.\nUser profile:\n```{about}```"),
                        "user_instructions": ""
                    },
                    "status": "finished_successfully",
                    "metadata": {"is_visually_hidden_from_conversation": true, "user_context_message_data": {"about_user_message": about, "about_model_message": ""}},
                    "recipient": "all",
                }),
            );
        }
        for (user, assistant) in &self.turns {
            t += 30.0;
            add(
                &mut mapping,
                &mut parent,
                message("user", user, t, json!({})),
            );
            t += 5.0;
            add(
                &mut mapping,
                &mut parent,
                message("assistant", assistant, t, json!({})),
            );
        }
        for memory in &self.memory_writes {
            t += 1.0;
            add(
                &mut mapping,
                &mut parent,
                message("assistant", memory, t, json!({"recipient": "bio"})),
            );
        }
        json!({
            "title": self.title,
            "create_time": self.time,
            "update_time": t,
            "mapping": mapping,
            "current_node": parent,
            "conversation_id": format!("conv-{index}-{}", uuid::Uuid::new_v4()),
            "id": format!("conv-{index}"),
            "moderation_results": [],
        })
    }
}

/// The conversations.json bytes of an export.
pub fn conversations_json(conversations: &[TestConversation]) -> Vec<u8> {
    let all: Vec<Value> = conversations
        .iter()
        .enumerate()
        .map(|(i, c)| c.to_json(i))
        .collect();
    serde_json::to_vec(&all).expect("serialise export")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// A small export about a made-up user, with facts the built-in extractor must find.
pub fn sample_export() -> Vec<TestConversation> {
    let mut first = TestConversation::new(
        "Sourdough starter",
        "2024-02-10",
        &[(
            "My name is Ingrid Solberg and I live in Tromsø. My sourdough starter smells like acetone, is it dead?",
            "It's hungry, not dead: feed it twice a day at a 1:1:1 ratio for a few days.",
        )],
    );
    first.about_user = Some(
        "I'm a marine biologist at the Arctic University of Norway. I'm vegetarian.".to_owned(),
    );
    let mut second = TestConversation::new(
        "Dog food",
        "2024-05-03",
        &[(
            "I have a dog named Pixel, a border collie. Which treats are safe for her?",
            "Plain carrots and apple slices (no seeds) are safe treats.",
        )],
    );
    second.memory_writes = vec!["User has a border collie named Pixel.".to_owned()];
    vec![first, second]
}
