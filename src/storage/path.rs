//! `storage_path` values come from a database row: treat them as untrusted.

use super::StorageError;

/// A validated `bucket/path/to/file`: relative, no `.`/`..`/empty segments,
/// no backslashes or control characters, so it cannot leave its root or bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePath {
    raw: String,
}

impl StoragePath {
    pub fn parse(raw: &str) -> Result<StoragePath, StorageError> {
        let invalid = |reason| StorageError::InvalidPath {
            path: raw.chars().take(200).collect(),
            reason,
        };
        if raw.is_empty() {
            return Err(invalid("it is empty"));
        }
        if raw.len() > 1024 {
            return Err(invalid("it is longer than 1024 bytes"));
        }
        if raw.starts_with('/') {
            return Err(invalid("absolute paths are not allowed"));
        }
        if raw.contains('\\') {
            return Err(invalid("backslashes are not allowed"));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid("control characters are not allowed"));
        }
        if raw.contains("://") {
            return Err(invalid("URLs are not allowed; give bucket/path"));
        }
        for segment in raw.split('/') {
            match segment {
                "" => return Err(invalid("empty path segments are not allowed")),
                "." | ".." => return Err(invalid("'.' and '..' segments are not allowed")),
                _ => {}
            }
        }
        if !raw.contains('/') {
            return Err(invalid("expected bucket/path/to/file"));
        }
        Ok(StoragePath {
            raw: raw.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Path segments, bucket first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.raw.split('/')
    }
}

impl std::fmt::Display for StoragePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bucket_and_path() {
        let p = StoragePath::parse("imports/u1/export.json.gz").unwrap();
        assert_eq!(
            p.segments().collect::<Vec<_>>(),
            ["imports", "u1", "export.json.gz"]
        );
    }

    #[test]
    fn refuses_escapes() {
        for bad in [
            "",
            "/etc/passwd",
            "imports/../secret",
            "imports/./x",
            "..",
            "imports//x",
            "imports\\..\\x",
            "imports/x\0y",
            "http://evil/x",
            "nobucket",
            "imports/\n",
        ] {
            assert!(StoragePath::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
