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

    /// Opens `path` below the root without following any symbolic link and
    /// without waiting on anything but a regular file (a FIFO would block).
    pub async fn open(&self, path: &StoragePath) -> Result<ExportStream, StorageError> {
        let io_error = |source: std::io::Error| {
            // A file where a folder was expected: nothing is at that path.
            if matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) {
                StorageError::NotFound(path.to_string())
            } else {
                StorageError::Io {
                    path: path.to_string(),
                    source,
                }
            }
        };
        if let Some(bytes) = read_small_cached(&self.root, path.as_str()) {
            return Ok(ExportStream {
                size: Some(bytes.len() as u64),
                body: Box::pin(std::io::Cursor::new(bytes)),
            });
        }
        // One trip to the blocking pool: open, check, and read a small file whole.
        let root = self.root.clone();
        let relative = path.as_str().to_owned();
        let opened = tokio::task::spawn_blocking(move || -> Result<_, Refusal> {
            let mut file = open_beneath(&root, &relative)?;
            let meta = file.metadata()?;
            check_file_type(&meta.file_type())?;
            if meta.len() > READ_AT_OPEN_BYTES {
                return Ok((meta, file, None));
            }
            let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            Ok((meta, file, Some(bytes)))
        })
        .await
        .map_err(|e| io_error(std::io::Error::other(e)))?;
        let (meta, file, bytes) = match opened {
            Ok(opened) => opened,
            Err(Refusal::Io(e)) => return Err(io_error(e)),
            Err(Refusal::Directory) => return Err(StorageError::NotFound(path.to_string())),
            Err(Refusal::Unsafe(reason)) => {
                return Err(StorageError::Refused {
                    path: path.to_string(),
                    reason,
                });
            }
        };
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

/// Why a local export was not opened.
#[derive(Debug)]
enum Refusal {
    Io(std::io::Error),
    /// A folder: reported as "not found", as before.
    Directory,
    /// Never read, whatever its content.
    Unsafe(&'static str),
}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Refusal {
        Refusal::Io(e)
    }
}

const SYMLINK: &str = "the path goes through a symbolic link, which the local store never follows";
const OUTSIDE: &str = "the path leads outside the storage directory";
/// What `open` says of a socket (or a device with no driver behind it).
const NO_DEVICE: &str = "it is a socket or a device, not a regular file";

/// Only regular files are exports: a FIFO, socket or device could block a
/// read forever or never end.
fn check_file_type(file_type: &std::fs::FileType) -> Result<(), Refusal> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_file() {
        Ok(())
    } else if file_type.is_dir() {
        Err(Refusal::Directory)
    } else if file_type.is_fifo() {
        Err(Refusal::Unsafe(
            "it is a FIFO (named pipe), not a regular file",
        ))
    } else if file_type.is_socket() {
        Err(Refusal::Unsafe("it is a socket, not a regular file"))
    } else if file_type.is_char_device() || file_type.is_block_device() {
        Err(Refusal::Unsafe("it is a device, not a regular file"))
    } else {
        Err(Refusal::Unsafe("it is not a regular file"))
    }
}

/// Flags of every open: never wait on a FIFO's writer, never take a terminal.
/// (`O_NONBLOCK` changes nothing for the regular files that are then read.)
#[cfg(target_os = "linux")]
fn read_flags() -> rustix::fs::OFlags {
    use rustix::fs::OFlags;
    OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC
}

/// Opens `relative` below `root` with `openat2`: `RESOLVE_BENEATH` and
/// `RESOLVE_NO_SYMLINKS` make the kernel refuse any way out of the root and any
/// symbolic link, atomically (no window between a check and the open).
#[cfg(target_os = "linux")]
fn open_beneath(root: &Path, relative: &str) -> Result<std::fs::File, Refusal> {
    use rustix::fs::{CWD, Mode, OFlags, ResolveFlags, openat2};
    let root_fd = openat2(
        CWD,
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::empty(),
    )
    .map_err(|e| Refusal::Io(e.into()))?;
    match openat2(
        &root_fd,
        relative,
        read_flags(),
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
    ) {
        Ok(fd) => Ok(std::fs::File::from(fd)),
        Err(rustix::io::Errno::LOOP) => Err(Refusal::Unsafe(SYMLINK)),
        Err(rustix::io::Errno::XDEV) => Err(Refusal::Unsafe(OUTSIDE)),
        Err(rustix::io::Errno::NXIO) => Err(Refusal::Unsafe(NO_DEVICE)),
        // Kernels before 5.6 have no openat2.
        Err(rustix::io::Errno::NOSYS) => open_checking_each_folder(root, relative),
        Err(e) => Err(Refusal::Io(e.into())),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_beneath(root: &Path, relative: &str) -> Result<std::fs::File, Refusal> {
    open_checking_each_folder(root, relative)
}

/// Without `openat2`: refuses a symbolic link at any step (`symlink_metadata`),
/// and opens the last with `O_NOFOLLOW`. A folder swapped for a link between
/// the check and the open is not caught: `openat2` has no such window.
fn open_checking_each_folder(root: &Path, relative: &str) -> Result<std::fs::File, Refusal> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut full = root.to_path_buf();
    for segment in relative.split('/') {
        full.push(segment);
        if std::fs::symlink_metadata(&full)?.file_type().is_symlink() {
            return Err(Refusal::Unsafe(SYMLINK));
        }
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_NOFOLLOW)
        .open(&full)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Refusal::Unsafe(SYMLINK),
            Some(libc::ENXIO) => Refusal::Unsafe(NO_DEVICE),
            _ => Refusal::Io(e),
        })?;
    Ok(file)
}

/// Reads a small file on the calling (async) thread, but only when the kernel
/// can do it without waiting: the path is in its lookup cache (`openat2` with
/// `RESOLVE_CACHED`, and the same refusal of links and escapes as
/// [`open_beneath`]) and the bytes are in the page cache (`preadv2` with
/// `RWF_NOWAIT`). `None` when it would have to wait, when the file is not a
/// small regular file, on any error, or where the system cannot tell: the file
/// is then opened on a blocking thread, which also reports any error. For a
/// backlog of small exports this saves a round trip through the blocking pool
/// per job, which costs more CPU than reading the file.
#[cfg(target_os = "linux")]
fn read_small_cached(root: &Path, relative: &str) -> Option<Vec<u8>> {
    use rustix::fs::{CWD, FileType, Mode, OFlags, ResolveFlags, fstat, openat2};
    use rustix::io::{ReadWriteFlags, preadv2};
    let root_fd = openat2(
        CWD,
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::CACHED,
    )
    .ok()?;
    let fd = openat2(
        &root_fd,
        relative,
        read_flags(),
        Mode::empty(),
        ResolveFlags::CACHED | ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
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
fn read_small_cached(_root: &Path, _relative: &str) -> Option<Vec<u8>> {
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
        assert_eq!(read_small_cached(dir.path(), "b/small"), None);
        assert_eq!(read_small_cached(dir.path(), "b"), None);
        assert_eq!(read_small_cached(dir.path(), "b/missing"), None);
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

    /// Where `openat2` is missing: links are refused folder by folder, and a
    /// FIFO is opened without waiting for a writer, then refused.
    #[test]
    fn without_openat2_links_and_fifos_are_refused_too() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"[]").unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::fs::write(dir.path().join("b/e"), b"[]").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("b/file"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("b/dir")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.path().join("b/pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        for (path, expected) in [("b/file", SYMLINK), ("b/dir/secret", SYMLINK)] {
            match open_checking_each_folder(dir.path(), path) {
                Err(Refusal::Unsafe(reason)) => assert_eq!(reason, expected, "{path}"),
                _ => panic!("{path} was opened"),
            }
        }
        let pipe = open_checking_each_folder(dir.path(), "b/pipe").unwrap();
        assert!(matches!(
            check_file_type(&pipe.metadata().unwrap().file_type()),
            Err(Refusal::Unsafe(_))
        ));
        assert!(open_checking_each_folder(dir.path(), "b/e").is_ok());
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
