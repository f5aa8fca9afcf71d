//! A token bucket: at most `per_sec` a second on average, with a burst of one second's worth. Used to
//! bound how fast one Hermod client's callbacks are taken (`callback_rate_per_sec`), so a looping
//! sender cannot crowd out the others or fill the disk.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Bucket {
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    pub fn new(per_sec: u32) -> Bucket {
        let per_sec = f64::from(per_sec.max(1));
        Bucket {
            per_sec,
            state: Mutex::new((per_sec, Instant::now())),
        }
    }

    /// Takes one token, or says how long until one is there.
    pub fn take(&self) -> Result<(), Duration> {
        self.take_at(Instant::now())
    }

    fn take_at(&self, now: Instant) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = &mut *state;
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.per_sec).min(self.per_sec);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_s_worth_at_once_then_the_rate() {
        let bucket = Bucket::new(10);
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(bucket.take_at(start), Ok(()));
        }
        let wait = bucket.take_at(start).expect_err("the burst is spent");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        // A tenth of a second later, one more.
        let later = start + Duration::from_millis(100);
        assert_eq!(bucket.take_at(later), Ok(()));
        assert!(bucket.take_at(later).is_err());
        // Idle for a minute, still only a second's worth.
        let idle = later + Duration::from_secs(60);
        for _ in 0..10 {
            assert_eq!(bucket.take_at(idle), Ok(()));
        }
        assert!(bucket.take_at(idle).is_err());
    }
}
