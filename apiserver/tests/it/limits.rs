//! Connection limits of both faces over real loopback connections: idle
//! TCP connections cannot hold more than the cap nor starve real clients,
//! silent ones are closed after the first-byte timeout, a stalled HTTP/2
//! handshake after the idle timeout, and a protobuf message with invalid
//! UTF-8 in a string field is `InvalidArgument`.

use std::net::SocketAddr;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::Namespace;
use apiserver::Config;
use client::Client;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::common::{memory_store, start_rest, start_with, wait_until};

/// Whether the server closed `stream` within `within` (EOF or reset);
/// bytes the server sends first (an HTTP/2 SETTINGS frame) are skipped.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 256];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_elapsed) => return false,
        }
    }
}

#[tokio::test]
async fn idle_connections_stay_under_the_cap_and_real_clients_are_served() {
    let mut config = Config::new(memory_store());
    config.grpc_max_connections = 50;
    config.first_byte_timeout = Duration::from_millis(300);
    let stats = config.grpc_connections.clone();
    let server = start_with(config).await;
    let before = stats.counts();

    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(TcpStream::connect(server.address).await.unwrap());
    }
    // The client connected before the flood keeps its slot and is served.
    let _: Namespace = server.client.get("", "default").await.unwrap();

    // Every idle connection is closed: over the cap at once, the others
    // after the first-byte timeout.
    for stream in &mut idle {
        assert!(closed_within(stream, Duration::from_secs(10)).await);
    }
    let all_closed = started.elapsed();
    let counts = stats.counts();
    println!("idle flood: {counts:?}, all 200 closed after {all_closed:?}");
    assert!(counts.peak_open <= 50, "{counts:?}");
    assert_eq!(
        counts.accepted - before.accepted + counts.refused_at_cap - before.refused_at_cap,
        200,
        "{counts:?}"
    );
    assert!(counts.refused_at_cap >= 150, "{counts:?}");
    assert_eq!(
        counts.first_bytes_timeouts,
        counts.accepted - before.accepted,
        "{counts:?}"
    );
    assert!(all_closed >= Duration::from_millis(300), "{all_closed:?}");

    // A new client is served once the idle connections are gone.
    let address = server.address;
    wait_until(Duration::from_secs(10), || async move {
        match Client::connect(format!("http://{address}")).await {
            Ok(client) => client.get::<Namespace>("", "default").await.is_ok(),
            Err(_) => false,
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_http2_handshake_is_closed_after_the_idle_timeout() {
    let mut config = Config::new(memory_store());
    config.first_byte_timeout = Duration::from_secs(60);
    config.grpc_idle_timeout = Some(Duration::from_millis(300));
    let stats = config.grpc_connections.clone();
    let server = start_with(config).await;
    let mut stalled = TcpStream::connect(server.address).await.unwrap();
    // The preface alone, without the SETTINGS frame that must follow.
    stalled
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(10)).await);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(stats.counts().idle_timeouts >= 1, "{:?}", stats.counts());
    server.stop().await;
}

/// Sends one gRPC request with `message` as its body over HTTP/2 and
/// returns `grpc-status` and `grpc-message`.
async fn raw_grpc_call(address: SocketAddr, path: &str, message: &[u8]) -> (String, String) {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    // A gRPC frame: uncompressed flag, big-endian length, message.
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(message);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{address}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from(frame)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let mut headers = response.headers().clone();
    let collected = response.into_body().collect().await.unwrap();
    if let Some(trailers) = collected.trailers() {
        headers.extend(trailers.clone());
    }
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    (text("grpc-status"), text("grpc-message"))
}

#[tokio::test]
async fn invalid_utf8_in_a_string_field_is_invalid_argument() {
    let server = start_with(Config::new(memory_store())).await;
    // Field 1 (`resource`), wire type 2, two bytes that are not UTF-8.
    let (status, message) = raw_grpc_call(
        server.address,
        "/skiff.v1.Api/Create",
        &[0x0a, 0x02, 0xff, 0xfe],
    )
    .await;
    assert_eq!(status, "3", "grpc-message: {message}");
    assert!(message.contains("resource"), "{message}");
    assert!(message.contains("UTF-8"), "{message}");
    // A well-formed message still reaches the handler.
    let (status, message) = raw_grpc_call(
        server.address,
        "/skiff.v1.Api/Create",
        &[0x0a, 0x02, b'x', b'y'],
    )
    .await;
    assert_ne!(status, "3", "{message}");
    assert_ne!(status, "0", "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_silent_rest_connection_is_closed_after_the_first_byte_timeout() {
    let mut config = Config::new(memory_store());
    config.first_byte_timeout = Duration::from_millis(300);
    config.header_read_timeout = Duration::from_millis(300);
    let stats = config.rest_connections.clone();
    let (server, address) = start_rest(config).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut partial = TcpStream::connect(address).await.unwrap();
    partial
        .write_all(b"GET /api HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(10)).await);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // A head that never ends is hyper's header read timeout's.
    assert!(closed_within(&mut partial, Duration::from_secs(10)).await);
    let counts = stats.counts();
    assert_eq!(counts.first_bytes_timeouts, 1, "{counts:?}");
    wait_until(Duration::from_secs(10), || async {
        stats.counts().open == 0
    })
    .await;
    server.stop().await;
}
