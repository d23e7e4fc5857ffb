//! A token bucket that keeps the census under S3's request rate for one
//! prefix (5,500 GET/HEAD per second): each request reserves a slot, and
//! waits for it when the bucket is empty. Reservations never race: a waiter
//! knows its own start time when it takes its token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The census's budget of ListObjectsV2 + HeadObject calls per second, with
/// a margin under S3's 5,500 GET/HEAD per second per prefix.
pub const S3_PREFIX_READS_PER_SECOND: f64 = 5_000.0;

pub struct TokenBucket {
    /// The rate it starts at and recovers to.
    max_per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

struct State {
    /// May go negative: that many tokens are promised to waiters.
    tokens: f64,
    at: Instant,
    /// The rate now: halved by each throttling answer, regained step by step
    /// by successes (additive increase, multiplicative decrease).
    per_second: f64,
    /// Throttling answers seen, and the lowest rate they brought.
    throttled: u64,
    lowest: f64,
}

/// The rate never drops below this many requests a second.
const MIN_PER_SECOND: f64 = 10.0;
/// Successes needed to climb from the floor back to the full rate.
const RECOVERY_STEPS: f64 = 200.0;

impl TokenBucket {
    /// `per_second` tokens a second, at most `burst` saved up (at least 1).
    pub fn new(per_second: f64, burst: f64) -> TokenBucket {
        let burst = burst.max(1.0);
        let per_second = per_second.max(f64::MIN_POSITIVE);
        TokenBucket {
            max_per_second: per_second,
            burst,
            state: Mutex::new(State {
                tokens: burst,
                at: Instant::now(),
                per_second,
                throttled: 0,
                lowest: per_second,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// S3 answered SlowDown (or another throttling error): halve the rate.
    pub fn slow_down(&self) {
        let mut s = self.state();
        s.per_second = (s.per_second / 2.0).max(MIN_PER_SECOND.min(self.max_per_second));
        s.throttled += 1;
        s.lowest = s.lowest.min(s.per_second);
    }

    /// A request went through: regain a step of the rate.
    pub fn ease(&self) {
        let mut s = self.state();
        if s.per_second < self.max_per_second {
            s.per_second =
                (s.per_second + self.max_per_second / RECOVERY_STEPS).min(self.max_per_second);
        }
    }

    /// The rate now, in requests a second.
    #[cfg(test)]
    pub fn per_second(&self) -> f64 {
        self.state().per_second
    }

    /// How many throttling answers slowed it, and the lowest rate it went to.
    pub fn throttling(&self) -> (u64, f64) {
        let s = self.state();
        (s.throttled, s.lowest)
    }

    /// S3's per-prefix budget; a twentieth of a second may be spent at once.
    pub fn s3_prefix() -> TokenBucket {
        TokenBucket::new(
            S3_PREFIX_READS_PER_SECOND,
            S3_PREFIX_READS_PER_SECOND / 20.0,
        )
    }

    /// How long to wait before the caller's request may go.
    fn reserve(&self) -> Duration {
        let mut s = self.state();
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        let rate = s.per_second;
        // a slowed bucket saves up less, in proportion
        let burst = (self.burst * rate / self.max_per_second).max(1.0);
        s.tokens = (s.tokens + elapsed * rate).min(burst);
        s.at = now;
        s.tokens -= 1.0;
        if s.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.tokens / rate)
        }
    }

    /// Take one token, waiting for it if need be.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_the_rate_holds() {
        let b = TokenBucket::new(100.0, 5.0);
        for _ in 0..5 {
            assert_eq!(b.reserve(), Duration::ZERO);
        }
        // the sixth waits a hundredth of a second, the seventh two
        let sixth = b.reserve();
        let seventh = b.reserve();
        assert!(sixth > Duration::from_millis(8) && sixth <= Duration::from_millis(10));
        assert!(seventh > Duration::from_millis(18) && seventh <= Duration::from_millis(20));
    }

    #[test]
    fn throttling_halves_the_rate_and_successes_win_it_back() {
        let b = TokenBucket::new(1000.0, 50.0);
        b.slow_down();
        assert_eq!(b.per_second(), 500.0);
        b.slow_down();
        assert_eq!(b.per_second(), 250.0);
        for _ in 0..20 {
            b.slow_down();
        }
        assert_eq!(b.per_second(), MIN_PER_SECOND, "never below the floor");
        assert_eq!(b.throttling(), (22, MIN_PER_SECOND));
        // 200 successes climb the whole way back, and no further
        for _ in 0..200 {
            b.ease();
        }
        assert_eq!(b.per_second(), 1000.0);
        b.ease();
        assert_eq!(b.per_second(), 1000.0);
    }

    #[test]
    fn a_slowed_bucket_spaces_its_requests() {
        let b = TokenBucket::new(1000.0, 50.0);
        for _ in 0..7 {
            b.slow_down();
        }
        // 1000 / 128 is under the floor: 10 a second, so after the one saved
        // token the next waits 100 ms
        assert_eq!(b.reserve(), Duration::ZERO);
        let next = b.reserve();
        assert!(next > Duration::from_millis(95), "{next:?}");
        assert!(next <= Duration::from_millis(100), "{next:?}");
    }

    #[test]
    fn many_concurrent_takers_keep_the_rate() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let b = TokenBucket::new(400.0, 1.0);
        let start = Instant::now();
        rt.block_on(futures::future::join_all((0..41).map(|_| b.acquire())));
        // 1 at once, 40 more at 400 a second: 100 ms
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(95), "{took:?}");
        assert!(took < Duration::from_millis(400), "{took:?}");
    }
}
