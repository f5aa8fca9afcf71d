//! Failed logins, counted over a sliding window, three ways:
//! - per account and source: past `per_account` failures, that source waits for the window before it
//!   may try that account again, the right password included (otherwise guessing would simply go on);
//! - per source, whatever the account: past `per_source`, the source waits;
//! - per account, from anywhere: past `per_account`, every attempt on the account is slowed by a delay
//!   that doubles with each further failure, up to [`MOST_DELAY`]. Never refused: a stranger who
//!   fails from elsewhere must not be able to lock the owner out.
//!
//! A source is an address; IPv6 addresses count by /64, the block one host is usually given.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before old ones are swept, so a flood of made-up names cannot grow memory without bound.
const SWEEP_AT: usize = 10_000;
/// The first delay once an account is over its limit, and the most it grows to.
const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MOST_DELAY: Duration = Duration::from_secs(1);

pub struct LoginLimiter {
    window: Duration,
    per_account: u32,
    per_source: u32,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, String),
    Source(String),
    Account(String),
}

/// The source a failure counts against: the address, or for IPv6 its /64.
fn source_key(source: &str) -> String {
    match source.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let block = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{block}/64")
        }
        Ok(IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or(source.into(), |v4| v4.to_string()),
        _ => source.to_string(),
    }
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

    fn keys(account: &str, source: &str) -> [Key; 3] {
        let (account, source) = (account.to_lowercase(), source_key(source));
        [
            Key::Pair(account.clone(), source.clone()),
            Key::Source(source),
            Key::Account(account),
        ]
    }

    /// Counts a login attempt before its password is checked, so that guesses sent in parallel
    /// count as well as guesses sent one after another. `Ok(delay)`: check the password after
    /// `delay`. `Err(retry_after)` while the source is over a limit; then nothing is counted.
    pub fn attempt(&self, account: &str, source: &str) -> Result<Duration, Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > SWEEP_AT {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let keys = Self::keys(account, source);
        let mut counts = [0usize; 3];
        let mut wait: Option<Duration> = None;
        for (key, count) in keys.iter().zip(&mut counts) {
            let Some(times) = failures.get_mut(key) else {
                continue;
            };
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                times.pop_front();
            }
            *count = times.len();
            let limit = match key {
                Key::Pair(..) => self.per_account,
                Key::Source(_) => self.per_source,
                Key::Account(_) => continue,
            } as usize;
            if *count >= limit
                && let Some(oldest) = times.front()
            {
                let left = self.window.saturating_sub(now.duration_since(*oldest));
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        let over = counts[2].saturating_sub(self.per_account as usize - 1);
        let delay = match over {
            0 => Duration::ZERO,
            n => FIRST_DELAY
                .saturating_mul(1 << (n - 1).min(16))
                .min(MOST_DELAY),
        };
        for key in keys {
            failures.entry(key).or_default().push_back(now);
        }
        Ok(delay)
    }

    /// The attempt had the right password: the account's failures are forgiven, and the attempt
    /// does not count against its source.
    pub fn succeeded(&self, account: &str, source: &str) {
        let [pair, source, account] = Self::keys(account, source);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&pair);
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
    fn a_source_is_limited_per_account_and_over_all_accounts_and_let_go_after_the_window() {
        let l = LoginLimiter::new(Duration::from_millis(200), 2, 3);
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("ALICE", "10.0.0.1").is_ok());
        assert!(
            l.attempt("alice", "10.0.0.1").is_err(),
            "that source, for that account, whatever the case of the name"
        );
        assert!(l.attempt("bob", "10.0.0.3").is_ok());
        assert!(l.attempt("carol", "10.0.0.3").is_ok());
        assert!(l.attempt("dave", "10.0.0.3").is_ok());
        assert!(
            l.attempt("erin", "10.0.0.3").is_err(),
            "the source is limited for any account"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("erin", "10.0.0.3").is_ok());
    }

    #[test]
    fn failures_from_elsewhere_slow_an_account_down_but_never_refuse_it() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 1000);
        let mut delays = Vec::new();
        for i in 0..40 {
            delays.push(l.attempt("admin", &format!("10.0.{i}.1")).unwrap());
        }
        assert_eq!(delays[..3], [Duration::ZERO; 3]);
        assert_eq!(delays[3], FIRST_DELAY);
        assert_eq!(delays[4], FIRST_DELAY * 2);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays[39], MOST_DELAY);
        // A source that has not failed is let through (slowly), the right password and all.
        assert_eq!(l.attempt("admin", "192.0.2.7"), Ok(MOST_DELAY));
        l.succeeded("admin", "192.0.2.7");
        assert_eq!(l.attempt("admin", "192.0.2.7"), Ok(Duration::ZERO));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_block() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 1000);
        assert!(l.attempt("admin", "2001:db8:1:2::1").is_ok());
        assert!(l.attempt("admin", "2001:db8:1:2:ffff::9").is_ok());
        assert!(
            l.attempt("admin", "2001:db8:1:2:abcd::5").is_err(),
            "another address of the same /64 is the same source"
        );
        assert!(l.attempt("admin", "2001:db8:1:3::1").is_ok());
        assert_eq!(source_key("::ffff:10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn a_right_password_counts_for_neither_the_account_nor_the_source() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 2);
        for _ in 0..5 {
            assert_eq!(l.attempt("alice", "10.0.0.1"), Ok(Duration::ZERO));
            l.succeeded("alice", "10.0.0.1");
        }
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("alice", "10.0.0.1").is_ok());
        assert!(l.attempt("alice", "10.0.0.1").is_err());
    }
}
