//! The directory loader under damaged files: a DIP directory folder whose manifest or tables
//! were cut, flipped, padded, re-encoded or nested beyond reason loads, or is refused naming the
//! file, never a crash. A directory that still loads compiles and groups. `PROPTEST_CASES` sets
//! the cases (256 by default).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use grouping_dip::{CompiledDirectory, Directory, DirectoryError, demo_dir};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::common::case;
use crate::mutation::{MAX_INPUT, Mutation, answered_in_time, apply, mutations};

/// The demo directory's files, `directory.json` first.
fn demo_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(demo_dir())
        .expect("demo directory folder")
        .map(|entry| entry.expect("folder entry").path())
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("demo file"))
        })
        .collect();
    files.sort_by_key(|(name, _)| (name != "directory.json", name.clone()));
    files
}

fn group_some_cases(directory: &Directory) {
    let compiled = answered_in_time("compile", || CompiledDirectory::new(directory));
    for (principal, procedures) in [
        ("A09.0", vec![]),
        ("A09.0", vec!["45.2300"]),
        ("K35.800", vec!["47.0100"]),
        ("", vec![]),
    ] {
        let _ = compiled.group(&case(principal, &procedures, 5_000));
    }
}

fn assert_names_what_is_wrong(error: &DirectoryError) {
    match error {
        DirectoryError::Io { path, message } => assert!(!path.is_empty() && !message.is_empty()),
        DirectoryError::Invalid { problems } => {
            assert!(!problems.is_empty(), "a refusal without a problem");
            for problem in problems {
                assert!(!problem.file.is_empty(), "{problem}");
                assert!(!problem.to_string().is_empty());
            }
        }
    }
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct TempFolder(PathBuf);

impl TempFolder {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "dip-damaged-directory-{}-{}",
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

fn load_written(files: &[(String, Vec<u8>)]) -> Result<Directory, DirectoryError> {
    let folder = TempFolder::new();
    for (name, bytes) in files {
        std::fs::write(folder.path().join(name), bytes).expect("write directory file");
    }
    answered_in_time("Directory::load", || Directory::load(folder.path()))
}

fn damaged(which: &Index, damage: &[Mutation]) -> Vec<(String, Vec<u8>)> {
    let mut files = demo_files();
    let (_, bytes) = which.get_mut(&mut files);
    *bytes = apply(bytes, damage);
    files
}

#[test]
fn the_seed_loads_from_its_folder() {
    group_some_cases(&load_written(&demo_files()).expect("the demo directory loads"));
}

proptest! {
    #[test]
    fn a_damaged_directory_loads_or_names_its_problems(
        which in any::<Index>(),
        damage in mutations(),
    ) {
        match load_written(&damaged(&which, &damage)) {
            Ok(directory) => group_some_cases(&directory),
            Err(error) => assert_names_what_is_wrong(&error),
        }
    }
}

#[test]
fn extreme_directory_files_are_refused() {
    let with = |name: &str, bytes: Vec<u8>| {
        let mut files = demo_files();
        if let Some((_, old)) = files.iter_mut().find(|(n, _)| n == name) {
            *old = bytes;
        }
        files
    };
    let error = load_written(&with("directory.json", vec![b'['; MAX_INPUT]))
        .expect_err("nesting is not a directory");
    assert_eq!(error.problems()[0].file, "directory.json");

    // rust_decimal reads a number's leading zeros one recursion each: a scale padded with enough
    // of them would overflow the stack if it reached the reader.
    let manifest = String::from_utf8(demo_files()[0].1.clone()).expect("manifest text");
    for (field, value) in [("score_scale", "1000"), ("reference_mean_cost", "10850.00")] {
        let padded = manifest.replacen(
            &format!("\"{field}\": \"{value}\""),
            &format!("\"{field}\": \"{}{value}\"", "0".repeat(200_000)),
            1,
        );
        assert_ne!(
            padded, manifest,
            "the demo manifest gives {field} as {value:?}"
        );
        let error = load_written(&with("directory.json", padded.into_bytes()))
            .expect_err("an overlong number is refused");
        let problem = &error.problems()[0];
        assert_eq!(problem.file, "directory.json");
        assert!(
            problem
                .to_string()
                .contains("characters is refused (at most 64)"),
            "{problem}"
        );
    }

    let error = load_written(&with("core_groups.tsv", vec![0xff; 64])).expect_err("not UTF-8");
    assert_names_what_is_wrong(&error);

    let mut long_line = std::fs::read(demo_dir().join("core_groups.tsv")).expect("table");
    long_line.extend(std::iter::repeat_n(b'9', MAX_INPUT));
    let answer = load_written(&with("core_groups.tsv", long_line));
    if let Err(error) = answer {
        assert_names_what_is_wrong(&error);
    }

    let crlf: Vec<(String, Vec<u8>)> = demo_files()
        .into_iter()
        .map(|(name, bytes)| {
            (
                name,
                String::from_utf8_lossy(&bytes)
                    .replace('\n', "\r\n")
                    .into_bytes(),
            )
        })
        .collect();
    match load_written(&crlf) {
        Ok(directory) => group_some_cases(&directory),
        Err(error) => assert_names_what_is_wrong(&error),
    }
}
