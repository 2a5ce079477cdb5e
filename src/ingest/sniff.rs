//! Recognising a document that is no UTF-8 JSON by its first bytes (UTF-16
//! text, a tar archive, a file compressed once more), so that the error says
//! what the file is and what to upload instead of "expected a JSON array".
//!
//! Every pattern here is impossible at the start of valid UTF-8 JSON (a NUL, a
//! control byte, 0xFE/0xFF), so a valid export is never turned away.

use super::IngestError;

/// What to upload instead, for an export packed the wrong way.
const UPLOAD_INSTEAD: &str = "upload conversations.json, its .gz, or the export's original ZIP";
/// Leading bytes looked at for NUL-interleaved (BOM-less UTF-16) text.
const UTF16_WINDOW: usize = 64;
/// A tar header holds "ustar" at this offset.
const TAR_MAGIC_AT: usize = 257;

/// Where the document sits, for the subject of the message.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layer<'a> {
    /// The uploaded file itself.
    Plain,
    /// What the uploaded gzip decompresses to.
    Gzip,
    /// An entry of the uploaded zip archive.
    ZipEntry(&'a str),
}

/// What a document turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Utf16 {
        big_endian: bool,
        byte_order_mark: bool,
    },
    Tar,
    Gzip,
    Zip,
    Compressed(&'static str),
}

fn recognise(head: &[u8]) -> Option<Found> {
    match head {
        [0xFF, 0xFE, ..] => {
            return Some(Found::Utf16 {
                big_endian: false,
                byte_order_mark: true,
            });
        }
        [0xFE, 0xFF, ..] => {
            return Some(Found::Utf16 {
                big_endian: true,
                byte_order_mark: true,
            });
        }
        [0x1f, 0x8b, ..] => return Some(Found::Gzip),
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => return Some(Found::Zip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => return Some(Found::Compressed("zstd")),
        [b'B', b'Z', b'h', ..] => return Some(Found::Compressed("bzip2")),
        [0xfd, b'7', b'z', b'X', ..] => return Some(Found::Compressed("xz")),
        [b'7', b'z', 0xbc, 0xaf, ..] => return Some(Found::Compressed("7-zip")),
        _ => {}
    }
    if head.get(TAR_MAGIC_AT..TAR_MAGIC_AT + 5) == Some(b"ustar".as_slice()) {
        return Some(Found::Tar);
    }
    interleaved_nuls(head).map(|big_endian| Found::Utf16 {
        big_endian,
        byte_order_mark: false,
    })
}

/// `Some(big_endian)` when the first bytes are ASCII interleaved with NULs,
/// the way UTF-16 without a byte-order mark writes JSON.
fn interleaved_nuls(head: &[u8]) -> Option<bool> {
    let window = head.get(..head.len().min(UTF16_WINDOW) & !1)?;
    if window.is_empty() {
        return None;
    }
    let pairs = || window.chunks_exact(2);
    if pairs().all(|pair| pair[1] == 0) && pairs().any(|pair| pair[0] != 0) {
        return Some(false);
    }
    if pairs().all(|pair| pair[0] == 0) && pairs().any(|pair| pair[1] != 0) {
        return Some(true);
    }
    None
}

/// A permanent error when `head`, the first bytes of a document, shows it is
/// no UTF-8 JSON but something recognisable.
pub(crate) fn check(head: &[u8], layer: Layer<'_>) -> Result<(), IngestError> {
    match recognise(head) {
        None => Ok(()),
        Some(found) => Err(IngestError::Format(describe(found, layer))),
    }
}

fn describe(found: Found, layer: Layer<'_>) -> String {
    let subject = match layer {
        Layer::Plain => "the export is".to_owned(),
        Layer::Gzip => "the export's gzip holds".to_owned(),
        Layer::ZipEntry(name) => format!("{name} in the zip archive is"),
    };
    match found {
        Found::Utf16 {
            big_endian,
            byte_order_mark,
        } => {
            let order = if big_endian {
                "big-endian"
            } else {
                "little-endian"
            };
            let evidence = match (byte_order_mark, big_endian) {
                (true, false) => "byte-order mark FF FE",
                (true, true) => "byte-order mark FE FF",
                (false, _) => "a NUL byte between the characters",
            };
            format!(
                "{subject} UTF-16 text ({order}, {evidence}), not UTF-8; fullpass reads \
                 UTF-8 JSON: upload the conversations.json of the export unchanged, or \
                 save it as UTF-8"
            )
        }
        Found::Tar => match layer {
            Layer::Gzip => format!("the export is a tar archive inside gzip; {UPLOAD_INSTEAD}"),
            _ => format!("{subject} a tar archive; {UPLOAD_INSTEAD}"),
        },
        Found::Gzip => match layer {
            Layer::Gzip => {
                format!("the export is gzip inside gzip (compressed twice); {UPLOAD_INSTEAD}")
            }
            _ => format!("{subject} gzip-compressed; {UPLOAD_INSTEAD}"),
        },
        Found::Zip => match layer {
            Layer::Gzip => format!("the export is a zip archive inside gzip; {UPLOAD_INSTEAD}"),
            _ => format!("{subject} a zip archive; {UPLOAD_INSTEAD}"),
        },
        Found::Compressed(kind) => match layer {
            Layer::Gzip => {
                format!("the export is {kind}-compressed data inside gzip; {UPLOAD_INSTEAD}")
            }
            _ => format!("{subject} {kind}-compressed; {UPLOAD_INSTEAD}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_json_starts_are_never_recognised() {
        for head in [
            b"[{\"mapping\":{}}]".as_slice(),
            b"\xEF\xBB\xBF[]",
            b"  \n\t{\"conversations\":[]}",
            b"[",
            b"",
            b"x",
        ] {
            assert_eq!(recognise(head), None, "{head:?}");
        }
    }

    #[test]
    fn utf16_with_and_without_a_byte_order_mark() {
        let le: Vec<u8> = "[{\"a\":1}]"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "[{\"a\":1}]"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(
            recognise(&le),
            Some(Found::Utf16 {
                big_endian: false,
                byte_order_mark: false
            })
        );
        assert_eq!(
            recognise(&be),
            Some(Found::Utf16 {
                big_endian: true,
                byte_order_mark: false
            })
        );
        assert_eq!(
            recognise(&[0xFE, 0xFF, 0, b'[']),
            Some(Found::Utf16 {
                big_endian: true,
                byte_order_mark: true
            })
        );
        // One stray NUL is no UTF-16: left to the JSON reader's error.
        assert_eq!(recognise(b"[{\0\"a\":1}]"), None);
    }
}
