//! Time as the console's store keeps it (milliseconds since the Unix epoch) and as the console's API
//! and the simulator's answers show it (RFC 3339, UTC).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Always `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width, so timestamps sort as text.
pub fn rfc3339(ms: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_at_millisecond_precision() {
        let ms = 1_790_000_000_123;
        assert_eq!(super::parse_rfc3339(&super::rfc3339(ms)), Some(ms));
        assert_eq!(super::rfc3339(ms), "2026-09-21T14:13:20.123Z");
        assert_eq!(
            super::rfc3339(1_790_000_000_000),
            "2026-09-21T14:13:20.000Z"
        );
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }
}
