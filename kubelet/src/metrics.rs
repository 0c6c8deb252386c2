//! The kubelet's resource metrics endpoint: `GET /metrics/resource`
//! (every node this process runs) or `GET /metrics/resource?node=NAME` (one
//! node), Prometheus text, over plain HTTP/1.1 with one request per
//! connection.
//!
//! Hand-written rather than a web framework: one route, one method, and the
//! request head is the only input, read with a size cap and a deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::usage::UsageTable;

/// Largest request head read.
const MAX_HEAD_BYTES: usize = 8 * 1024;
/// How long a client may take to send its request.
const READ_DEADLINE: Duration = Duration::from_secs(5);
/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 16;

/// Serves `table` on `listener` until `shutdown` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    table: Arc<UsageTable>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let table = table.clone();
                tokio::spawn(async move {
                    if let Err(error) = handle(stream, &table).await {
                        tracing::debug!(%error, "metrics request failed");
                    }
                    drop(permit);
                });
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a metrics connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(mut stream: TcpStream, table: &UsageTable) -> std::io::Result<()> {
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
async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
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
    use super::*;

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
