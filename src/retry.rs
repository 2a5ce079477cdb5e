//! The one retry policy: capped exponential backoff with jitter. Every pause
//! between tries (reconnecting, claiming, a job's retry, a final write, a
//! language model request) is a [`Backoff`], so they all grow, cap and spread
//! out the same way.

use std::time::Duration;

/// `base · 2^n` for the n-th retry (0-based), capped at `max`, then scaled by a
/// random factor in `[1 - jitter, 1]` so that replicas failing together do not
/// retry together. The result never exceeds `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    /// The share of each delay that is random, from 0 (none) to 1 (full jitter).
    pub jitter: f64,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Backoff {
        Backoff {
            base,
            max,
            jitter: 0.5,
        }
    }

    /// The pause before retry number `n` (0 for the first retry).
    pub fn delay(&self, n: u32) -> Duration {
        let full = self
            .base
            .checked_mul(2u32.saturating_pow(n.min(20)))
            .unwrap_or(self.max)
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return full;
        }
        full.mul_f64(rand::random_range((1.0 - jitter)..=1.0))
    }
}

/// Counts consecutive failures and hands out the growing pauses of a [`Backoff`].
#[derive(Debug, Clone)]
pub struct Retries {
    policy: Backoff,
    failures: u32,
}

impl Retries {
    pub fn new(policy: Backoff) -> Retries {
        Retries {
            policy,
            failures: 0,
        }
    }

    /// Records a failure and returns the pause before the next try.
    pub fn failed(&mut self) -> Duration {
        let delay = self.policy.delay(self.failures);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Records a success: the next failure starts from the base again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_and_cap() {
        let policy = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        for n in 0..8 {
            let full = Duration::from_millis(100 * (1 << n)).min(Duration::from_secs(2));
            let d = policy.delay(n);
            assert!(d <= full && d >= full / 2, "retry {n}: {d:?} vs {full:?}");
        }
        assert!(policy.delay(u32::MAX) <= policy.max);
        let exact = Backoff {
            jitter: 0.0,
            ..policy
        };
        assert_eq!(exact.delay(1), Duration::from_millis(200));
    }

    #[test]
    fn retries_grow_until_a_success() {
        let mut retries = Retries::new(Backoff {
            jitter: 0.0,
            ..Backoff::new(Duration::from_millis(10), Duration::from_secs(1))
        });
        assert_eq!(retries.failed(), Duration::from_millis(10));
        assert_eq!(retries.failed(), Duration::from_millis(20));
        assert_eq!(retries.failures(), 2);
        retries.succeeded();
        assert_eq!(retries.failed(), Duration::from_millis(10));
    }
}
