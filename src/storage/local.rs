use super::{ExportStream, StorageError, StoragePath};
use std::path::{Path, PathBuf};

/// Exports under a local directory: `storage_path` is resolved below `root`.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: impl Into<PathBuf>) -> LocalStorage {
        LocalStorage { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub async fn open(&self, path: &StoragePath) -> Result<ExportStream, StorageError> {
        let mut full = self.root.clone();
        full.extend(path.segments());
        let io_error = |source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::NotFound {
                StorageError::NotFound(path.to_string())
            } else {
                StorageError::Io {
                    path: path.to_string(),
                    source,
                }
            }
        };
        let file = tokio::fs::File::open(&full).await.map_err(io_error)?;
        let meta = file.metadata().await.map_err(io_error)?;
        if !meta.is_file() {
            return Err(StorageError::NotFound(path.to_string()));
        }
        Ok(ExportStream {
            size: Some(meta.len()),
            body: Box::pin(file),
        })
    }
}
