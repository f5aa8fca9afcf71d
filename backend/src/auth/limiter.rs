//! Failed logins, counted over a sliding window, three ways:
//! - per account and source: past `per_account` failures, that source waits for the window before it
//!   may try that account again, the right password included (otherwise guessing would simply go on);
//! - per source, whatever the account: past `per_source`, the source waits;
//! - per account, from anywhere: past `per_account`, every attempt on the account is slowed by a delay
//!   that doubles with each further failure, up to [`MOST_DELAY`]. Never refused: a stranger who
//!   fails from elsewhere must not be able to lock the owner out.
//!
//! A source is an address; IPv6 addresses count by /64, the block one host is usually given.
//!
//! The failures are kept in memory, or, when replicas share the database, in it
//! ([`SharedLimits`]), so that a guesser spreading attempts over the replicas meets the same limits.
//! Either way the rules are [`Rules::judge`]'s.

use crate::store::{Failures, SharedLimits, StoreError};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keys kept before old ones are swept, so a flood of made-up names cannot grow memory without bound.
const SWEEP_AT: usize = 10_000;
/// The first delay once an account is over its limit, and the most it grows to.
const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MOST_DELAY: Duration = Duration::from_secs(1);

pub struct LoginLimiter {
    rules: Rules,
    failures: Kept,
}

/// Where the times of failures are kept.
enum Kept {
    /// In this process, for a store only it uses.
    Memory(Mutex<HashMap<String, VecDeque<Instant>>>),
    /// In the database replicas share.
    Shared(Arc<dyn SharedLimits>),
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The source is over a limit: it may try again after this long.
    #[error("too many failed logins")]
    Wait(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The limits: the same whichever way failures are kept.
#[derive(Clone, Copy)]
struct Rules {
    window: Duration,
    per_account: u32,
    per_source: u32,
}

impl Rules {
    /// What an attempt meets, given its keys' failures (in [`keys`]'s order): `Ok(delay)` to go
    /// ahead after `delay`, `Err(retry_after)` while the source is over a limit.
    fn judge(&self, seen: &[Failures; 3]) -> Result<Duration, Duration> {
        let limits = [Some(self.per_account), Some(self.per_source), None];
        let mut wait: Option<Duration> = None;
        for (seen, limit) in seen.iter().zip(limits) {
            if let Some(limit) = limit
                && seen.count >= limit as usize
            {
                let left = self.window.saturating_sub(seen.oldest);
                wait = Some(wait.map_or(left, |w| w.max(left)));
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        let over = seen[2].count.saturating_sub(self.per_account as usize - 1);
        Ok(match over {
            0 => Duration::ZERO,
            n => FIRST_DELAY
                .saturating_mul(1 << (n - 1).min(16))
                .min(MOST_DELAY),
        })
    }

    /// [`LoginLimiter::attempt`] on failures kept in memory.
    fn counted_here(
        &self,
        failures: &Mutex<HashMap<String, VecDeque<Instant>>>,
        keys: [String; 3],
    ) -> Result<Duration, Duration> {
        let now = Instant::now();
        let mut failures = failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > SWEEP_AT {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let mut seen = [Failures::default(); 3];
        for (key, seen) in keys.iter().zip(&mut seen) {
            let Some(times) = failures.get_mut(key) else {
                continue;
            };
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                times.pop_front();
            }
            *seen = Failures {
                count: times.len(),
                oldest: times
                    .front()
                    .map_or(Duration::ZERO, |t| now.duration_since(*t)),
            };
        }
        let verdict = self.judge(&seen);
        if verdict.is_ok() {
            for key in keys {
                failures.entry(key).or_default().push_back(now);
            }
        }
        verdict
    }
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

/// What an attempt's failures count against: the account and source together, the source, the
/// account. (A username holds no space.)
fn keys(account: &str, source: &str) -> [String; 3] {
    let (account, source) = (account.to_lowercase(), source_key(source));
    [
        format!("pair {account} {source}"),
        format!("source {source}"),
        format!("account {account}"),
    ]
}

impl LoginLimiter {
    /// A limiter keeping failures in memory, or with `shared` in the database replicas share.
    pub fn new(
        window: Duration,
        per_account: u32,
        per_source: u32,
        shared: Option<Arc<dyn SharedLimits>>,
    ) -> LoginLimiter {
        LoginLimiter {
            rules: Rules {
                window,
                per_account: per_account.max(1),
                per_source: per_source.max(1),
            },
            failures: match shared {
                Some(store) => Kept::Shared(store),
                None => Kept::Memory(Mutex::new(HashMap::new())),
            },
        }
    }

    /// Counts a login attempt before its password is checked, so that guesses sent in parallel
    /// count as well as guesses sent one after another. `Ok(delay)`: check the password after
    /// `delay`. [`Refused::Wait`] while the source is over a limit; then nothing is counted.
    pub async fn attempt(&self, account: &str, source: &str) -> Result<Duration, Refused> {
        let keys = keys(account, source);
        let rules = self.rules;
        let verdict = match &self.failures {
            Kept::Memory(failures) => rules.counted_here(failures, keys),
            Kept::Shared(store) => {
                let window_ms = i64::try_from(rules.window.as_millis()).unwrap_or(i64::MAX);
                let count = Box::new(move |seen: &[Failures; 3]| rules.judge(seen).is_ok());
                let seen = store.login_attempt(keys, window_ms, count).await?;
                rules.judge(&seen)
            }
        };
        verdict.map_err(Refused::Wait)
    }

    /// The attempt had the right password: the account's failures are forgiven, and the attempt
    /// does not count against its source.
    pub async fn succeeded(&self, account: &str, source: &str) {
        let [pair, source, account] = keys(account, source);
        match &self.failures {
            Kept::Memory(failures) => {
                let mut failures = failures.lock().unwrap_or_else(|p| p.into_inner());
                failures.remove(&pair);
                failures.remove(&account);
                if let Some(times) = failures.get_mut(&source) {
                    times.pop_back();
                }
            }
            Kept::Shared(store) => {
                // The login goes ahead whatever: the failures then count until the window passes.
                if let Err(e) = store.login_forgiven(vec![pair, account], source).await {
                    tracing::warn!(error = %e, "a successful login's earlier failures still count");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_memory(window: Duration, per_account: u32, per_source: u32) -> LoginLimiter {
        LoginLimiter::new(window, per_account, per_source, None)
    }

    #[tokio::test]
    async fn a_source_is_limited_per_account_and_over_all_accounts_and_let_go_after_the_window() {
        let l = in_memory(Duration::from_millis(200), 2, 3);
        assert!(l.attempt("alice", "10.0.0.1").await.is_ok());
        assert!(l.attempt("ALICE", "10.0.0.1").await.is_ok());
        assert!(
            l.attempt("alice", "10.0.0.1").await.is_err(),
            "that source, for that account, whatever the case of the name"
        );
        assert!(l.attempt("bob", "10.0.0.3").await.is_ok());
        assert!(l.attempt("carol", "10.0.0.3").await.is_ok());
        assert!(l.attempt("dave", "10.0.0.3").await.is_ok());
        assert!(
            l.attempt("erin", "10.0.0.3").await.is_err(),
            "the source is limited for any account"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(l.attempt("alice", "10.0.0.1").await.is_ok());
        assert!(l.attempt("erin", "10.0.0.3").await.is_ok());
    }

    #[tokio::test]
    async fn failures_from_elsewhere_slow_an_account_down_but_never_refuse_it() {
        let l = in_memory(Duration::from_secs(60), 3, 1000);
        let mut delays = Vec::new();
        for i in 0..40 {
            delays.push(l.attempt("admin", &format!("10.0.{i}.1")).await.unwrap());
        }
        assert_eq!(delays[..3], [Duration::ZERO; 3]);
        assert_eq!(delays[3], FIRST_DELAY);
        assert_eq!(delays[4], FIRST_DELAY * 2);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays[39], MOST_DELAY);
        // A source that has not failed is let through (slowly), the right password and all.
        assert_eq!(l.attempt("admin", "192.0.2.7").await.ok(), Some(MOST_DELAY));
        l.succeeded("admin", "192.0.2.7").await;
        assert_eq!(
            l.attempt("admin", "192.0.2.7").await.ok(),
            Some(Duration::ZERO)
        );
    }

    #[tokio::test]
    async fn ipv6_addresses_count_by_their_64_block() {
        let l = in_memory(Duration::from_secs(60), 2, 1000);
        assert!(l.attempt("admin", "2001:db8:1:2::1").await.is_ok());
        assert!(l.attempt("admin", "2001:db8:1:2:ffff::9").await.is_ok());
        assert!(
            l.attempt("admin", "2001:db8:1:2:abcd::5").await.is_err(),
            "another address of the same /64 is the same source"
        );
        assert!(l.attempt("admin", "2001:db8:1:3::1").await.is_ok());
        assert_eq!(source_key("::ffff:10.0.0.1"), "10.0.0.1");
    }

    #[tokio::test]
    async fn a_right_password_counts_for_neither_the_account_nor_the_source() {
        let l = in_memory(Duration::from_secs(60), 2, 2);
        for _ in 0..5 {
            assert_eq!(
                l.attempt("alice", "10.0.0.1").await.ok(),
                Some(Duration::ZERO)
            );
            l.succeeded("alice", "10.0.0.1").await;
        }
        assert!(l.attempt("alice", "10.0.0.1").await.is_ok());
        assert!(l.attempt("alice", "10.0.0.1").await.is_ok());
        assert!(l.attempt("alice", "10.0.0.1").await.is_err());
    }

    /// Two replicas' limiters on one PostgreSQL database: each counts the other's failures, under
    /// the same rules as in memory.
    #[tokio::test]
    async fn replicas_sharing_a_database_count_each_others_failures() {
        use crate::config::Secret;
        use crate::feed::Feed;
        use crate::store::sql::open_postgres;
        let url = hermod_console_tests::postgres::cluster().database();
        let mut replicas = Vec::new();
        for _ in 0..2 {
            let store = open_postgres(Secret::new(url.clone()), Feed::new(16), 1024)
                .await
                .unwrap();
            let shared = store.shared_limits();
            assert!(shared.is_some(), "PostgreSQL's store shares its limits");
            replicas.push(LoginLimiter::new(Duration::from_secs(60), 3, 4, shared));
        }
        let (a, b) = (&replicas[0], &replicas[1]);
        assert!(a.attempt("alice", "10.0.0.1").await.is_ok());
        assert!(b.attempt("Alice", "10.0.0.1").await.is_ok());
        assert!(a.attempt("alice", "10.0.0.1").await.is_ok());
        let Err(Refused::Wait(wait)) = b.attempt("alice", "10.0.0.1").await else {
            panic!(
                "the pair's third failure, two of them on the other replica, refuses the fourth"
            );
        };
        assert!(wait > Duration::from_secs(55), "{wait:?}");
        assert!(b.attempt("bob", "10.0.0.1").await.is_ok());
        assert!(
            matches!(a.attempt("carol", "10.0.0.1").await, Err(Refused::Wait(_))),
            "the source's four failures, over both replicas"
        );
        // The account, from elsewhere: slowed down, as one replica would.
        assert_eq!(
            b.attempt("alice", "192.0.2.7").await.ok(),
            Some(FIRST_DELAY)
        );
        a.succeeded("alice", "192.0.2.7").await;
        assert_eq!(
            b.attempt("alice", "192.0.2.7").await.ok(),
            Some(Duration::ZERO),
            "forgiven on every replica"
        );
    }
}
