//! The extractor end to end: a hand-written ChatGPT export (one person, her profile,
//! her chats, the traps people's chats are full of) read by `pass::run` and the
//! binary, and the MEMORY it produces checked line by line.

use flate2::Compression;
use flate2::write::GzEncoder;
use fullpass::extract::{Category, ExtractSettings, secrets};
use fullpass::ingest::Limits;
use fullpass::{memory, pass};
use serde_json::{Value, json};
use std::io::Write;
use std::process::Command;

/// One exchange: what the user wrote and what the assistant answered.
struct Turn(&'static str, &'static str);

/// A conversation of the export, built as ChatGPT writes it: a mapping tree from
/// `client-created-root`, hidden system and profile messages, `current_node` last.
struct Chat {
    id: &'static str,
    day: &'static str,
    turns: Vec<Turn>,
    about_user: Option<&'static str>,
    about_model: Option<&'static str>,
    saved_memory: Option<&'static str>,
    /// An earlier version of the first user message, left off the canonical branch.
    abandoned_first: Option<&'static str>,
}

impl Chat {
    fn new(id: &'static str, day: &'static str, turns: Vec<Turn>) -> Chat {
        Chat {
            id,
            day,
            turns,
            about_user: None,
            about_model: None,
            saved_memory: None,
            abandoned_first: None,
        }
    }

    fn to_json(&self) -> Value {
        let start = chrono::NaiveDate::parse_from_str(self.day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp() as f64;
        let mut clock = start;
        let mut tick = || {
            clock += 30.0;
            clock
        };
        let mut mapping = serde_json::Map::new();
        let add = |id: String,
                   parent: Option<String>,
                   message: Value,
                   mapping: &mut serde_json::Map<String, Value>| {
            mapping.insert(
                id.clone(),
                json!({"id": id, "message": message, "parent": parent, "children": []}),
            );
            if let Some(p) = parent
                && let Some(children) = mapping
                    .get_mut(&p)
                    .and_then(|n| n.get_mut("children"))
                    .and_then(Value::as_array_mut)
            {
                children.push(json!(id));
            }
        };
        add(
            "client-created-root".into(),
            None,
            Value::Null,
            &mut mapping,
        );
        let system = json!({"id": "sys", "author": {"role": "system"}, "create_time": null,
            "content": {"content_type": "text", "parts": [""]}, "weight": 0.0,
            "metadata": {"is_visually_hidden_from_conversation": true}, "recipient": "all"});
        add(
            "sys".into(),
            Some("client-created-root".into()),
            system,
            &mut mapping,
        );
        let mut current = "sys".to_owned();
        if self.about_user.is_some() || self.about_model.is_some() {
            let message = json!({"id": "ci", "author": {"role": "user"}, "create_time": null,
                "content": {"content_type": "user_editable_context",
                    "user_profile": format!("User profile:\n```{}```", self.about_user.unwrap_or("")),
                    "user_instructions": format!("```{}```", self.about_model.unwrap_or(""))},
                "metadata": {"is_visually_hidden_from_conversation": true, "is_user_system_message": true,
                    "user_context_message_data": {"about_user_message": self.about_user.unwrap_or(""),
                        "about_model_message": self.about_model.unwrap_or("")}},
                "recipient": "all"});
            add("ci".into(), Some(current.clone()), message, &mut mapping);
            current = "ci".into();
        }
        for (i, Turn(user, assistant)) in self.turns.iter().enumerate() {
            if i == 0
                && let Some(old) = self.abandoned_first
            {
                let message = json!({"id": "old", "author": {"role": "user"}, "create_time": tick(),
                    "content": {"content_type": "text", "parts": [old]}, "recipient": "all"});
                add("old".into(), Some(current.clone()), message, &mut mapping);
            }
            let u = format!("u{i}");
            let message = json!({"id": u, "author": {"role": "user"}, "create_time": tick(),
                "content": {"content_type": "text", "parts": [user]}, "recipient": "all"});
            add(u.clone(), Some(current.clone()), message, &mut mapping);
            current = u;
            if i == 0
                && let Some(memory) = self.saved_memory
            {
                let message = json!({"id": "bio", "author": {"role": "assistant"}, "create_time": tick(),
                    "content": {"content_type": "text", "parts": [memory]}, "recipient": "bio"});
                add("bio".into(), Some(current.clone()), message, &mut mapping);
                let tool = json!({"id": "bio-ok", "author": {"role": "tool", "name": "bio"}, "create_time": tick(),
                    "content": {"content_type": "text", "parts": ["Model set context updated."]}, "recipient": "all"});
                add("bio-ok".into(), Some("bio".into()), tool, &mut mapping);
                current = "bio-ok".into();
            }
            let a = format!("a{i}");
            let message = json!({"id": a, "author": {"role": "assistant"}, "create_time": tick(),
                "content": {"content_type": "text", "parts": [assistant]}, "recipient": "all"});
            add(a.clone(), Some(current.clone()), message, &mut mapping);
            current = a;
        }
        json!({"title": self.id, "create_time": start, "update_time": clock,
            "mapping": mapping, "current_node": current, "conversation_id": self.id, "id": self.id})
    }
}

/// Hedda: a hydrographic surveyor who moves from Trondheim to Bergen, with the usual
/// stories, translations, what-ifs, colds and pasted passwords along the way.
fn hedda() -> Vec<Chat> {
    let mut first = Chat::new(
        "tides",
        "2023-02-14",
        vec![
            Turn(
                "Hi! I'm Hedda Solberg, a hydrographic surveyor at Fjordkart AS. I live in Trondheim with my partner Espen. How do I correct sonar depths for tide?",
                "Subtract the tide height at the time of each ping from the raw depth.",
            ),
            Turn("thanks, that worked", "Glad it helped!"),
        ],
    );
    first.about_user = Some("I'm coeliac and I play the trombone in a brass band.");
    first.about_model = Some("Keep answers short. Use metric units.");
    first.abandoned_first = Some("I live in Stavanger and I'm a welder.");
    let mut pets = Chat::new(
        "collie",
        "2023-05-02",
        vec![Turn(
            "Our dog Kasper (border collie, 2 yrs) keeps herding the neighbours' kids. Tips?",
            "Give him a job: herding balls, scent games and long runs help.",
        )],
    );
    pets.saved_memory = Some("User has a border collie named Kasper.");
    let mut chats = vec![
        first,
        pets,
        Chat::new(
            "dinner",
            "2023-06-10",
            vec![Turn(
                "I'm vegetarian and cooking for eight on Saturday, my sister Ingrid is a pilot and always late. Ideas for a gluten-free menu?",
                "A big gluten-free lentil moussaka works well and waits for latecomers.",
            )],
        ),
        Chat::new(
            "story",
            "2023-08-20",
            vec![
                Turn(
                    "Write a short story about a lighthouse keeper who lives in Reykjavik and raises goats.",
                    "Every morning Sigrun climbed the lighthouse stairs in Reykjavik...",
                ),
                Turn(
                    "Make it first person: I am the keeper and I live in Reykjavik.",
                    "I am the keeper...",
                ),
            ],
        ),
        Chat::new(
            "translate",
            "2023-09-05",
            vec![Turn(
                "Translate into Norwegian for a client: 'I am a dentist and I live in Oslo with my three cats.'",
                "Jeg er tannlege og bor i Oslo med mine tre katter.",
            )],
        ),
        Chat::new(
            "what-if",
            "2023-10-01",
            vec![Turn(
                "Just curious: if I moved to Tromsø, would I see the northern lights every night?",
                "Often on clear winter nights, but not every night.",
            )],
        ),
        Chat::new(
            "cold",
            "2023-11-11",
            vec![Turn(
                "I have a cold today and I'm in Copenhagen this week for a conference. Best soup nearby?",
                "Try a hot broth near Nyhavn.",
            )],
        ),
        Chat::new(
            "router",
            "2024-01-08",
            vec![Turn(
                "my wifi password is Fjord!Lys2023 and the key for the tide API is sk-proj-Qm7Xr2Lp9Wv4Tz8Yb1Nc3Hd6Fj0Ks5Ae2Ui for my side project. Why does the router drop?",
                "Change the channel and rotate that key, you pasted it here.",
            )],
        ),
        Chat::new(
            "colleague",
            "2024-02-02",
            vec![Turn(
                "My colleague is a huge Rosenborg fan and Espen thinks I should get a second dog. Should I get a second dog?",
                "As a marine biologist in Narvik you will know dogs love company!",
            )],
        ),
        Chat::new(
            "diet",
            "2024-04-15",
            vec![Turn(
                "I'm not vegetarian anymore, the doctor wants more iron. I'm learning Spanish too, A2 now. Quick iron-rich dinners?",
                "Beef and lentil stew, liver pâté on gluten-free toast.",
            )],
        ),
        Chat::new(
            "move",
            "2024-09-03",
            vec![Turn(
                "We just moved to Bergen! My goal is to sail to the Faroe Islands next summer. Which marina is good for a small sailboat?",
                "Look at the guest harbour in Vågen.",
            )],
        ),
        Chat::new(
            "wedding",
            "2025-01-20",
            vec![Turn(
                "My husband Espen and I want a quiet anniversary dinner in Bergen, any ideas?",
                "Try a seafood place on Bryggen.",
            )],
        ),
    ];
    // Exports list conversations newest first.
    chats.reverse();
    chats
}

fn export_gz(chats: &[Chat]) -> Vec<u8> {
    let json = Value::Array(chats.iter().map(Chat::to_json).collect());
    gzip(json.to_string().as_bytes())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn memory_of(chats: &[Chat], settings: &ExtractSettings) -> (String, Vec<fullpass::extract::Fact>) {
    let bytes = export_gz(chats);
    let out = pass::run(bytes.as_slice(), &Limits::default(), settings, |_| Ok(())).unwrap();
    (memory::render_markdown(&out.facts), out.facts)
}

fn line_with<'a>(md: &'a str, needle: &str) -> Option<&'a str> {
    md.lines().find(|l| l.contains(needle))
}

#[test]
fn hedda_memory_has_her_facts_in_sections() {
    let (md, _) = memory_of(&hedda(), &ExtractSettings::default());
    println!("{md}");
    assert!(md.starts_with("## Memory\n"));
    let expected = [
        ("### Identity", "- Name: Hedda Solberg [2023-02]"),
        (
            "### Home & location",
            "- Lives in Bergen (previously Trondheim, 2023-02) [2024-09]",
        ),
        ("### Work & education", "- Hydrographic surveyor [2023-02]"),
        ("### Work & education", "- Works at Fjordkart AS [2023-02]"),
        (
            "### Family & relationships",
            "- Husband: Espen [2023-02 → 2025-01, 2×]",
        ),
        (
            "### Family & relationships",
            "- Sister: Ingrid (pilot) [2023-06]",
        ),
        ("### Pets", "- Dog: Kasper (border collie)"),
        ("### Health & diet", "- Coeliac disease"),
        (
            "### Health & diet",
            "- Previously: Vegetarian [2023-06 → 2024-04, 2×]",
        ),
        ("### Languages", "- Learning Spanish (A2) [2024-04]"),
        (
            "### Interests & hobbies",
            "- Plays trombone in a brass band",
        ),
        ("### Preferences", "- Response style: Keep answers short"),
        ("### Goals", "- Goal: sail to the Faroe Islands [2024-09]"),
    ];
    for (heading, line) in expected {
        let found = line_with(&md, line);
        assert!(found.is_some(), "missing {line:?} in\n{md}");
        // Each fact sits under its section heading.
        let section = md.split("\n### ").find(|s| s.contains(line)).unwrap_or("");
        assert!(
            format!("### {section}").starts_with(heading),
            "{line:?} not under {heading}"
        );
    }
    // Sections follow Category order.
    let order: Vec<usize> = Category::ALL
        .iter()
        .filter_map(|c| md.find(&format!("### {}\n", c.title())))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{md}");
}

#[test]
fn hedda_memory_avoids_every_trap() {
    let (md, facts) = memory_of(&hedda(), &ExtractSettings::default());
    let lower = md.to_lowercase();
    for trap in [
        "reykjavik", // a story she asked for
        "goats",
        "dentist", // text to translate
        "oslo",
        "cats",
        "tromsø",     // a what-if
        "copenhagen", // a trip
        "cold",       // a passing illness
        "rosenborg",  // a colleague's team
        "narvik",     // the assistant's claim
        "marine biologist",
        "stavanger", // an abandoned branch
        "welder",
        "second dog", // a question
    ] {
        assert!(!lower.contains(trap), "{trap:?} leaked into\n{md}");
    }
    // The sister's job is hers.
    assert!(
        !md.lines()
            .any(|l| l.trim_start_matches("- ").starts_with("Pilot")),
        "{md}"
    );
    for secret in [
        "Fjord!Lys2023",
        "sk-proj-Qm7Xr2Lp9Wv4Tz8Yb1Nc3Hd6Fj0Ks5Ae2Ui",
    ] {
        assert!(!md.contains(secret), "{secret} leaked");
    }
    assert!(facts.iter().all(|f| !secrets::contains_secret(&f.value)));
}

#[test]
fn budget_and_exclusions_hold() {
    let settings = ExtractSettings {
        max_lines: 5,
        max_bytes: 8 * 1024,
        excluded: vec![Category::Health],
    };
    let (md, facts) = memory_of(&hedda(), &settings);
    assert!(facts.len() <= 5, "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with("- ")).count(),
        facts.len()
    );
    assert!(!md.contains("### Health"), "{md}");
    // The best-ranked facts survive: her name and where she lives.
    assert!(md.contains("Name: Hedda Solberg"), "{md}");
    assert!(md.contains("Lives in Bergen"), "{md}");

    let tight = ExtractSettings {
        max_lines: 150,
        max_bytes: 300,
        excluded: Vec::new(),
    };
    let (md, _) = memory_of(&hedda(), &tight);
    assert!(md.len() <= 300, "{} bytes:\n{md}", md.len());
}

#[test]
fn process_prints_memory_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hedda.json.gz");
    std::fs::write(&file, export_gz(&hedda())).unwrap();
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fullpass"));
        cmd.arg("process").arg(&file);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let md = run(false);
    assert!(md.starts_with("## Memory\n"), "{md}");
    assert!(
        md.contains("- Lives in Bergen (previously Trondheim"),
        "{md}"
    );
    let json: Value = serde_json::from_str(&run(true)).unwrap();
    assert_eq!(json["version"], 1);
    let facts = json["facts"].as_array().unwrap();
    let home = facts
        .iter()
        .find(|f| f["slot"] == "home")
        .expect("a home fact");
    assert_eq!(home["category"], "location");
    assert_eq!(home["value"], "Lives in Bergen");
    assert_eq!(home["source"], "user_message");
    assert_eq!(home["previously"][0]["value"], "Trondheim");
    assert_eq!(home["ended"], false);
    let dog = facts.iter().find(|f| f["category"] == "pets").unwrap();
    assert_eq!(dog["source"], "assistant_memory");
}

#[test]
fn the_same_export_always_gives_the_same_memory_and_facts() {
    // A generated export has many facts that tie in ranking.
    let mut doc = Vec::new();
    let options = fullpass::synth::Options {
        seed: 11,
        amount: fullpass::synth::Amount::Conversations(120),
        ..Default::default()
    };
    fullpass::synth::write_document(&mut doc, &options).unwrap();
    let settings = ExtractSettings::default();
    let render = || {
        let out = pass::run(&doc[..], &Limits::default(), &settings, |_| Ok(())).unwrap();
        (
            memory::render_markdown(&out.facts),
            memory::render_json(&out.facts).to_string(),
        )
    };
    let first = render();
    assert!(first.0.lines().count() > 10, "{}", first.0);
    for _ in 0..4 {
        assert_eq!(render(), first);
    }
}

#[test]
fn a_short_pass_gives_the_same_memory_or_declines_a_larger_export() {
    let settings = ExtractSettings::default();
    let limits = Limits::default();
    let render = |out: pass::PassOutput| {
        (
            memory::render_markdown(&out.facts),
            memory::render_json(&out.facts).to_string(),
            out.stats.conversations,
        )
    };
    for (conversations, short) in [(1, true), (30, false)] {
        let mut doc = Vec::new();
        let options = fullpass::synth::Options {
            seed: 3,
            amount: fullpass::synth::Amount::Conversations(conversations),
            ..Default::default()
        };
        fullpass::synth::write_document(&mut doc, &options).unwrap();
        let gz = gzip(&doc);
        let streamed = render(pass::run(&gz[..], &limits, &settings, |_| Ok(())).unwrap());
        let in_memory = render(pass::run_in_memory(&gz, &limits, &settings, |_| Ok(())).unwrap());
        assert_eq!(in_memory, streamed);
        let small = pass::run_small(&gz, &limits, &settings, 32 << 10).unwrap();
        assert_eq!(small.is_some(), short, "{} bytes of JSON", doc.len());
        if let Some(out) = small {
            assert_eq!(render(out), streamed);
        }
    }
}
