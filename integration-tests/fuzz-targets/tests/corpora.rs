//! Replays every stored fuzz input (`integration-tests/fuzz/corpus/<target>/`, the minimised
//! corpora, and `integration-tests/fuzz/regressions/<target>/`, inputs that once failed) through
//! the target bodies: no fuzzing, only the same functions on the same bytes, so a fixed finding
//! stays fixed.

use std::path::{Path, PathBuf};

use fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_seed_corpus() {
    for target in TARGETS {
        let corpus = fuzz_dir().join("corpus").join(target.name);
        assert!(
            !inputs(&corpus).is_empty(),
            "{} has no corpus under {}",
            target.name,
            corpus.display()
        );
    }
}

#[test]
fn every_stored_input_runs_through_its_target() {
    let mut replayed = 0;
    for target in TARGETS {
        for folder in ["corpus", "regressions"] {
            for input in inputs(&fuzz_dir().join(folder).join(target.name)) {
                let data = std::fs::read(&input).expect("a stored input reads");
                (target.run)(&data);
                replayed += 1;
            }
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs replayed");
}
