//! The bodies of the fuzz targets: each `pub fn` takes the fuzzer's bytes and runs them through
//! the same reading the project applies to files and requests from outside, so a panic, a hang or
//! a runaway allocation on any input is a finding. `integration-tests/fuzz` calls these under
//! libFuzzer (nightly); `tests/corpora.rs` replays every stored corpus input through them on
//! stable, so an input that once failed stays a test.
//!
//! Inputs that bundle several files or a choice start with a selector byte (see each target).

pub mod grouping;
pub mod points;
pub mod settlement;
pub mod supervision;

#[cfg(feature = "services")]
pub mod wire;

/// A target: its name (the fuzz binary and the corpus folder) and its body.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order the README lists them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "settlement_csv_row",
        run: settlement::csv_row,
    },
    Target {
        name: "settlement_import_file",
        run: settlement::import_file,
    },
    Target {
        name: "scheme_files",
        run: grouping::scheme_files,
    },
    Target {
        name: "dip_directory",
        run: grouping::dip_directory,
    },
    Target {
        name: "points_tables",
        run: points::tables,
    },
    Target {
        name: "supervision_tables",
        run: supervision::tables,
    },
    Target {
        name: "supervision_parameters",
        run: supervision::parameters,
    },
    #[cfg(feature = "services")]
    Target {
        name: "settlement_submit_record",
        run: wire::settlement_submit_record,
    },
    #[cfg(feature = "services")]
    Target {
        name: "group_case_request",
        run: wire::group_case_request,
    },
    #[cfg(feature = "services")]
    Target {
        name: "points_put_table",
        run: wire::points_put_table,
    },
    #[cfg(feature = "services")]
    Target {
        name: "budget_create",
        run: wire::budget_create,
    },
    #[cfg(feature = "services")]
    Target {
        name: "supervision_requests",
        run: wire::supervision_requests,
    },
    #[cfg(feature = "services")]
    Target {
        name: "gateway_config",
        run: wire::gateway_config,
    },
];

/// Splits `data` at its first NUL byte: the part before and the part after (empty when none).
pub fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The first byte as a choice among `n` (0 for an empty input) and the rest.
pub fn select(data: &[u8], n: usize) -> (usize, &[u8]) {
    match data.split_first() {
        Some((first, rest)) => (usize::from(*first) % n.max(1), rest),
        None => (0, data),
    }
}
