//! Loading directories: the hand-made one loads, bad ones are rejected with every problem, its
//! file and its line; a written directory loads back unchanged.

use crate::common;

use common::{AUXILIARY, CCI, COMPREHENSIVE, CORE, PROCEDURES, TUMOUR, directory, load, meta};
use grouping_dip::{Directory, DirectoryError};

fn problems(result: Result<Directory, DirectoryError>) -> Vec<(String, usize, &'static str)> {
    match result {
        Ok(_) => panic!("the directory must be rejected"),
        Err(e) => {
            assert_eq!(e.reason(), "INVALID_DIRECTORY");
            e.problems()
                .iter()
                .map(|p| (p.file.clone(), p.line, p.kind.reason()))
                .collect()
        }
    }
}

fn with_table(file: &'static str, text: &'static str) -> Vec<(&'static str, &'static str)> {
    common::tables()
        .into_iter()
        .map(|(name, t)| {
            if name == file {
                (name, text)
            } else {
                (name, t)
            }
        })
        .collect()
}

#[test]
fn hand_made_directory_loads() {
    let d = directory();
    assert_eq!(d.core_groups.len(), 14);
    assert_eq!(d.comprehensive_groups.len(), 6);
    assert_eq!(d.procedure_types.len(), 12);
    let k80 = d
        .core_groups
        .iter()
        .find(|g| g.code == "K80.1-02")
        .expect("group");
    assert_eq!(
        k80.procedures.as_ref().map(ToString::to_string).as_deref(),
        Some("51.2300+54.9100")
    );
    assert_eq!(k80.score.to_string(), "1750.0000");
    assert_eq!(k80.mean_cost.to_string(), "14000.00");
}

#[test]
fn bad_core_rows_are_all_reported_with_their_lines() {
    let core = "code\tname\tkind\tdiagnosis_category\ttreatment\tprocedures\tscore\tmean_cost
K35.8-00\tok\tcore\tK35.8\tconservative\t\t625.0000\t5000.00
K35.8-01\tbad kind\tcentral\tK35.8\tsurgical\t47.0100\t1.0000\t1.00
K35.8-02\tunknown procedure\tcore\tK35.8\tsurgical\t47.0100+12.3456\t1.0000\t1.00
K35.8-03\tnegative\tcore\tK35.8\tsurgical\t47.0900\t-1.0000\t1.00
K35.8-00\tduplicate code\tcore\tK35.9\tconservative\t\t1.0000\t1.00
K35.8-05\tmismatch\tcore\tK35.8\ttherapeutic\t47.0100+54.9100\t1.0000\t1.00
K35.8-06\ttoo precise\tcore\tK35.8\tdiagnostic\t45.2300\t1.00001\t1.001
K35.8-07\tshort category\tcore\tK35\tdiagnostic\t45.2300\t1.0000\t1.00
K35.8-08\ttoo few fields\tcore
K35.8-09\tsame combination\tcore\tK35.8\tsurgical\t47.0100\t1.0000\t1.00
K35.8-10\tsame combination reordered\tcore\tK80.1\tsurgical\t47.0900/47.0100+54.9100\t1.0000\t1.00
K35.8-11\tsame combination reordered\tcore\tK80.1\tsurgical\t54.9100+47.0100/47.0900\t1.0000\t1.00
K35.8-12\tempty code\tcore\tK80.1\tsurgical\t47.0100+\t1.0000\t1.00
";
    let found = problems(load(&meta(0, 0, 6), &with_table("core_groups.tsv", core)));
    let at = |line: usize| -> Vec<&'static str> {
        found
            .iter()
            .filter(|(f, l, _)| f == "core_groups.tsv" && *l == line)
            .map(|(_, _, r)| *r)
            .collect()
    };
    assert_eq!(at(3), vec!["BAD_VALUE"]);
    assert_eq!(at(4), vec!["UNKNOWN_PROCEDURE"]);
    assert_eq!(at(5), vec!["NEGATIVE_VALUE"]);
    assert_eq!(at(6), vec!["DUPLICATE_GROUP"]);
    assert_eq!(at(7), vec!["TREATMENT_MISMATCH"]);
    assert_eq!(at(8), vec!["BAD_VALUE", "BAD_VALUE"]);
    assert_eq!(at(9), vec!["BAD_VALUE"]);
    assert_eq!(at(10), vec!["WRONG_FIELD_COUNT"]);
    assert_eq!(at(11), vec!["DUPLICATE"]);
    assert_eq!(at(12), Vec::<&str>::new());
    assert_eq!(at(13), vec!["DUPLICATE"]);
    assert_eq!(at(14), vec!["BAD_VALUE"]);
    // Counts are only compared once the rows are clean.
    assert!(!found.iter().any(|(_, _, r)| *r == "COUNT_MISMATCH"));
}

#[test]
fn problems_in_every_table_are_reported_together() {
    let procedures = "code\ttype\tname\n47.0100\tconservative\tx\n";
    let comprehensive = "code\tname\tdiagnosis\ttreatment\tscore\tmean_cost
ZH-1\ta\tK00-K50\tsurgical\t1.0000\t1.00
ZH-2\tb\tK40-K99\tsurgical\t1.0000\t1.00
ZH-3\tc\tK99-K00\tsurgical\t1.0000\t1.00
ZH-4\td\tK35\tsurgical\t1.0000\t1.00
";
    let auxiliary = "group\tdimension\tsubtype\tcoefficient
NOPE\tcci\t1-2\t1.0500
*\tcci\t2-3\t1.0500
*\tage\t66y+\t0
*\tage\t66y+\t1.1\r
";
    let cci = "prefix\tweight\tcondition\textra\n";
    let tumour = "marker\tsource\tprefix\nmetastasis\tlab\tC78\n";
    let tables = vec![
        ("core_groups.tsv", CORE),
        ("comprehensive_groups.tsv", comprehensive),
        ("procedure_types.tsv", procedures),
        ("auxiliary.tsv", auxiliary),
        ("cci_weights.tsv", cci),
        ("tumour_markers.tsv", tumour),
    ];
    let found = problems(load(&meta(10, 4, 6), &tables));
    let expect = [
        ("procedure_types.tsv", 2, "BAD_VALUE"),
        ("comprehensive_groups.tsv", 3, "OVERLAPPING_SCOPE"),
        ("comprehensive_groups.tsv", 4, "BAD_VALUE"),
        ("auxiliary.tsv", 2, "UNKNOWN_GROUP"),
        ("auxiliary.tsv", 3, "BAD_VALUE"),
        ("auxiliary.tsv", 4, "BAD_VALUE"),
        ("auxiliary.tsv", 5, "CARRIAGE_RETURN"),
        ("cci_weights.tsv", 1, "BAD_HEADER"),
        ("tumour_markers.tsv", 2, "BAD_VALUE"),
    ];
    for (file, line, reason) in expect {
        assert!(
            found.contains(&(file.to_owned(), line, reason)),
            "{file}:{line} {reason} missing from {found:?}"
        );
    }
    // Core rows naming 47.0100 now lack a type: reported too, with their lines.
    assert!(found.contains(&("core_groups.tsv".into(), 3, "UNKNOWN_PROCEDURE")));
    // The single category K35 inside a range is allowed (more specific).
    assert!(
        !found
            .iter()
            .any(|(f, l, _)| f == "comprehensive_groups.tsv" && *l == 5)
    );
}

#[test]
fn directory_json_is_strict() {
    let unknown_field = meta(10, 4, 6).replacen("\"id\"", "\"colour\": \"red\",\n  \"id\"", 1);
    let found = problems(load(&unknown_field, &common::tables()));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "directory.json");
    assert_eq!(found[0].1, 3);
    assert_eq!(found[0].2, "BAD_JSON");

    let wrong_format = meta(10, 4, 6).replace("dip-directory/1", "dip-directory/2");
    assert_eq!(
        problems(load(&wrong_format, &common::tables())),
        vec![("directory.json".into(), 0, "UNSUPPORTED_FORMAT")]
    );
    assert_eq!(
        problems(load(&meta(11, 4, 6), &common::tables())),
        vec![("directory.json".into(), 0, "COUNT_MISMATCH")]
    );
    let missing: Vec<_> = common::tables()
        .into_iter()
        .filter(|(n, _)| *n != "auxiliary.tsv")
        .collect();
    assert_eq!(
        problems(load(&meta(10, 4, 6), &missing)),
        vec![("auxiliary.tsv".into(), 0, "MISSING_FILE")]
    );
    let _ = (AUXILIARY, CCI, COMPREHENSIVE, PROCEDURES, TUMOUR);
}

#[test]
fn written_directory_loads_back_unchanged() {
    let original = directory();
    let dir = std::env::temp_dir().join(format!("dip-write-{}", std::process::id()));
    original.write(&dir).expect("written");
    let loaded = Directory::load(&dir).expect("loads back");
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(loaded, original);
}

#[test]
fn files_in_memory_read_back_unchanged() {
    let original = directory();
    let files = original.files().expect("serializes");
    assert!(files.contains_key("directory.json"));
    assert_eq!(files.len(), 7, "directory.json and six tables");
    let json = files["directory.json"].clone();
    let loaded = Directory::from_sources(&json, |name| files.get(name).cloned()).expect("loads");
    assert_eq!(loaded, original);
}
