//! A scripted local HTTP server for the provider clients' tests: it records each request and
//! answers with the next scripted reply (a streamed SSE body that may pause or break, a status
//! with an optional `Retry-After`, or a hang).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One piece of a streamed body.
#[derive(Clone)]
pub enum Step {
    Send(String),
    Pause(Duration),
    /// Abort the body: the client sees the connection break mid-stream.
    Cut,
}

/// What the server answers to one request.
#[derive(Clone)]
pub enum Reply {
    Sse(Vec<Step>),
    Status {
        status: u16,
        retry_after: Option<&'static str>,
        body: String,
    },
    /// Answer nothing for this long.
    Hang(Duration),
}

#[derive(Clone, Debug)]
pub struct Captured {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

struct ServerState {
    /// Replies in order; the last one repeats.
    replies: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Captured>>,
}

pub struct TestServer {
    pub base_url: String,
    state: Arc<ServerState>,
}

impl TestServer {
    /// Serves `replies` in order on a free local port; `base_path` is appended to the base URL
    /// (`/v1` for OpenAI-compatible clients, nothing for Anthropic).
    pub async fn start_at(base_path: &str, replies: Vec<Reply>) -> TestServer {
        let state = Arc::new(ServerState {
            replies: Mutex::new(replies.into()),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let addr = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer {
            base_url: format!("http://{addr}{base_path}"),
            state,
        }
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.state.seen.lock().expect("lock").clone()
    }
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.seen.lock().expect("lock").push(Captured {
        path: uri.path().to_string(),
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let reply = {
        let mut replies = state.replies.lock().expect("lock");
        if replies.len() > 1 {
            replies.pop_front()
        } else {
            replies.front().cloned()
        }
    };
    match reply.expect("the test scripted a reply") {
        Reply::Sse(steps) => sse_response(steps),
        Reply::Status {
            status,
            retry_after,
            body,
        } => {
            let status = StatusCode::from_u16(status).expect("valid status");
            let mut response = (status, body).into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
            }
            response
        }
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::OK.into_response()
        }
    }
}

fn sse_response(steps: Vec<Step>) -> Response {
    let stream = futures::stream::unfold(steps.into_iter(), |mut steps| async move {
        loop {
            match steps.next()? {
                Step::Send(frame) => return Some((Ok(Bytes::from(frame)), steps)),
                Step::Pause(duration) => tokio::time::sleep(duration).await,
                Step::Cut => {
                    let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
                    return Some((Err(cut), steps));
                }
            }
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .expect("valid response")
}
