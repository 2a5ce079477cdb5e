//! The export's JSON as typed, borrowing structs: one conversation element is
//! deserialized straight from its bytes, strings borrowed where they have no
//! escapes, every field we do not read skipped without allocating.
//!
//! Exports change shape over the years, so the leaf types here are lenient: a
//! field with an unexpected JSON type reads as absent instead of failing the
//! whole export. Only broken JSON is an error.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// Writes the `Visitor` methods for JSON values a lenient type does not
/// expect: each consumes the value (arrays and objects fully) and yields `$value`.
macro_rules! otherwise {
    ($value:expr; $($kind:ident)*) => { $( otherwise!(@$kind $value); )* };
    (@bool $v:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($v) }
    };
    (@number $v:expr) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($v) }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($v) }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($v) }
    };
    (@str $v:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($v) }
    };
    (@null $v:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($v) }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> { Ok($v) }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
    (@seq $v:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($v)
        }
    };
    (@map $v:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($v)
        }
    };
}

/// A string borrowed from the element's bytes when it has no escapes; absent
/// when the JSON value is not a string at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Option<Cow<'a, str>>);

impl Text<'_> {
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            otherwise!(Text(None); bool number null seq map);
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A JSON object read as `T`; any other JSON value reads as absent.
#[derive(Debug)]
pub(crate) struct Object<T>(pub Option<T>);

impl<T> Default for Object<T> {
    fn default() -> Self {
        Object(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|v| Object(Some(v)))
            }
            otherwise!(Object(None); bool number str null seq);
        }
        deserializer.deserialize_any(ObjectVisitor(PhantomData))
    }
}

/// A JSON array read element by element as `T`; any other JSON value reads as empty.
#[derive(Debug)]
pub(crate) struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List(items))
            }
            otherwise!(List(Vec::new()); bool number str null map);
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// `true` only for a JSON `true`; anything else is `false`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl<'de> Visitor<'de> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Flag(v))
            }
            otherwise!(Flag(false); number str null seq map);
        }
        deserializer.deserialize_any(FlagVisitor)
    }
}

/// A point in time written as Unix seconds (ChatGPT) or an RFC 3339 string
/// (Claude); absent when null, missing or unreadable.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp(pub Option<DateTime<Utc>>);

impl Timestamp {
    /// Unix seconds. A number too large to be seconds (past the year 5000) but
    /// right for milliseconds, as some tools write them, is read as milliseconds.
    fn from_seconds(seconds: f64) -> Timestamp {
        let seconds = if seconds > 1.0e11 && seconds <= 1.0e14 {
            seconds / 1000.0
        } else {
            seconds
        };
        if !(0.0..=1.0e11).contains(&seconds) {
            return Timestamp(None);
        }
        // An f64 of today's Unix time is exact to about 0.2 µs: keep microseconds.
        let micros = (seconds * 1e6).round() as i64;
        Timestamp(DateTime::from_timestamp_micros(micros))
    }

    fn from_text(text: &str) -> Timestamp {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Timestamp(Some(t.with_timezone(&Utc)));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
                return Timestamp(Some(t.and_utc()));
            }
        }
        match text.trim().parse::<f64>() {
            Ok(seconds) => Timestamp::from_seconds(seconds),
            Err(_) => Timestamp(None),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;
        impl<'de> Visitor<'de> for TimestampVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a timestamp")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Timestamp::from_seconds(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Timestamp::from_seconds(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Timestamp::from_seconds(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Timestamp::from_text(v))
            }
            otherwise!(Timestamp(None); bool null seq map);
        }
        deserializer.deserialize_any(TimestampVisitor)
    }
}

/// One element of the export's conversation array, in either format: which
/// keys are present tells the formats apart.
#[derive(Debug, Deserialize)]
pub(crate) struct RawConversation<'a> {
    // ChatGPT
    #[serde(borrow, default)]
    pub id: Text<'a>,
    #[serde(borrow, default)]
    pub conversation_id: Text<'a>,
    #[serde(borrow, default)]
    pub title: Text<'a>,
    #[serde(default)]
    pub create_time: Timestamp,
    #[serde(default)]
    pub update_time: Timestamp,
    #[serde(borrow, default)]
    pub mapping: Option<Mapping<'a>>,
    #[serde(borrow, default)]
    pub current_node: Text<'a>,
    // Claude
    #[serde(borrow, default)]
    pub uuid: Text<'a>,
    #[serde(borrow, default)]
    pub name: Text<'a>,
    #[serde(default)]
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Timestamp,
    #[serde(borrow, default)]
    pub chat_messages: Option<List<Object<ClaudeMessage<'a>>>>,
}

/// ChatGPT's `mapping`: node id → node, kept in file order so that ties
/// (two leaves with the same time) resolve the same way on every run.
#[derive(Debug, Default)]
pub(crate) struct Mapping<'a>(pub Vec<(Cow<'a, str>, RawNode<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Mapping<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MappingVisitor;
        impl<'de> Visitor<'de> for MappingVisitor {
            type Value = Mapping<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of node ids to nodes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut nodes = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some((key, node)) = map.next_entry::<Text<'de>, Object<RawNode>>()? {
                    if let (Some(id), Some(node)) = (key.0, node.0) {
                        nodes.push((id, node));
                    }
                }
                Ok(Mapping(nodes))
            }
            otherwise!(Mapping(Vec::new()); bool number str null seq);
        }
        deserializer.deserialize_any(MappingVisitor)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawNode<'a> {
    #[serde(borrow, default)]
    pub message: Object<RawMessage<'a>>,
    #[serde(borrow, default)]
    pub parent: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawMessage<'a> {
    #[serde(borrow, default)]
    pub author: Object<Author<'a>>,
    #[serde(default)]
    pub create_time: Timestamp,
    #[serde(borrow, default)]
    pub content: Object<Content<'a>>,
    #[serde(borrow, default)]
    pub recipient: Text<'a>,
    #[serde(borrow, default)]
    pub channel: Text<'a>,
    #[serde(borrow, default)]
    pub metadata: Object<MessageMetadata<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Author<'a> {
    #[serde(borrow, default)]
    pub role: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Content<'a> {
    #[serde(borrow, default)]
    pub content_type: Text<'a>,
    #[serde(borrow, default)]
    pub parts: List<Part<'a>>,
    #[serde(borrow, default)]
    pub text: Text<'a>,
    #[serde(borrow, default)]
    pub user_profile: Text<'a>,
    #[serde(borrow, default)]
    pub user_instructions: Text<'a>,
    #[serde(borrow, default)]
    pub model_set_context: Text<'a>,
}

/// One element of `content.parts`: a plain string, or an object such as an
/// image pointer or a voice transcription.
#[derive(Debug)]
pub(crate) enum Part<'a> {
    Text(Cow<'a, str>),
    Object {
        content_type: Option<Cow<'a, str>>,
        text: Option<Cow<'a, str>>,
    },
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Part<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct PartObject<'a> {
            #[serde(borrow, default)]
            content_type: Text<'a>,
            #[serde(borrow, default)]
            text: Text<'a>,
        }
        struct PartVisitor;
        impl<'de> Visitor<'de> for PartVisitor {
            type Value = Part<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an object")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Part::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Part::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Part::Text(Cow::Owned(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let object = PartObject::deserialize(MapAccessDeserializer::new(map))?;
                Ok(Part::Object {
                    content_type: object.content_type.0,
                    text: object.text.0,
                })
            }
            otherwise!(Part::Other; bool number null seq);
        }
        deserializer.deserialize_any(PartVisitor)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageMetadata<'a> {
    #[serde(default)]
    pub is_visually_hidden_from_conversation: Flag,
    #[serde(default)]
    pub is_user_system_message: Flag,
    #[serde(borrow, default)]
    pub user_context_message_data: Object<UserContext<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UserContext<'a> {
    #[serde(borrow, default)]
    pub about_user_message: Text<'a>,
    #[serde(borrow, default)]
    pub about_model_message: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ClaudeMessage<'a> {
    #[serde(borrow, default)]
    pub uuid: Text<'a>,
    #[serde(borrow, default)]
    pub sender: Text<'a>,
    #[serde(borrow, default)]
    pub text: Text<'a>,
    #[serde(borrow, default)]
    pub content: List<Object<ClaudeContent<'a>>>,
    #[serde(default)]
    pub created_at: Timestamp,
    #[serde(borrow, default)]
    pub attachments: List<Object<ClaudeAttachment<'a>>>,
    #[serde(borrow, default)]
    pub parent_message_uuid: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ClaudeContent<'a> {
    #[serde(borrow, default, rename = "type")]
    pub kind: Text<'a>,
    #[serde(borrow, default)]
    pub text: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ClaudeAttachment<'a> {
    #[serde(borrow, default)]
    pub file_name: Text<'a>,
    #[serde(borrow, default)]
    pub extracted_content: Text<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Option<String> {
        serde_json::from_str::<Timestamp>(json)
            .unwrap()
            .0
            .map(|t| t.to_rfc3339())
    }

    #[test]
    fn timestamps_in_seconds_milliseconds_and_text() {
        let noon = Some("2024-06-01T12:00:00+00:00".to_owned());
        assert_eq!(read("1717243200"), noon);
        assert_eq!(read("1717243200.0"), noon);
        assert_eq!(read("1717243200000"), noon, "milliseconds");
        assert_eq!(read(r#""2024-06-01T12:00:00Z""#), noon);
        assert_eq!(read(r#""1717243200""#), noon);
        assert_eq!(read("-5"), None);
        assert_eq!(read("1e20"), None);
        assert_eq!(read("null"), None);
        assert_eq!(read(r#""soon""#), None);
    }
}
