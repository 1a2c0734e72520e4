//! The scheme loader under damaged files: a scheme folder whose files were cut, flipped, padded,
//! re-encoded or nested beyond reason loads, or is refused naming the file, never a crash. A
//! scheme that still loads compiles and groups the demo examples. `PROPTEST_CASES` sets the cases
//! (256 by default).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use grouping_domain::{CompiledScheme, RawCase, Scheme, SchemeError, demo_scheme_dir};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::mutation::{MAX_INPUT, answered_in_time, apply, mutations};

/// The demo scheme's files (its `examples.csv` is no part of the scheme).
fn demo_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(demo_scheme_dir())
        .expect("demo scheme folder")
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| path.file_name().is_some_and(|name| name != "examples.csv"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("demo file"))
        })
        .collect();
    files.sort();
    files
}

fn examples() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(demo_scheme_dir().join("examples.csv")).expect("examples");
    text.lines()
        .skip(1)
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

/// A scheme that loaded must also compile and group without a crash.
fn group_examples(scheme: &Scheme) {
    let compiled = answered_in_time("compile", || CompiledScheme::compile(scheme));
    let mut scratch = Default::default();
    for row in examples() {
        let case = RawCase {
            gender: &row[1],
            age: &row[2],
            age_days: &row[3],
            weight: &row[4],
            dept: &row[5],
            length_of_stay: &row[6],
            leaving_type: &row[7],
            diagnoses: &row[8],
            procedures: &row[9],
        };
        for map_codes in [false, true] {
            compiled.group(&case, map_codes, &mut scratch);
        }
    }
}

fn assert_names_what_is_wrong(error: &SchemeError) {
    assert!(!error.problems.is_empty(), "a refusal without a problem");
    for problem in &error.problems {
        assert!(
            !problem.file.is_empty() && !problem.message.is_empty(),
            "{problem:?}"
        );
    }
}

fn damaged(which: &Index, damage: &[crate::mutation::Mutation]) -> HashMap<String, Vec<u8>> {
    let mut files = demo_files();
    let (_, bytes) = which.get_mut(&mut files);
    *bytes = apply(bytes, damage);
    files.into_iter().collect()
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct TempFolder(PathBuf);

impl TempFolder {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "grouping-damaged-scheme-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("temporary folder");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_seed_loads_from_its_files() {
    let files: HashMap<String, Vec<u8>> = demo_files().into_iter().collect();
    group_examples(&Scheme::from_files(&files).expect("the demo scheme loads"));
}

proptest! {
    #[test]
    fn a_damaged_scheme_loads_or_names_its_problems(
        which in any::<Index>(),
        damage in mutations(),
    ) {
        let files = damaged(&which, &damage);
        match answered_in_time("from_files", || Scheme::from_files(&files)) {
            Ok(scheme) => group_examples(&scheme),
            Err(error) => assert_names_what_is_wrong(&error),
        }
    }

    /// Loading the folder answers as loading its files does.
    #[test]
    fn a_damaged_scheme_folder_loads_like_its_files(
        which in any::<Index>(),
        damage in mutations(),
    ) {
        let files = damaged(&which, &damage);
        let folder = TempFolder::new();
        for (name, bytes) in &files {
            std::fs::write(folder.path().join(name), bytes).expect("write scheme file");
        }
        let from_folder = answered_in_time("load_dir", || Scheme::load_dir(folder.path()));
        let from_files = Scheme::from_files(&files);
        prop_assert_eq!(from_folder.is_ok(), from_files.is_ok());
        if let (Err(folder_error), Err(files_error)) = (&from_folder, &from_files) {
            prop_assert_eq!(&folder_error.problems, &files_error.problems);
        }
    }
}

#[test]
fn extreme_scheme_files_are_refused() {
    let files: HashMap<String, Vec<u8>> = demo_files().into_iter().collect();
    let with = |name: &str, bytes: Vec<u8>| {
        let mut changed = files.clone();
        changed.insert(name.to_owned(), bytes);
        changed
    };
    let deep = with("scheme.json", vec![b'['; MAX_INPUT]);
    let error = Scheme::from_files(&deep).expect_err("nesting is not a scheme");
    assert_eq!(error.problems[0].file, "scheme.json");

    let not_utf8 = with("cc.tsv", vec![0xff; 64]);
    assert_names_what_is_wrong(&Scheme::from_files(&not_utf8).expect_err("bytes, not a table"));

    let mut long_line = files["diagnoses.tsv"].clone();
    long_line.extend(std::iter::repeat_n(b'x', MAX_INPUT));
    let long = with("diagnoses.tsv", long_line);
    let _ = answered_in_time("a megabyte line", || Scheme::from_files(&long));

    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend(&files["scheme.json"]);
    let _ = answered_in_time("a byte-order mark", || {
        Scheme::from_files(&with("scheme.json", bom))
    });

    let crlf = files
        .iter()
        .map(|(name, bytes)| {
            (
                name.clone(),
                String::from_utf8_lossy(bytes)
                    .replace('\n', "\r\n")
                    .into_bytes(),
            )
        })
        .collect();
    // The format asks for LF; CRLF is refused line by line rather than read half-right.
    let error = Scheme::from_files(&crlf).expect_err("TSV files use LF only");
    assert!(
        error
            .problems
            .iter()
            .any(|p| p.file == "lists.tsv" && p.line == Some(1) && p.message.contains("CRLF")),
        "{:?}",
        error.problems.first()
    );
}
