//! A controller's work queue, as client-go's rate-limited work queue:
//!
//! - a key added while it waits is not queued twice;
//! - a key is never handed to two workers at once: added while a worker
//!   holds it, it is queued again when that worker calls [`WorkQueue::done`];
//! - retries are delayed by a [`RateLimiter`]: per key, exponential backoff
//!   from the number of failures in a row, and overall a token bucket, the
//!   longer of the two (client-go's `DefaultControllerRateLimiter`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The retry delays; `Default` is client-go's default controller rate
/// limiter: 5 ms doubling per failure up to 1000 s, and 10 retries per
/// second with bursts of 100 overall.
#[derive(Clone, Debug)]
pub struct RateLimits {
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Retries per second across all keys.
    pub qps: f64,
    pub burst: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(1000),
            qps: 10.0,
            burst: 100,
        }
    }
}

/// Decides how long a retry of a key waits. Time is passed in.
#[derive(Debug)]
pub struct RateLimiter<T> {
    limits: RateLimits,
    failures: HashMap<T, u32>,
    bucket: TokenBucket,
}

/// A token bucket (`golang.org/x/time/rate`'s `Limiter`): `qps` tokens a
/// second, at most `burst` saved up. Time is passed in.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: u32,
    tokens: f64,
    refilled_at: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(qps: f64, burst: u32) -> TokenBucket {
        TokenBucket {
            qps,
            burst,
            tokens: f64::from(burst),
            refilled_at: None,
        }
    }

    pub fn qps(&self) -> f64 {
        self.qps
    }

    fn refill(&mut self, now: Instant) {
        if let Some(refilled_at) = self.refilled_at {
            let elapsed = now.saturating_duration_since(refilled_at).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.qps).min(f64::from(self.burst));
        }
        self.refilled_at = Some(now);
    }

    /// Takes a token whether or not one is there (a reservation, as
    /// `Limiter.Reserve`): zero while tokens last, else how long until the
    /// one taken would have been there. A rate of zero or less is no limit.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        if self.qps <= 0.0 {
            return Duration::ZERO;
        }
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }

    /// Takes a token if one is there (`Limiter.Allow`); otherwise `Err`
    /// with how long until one is, or `None` when the rate is zero and
    /// none ever will be.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Option<Duration>> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.qps <= 0.0 {
            return Err(None);
        }
        Err(Some(Duration::from_secs_f64(
            (1.0 - self.tokens) / self.qps,
        )))
    }

    /// Changes the rate, keeping the tokens saved so far.
    pub fn set_qps(&mut self, qps: f64, now: Instant) {
        self.refill(now);
        self.qps = qps;
    }
}

impl<T: Hash + Eq + Clone> RateLimiter<T> {
    pub fn new(limits: RateLimits) -> RateLimiter<T> {
        let bucket = TokenBucket::new(limits.qps, limits.burst);
        RateLimiter {
            limits,
            failures: HashMap::new(),
            bucket,
        }
    }

    /// The delay before retrying `item` once more, counting this failure.
    pub fn when(&mut self, item: &T, now: Instant) -> Duration {
        let failures = self.failures.entry(item.clone()).or_insert(0);
        let exponent = *failures;
        *failures = failures.saturating_add(1);
        let backoff = 2u32
            .checked_pow(exponent)
            .and_then(|factor| self.limits.base_delay.checked_mul(factor))
            .map_or(self.limits.max_delay, |delay| {
                delay.min(self.limits.max_delay)
            });
        backoff.max(self.bucket.reserve(now))
    }

    /// Failures of `item` in a row so far.
    pub fn failures(&self, item: &T) -> u32 {
        self.failures.get(item).copied().unwrap_or(0)
    }

    /// `item` succeeded: its backoff starts over.
    pub fn forget(&mut self, item: &T) {
        self.failures.remove(item);
    }
}

struct State<T> {
    queue: VecDeque<T>,
    /// Keys waiting in `queue`, or waiting for a worker's `done`.
    dirty: HashSet<T>,
    /// Keys a worker holds.
    processing: HashSet<T>,
    shutting_down: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    limiter: Mutex<RateLimiter<T>>,
    ready: Notify,
}

/// A deduplicating, rate-limited work queue of keys; cheap to clone (all
/// clones are one queue).
pub struct WorkQueue<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for WorkQueue<T> {
    fn clone(&self) -> WorkQueue<T> {
        WorkQueue {
            shared: Arc::clone(&self.shared),
        }
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // Every update below leaves the state consistent between statements
    // that can panic, so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Hash + Eq + Clone + Send + 'static> WorkQueue<T> {
    pub fn new(limits: RateLimits) -> WorkQueue<T> {
        WorkQueue {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    dirty: HashSet::new(),
                    processing: HashSet::new(),
                    shutting_down: false,
                }),
                limiter: Mutex::new(RateLimiter::new(limits)),
                ready: Notify::new(),
            }),
        }
    }

    /// Queues `item` unless it already waits.
    pub fn add(&self, item: T) {
        let mut state = lock(&self.shared.state);
        if state.shutting_down || !state.dirty.insert(item.clone()) {
            return;
        }
        if state.processing.contains(&item) {
            return;
        }
        state.queue.push_back(item);
        drop(state);
        self.shared.ready.notify_one();
    }

    /// Queues `item` after `delay`.
    pub fn add_after(&self, item: T, delay: Duration) {
        if delay.is_zero() {
            self.add(item);
            return;
        }
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(item);
        });
    }

    /// Queues `item` after its rate-limited retry delay.
    pub fn add_rate_limited(&self, item: T) {
        let delay = lock(&self.shared.limiter).when(&item, Instant::now());
        self.add_after(item, delay);
    }

    /// `item` succeeded: its retry backoff starts over.
    pub fn forget(&self, item: &T) {
        lock(&self.shared.limiter).forget(item);
    }

    /// Failures of `item` in a row so far.
    pub fn failures(&self, item: &T) -> u32 {
        lock(&self.shared.limiter).failures(item)
    }

    /// The next key, held by the caller until [`WorkQueue::done`]; `None`
    /// once the queue shuts down.
    pub async fn get(&self) -> Option<T> {
        loop {
            let ready = self.shared.ready.notified();
            tokio::pin!(ready);
            // Registered before looking, so an add in between is not missed.
            ready.as_mut().enable();
            {
                let mut state = lock(&self.shared.state);
                if state.shutting_down {
                    return None;
                }
                if let Some(item) = state.queue.pop_front() {
                    state.dirty.remove(&item);
                    state.processing.insert(item.clone());
                    return Some(item);
                }
            }
            ready.await;
        }
    }

    /// The worker is done with `item`; if it was added meanwhile, it is
    /// queued again.
    pub fn done(&self, item: &T) {
        let mut state = lock(&self.shared.state);
        state.processing.remove(item);
        if state.dirty.contains(item) && !state.shutting_down {
            state.queue.push_back(item.clone());
            drop(state);
            self.shared.ready.notify_one();
        }
    }

    /// Keys waiting for a worker.
    pub fn len(&self) -> usize {
        lock(&self.shared.state).queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops handing out keys: every [`WorkQueue::get`] returns `None`.
    pub fn shut_down(&self) {
        lock(&self.shared.state).shutting_down = true;
        self.shared.ready.notify_waiters();
    }
}

#[cfg(test)]
mod tests;
