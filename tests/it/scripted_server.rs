//! A scripted local HTTP server for the provider clients' tests: it records each request and
//! answers with the next scripted reply (a streamed SSE body that may pause or break, a status
//! with an optional `Retry-After`, or a hang).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One piece of a streamed body.
#[derive(Clone)]
pub enum Step {
    Send(String),
    Pause(Duration),
    /// Send `frame` `times` times, or forever (`None`): a runaway or endless body.
    Repeat {
        frame: String,
        times: Option<usize>,
    },
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
    /// Any status with extra headers and a chunked body streamed in steps.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        steps: Vec<Step>,
    },
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
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let addr = listener.local_addr().expect("local address");
        let served = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, served.clone()));
            }
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

/// One request per connection: every answer says `connection: close`, so the client never
/// reuses a connection and the order of replies is the order of requests.
async fn serve_connection(mut stream: TcpStream, state: Arc<ServerState>) {
    let Some(captured) = read_request(&mut stream).await else {
        return;
    };
    state.seen.lock().expect("lock").push(captured);
    let reply = {
        let mut replies = state.replies.lock().expect("lock");
        if replies.len() > 1 {
            replies.pop_front()
        } else {
            replies.front().cloned()
        }
    };
    // A write error means the client went away (a timeout test): nothing left to do.
    let _ = answer(&mut stream, reply.expect("the test scripted a reply")).await;
}

/// Reads an HTTP/1.1 request head and its `content-length` body.
async fn read_request(stream: &mut TcpStream) -> Option<Captured> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?;
    let target = request_line.split(' ').nth(1)?;
    let path = target.split('?').next().unwrap_or(target).to_string();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Captured {
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

/// Writes `steps` as a chunked body, then its end (unless a step cuts it).
async fn write_chunked(stream: &mut TcpStream, steps: Vec<Step>) -> std::io::Result<()> {
    for step in steps {
        match step {
            Step::Send(frame) => {
                let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                stream.write_all(chunk.as_bytes()).await?;
                stream.flush().await?;
            }
            Step::Pause(duration) => tokio::time::sleep(duration).await,
            Step::Repeat { frame, times } => {
                let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                let mut sent = 0;
                while times.is_none_or(|times| sent < times) {
                    // The client hanging up ends an endless body.
                    stream.write_all(chunk.as_bytes()).await?;
                    sent += 1;
                }
                stream.flush().await?;
            }
            // Closing without the terminating chunk: the body breaks mid-stream.
            Step::Cut => return stream.shutdown().await,
        }
    }
    stream.write_all(b"0\r\n\r\n").await
}

async fn answer(stream: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Sse(steps) => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                      transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
                )
                .await?;
            write_chunked(stream, steps).await?;
        }
        Reply::Full {
            status,
            headers,
            steps,
        } => {
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Status");
            let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            write_chunked(stream, steps).await?;
        }
        Reply::Status {
            status,
            retry_after,
            body,
        } => {
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Status");
            let retry_after = retry_after
                .map(|seconds| format!("retry-after: {seconds}\r\n"))
                .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\n\
                 content-length: {}\r\n{retry_after}connection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await?;
        }
    }
    stream.flush().await
}
