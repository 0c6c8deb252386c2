//! The apiserver binary under a low descriptor limit (`ulimit -n` in a
//! shell, as an operator's default of 1,024 would be): a flood of idle TCP
//! connections neither makes it spin nor starves the store or new clients.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use api::k8s_openapi::api::core::v1::{Namespace, Pod};
use client::Client;
use serde_json::json;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::process::{Process, free_address};

/// What the accept loop logs each time it pauses after a failed accept.
const PAUSE_MESSAGE: &str = "accept failed; pausing before accepting again";

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on
/// Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// An apiserver started through `sh -c 'ulimit -n N; exec apiserver …'`,
/// its output in a file; killed on drop.
struct LimitedApiserver {
    process: Process,
    address: SocketAddr,
    output_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl LimitedApiserver {
    async fn start(descriptor_limit: u32, extra: &[&str]) -> LimitedApiserver {
        let dir = tempfile::tempdir().unwrap();
        let address = free_address();
        let output_path = dir.path().join("output");
        let output = std::fs::File::create(&output_path).unwrap();
        let data_dir = dir.path().join("data");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "ulimit -n {descriptor_limit} && exec \"$0\" \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_apiserver"))
            .args(["--store", "redb", "--data-dir"])
            .arg(&data_dir)
            .arg("--listen")
            .arg(address.to_string())
            .arg("--no-rest")
            // The limits hold before any handshake; plain HTTP/2 lets the
            // probes below speak gRPC's preface directly.
            .arg("--grpc-plain-http")
            .args(extra)
            .env("RUST_LOG", "warn")
            // The binary logs to stdout; both streams share one file offset.
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        let process = Process::spawn(&mut command);
        let mut server = LimitedApiserver {
            process,
            address,
            output_path,
            _dir: dir,
        };
        let client = server.client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get::<Namespace>("", "default").await.is_err() {
            assert!(
                !server.process.has_exited(),
                "apiserver exited early: {}",
                server.output()
            );
            assert!(Instant::now() < deadline, "apiserver did not come up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server
    }

    fn client(&self) -> Client {
        let endpoint =
            tonic::transport::Endpoint::from_shared(format!("http://{}", self.address)).unwrap();
        Client::from_channel(endpoint.connect_lazy())
    }

    /// User plus system CPU time of the process so far, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.id())).unwrap();
        // Fields after the parenthesised command name; utime and stime are
        // the 14th and 15th fields of the whole line.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 / TICKS_PER_SECOND
    }

    /// Descriptors the process holds now.
    fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.process.id()))
            .unwrap()
            .count()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output_path).unwrap_or_default()
    }
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap()
}

/// Opens `count` TCP connections that never send a byte.
async fn open_idle(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        streams.push(TcpStream::connect(address).await.unwrap());
    }
    streams
}

/// Waits until the server has closed every stream (EOF or reset).
async fn wait_all_closed(streams: &mut [TcpStream], within: Duration) {
    let deadline = Instant::now() + within;
    let mut buffer = [0u8; 256];
    for stream in streams {
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => continue,
                Err(_) => panic!("a connection stayed open past {within:?}"),
            }
        }
    }
}

/// The case: a soft limit of 1,024 and more idle connections than
/// that. The cap (1,024 − 256 reserved) keeps descriptors for the store, so
/// writes go on during the flood, the process stays idle, and once the
/// first-byte timeout closes the idle connections a new client is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_idle_flood_under_1024_descriptors_leaves_room_for_the_store() {
    // The test itself holds the 1,100 client ends.
    let (soft, _hard) = netlimits::raise_nofile_limit().unwrap();
    assert!(soft > 1200, "the test needs more than {soft} descriptors");
    let server = LimitedApiserver::start(1024, &["--first-byte-timeout", "3s"]).await;
    let writer = server.client();
    writer.create("default", &pod("before")).await.unwrap();
    let mut idle = open_idle(server.address, 1100).await;
    let cpu_before = server.cpu_seconds();
    let measured_from = Instant::now();
    // The store still opens what it needs: writes are durable during the flood.
    for index in 0..20 {
        writer
            .create("default", &pod(&format!("during-{index}")))
            .await
            .unwrap();
    }
    let descriptors = server.open_descriptors();
    tokio::time::sleep_until(measured_from + Duration::from_secs(1)).await;
    let cpu = server.cpu_seconds() - cpu_before;
    let window = measured_from.elapsed().as_secs_f64();
    println!(
        "1,100 idle connections: {descriptors} descriptors open, {cpu:.2} s CPU in {window:.2} s"
    );
    assert!(descriptors < 1024, "{descriptors} descriptors");
    assert!(cpu < 0.5 * window, "{cpu} s CPU in {window} s");
    wait_all_closed(&mut idle, Duration::from_secs(30)).await;
    let fresh = server.client();
    let _: Namespace = fresh.get("", "default").await.unwrap();
    fresh.create("default", &pod("after")).await.unwrap();
    let output = server.output();
    assert!(!output.contains("Too many open files"), "{output}");
}

/// With fewer descriptors than even the smallest budget (64 connections on
/// top of the 14 or so the process holds idle), accepts fail with EMFILE:
/// the loop pauses instead of spinning, and serves again once the idle
/// connections are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_accept_pauses_on_emfile_instead_of_spinning() {
    let server = LimitedApiserver::start(
        64,
        &[
            "--first-byte-timeout",
            "2s",
            "--grpc-max-connections",
            "4096",
        ],
    )
    .await;
    let mut idle = open_idle(server.address, 150).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let pauses = || server.output().matches(PAUSE_MESSAGE).count();
    while pauses() == 0 {
        assert!(
            Instant::now() < deadline,
            "no accept error with {} descriptors open: {}",
            server.open_descriptors(),
            server.output()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu_before, pauses_before, window_start) =
        (server.cpu_seconds(), pauses(), Instant::now());
    tokio::time::sleep_until(window_start + Duration::from_secs(1)).await;
    let cpu = server.cpu_seconds() - cpu_before;
    let paused = pauses() - pauses_before;
    let window = window_start.elapsed().as_secs_f64();
    println!("EMFILE: {paused} accept pauses and {cpu:.2} s CPU in {window:.2} s");
    // One failed accept per 100 ms pause, not one per loop turn.
    assert!(paused <= 15, "{paused} pauses in {window} s");
    assert!(cpu < 0.5 * window, "{cpu} s CPU in {window} s");
    wait_all_closed(&mut idle, Duration::from_secs(30)).await;
    let fresh = server.client();
    let _: Namespace = fresh.get("", "default").await.unwrap();
    fresh.create("default", &pod("after")).await.unwrap();
}
