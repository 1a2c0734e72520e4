//! Every scheme of the shared schemes folder (found by listing it, so a scheme added there is
//! covered without a code change) loads, and every row of its `examples.csv` groups to the
//! expected result with code mapping off and on, plain and traced, and through the batch path.

use crate::common;

use std::path::Path;
use std::sync::Mutex;

use grouping_domain::{BatchOptions, CompiledScheme, Scheme, group_csv};

/// Loads and compiles one scheme; every problem when it is refused.
fn compile(dir: &Path) -> Result<CompiledScheme, String> {
    match Scheme::load_dir(dir) {
        Ok(scheme) => Ok(CompiledScheme::compile(&scheme)),
        Err(error) => Err(format!("does not load: {error}")),
    }
}

/// The shared schemes, or `None` when the folder is absent outside CI.
fn shared_schemes() -> Option<Vec<(String, std::path::PathBuf)>> {
    let root = common::shared_schemes_dir()?;
    let dirs = common::shared_scheme_dirs(&root);
    assert!(
        !dirs.is_empty(),
        "no scheme folder (with scheme.json) in {}",
        root.display()
    );
    Some(dirs)
}

/// Runs `check` on every shared scheme, spread over the available cores; returns the results
/// in folder order.
fn each_scheme<T: Send>(check: impl Fn(&str, &Path) -> T + Sync) -> Vec<(String, T)> {
    let Some(dirs) = shared_schemes() else {
        return Vec::new();
    };
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("index lock");
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some((name, dir)) = dirs.get(index) else {
                        break;
                    };
                    let result = check(name, dir);
                    results
                        .lock()
                        .expect("results lock")
                        .push((index, name.clone(), result));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(index, _, _)| *index);
    results
        .into_iter()
        .map(|(_, name, result)| (name, result))
        .collect()
}

/// The batch path reads `inHospitalTime` and `leavingType` by header name, so the schemes that
/// split on length of stay and discharge type must group a file exactly like one case at a time;
/// every differing line is added to the tally's mismatches.
fn check_batch(
    compiled: &CompiledScheme,
    dir: &Path,
    examples: &[common::Example],
    tally: &mut common::Tally,
) {
    let input = std::fs::read(dir.join("examples.csv")).expect("examples.csv readable");
    for map_codes in [false, true] {
        let mut output = Vec::new();
        let options = BatchOptions {
            map_codes,
            threads: 1,
        };
        if let Err(error) = group_csv(input.as_slice(), &mut output, compiled, options, |_| {}) {
            tally
                .mismatches
                .push(format!("batch map={map_codes} failed: {error}"));
            continue;
        }
        let output = String::from_utf8_lossy(&output);
        let lines: Vec<&str> = output.lines().skip(1).collect();
        if lines.len() != examples.len() {
            tally.mismatches.push(format!(
                "batch map={map_codes}: {} output rows for {} examples",
                lines.len(),
                examples.len()
            ));
        }
        for (line, example) in lines.iter().zip(examples) {
            let expected = if map_codes {
                &example.expected_mapped
            } else {
                &example.expected
            };
            let expected = format!("{},{}", example.index, expected.join(","));
            if *line != expected {
                tally.mismatches.push(format!(
                    "batch line {} map={map_codes}: expected {expected}, got {line}",
                    example.line
                ));
            }
        }
    }
}

/// Every example of every shared scheme, mapping off and on, plain, traced and through the batch.
#[test]
fn every_shared_scheme_groups_every_example_as_expected() {
    let tallies = each_scheme(|_, dir| {
        let compiled = compile(dir)?;
        let examples = common::read_examples(&dir.join("examples.csv"));
        let mut tally = common::tally(&compiled, &examples, true);
        check_batch(&compiled, dir, &examples, &mut tally);
        Ok::<_, String>(tally)
    });
    println!(
        "{:<16} {:>8} {:>14} {:>16}",
        "scheme", "examples", "matched plain", "matched mapping"
    );
    let mut failures = Vec::new();
    for (name, tally) in &tallies {
        match tally {
            Ok(tally) => {
                println!(
                    "{name:<16} {:>8} {:>14} {:>16}",
                    tally.examples, tally.matched_plain, tally.matched_mapped
                );
                if tally.examples == 0 {
                    failures.push(format!("{name}: examples.csv has no rows"));
                }
                if !tally.mismatches.is_empty() {
                    let shown: Vec<&str> = tally
                        .mismatches
                        .iter()
                        .take(20)
                        .map(String::as_str)
                        .collect();
                    failures.push(format!(
                        "{name}: {} mismatch(es)\n{}",
                        tally.mismatches.len(),
                        shown.join("\n")
                    ));
                }
            }
            Err(refusal) => failures.push(format!("{name}: {refusal}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
