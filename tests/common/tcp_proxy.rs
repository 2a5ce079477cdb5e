//! A TCP proxy between the daemon and PostgreSQL that the test can turn bad:
//! stop forwarding without closing anything (a silently dead network), or
//! refuse and cut every connection (a database outage).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bytes pass both ways.
    Forward,
    /// Connections stay open and bytes are read (so the sender's kernel sees
    /// them acknowledged) but dropped: nothing arrives, nothing fails.
    Blackhole,
    /// Every open connection is cut and new ones are closed at once.
    Refuse,
}

pub struct TcpProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, watching) = watch::channel(Mode::Forward);
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                let mode = watching.clone();
                if *mode.borrow() == Mode::Refuse {
                    drop(client);
                    continue;
                }
                tokio::spawn(relay(client, upstream, mode));
            }
        });
        TcpProxy {
            addr,
            mode,
            accepted,
            task,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// Connections accepted so far (refused ones included).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// `url` (a `postgres://` URL) pointed at the proxy instead of its host and port.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let at = rest.find('@').map(|i| i + 1).unwrap_or(0);
        let end = rest[at..].find('/').map(|i| at + i).unwrap_or(rest.len());
        format!("{scheme}://{}{}{}", &rest[..at], self.addr, &rest[end..])
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.mode.send_replace(Mode::Refuse);
    }
}

/// The host and port a `postgres://` URL names.
pub fn upstream_of(url: &str) -> SocketAddr {
    let config: tokio_postgres::Config = url.parse().expect("a postgres URL");
    let host = match &config.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        #[allow(unreachable_patterns)]
        _ => "127.0.0.1".to_owned(),
    };
    let host = if host == "localhost" {
        "127.0.0.1".to_owned()
    } else {
        host
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}").parse().expect("a socket address")
}

async fn relay(client: TcpStream, upstream: SocketAddr, mode: watch::Receiver<Mode>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::select! {
        _ = pump(cr, sw, mode.clone()) => {}
        _ = pump(sr, cw, mode.clone()) => {}
        _ = refused(mode) => {}
    }
}

async fn refused(mut mode: watch::Receiver<Mode>) {
    let _ = mode.wait_for(|m| *m == Mode::Refuse).await;
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if *mode.borrow() == Mode::Blackhole {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
