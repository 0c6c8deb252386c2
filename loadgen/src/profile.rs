//! `--profile FILE.svg`: fetches a flamegraph from a component's
//! `/debug/pprof/profile?seconds=N` endpoint while the run goes on. A plain
//! HTTP/1.0 GET over loopback; no HTTP client dependency.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Samples the scheduler (when there is one) into `path` and the apiserver
/// into its sibling [`apiserver_path`], both over the same `seconds`.
pub async fn record(
    scheduler: Option<SocketAddr>,
    apiserver: SocketAddr,
    path: PathBuf,
    seconds: u64,
) -> Result<(), String> {
    let scheduler = async {
        match scheduler {
            Some(address) => write(&path, fetch_flamegraph(address, seconds).await),
            None => Err("no scheduler process to profile".to_string()),
        }
    };
    let apiserver_path = apiserver_path(&path);
    let apiserver = async { write(&apiserver_path, fetch_flamegraph(apiserver, seconds).await) };
    let (scheduler, apiserver) = tokio::join!(scheduler, apiserver);
    match (scheduler, apiserver) {
        (Ok(()), Ok(())) => Ok(()),
        (Err(error), Ok(())) => Err(format!("scheduler: {error}")),
        (Ok(()), Err(error)) => Err(format!("apiserver: {error}")),
        (Err(first), Err(second)) => Err(format!("scheduler: {first}; apiserver: {second}")),
    }
}

/// Where the apiserver's flamegraph goes: `run.svg` → `run-apiserver.svg`.
pub fn apiserver_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = path
        .extension()
        .map(|extension| format!(".{}", extension.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-apiserver{extension}"))
}

fn write(path: &Path, svg: Result<Vec<u8>, String>) -> Result<(), String> {
    std::fs::write(path, svg?).map_err(|error| format!("{}: {error}", path.display()))
}

/// Asks `address` for a `seconds`-long CPU profile and returns the SVG body.
pub async fn fetch_flamegraph(address: SocketAddr, seconds: u64) -> Result<Vec<u8>, String> {
    let request = format!(
        "GET /debug/pprof/profile?seconds={seconds} HTTP/1.0\r\nHost: {address}\r\nAccept: image/svg+xml\r\n\r\n"
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(seconds + 30), exchange)
        .await
        .map_err(|_| format!("{address}: no answer within {} s", seconds + 30))?
        .map_err(|error| format!("{address}: {error}"))?;
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("{address}: malformed HTTP response"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status_ok = head
        .lines()
        .next()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some("200"));
    if !status_ok {
        let first = head.lines().next().unwrap_or_default().to_string();
        return Err(format!("{address}: {first}"));
    }
    Ok(response[split + 4..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_the_body_of_a_200_and_reports_other_statuses() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in [
                "HTTP/1.0 200 OK\r\nContent-Type: image/svg+xml\r\n\r\n<svg/>",
                "HTTP/1.0 404 Not Found\r\n\r\nno",
            ] {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buffer = [0u8; 1024];
                let n = stream.read(&mut buffer).await.unwrap();
                assert!(
                    String::from_utf8_lossy(&buffer[..n])
                        .starts_with("GET /debug/pprof/profile?seconds=1 ")
                );
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        assert_eq!(fetch_flamegraph(address, 1).await.unwrap(), b"<svg/>");
        let error = fetch_flamegraph(address, 1).await.unwrap_err();
        assert!(error.ends_with("HTTP/1.0 404 Not Found"), "{error}");
    }

    #[test]
    fn the_apiserver_flamegraph_goes_beside_the_scheduler_one() {
        assert_eq!(
            apiserver_path(Path::new("/tmp/run.svg")),
            Path::new("/tmp/run-apiserver.svg")
        );
        assert_eq!(apiserver_path(Path::new("run")), Path::new("run-apiserver"));
    }
}
