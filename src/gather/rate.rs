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
    per_second: f64,
    burst: f64,
    state: Mutex<State>,
}

struct State {
    /// May go negative: that many tokens are promised to waiters.
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// `per_second` tokens a second, at most `burst` saved up (at least 1).
    pub fn new(per_second: f64, burst: f64) -> TokenBucket {
        let burst = burst.max(1.0);
        TokenBucket {
            per_second: per_second.max(f64::MIN_POSITIVE),
            burst,
            state: Mutex::new(State {
                tokens: burst,
                at: Instant::now(),
            }),
        }
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
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * self.per_second).min(self.burst);
        s.at = now;
        s.tokens -= 1.0;
        if s.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-s.tokens / self.per_second)
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
