//! The screening tables (TSV) under damage: every reader answers a damaged demo table with its
//! rows or a table error that says where and why, never a crash, each in time.
//! `PROPTEST_CASES` sets the cases (256 by default; README "Robustness under generated input").

use kernel::mutation;

use proptest::prelude::*;
use supervision_domain::{TableError, Tables};

use crate::mutation::{MAX_INPUT, answered_in_time, apply, mutations};

const ITEMS: &str = include_str!("../../data/demo/items.tsv");
const EXCLUSIVE_PAIRS: &str = include_str!("../../data/demo/exclusive_pairs.tsv");
const PACKAGES: &str = include_str!("../../data/demo/packages.tsv");
const SUBSTITUTIONS: &str = include_str!("../../data/demo/substitutions.tsv");
const GROUP_MEANS: &str = include_str!("../../data/demo/group_means.tsv");

/// Reads `text` as table `which` (0..5); the number of rows read, or the error.
fn read(which: usize, text: &str) -> Result<usize, TableError> {
    answered_in_time("table reader", || match which {
        0 => Tables::read_items(text).map(|t| t.len()),
        1 => Tables::read_exclusive_pairs(text).map(|t| t.len()),
        2 => Tables::read_packages(text).map(|t| t.len()),
        3 => Tables::read_substitutions(text).map(|t| t.len()),
        _ => Tables::read_group_means(text).map(|t| t.len()),
    })
}

const SEEDS: [&str; 5] = [ITEMS, EXCLUSIVE_PAIRS, PACKAGES, SUBSTITUTIONS, GROUP_MEANS];

fn assert_says_where(answer: &Result<usize, TableError>) {
    if let Err(error) = answer {
        assert!(!error.to_string().is_empty());
        assert!(!error.reason().is_empty());
    }
}

#[test]
fn the_seeds_read() {
    for (which, seed) in SEEDS.iter().enumerate() {
        assert!(read(which, seed).expect("a demo table reads") > 0);
    }
}

proptest! {
    #[test]
    fn a_damaged_table_is_read_or_refused(which in 0usize..5, damage in mutations()) {
        let text = String::from_utf8_lossy(&apply(SEEDS[which].as_bytes(), &damage)).into_owned();
        assert_says_where(&read(which, &text));
    }
}

#[test]
fn extreme_tables_are_answered() {
    for (which, seed) in SEEDS.iter().enumerate() {
        let long_line = format!("{seed}{}", "x\t".repeat(MAX_INPUT / 2));
        assert_says_where(&read(which, &long_line));
        assert_says_where(&read(which, &format!("\u{feff}{seed}")));
        assert_says_where(&read(which, &seed.replace('\n', "\r\n")));
        assert_says_where(&read(which, &seed[..seed.len() / 2]));
        assert_says_where(&read(which, ""));
        assert_says_where(&read(which, &"\n".repeat(MAX_INPUT)));
    }
}
