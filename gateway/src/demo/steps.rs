//! The wall-clock time of each step of the demo, printed after the summary so an operator sees
//! where a run of the year spent its time (a slow step, a loaded machine). Only stdout and stderr
//! show it: the CSV files and the report hold the year's figures alone, identical for a seed.

use std::time::{Duration, Instant};

/// The steps done so far, each with the time since the previous one ended.
#[derive(Debug)]
pub struct Steps {
    started: Instant,
    last: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Steps {
    pub fn new() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last: now,
            done: Vec::new(),
        }
    }

    /// Ends the step `what`: it took the time since the previous step ended.
    pub fn done(&mut self, what: &'static str) {
        let now = Instant::now();
        self.done.push((what, now - self.last));
        self.last = now;
    }

    pub fn total(&self) -> Duration {
        self.last - self.started
    }

    /// A line per step with its seconds and its share of the run, then the total.
    pub fn table(&self) -> String {
        let total = self.total().as_secs_f64();
        let mut out = format!("\n{:<31} {:>7} {:>7}\n", "steps", "seconds", "share");
        for (what, took) in &self.done {
            let seconds = took.as_secs_f64();
            let share = if total > 0.0 {
                seconds / total * 100.0
            } else {
                0.0
            };
            out.push_str(&format!(" {what:<30} {seconds:>7.1} {share:>6.1}%\n"));
        }
        out.push_str(&format!(" {:<30} {total:>7.1}\n", "total"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_is_timed_from_the_end_of_the_one_before() {
        let start = Instant::now();
        let steps = Steps {
            started: start,
            last: start + Duration::from_millis(4_000),
            done: vec![
                ("simulating", Duration::from_millis(1_000)),
                ("intake", Duration::from_millis(3_000)),
            ],
        };
        assert_eq!(
            steps.table(),
            concat!(
                "\nsteps                           seconds   share\n",
                " simulating                         1.0   25.0%\n",
                " intake                             3.0   75.0%\n",
                " total                              4.0\n",
            )
        );
    }

    #[test]
    fn a_step_takes_the_time_since_the_previous_one() {
        let mut steps = Steps::new();
        steps.done("first");
        steps.done("second");
        assert_eq!(steps.done.len(), 2);
        assert_eq!(
            steps.done[0].1 + steps.done[1].1,
            steps.total(),
            "the steps add up to the run"
        );
    }
}
