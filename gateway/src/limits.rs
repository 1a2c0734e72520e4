//! Per-caller limits at the edge: a token bucket for the sustained rate and a cap on calls in
//! flight, so one county's runaway client cannot starve the others. A refused call is
//! RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` saying when to try again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::config::LimitSettings;

/// How long a caller with no calls in flight is remembered; older state is dropped so that the
/// table does not grow with every caller ever seen.
const IDLE_FORGET: Duration = Duration::from_secs(600);

struct CallerState {
    tokens: f64,
    refreshed: Instant,
    in_flight: Arc<Semaphore>,
}

/// The limits of every caller seen.
pub struct Limiter {
    settings: LimitSettings,
    callers: Mutex<HashMap<String, CallerState>>,
}

/// Held while a call runs: dropping it frees the caller's place.
pub struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
}

impl Limiter {
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            settings,
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one call of `caller` now, or says why not and when to retry.
    pub fn admit(&self, caller: &str) -> Result<Admitted, Status> {
        self.admit_at(caller, Instant::now())
    }

    fn admit_at(&self, caller: &str, now: Instant) -> Result<Admitted, Status> {
        let rate = f64::from(self.settings.requests_per_second);
        let burst = f64::from(self.settings.burst);
        let concurrent = self.settings.concurrent_per_caller as usize;
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        if callers.len() > 10_000 {
            callers.retain(|_, state| {
                now.duration_since(state.refreshed) < IDLE_FORGET
                    || state.in_flight.available_permits() < concurrent
            });
        }
        let state = callers
            .entry(caller.to_owned())
            .or_insert_with(|| CallerState {
                tokens: burst,
                refreshed: now,
                in_flight: Arc::new(Semaphore::new(concurrent.max(1))),
            });
        if rate > 0.0 {
            let elapsed = now.duration_since(state.refreshed).as_secs_f64();
            state.tokens = (state.tokens + elapsed * rate).min(burst);
            state.refreshed = now;
            if state.tokens < 1.0 {
                let wait = Duration::from_secs_f64((1.0 - state.tokens) / rate);
                return Err(exhausted(
                    format!(
                        "caller {caller} is over its limit of {} calls per second",
                        self.settings.requests_per_second
                    ),
                    wait,
                ));
            }
        }
        let permit = if concurrent > 0 {
            match state.in_flight.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    return Err(exhausted(
                        format!("caller {caller} already has {concurrent} calls in flight"),
                        Duration::from_millis(100),
                    ));
                }
            }
        } else {
            None
        };
        if rate > 0.0 {
            state.tokens -= 1.0;
        }
        Ok(Admitted { _permit: permit })
    }
}

fn exhausted(message: String, retry_after: Duration) -> Status {
    let details = ErrorDetails::with_retry_info(Some(retry_after));
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rate: u32, burst: u32, concurrent: u32) -> Limiter {
        Limiter::new(LimitSettings {
            requests_per_second: rate,
            burst,
            concurrent_per_caller: concurrent,
        })
    }

    #[test]
    fn a_burst_is_admitted_then_the_rate_with_a_retry_delay() {
        let limiter = limiter(10, 3, 0);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit_at("a", start).is_ok());
        }
        let refused = limiter.admit_at("a", start).err().expect("over the burst");
        assert_eq!(refused.code(), Code::ResourceExhausted);
        let retry = refused
            .get_error_details()
            .retry_info()
            .and_then(|info| info.retry_delay)
            .expect("retry info");
        assert!(retry > Duration::ZERO && retry <= Duration::from_millis(100));
        // Another caller has its own bucket.
        assert!(limiter.admit_at("b", start).is_ok());
        // A tenth of a second later one more token has arrived, and only one.
        let later = start + Duration::from_millis(100);
        assert!(limiter.admit_at("a", later).is_ok());
        assert!(limiter.admit_at("a", later).is_err());
    }

    #[test]
    fn calls_in_flight_are_capped_and_freed_when_done() {
        let limiter = limiter(0, 0, 2);
        let first = limiter.admit("a").expect("first");
        let _second = limiter.admit("a").expect("second");
        let refused = limiter.admit("a").err().expect("third at once");
        assert_eq!(refused.code(), Code::ResourceExhausted);
        drop(first);
        assert!(limiter.admit("a").is_ok());
    }
}
