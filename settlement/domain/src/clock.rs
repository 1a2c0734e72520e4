//! Times as the settlement context records them, from a clock's seconds since 1970-01-01T00:00Z
//! (the domain itself never reads a clock).

use kernel::date::{Date, DateError, DateTime};

/// Seconds the agency's local time (China Standard Time, UTC+8) is ahead of UTC.
const AGENCY_OFFSET_SECONDS: i64 = 8 * 3600;

/// The UTC date-time of `unix_seconds`.
pub fn utc(unix_seconds: i64) -> Result<DateTime, DateError> {
    let second_of_day = u32::try_from(unix_seconds.rem_euclid(86_400)).unwrap_or(0);
    DateTime::new(
        Date::from_unix_seconds(unix_seconds),
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    )
}

/// The agency's local time of `unix_seconds`: special-case steps are recorded in it, like every
/// time on a settlement list.
pub fn agency_local(unix_seconds: i64) -> Result<DateTime, DateError> {
    utc(unix_seconds.saturating_add(AGENCY_OFFSET_SECONDS))
}

/// The agency's local calendar day of `unix_seconds` (what "today" means for a list's dates).
pub fn agency_date(unix_seconds: i64) -> Date {
    Date::from_unix_seconds(unix_seconds.saturating_add(AGENCY_OFFSET_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_eight_hours_ahead() {
        let utc = utc(1_700_000_000).expect("time");
        let local = agency_local(1_700_000_000).expect("time");
        assert_eq!(local.seconds_since(utc), 8 * 3600);
    }

    #[test]
    fn the_agency_day_starts_at_16_00_utc() {
        // 2025-12-31T15:59:59Z is still the 31st in China; one second later it is the 1st.
        let before = 1_767_196_799;
        assert_eq!(agency_date(before).to_string(), "2025-12-31");
        assert_eq!(agency_date(before + 1).to_string(), "2026-01-01");
    }
}
