//! Failed logins, counted per account and per source address over a sliding window. Past the limit,
//! every login for that account (or from that source) waits for the window, the right password
//! included: otherwise guessing would simply go on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before old ones are swept, so a flood of made-up names cannot grow memory without bound.
const SWEEP_AT: usize = 10_000;

pub struct LoginLimiter {
    window: Duration,
    per_account: u32,
    per_source: u32,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: u32, per_source: u32) -> LoginLimiter {
        LoginLimiter {
            window,
            per_account: per_account.max(1),
            per_source: per_source.max(1),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, source: &str) -> [(String, bool); 2] {
        [
            (format!("account:{}", account.to_lowercase()), true),
            (format!("source:{source}"), false),
        ]
    }

    /// Counts a login attempt before its password is checked, so that guesses sent in parallel
    /// count as well as guesses sent one after another. `Err(retry_after)` while the account or the
    /// source is over its limit; then nothing is counted.
    pub fn attempt(&self, account: &str, source: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().expect("limiter lock");
        if failures.len() > SWEEP_AT {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let mut wait = None;
        let keys = Self::keys(account, source);
        for (key, is_account) in &keys {
            let limit = if *is_account {
                self.per_account
            } else {
                self.per_source
            } as usize;
            if let Some(times) = failures.get_mut(key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= limit
                    && let Some(oldest) = times.front()
                {
                    let left = self.window.saturating_sub(now.duration_since(*oldest));
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _) in keys {
            failures.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// The attempt had the right password: the account's failures are forgiven, and the attempt
    /// does not count against its source.
    pub fn succeeded(&self, account: &str, source: &str) {
        let [(account, _), (source, _)] = Self::keys(account, source);
        let mut failures = self.failures.lock().expect("limiter lock");
        failures.remove(&account);
        if let Some(times) = failures.get_mut(&source) {
            times.pop_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engages_per_account_and_per_source_and_lets_go_after_the_window() {
        let l = LoginLimiter::new(Duration::from_millis(200), 2, 3);
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("ALICE", "10.0.0.2").is_ok());
        assert!(
            l.attempt("alice", "10.0.0.9").is_err(),
            "the account is locked from anywhere"
        );
        assert!(l.attempt("bob", "10.0.0.3").is_ok());
        assert!(l.attempt("carol", "10.0.0.3").is_ok());
        assert!(l.attempt("dave", "10.0.0.3").is_ok());
        assert!(
            l.attempt("erin", "10.0.0.3").is_err(),
            "the source is locked for any account"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("erin", "10.0.0.3").is_ok());
    }

    #[test]
    fn a_right_password_counts_for_neither_the_account_nor_the_source() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 2);
        for _ in 0..5 {
            assert!(l.attempt("alice", "10.0.0.1").is_ok());
            l.succeeded("alice", "10.0.0.1");
        }
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("alice", "10.0.0.1").is_err());
    }
}
