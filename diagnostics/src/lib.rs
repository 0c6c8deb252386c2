//! The HTTP side door of Skiff's servers (hyper, HTTP/1.1): `/metrics`
//! (Prometheus text, when the server has metrics), `/healthz`, and
//! `/debug/pprof/profile?seconds=N`, which samples the process for N seconds
//! and answers a flamegraph SVG. The scheduler serves it on
//! `--metrics-listen`, the apiserver on `--debug-listen`.
//!
//! Connections are accepted through `netlimits` ([`ServeLimits`]): a small
//! cap, a first byte and the request head within a timeout each, and a
//! pause after EMFILE, so the side door can never take the descriptors of
//! the server it belongs to.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Renders the Prometheus text exposition of a server's metrics.
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Default and longest profile, in seconds (Go's pprof default is 30).
const DEFAULT_PROFILE_SECONDS: u64 = 30;
const MAX_PROFILE_SECONDS: u64 = 300;
/// Samples per second while profiling.
const PROFILE_FREQUENCY: i32 = 99;

/// How the side door limits its connections.
#[derive(Clone, Debug)]
pub struct ServeLimits {
    /// The cap, first-byte timeout and accept pause.
    pub connections: netlimits::Limits,
    /// A request head must arrive within this, also between requests on a
    /// keep-alive connection, which bounds how long an idle one stays.
    pub header_read_timeout: Duration,
    /// Counters of the side door's connections.
    pub stats: Arc<netlimits::ConnectionStats>,
}

impl Default for ServeLimits {
    /// 64 connections (a scraper and a few people fetching profiles),
    /// 10 s for the first byte and for each request head. No idle timeout:
    /// a profile request is quiet for up to 300 s while it samples.
    fn default() -> ServeLimits {
        ServeLimits {
            connections: netlimits::Limits {
                max_connections: 64,
                first_bytes: 1,
                first_bytes_timeout: Duration::from_secs(10),
                idle_timeout: None,
                accept_error_pause: Duration::from_millis(100),
            },
            header_read_timeout: Duration::from_secs(10),
            stats: Arc::default(),
        }
    }
}

/// Serves until `stop` turns true, with the default [`ServeLimits`].
/// Without `metrics`, `/metrics` is 404.
pub async fn serve(
    listener: TcpListener,
    metrics: Option<RenderMetrics>,
    stop: watch::Receiver<bool>,
) {
    serve_with_limits(listener, metrics, ServeLimits::default(), stop).await;
}

/// Serves until `stop` turns true under `limits`.
pub async fn serve_with_limits(
    listener: TcpListener,
    metrics: Option<RenderMetrics>,
    limits: ServeLimits,
    mut stop: watch::Receiver<bool>,
) {
    let mut incoming =
        netlimits::LimitedIncoming::new(listener, limits.connections).with_stats(limits.stats);
    let header_read_timeout = limits.header_read_timeout;
    loop {
        let stream = tokio::select! {
            stream = incoming.accept() => stream,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let metrics = metrics.clone();
        let mut connection_stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(route(request, metrics.as_ref()).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "diagnostics connection ended");
                    }
                }
                _ = connection_stop.wait_for(|stopped| *stopped) => {}
            }
        });
    }
}

async fn route(
    request: Request<Incoming>,
    metrics: Option<&RenderMetrics>,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served\n");
    }
    match request.uri().path() {
        "/metrics" if let Some(render) = metrics => {
            let mut response = Response::new(Full::new(Bytes::from(render())));
            set_type(&mut response, "text/plain; version=0.0.4; charset=utf-8");
            response
        }
        "/healthz" | "/livez" | "/readyz" => text(StatusCode::OK, "ok"),
        "/debug/pprof/profile" => {
            let seconds = match profile_seconds(request.uri().query()) {
                Ok(seconds) => seconds,
                Err(message) => return text(StatusCode::BAD_REQUEST, &message),
            };
            match flamegraph(Duration::from_secs(seconds)).await {
                Ok(svg) => {
                    let mut response = Response::new(Full::new(Bytes::from(svg)));
                    set_type(&mut response, "image/svg+xml");
                    response
                }
                Err(message) => text(StatusCode::SERVICE_UNAVAILABLE, &message),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// The `seconds` query parameter: 1..=300, 30 when absent.
fn profile_seconds(query: Option<&str>) -> Result<u64, String> {
    let Some(value) = query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "seconds")
        .map(|(_, value)| value)
    else {
        return Ok(DEFAULT_PROFILE_SECONDS);
    };
    match value.parse::<u64>() {
        Ok(seconds) if (1..=MAX_PROFILE_SECONDS).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "seconds: expected an integer in 1..={MAX_PROFILE_SECONDS}, got {value:?}\n"
        )),
    }
}

/// Samples every thread for `duration` and draws the flamegraph. Runs on a
/// blocking thread: the profiler guard stays on the thread that made it.
async fn flamegraph(duration: Duration) -> Result<Vec<u8>, String> {
    tokio::task::spawn_blocking(move || {
        // The first start in a process loads the binary's symbols (seconds
        // for a debug build); sampling starts after that, so the window is
        // the whole `duration`.
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(PROFILE_FREQUENCY)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .map_err(|error| format!("cannot start the profiler: {error}\n"))?;
        std::thread::sleep(duration);
        let report = guard
            .report()
            .build()
            .map_err(|error| format!("cannot build the profile: {error}\n"))?;
        if report.data.is_empty() {
            // The timer counts the process's CPU time (ITIMER_PROF), so an
            // idle process yields no sample at all.
            return Ok(idle_svg(duration).into_bytes());
        }
        let mut svg = Vec::new();
        report
            .flamegraph(&mut svg)
            .map_err(|error| format!("cannot draw the flamegraph: {error}\n"))?;
        Ok(svg)
    })
    .await
    .map_err(|error| format!("profiler task failed: {error}\n"))?
}

/// A valid SVG saying that no sample was taken: one is taken per
/// 1/`PROFILE_FREQUENCY` s of the process's CPU time outside the blocklisted
/// libraries.
fn idle_svg(duration: Duration) -> String {
    format!(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n<svg version=\"1.1\" width=\"800\" height=\"40\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"24\">No CPU samples in {} s: the process used less than {} ms of CPU outside libc and the vDSO.</text></svg>\n",
        duration.as_secs(),
        1000 / PROFILE_FREQUENCY
    )
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    set_type(&mut response, "text/plain; charset=utf-8");
    response
}

fn set_type(response: &mut Response<Full<Bytes>>, content_type: &'static str) {
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::time::Instant;

    use super::*;

    /// Reads until the server closes `stream`; what it sent, or `None` if
    /// it stayed open for `within`.
    async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        let mut received = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut received))
            .await
            .ok()
            .map(|_| received)
    }

    #[tokio::test]
    async fn silent_and_surplus_connections_are_closed_and_requests_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut limits = ServeLimits::default();
        limits.connections.max_connections = 2;
        limits.connections.first_bytes_timeout = Duration::from_millis(300);
        limits.header_read_timeout = Duration::from_millis(300);
        let stats = limits.stats.clone();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve_with_limits(listener, None, limits, stopped));

        let started = Instant::now();
        let mut silent = TcpStream::connect(address).await.unwrap();
        let mut partial = TcpStream::connect(address).await.unwrap();
        partial
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        let start = Instant::now();
        while stats.counts().accepted < 2 {
            assert!(start.elapsed() < Duration::from_secs(10));
            tokio::task::yield_now().await;
        }
        // Over the cap: closed at once, before any timeout.
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
        assert!(
            read_until_closed(&mut partial, Duration::from_secs(10))
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

        let mut client = TcpStream::connect(address).await.unwrap();
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let response = read_until_closed(&mut client, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            response.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&response)
        );
        stop.send(true).unwrap();
        server.await.unwrap();
    }

    #[test]
    fn profile_seconds_are_checked() {
        assert_eq!(profile_seconds(None), Ok(30));
        assert_eq!(profile_seconds(Some("seconds=5")), Ok(5));
        assert_eq!(profile_seconds(Some("debug=1&seconds=2")), Ok(2));
        assert!(profile_seconds(Some("seconds=0")).is_err());
        assert!(
            profile_seconds(Some("seconds=abc"))
                .unwrap_err()
                .starts_with("seconds:")
        );
    }
}
