//! The kubelet's resource metrics endpoint: `GET /metrics/resource`
//! (every node this process runs) or `GET /metrics/resource?node=NAME` (one
//! node), Prometheus text, over plain HTTP/1.1 with one request per
//! connection.
//!
//! Hand-written rather than a web framework: one route, one method, and the
//! request head is the only input, read with a size cap and a deadline.
//! Connections are accepted through `netlimits`: over the cap they are
//! closed at once, one that sends nothing is closed after the deadline, and
//! the accept loop pauses after EMFILE instead of spinning.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use netlimits::{LimitedIncoming, LimitedStream, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::usage::UsageTable;

/// Largest request head read.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a client may take to send its request.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 16;

/// The endpoint's connection limits: a scraper or two need few
/// connections, and one request per connection needs no idle timeout.
fn limits() -> Limits {
    Limits {
        max_connections: MAX_CONNECTIONS,
        first_bytes: 1,
        first_bytes_timeout: READ_DEADLINE,
        idle_timeout: None,
        accept_error_pause: Duration::from_millis(50),
    }
}

/// Serves `table` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    table: Arc<UsageTable>,
    shutdown: impl Future<Output = ()> + Send,
) {
    serve_with_limits(LimitedIncoming::new(listener, limits()), table, shutdown).await;
}

async fn serve_with_limits(
    mut incoming: LimitedIncoming,
    table: Arc<UsageTable>,
    shutdown: impl Future<Output = ()> + Send,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return,
            stream = incoming.accept() => stream,
        };
        let table = table.clone();
        tokio::spawn(async move {
            if let Err(error) = handle(stream, &table).await {
                tracing::debug!(%error, "metrics request failed");
            }
        });
    }
}

async fn handle(mut stream: LimitedStream, table: &UsageTable) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_DEADLINE, read_head(&mut stream)).await {
        Ok(head) => head?,
        Err(_) => return Ok(()),
    };
    let (status, body) = respond(&head, table);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Reads up to the blank line ending the request head.
async fn read_head(stream: &mut LimitedStream) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD_BYTES {
            break;
        }
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The status line and body for a request head.
fn respond(head: &str, table: &UsageTable) -> (&'static str, String) {
    let request_line = head.lines().next().unwrap_or("");
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if head.len() > MAX_HEAD_BYTES {
        return ("431 Request Header Fields Too Large", String::new());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/metrics/resource" {
        return ("404 Not Found", "not found\n".to_string());
    }
    if method != "GET" {
        return ("405 Method Not Allowed", "only GET\n".to_string());
    }
    let node = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("node="))
        .filter(|name| !name.is_empty());
    match table.render(node, SystemTime::now()) {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", "no such node here\n".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpStream;

    use super::*;

    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut received = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut received))
            .await
            .ok()
            .map(|_| received)
    }

    #[tokio::test]
    async fn silent_and_surplus_connections_are_closed_and_scrapes_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let limits = Limits {
            max_connections: 1,
            first_bytes_timeout: Duration::from_millis(300),
            ..limits()
        };
        let incoming = LimitedIncoming::new(listener, limits);
        let stats = incoming.stats();
        let table = Arc::new(UsageTable::new(["n-0".to_string()], SystemTime::now()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with_limits(incoming, table, async {
            let _ = stopped.await;
        }));
        let started = tokio::time::Instant::now();
        let mut silent = TcpStream::connect(address).await.unwrap();
        while stats.counts().accepted < 1 {
            assert!(started.elapsed() < Duration::from_secs(10));
            tokio::task::yield_now().await;
        }
        let mut surplus = TcpStream::connect(address).await.unwrap();
        assert!(
            read_until_closed(&mut surplus, Duration::from_millis(250))
                .await
                .is_some()
        );
        assert!(
            read_until_closed(&mut silent, Duration::from_secs(10))
                .await
                .is_some()
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        let counts = stats.counts();
        assert_eq!(
            (counts.refused_at_cap, counts.first_bytes_timeouts),
            (1, 1),
            "{counts:?}"
        );
        let mut scraper = TcpStream::connect(address).await.unwrap();
        scraper
            .write_all(b"GET /metrics/resource HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let response = read_until_closed(&mut scraper, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            response.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&response)
        );
        stop.send(()).unwrap();
        server.await.unwrap();
    }

    #[test]
    fn routes() {
        let table = UsageTable::new(["n-0".to_string()], SystemTime::now());
        let get =
            |target: &str| respond(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"), &table);
        let (status, body) = get("/metrics/resource");
        assert_eq!(status, "200 OK");
        assert!(body.contains("node_cpu_usage_seconds_total{node=\"n-0\"}"));
        assert_eq!(get("/metrics/resource?node=n-0").0, "200 OK");
        assert_eq!(get("/metrics/resource?node=n-9").0, "404 Not Found");
        assert_eq!(get("/other").0, "404 Not Found");
        let (status, _) = respond("POST /metrics/resource HTTP/1.1\r\n\r\n", &table);
        assert_eq!(status, "405 Method Not Allowed");
    }
}
