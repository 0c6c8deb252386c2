//! The accept loop's limits over real loopback connections: the cap, the
//! first-bytes and idle timeouts, and which accept errors pause.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::*;

/// Starts a server that reads every connection until it ends and returns
/// its address and counters.
async fn start(limits: Limits) -> (std::net::SocketAddr, Arc<ConnectionStats>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut incoming = LimitedIncoming::new(listener, limits);
    let stats = incoming.stats();
    tokio::spawn(async move {
        loop {
            let mut stream = incoming.accept().await;
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                while let Ok(read) = stream.read(&mut buffer).await {
                    if read == 0 {
                        break;
                    }
                }
            });
        }
    });
    (address, stats)
}

/// Whether the server closed `stream` within `within` (EOF or reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 16];
    match tokio::time::timeout(within, stream.read(&mut buffer)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => panic!("the test server never writes"),
        Err(_elapsed) => false,
    }
}

async fn wait_for(deadline: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < deadline,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn resource_errors_pause_and_connection_errors_retry() {
    let action = |errno| accept_error_action(&io::Error::from_raw_os_error(errno));
    for errno in [
        libc::EMFILE,
        libc::ENFILE,
        libc::ENOBUFS,
        libc::ENOMEM,
        libc::EINVAL,
    ] {
        assert_eq!(action(errno), AcceptErrorAction::Pause, "errno {errno}");
    }
    for errno in [
        libc::ECONNABORTED,
        libc::ECONNRESET,
        libc::EINTR,
        libc::EAGAIN,
    ] {
        assert_eq!(action(errno), AcceptErrorAction::Retry, "errno {errno}");
    }
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once() {
    let limits = Limits {
        max_connections: 3,
        first_bytes_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let (address, stats) = start(limits).await;
    let mut clients = Vec::new();
    for _ in 0..10 {
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(b"x").await.unwrap();
        clients.push(client);
    }
    wait_for(Duration::from_secs(10), || {
        stats.counts().accepted + stats.counts().refused_at_cap == 10
    })
    .await;
    let mut closed = 0;
    for client in &mut clients {
        if closed_within(client, Duration::from_millis(200)).await {
            closed += 1;
        }
    }
    let counts = stats.counts();
    assert_eq!(
        (counts.accepted, counts.refused_at_cap),
        (3, 7),
        "{counts:?}"
    );
    assert_eq!(closed, 7);
    assert_eq!(counts.peak_open, 3);
    // Closing one frees its slot for the next client.
    drop(clients.remove(0));
    wait_for(Duration::from_secs(10), || stats.counts().open == 2).await;
    let mut next = TcpStream::connect(address).await.unwrap();
    next.write_all(b"x").await.unwrap();
    wait_for(Duration::from_secs(10), || stats.counts().accepted == 4).await;
    assert!(!closed_within(&mut next, Duration::from_millis(100)).await);
}

#[tokio::test]
async fn silent_connections_close_after_the_first_bytes_timeout() {
    let limits = Limits {
        first_bytes: 4,
        first_bytes_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (address, stats) = start(limits).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut too_short = TcpStream::connect(address).await.unwrap();
    too_short.write_all(b"abc").await.unwrap();
    let mut talker = TcpStream::connect(address).await.unwrap();
    talker.write_all(b"abcd").await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(10)).await);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(closed_within(&mut too_short, Duration::from_secs(10)).await);
    // Without an idle timeout a connection that sent its first bytes stays.
    assert!(!closed_within(&mut talker, Duration::from_millis(200)).await);
    let counts = stats.counts();
    assert_eq!(counts.first_bytes_timeouts, 2, "{counts:?}");
    wait_for(Duration::from_secs(10), || stats.counts().open == 1).await;
}

#[tokio::test]
async fn quiet_connections_close_after_the_idle_timeout() {
    let limits = Limits {
        first_bytes_timeout: Duration::from_secs(60),
        idle_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    };
    let (address, stats) = start(limits).await;
    let mut quiet = TcpStream::connect(address).await.unwrap();
    quiet.write_all(b"hello").await.unwrap();
    let mut chatty = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    // Bytes every 50 ms keep a connection open past several idle timeouts.
    while started.elapsed() < Duration::from_millis(900) {
        chatty.write_all(b".").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed_within(&mut quiet, Duration::from_secs(10)).await);
    assert!(!closed_within(&mut chatty, Duration::from_millis(100)).await);
    assert_eq!(stats.counts().idle_timeouts, 1);
}
