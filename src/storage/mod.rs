//! Where exports live: a local directory or Supabase Storage. Both hand back a
//! byte stream; nothing here ever holds a whole file in memory.

mod local;
mod path;
mod rule;
mod scrub;
mod supabase;

pub use local::LocalStorage;
pub use path::StoragePath;
pub use rule::{PathRule, PathRuleError, Segment as PathRuleSegment};
pub use scrub::scrub_secrets;
pub use supabase::SupabaseStorage;

use std::pin::Pin;
use tokio::io::AsyncRead;

/// An opened export: its body as a stream, and its size when the backend knows it.
pub struct ExportStream {
    pub size: Option<u64>,
    pub body: Body,
}

/// An export's bytes as they arrive.
pub type Body = Pin<Box<dyn AsyncRead + Send>>;

/// Why an export could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("invalid storage path {path:?}: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("storage path {path:?} is not allowed: it must lie under {rule} ({setting})")]
    NotAllowed {
        path: String,
        rule: String,
        setting: &'static str,
    },
    #[error("refused to read {path}: {reason}")]
    Refused { path: String, reason: &'static str },
    #[error("export not found at {0}")]
    NotFound(String),
    #[error("storage refused access to {path}: HTTP {status}: {message}")]
    Denied {
        path: String,
        status: u16,
        message: String,
    },
    #[error("storage answered HTTP {status} for {path}: {message}")]
    Http {
        path: String,
        status: u16,
        message: String,
    },
    #[error("storage request for {path} failed: {message}")]
    Network { path: String, message: String },
    #[error("reading {path} failed: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    /// Whether the same request could succeed later (server errors, timeouts, resets).
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::InvalidPath { .. }
            | StorageError::NotAllowed { .. }
            | StorageError::Refused { .. }
            | StorageError::NotFound(_)
            | StorageError::Denied { .. } => false,
            StorageError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            StorageError::Network { .. } => true,
            StorageError::Io { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
        }
    }

    /// The same error with `key`, and anything that looks like a bearer token
    /// or a JWT, masked in its text: a server may echo request headers.
    pub fn scrubbed(self, key: &str) -> StorageError {
        let clean = |text: String| scrub_secrets(&text, key);
        match self {
            StorageError::Denied {
                path,
                status,
                message,
            } => StorageError::Denied {
                path,
                status,
                message: clean(message),
            },
            StorageError::Http {
                path,
                status,
                message,
            } => StorageError::Http {
                path,
                status,
                message: clean(message),
            },
            StorageError::Network { path, message } => StorageError::Network {
                path,
                message: clean(message),
            },
            other => other,
        }
    }
}

/// The configured export store.
#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalStorage),
    Supabase(SupabaseStorage),
}

impl Storage {
    /// Opens the export at `path` (`bucket/path/to/file`) for streaming.
    pub async fn open(&self, path: &str) -> Result<ExportStream, StorageError> {
        let path = StoragePath::parse(path)?;
        match self {
            Storage::Local(local) => local.open(&path).await,
            Storage::Supabase(supabase) => supabase.open(&path).await,
        }
    }

    /// A short description for logs (never includes a key).
    pub fn describe(&self) -> String {
        match self {
            Storage::Local(local) => format!("local directory {}", local.root().display()),
            Storage::Supabase(supabase) => format!("Supabase Storage at {}", supabase.base_url()),
        }
    }
}
