#!/usr/bin/env python3
"""The approach fullpass replaces, for comparison: load the whole export into
memory, parse it in one go, then walk each conversation's canonical branch.

    python3 bench/reference.py EXPORT(.json|.json.gz)

Prints the number of conversations and visible user messages it found.
"""
import gzip
import json
import sys


def chatgpt_user_messages(conversation):
    mapping = conversation.get("mapping") or {}
    node = conversation.get("current_node")
    if node not in mapping:
        parents = {entry.get("parent") for entry in mapping.values()}
        leaves = [key for key in mapping if key not in parents]
        node = max(leaves, default=None,
                   key=lambda k: ((mapping[k].get("message") or {}).get("create_time") or 0))
    count = 0
    seen = set()
    while node is not None and node not in seen:
        seen.add(node)
        entry = mapping.get(node) or {}
        message = entry.get("message") or {}
        author = (message.get("author") or {}).get("role")
        metadata = message.get("metadata") or {}
        content = message.get("content") or {}
        if (author == "user" and message.get("recipient", "all") == "all"
                and not metadata.get("is_visually_hidden_from_conversation")
                and content.get("content_type") in ("text", "multimodal_text")):
            texts = [p for p in content.get("parts") or [] if isinstance(p, str) and p]
            texts += [p.get("text") for p in content.get("parts") or []
                      if isinstance(p, dict) and p.get("content_type") == "audio_transcription"]
            if any(texts):
                count += 1
        node = entry.get("parent")
    return count


def claude_user_messages(conversation):
    return sum(1 for m in conversation.get("chat_messages") or []
               if m.get("sender") == "human" and m.get("text"))


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    conversations = json.loads(data)
    del data
    users = 0
    for conversation in conversations:
        if "mapping" in conversation:
            users += chatgpt_user_messages(conversation)
        else:
            users += claude_user_messages(conversation)
    print(f"{len(conversations)} conversations, {users} user messages")


if __name__ == "__main__":
    main()
