//! The reader through the binary: `gen-export`, `inspect`, and `process`
//! failing cleanly on a bad export.

use std::path::Path;
use std::process::{Command, Output};

fn fullpass(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fullpass"))
        .args(args)
        .output()
        .expect("run fullpass")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn process_rejects_a_bad_export_with_one_line_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, b"this is not an export").unwrap();
    let out = fullpass(&["process", path(&file)]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "fullpass: {}: conversations.json: expected a JSON array or object at byte 0\n",
            file.display()
        )
    );

    let missing = dir.path().join("missing.json.gz");
    let out = fullpass(&["process", path(&missing)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("fullpass: {}: ", missing.display())));
}

#[test]
fn process_refuses_an_export_without_user_messages() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.json");
    std::fs::write(&file, b"[]").unwrap();
    let out = fullpass(&["process", path(&file)]);
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "no memory printed: {out:?}");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "fullpass: {}: the export holds no conversations with a message from the user \
             (0 conversations read)\n",
            file.display()
        )
    );
}

#[test]
fn generated_export_inspected_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("claude.zip");
    let out = fullpass(&[
        "gen-export",
        "--conversations",
        "25",
        "--format",
        "claude",
        "--container",
        "zip",
        "--seed",
        "9",
        "--out",
        path(&file),
    ]);
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["conversations"], 25);

    let out = fullpass(&["inspect", "--conversations", path(&file)]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    let conversations: Vec<serde_json::Value> = lines
        .iter()
        .take(25)
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(conversations.iter().all(|c| c["messages"].is_array()));
    let stats: serde_json::Value = serde_json::from_str(&lines[25..].join("\n")).unwrap();
    assert_eq!(stats["format"], "claude");
    assert_eq!(stats["conversations"], 25);
    let user_messages: usize = conversations
        .iter()
        .map(|c| {
            c["messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["role"] == "user")
                .count()
        })
        .sum();
    assert_eq!(stats["user_messages"], user_messages);
    assert_eq!(summary["user_messages"], user_messages);
}

#[test]
fn the_conversation_size_limit_is_a_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    let long = "x".repeat(4000);
    let json = format!(
        r#"[{{"title": "Long", "chat_messages": [{{"sender": "human", "text": "{long}"}}]}}]"#
    );
    std::fs::write(&file, json).unwrap();
    assert!(fullpass(&["process", path(&file)]).status.success());
    let out = fullpass(&["process", "--max-conversation-bytes", "2KiB", path(&file)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        format!(
            "fullpass: {}: conversations.json: the conversation starting at byte 1 is larger than the limit of 2048 bytes\n",
            file.display()
        )
    );
}
