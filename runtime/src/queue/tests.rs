use super::*;

fn limits(qps: f64, burst: u32) -> RateLimits {
    RateLimits {
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(1),
        qps,
        burst,
    }
}

#[test]
fn backoff_doubles_per_failure_up_to_the_cap_and_starts_over_when_forgotten() {
    let now = Instant::now();
    // A bucket that never runs dry here, so only the backoff counts.
    let mut limiter = RateLimiter::new(limits(1000.0, 1000));
    let delays: Vec<u128> = (0..10)
        .map(|_| limiter.when(&"a", now).as_millis())
        .collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    assert_eq!(limiter.failures(&"a"), 10);
    // Other keys have their own count.
    assert_eq!(limiter.when(&"b", now), Duration::from_millis(5));
    limiter.forget(&"a");
    assert_eq!(limiter.failures(&"a"), 0);
    assert_eq!(limiter.when(&"a", now), Duration::from_millis(5));
    // A huge failure count does not overflow.
    for _ in 0..100 {
        limiter.when(&"c", now);
    }
    assert_eq!(limiter.when(&"c", now), Duration::from_secs(1));
}

#[test]
fn the_bucket_limits_retries_across_keys() {
    let now = Instant::now();
    let mut limiter = RateLimiter::new(limits(10.0, 2));
    // Two tokens, then one every 100 ms, reserved in turn.
    assert_eq!(limiter.when(&1, now), Duration::from_millis(5));
    assert_eq!(limiter.when(&2, now), Duration::from_millis(5));
    assert_eq!(limiter.when(&3, now).as_millis(), 100);
    assert_eq!(limiter.when(&4, now).as_millis(), 200);
    // After a second the bucket is full again (never above its burst).
    let later = now + Duration::from_secs(1);
    assert_eq!(limiter.when(&5, later).as_millis(), 5);
    assert_eq!(limiter.when(&6, later).as_millis(), 5);
    assert_eq!(limiter.when(&7, later).as_millis(), 100);
}

#[tokio::test]
async fn a_key_waits_once_and_is_never_held_twice() {
    let queue = WorkQueue::new(RateLimits::default());
    queue.add("a");
    queue.add("b");
    queue.add("a");
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.get().await, Some("a"));
    // Added while held: not handed out until the holder is done.
    queue.add("a");
    assert_eq!(queue.get().await, Some("b"));
    assert!(queue.is_empty());
    queue.done(&"b");
    assert!(queue.is_empty());
    queue.done(&"a");
    assert_eq!(queue.get().await, Some("a"));
    queue.done(&"a");
    assert!(queue.is_empty());
}

#[tokio::test]
async fn a_waiting_worker_wakes_on_add_and_on_shut_down() {
    let queue = WorkQueue::<u32>::new(RateLimits::default());
    let worker = tokio::spawn({
        let queue = queue.clone();
        async move {
            let mut seen = Vec::new();
            while let Some(item) = queue.get().await {
                seen.push(item);
                queue.done(&item);
            }
            seen
        }
    });
    for item in 1..=3 {
        queue.add(item);
        tokio::task::yield_now().await;
    }
    while !queue.is_empty() {
        tokio::task::yield_now().await;
    }
    queue.shut_down();
    let mut seen = worker.await.unwrap_or_default();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3]);
    // Nothing is queued after shut down.
    queue.add(4);
    assert!(queue.is_empty());
}

#[tokio::test(start_paused = true)]
async fn delayed_and_rate_limited_adds_arrive_after_their_delay() {
    let queue = WorkQueue::new(limits(10.0, 100));
    let start = Instant::now();
    queue.add_after("later", Duration::from_secs(3));
    queue.add_rate_limited("retry");
    queue.add_rate_limited("retry");
    assert_eq!(queue.failures(&"retry"), 2);
    assert_eq!(queue.get().await, Some("retry"));
    assert_eq!(start.elapsed(), Duration::from_millis(5));
    queue.done(&"retry");
    // The second retry (10 ms) arrives after the first was handed out,
    // so the key comes again.
    assert_eq!(queue.get().await, Some("retry"));
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    queue.done(&"retry");
    queue.forget(&"retry");
    assert_eq!(queue.failures(&"retry"), 0);
    assert_eq!(queue.get().await, Some("later"));
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[test]
fn a_bucket_lends_nothing_it_does_not_hold() {
    let start = Instant::now();
    let mut bucket = TokenBucket::new(0.5, 1);
    assert_eq!(bucket.try_take(start), Ok(()));
    // Empty: the next token is 2 s away, and asking does not take it.
    assert_eq!(bucket.try_take(start), Err(Some(Duration::from_secs(2))));
    assert_eq!(
        bucket.try_take(start + Duration::from_secs(1)),
        Err(Some(Duration::from_secs(1)))
    );
    assert_eq!(bucket.try_take(start + Duration::from_secs(2)), Ok(()));
    // A rate of zero never refills.
    bucket.set_qps(0.0, start + Duration::from_secs(2));
    assert_eq!(bucket.try_take(start + Duration::from_secs(100)), Err(None));
    bucket.set_qps(1.0, start + Duration::from_secs(100));
    assert_eq!(bucket.try_take(start + Duration::from_secs(101)), Ok(()));
}
