//! Timing a request's phases for its log line (intake's chunks, a clearing's run).

use std::time::{Duration, Instant};

/// The time since `started`, which then starts the next phase.
pub(crate) fn lap(started: &mut Instant) -> Duration {
    let now = Instant::now();
    let phase = now - *started;
    *started = now;
    phase
}
