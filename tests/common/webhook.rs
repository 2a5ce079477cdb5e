//! A loopback alert webhook that keeps every body it is sent.
#![allow(dead_code)]

use axum::{Router, routing::post};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Webhook {
    pub url: String,
    received: Arc<Mutex<Vec<String>>>,
}

impl Webhook {
    pub async fn start() -> Webhook {
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = received.clone();
        let app = Router::new().route(
            "/hook",
            post(move |body: String| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(body);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Webhook { url, received }
    }

    /// The first body posted, waiting up to 10 s for it.
    pub async fn first(&self) -> String {
        let start = Instant::now();
        loop {
            if let Some(body) = self.received.lock().unwrap().first() {
                return body.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no alert arrived"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
