//! Batch CSV grouping: column lookup by header name, input order, threads, malformed lines.

use crate::common;

use grouping_domain::batch::{BadRecordReason, OUTPUT_HEADER};
use grouping_domain::{
    BatchError, BatchOptions, CompiledScheme, GroupStatus, demo_scheme_dir, group_csv, load_demo,
};

fn demo() -> CompiledScheme {
    CompiledScheme::compile(&load_demo().expect("demo loads"))
}

fn run(
    input: &[u8],
    threads: usize,
    map_codes: bool,
) -> (Result<grouping_domain::BatchSummary, BatchError>, String) {
    let mut output = Vec::new();
    let result = group_csv(
        input,
        &mut output,
        &demo(),
        BatchOptions { map_codes, threads },
        |_| {},
    );
    (result, String::from_utf8(output).expect("utf-8 output"))
}

#[test]
fn demo_examples_through_the_batch_match_the_expected_columns() {
    let path = demo_scheme_dir().join("examples.csv");
    let input = std::fs::read(&path).expect("examples");
    let examples = common::read_examples(&path);
    for map_codes in [false, true] {
        for threads in [1, 2, 3] {
            let (result, output) = run(&input, threads, map_codes);
            let summary = result.expect("no malformed line");
            assert_eq!(summary.rows, examples.len() as u64);
            let mut lines = output.lines();
            assert_eq!(lines.next(), Some(OUTPUT_HEADER));
            for (line, example) in lines.zip(&examples) {
                let expected = if map_codes {
                    &example.expected_mapped
                } else {
                    &example.expected
                };
                assert_eq!(line, format!("{},{}", example.index, expected.join(",")));
            }
            assert_eq!(summary.count(GroupStatus::Ambiguous), 1);
        }
    }
}

#[test]
fn columns_are_found_by_name_and_extra_columns_ignored() {
    let input = "extra,ICD9_DRGS,ICD10_DRGS,dept,weight,ageDay,age,gender,Index\n\
                 x,47.0100,K35.800,,,,30,1,A1\n";
    let (result, output) = run(input.as_bytes(), 1, false);
    assert_eq!(result.expect("ok").rows, 1);
    assert_eq!(
        output,
        format!("{OUTPUT_HEADER}\nA1,MDCG,GD1,GD15,SUCCESS\n")
    );
}

#[test]
fn a_missing_column_is_named() {
    let input = "Index,gender,age,ageDay,weight,dept,ICD10_DRGS\n1,1,30,,,,K35.800\n";
    let (result, _) = run(input.as_bytes(), 1, false);
    match result {
        Err(
            error @ BatchError::MissingColumn {
                column: "ICD9_DRGS",
            },
        ) => {
            assert_eq!(error.reason(), "MISSING_COLUMN");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(run(b"", 1, false).0, Err(BatchError::EmptyInput)));
}

#[test]
fn every_malformed_line_is_reported_with_its_number_and_the_rest_is_grouped() {
    let mut input = b"Index,gender,age,ageDay,weight,dept,ICD10_DRGS,ICD9_DRGS\n".to_vec();
    input.extend_from_slice(b"1,1,30,,,,K35.800,47.0100\n");
    input.extend_from_slice(b"2,1,30,,,,K35.800\n");
    input.extend_from_slice(b"3,1,30,,,,K35.800,47.0100\r\n");
    input.extend_from_slice(b"4,1,30,,,\xff,K35.800,47.0100\n");
    input.extend_from_slice(b"5,1,30,,,,K35.800,47.0100,extra\n");
    input.extend_from_slice(b"6,2,30,,,,K80.100,51.2300");
    for threads in [1, 2] {
        let (result, output) = run(&input, threads, false);
        let Err(BatchError::BadRecords { records, summary }) = result else {
            panic!("expected malformed lines");
        };
        let lines: Vec<(u64, BadRecordReason)> =
            records.into_iter().map(|r| (r.line, r.reason)).collect();
        assert_eq!(
            lines,
            vec![
                (
                    3,
                    BadRecordReason::FieldCount {
                        expected: 8,
                        found: 7
                    }
                ),
                (5, BadRecordReason::InvalidUtf8 { field: 6 }),
                (
                    6,
                    BadRecordReason::FieldCount {
                        expected: 8,
                        found: 9
                    }
                ),
            ]
        );
        assert_eq!(summary.rows, 3);
        assert_eq!(
            output,
            format!(
                "{OUTPUT_HEADER}\n1,MDCG,GD1,GD15,SUCCESS\n3,MDCG,GD1,GD15,SUCCESS\n6,MDCH,HC2,HC25,SUCCESS\n"
            )
        );
    }
}

#[test]
fn large_input_is_streamed_in_chunks_in_order_with_progress() {
    let rows = grouping_domain::batch::CHUNK_ROWS + 1_000;
    let mut input = b"Index,gender,age,ageDay,weight,dept,ICD10_DRGS,ICD9_DRGS\n".to_vec();
    for i in 0..rows {
        let case = if i % 2 == 0 {
            "K35.800,47.0100"
        } else {
            "K80.100,51.2300"
        };
        input.extend_from_slice(format!("{i},1,30,,,,{case}\n").as_bytes());
    }
    let mut output = Vec::new();
    let mut reported = Vec::new();
    let summary = group_csv(
        input.as_slice(),
        &mut output,
        &demo(),
        BatchOptions {
            map_codes: false,
            threads: 2,
        },
        |done| reported.push(done),
    )
    .expect("ok");
    assert_eq!(summary.rows, rows as u64);
    assert_eq!(
        reported,
        vec![grouping_domain::batch::CHUNK_ROWS as u64, rows as u64]
    );
    let text = String::from_utf8(output).expect("utf-8");
    for (i, line) in text.lines().skip(1).enumerate() {
        let drg = if i % 2 == 0 { "GD15" } else { "HC25" };
        assert!(
            line.starts_with(&format!("{i},")) && line.contains(drg),
            "{line}"
        );
    }
}
