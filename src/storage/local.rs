use super::{ExportStream, StorageError, StoragePath};
use std::path::{Path, PathBuf};

/// Files this small are read whole when opened: cheaper than reading them
/// through the blocking pool a block at a time.
const READ_AT_OPEN_BYTES: u64 = 64 << 10;

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
        if let Some(bytes) = read_small_cached(&full) {
            return Ok(ExportStream {
                size: Some(bytes.len() as u64),
                body: Box::pin(std::io::Cursor::new(bytes)),
            });
        }
        // One trip to the blocking pool: open, check, and read a small file whole.
        let opened = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let mut file = std::fs::File::open(&full)?;
            let meta = file.metadata()?;
            if !meta.is_file() || meta.len() > READ_AT_OPEN_BYTES {
                return Ok((meta, file, None));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok((meta, file, Some(bytes)))
        })
        .await
        .map_err(|e| io_error(std::io::Error::other(e)))?;
        let (meta, file, bytes) = opened.map_err(io_error)?;
        if !meta.is_file() {
            return Err(StorageError::NotFound(path.to_string()));
        }
        let body: super::Body = match bytes {
            Some(bytes) => Box::pin(std::io::Cursor::new(bytes)),
            None => Box::pin(tokio::fs::File::from_std(file)),
        };
        Ok(ExportStream {
            size: Some(meta.len()),
            body,
        })
    }
}

/// Reads a small file on the calling (async) thread, but only when the kernel
/// can do it without waiting: the path is in its lookup cache (`openat2` with
/// `RESOLVE_CACHED`) and the bytes are in the page cache (`preadv2` with
/// `RWF_NOWAIT`). `None` when it would have to wait, when the file is not a
/// small regular file, on any error, or where the system cannot tell: the file
/// is then read on a blocking thread, which also reports any error. For a
/// backlog of small exports this saves a round trip through the blocking pool
/// per job, which costs more CPU than reading the file.
#[cfg(target_os = "linux")]
fn read_small_cached(path: &Path) -> Option<Vec<u8>> {
    use rustix::fs::{CWD, FileType, Mode, OFlags, ResolveFlags, fstat, openat2};
    use rustix::io::{ReadWriteFlags, preadv2};
    let fd = openat2(
        CWD,
        path,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::CACHED,
    )
    .ok()?;
    let stat = fstat(&fd).ok()?;
    let size = u64::try_from(stat.st_size).ok()?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile || size > READ_AT_OPEN_BYTES {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    // One byte more than the size: a read that fills it means the file grew.
    let mut bytes = vec![0u8; size + 1];
    let read = preadv2(
        &fd,
        &mut [std::io::IoSliceMut::new(&mut bytes)],
        0,
        ReadWriteFlags::NOWAIT,
    )
    .ok()?;
    if read != size {
        return None;
    }
    bytes.truncate(size);
    Some(bytes)
}

#[cfg(not(target_os = "linux"))]
fn read_small_cached(_path: &Path) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn small_and_large_files_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        let storage = LocalStorage::new(dir.path());
        let limit = usize::try_from(READ_AT_OPEN_BYTES).unwrap();
        for size in [0, 10, limit, limit + 1, 3 * limit] {
            let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
            std::fs::write(dir.path().join("b/export"), &data).unwrap();
            let path = StoragePath::parse("b/export").unwrap();
            let mut stream = storage.open(&path).await.unwrap();
            assert_eq!(stream.size, Some(size as u64));
            let mut read = Vec::new();
            stream.body.read_to_end(&mut read).await.unwrap();
            assert_eq!(read, data, "size {size}");
        }
        // Larger files, folders and missing files are never read on this thread.
        let small = dir.path().join("b/small");
        std::fs::write(&small, vec![7u8; limit + 1]).unwrap();
        assert_eq!(read_small_cached(&small), None);
        assert_eq!(read_small_cached(dir.path()), None);
        assert_eq!(read_small_cached(&dir.path().join("b/missing")), None);
        let missing = StoragePath::parse("b/missing").unwrap();
        assert!(matches!(
            storage.open(&missing).await,
            Err(StorageError::NotFound(_))
        ));
        std::fs::create_dir(dir.path().join("b/folder")).unwrap();
        let folder = StoragePath::parse("b/folder").unwrap();
        assert!(matches!(
            storage.open(&folder).await,
            Err(StorageError::NotFound(_))
        ));
    }

    /// A small file just written (so in the page cache) opens while the only
    /// blocking thread is busy; a large one waits for that thread. Needs a file
    /// system that answers `RWF_NOWAIT` reads (ext4, xfs, btrfs do).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_small_cached_file_is_read_without_the_blocking_pool() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/small"), b"[]").unwrap();
        let large = vec![1u8; usize::try_from(READ_AT_OPEN_BYTES).unwrap() + 1];
        std::fs::write(dir.path().join("b/large"), large).unwrap();
        let storage = LocalStorage::new(dir.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (release, hold) = std::sync::mpsc::channel::<()>();
            let busy = tokio::task::spawn_blocking(move || hold.recv());
            let open = |path: &'static str| {
                let storage = storage.clone();
                async move {
                    let path = StoragePath::parse(path).unwrap();
                    tokio::time::timeout(Duration::from_millis(300), storage.open(&path)).await
                }
            };
            let mut small = open("b/small")
                .await
                .expect("read without the pool")
                .unwrap();
            let mut bytes = Vec::new();
            small.body.read_to_end(&mut bytes).await.unwrap();
            assert_eq!((small.size, bytes.as_slice()), (Some(2), &b"[]"[..]));
            assert!(open("b/large").await.is_err(), "the pool was not busy");
            release.send(()).unwrap();
            busy.await.unwrap().unwrap();
        });
    }
}
