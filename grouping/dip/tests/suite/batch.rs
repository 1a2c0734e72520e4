//! Batch grouping of a CSV file against the demo directory: hand-checked groups, input order
//! whatever the thread count, and every bad line reported with its number and field.

use grouping_dip::batch::{BadRecordReason, BatchError, BatchOptions, OUTPUT_HEADER, group_csv};
use grouping_dip::{CompiledDirectory, load_demo};

fn demo() -> CompiledDirectory {
    CompiledDirectory::new(&load_demo().expect("demo directory is valid"))
}

fn run(input: &str, threads: usize) -> Result<String, BatchError> {
    let mut output = Vec::new();
    group_csv(
        input.as_bytes(),
        &mut output,
        &demo(),
        BatchOptions { threads },
        |_| {},
    )?;
    Ok(String::from_utf8(output).expect("output is UTF-8"))
}

/// Extra columns in any order; the groups were worked out by hand from the demo tables.
const CASES: &str = "\
note,Index,age,ageDay,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS,totalCost
lap,1,35,,1,5,K35.800,47.0100,11000
both terms,2,40,,1,7,K35.800|I10.x00x002,47.0900|54.9100,15000
basic,3,70,,1,6,K35.800,47.0900,9000.5
stent and ptca,4,60,,5,2,I21.900,36.0700|00.6600,50000.00
conservative,5,30,,1,3,K35.300,,4000
afib diagnostic,6,80,,1,4,I48.000,88.5500|99.9999,12000
";

#[test]
fn groups_hand_checked_cases_in_input_order() {
    let output = run(CASES, 1).expect("valid file");
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(
        lines,
        [
            OUTPUT_HEADER,
            // Core surgical group of its only procedure; no subtype has a coefficient (age 35,
            // CCI 0 has no row).
            "1,K35.8-01,core,,1,SUCCESS",
            // Core 47.0100/47.0900+54.9100 beats basic 47.0900: core + surgery first.
            "2,K35.8-03,core,,1,SUCCESS",
            // Basic-level group; 70 years: the 66y+ coefficient of the `*` row.
            "3,K35.8-02,basic,66y+,1.08,SUCCESS",
            // Two matched procedures beat one; died (5) within 3 days.
            "4,I21.9-02,core,within_3_days,0.8,SUCCESS",
            // K35.3 has no core group: the comprehensive group of K35, conservative.
            "5,ZH-K35-C,comprehensive,,1,SUCCESS",
            // I48 has no core group nor its own comprehensive group: the I00-I99 range,
            // diagnostic (99.9999 is not a DIP procedure and is ignored).
            "6,ZH-I00-I99-D,comprehensive,66y+,1.08,SUCCESS",
        ]
    );
}

#[test]
fn every_thread_count_writes_the_same_file() {
    let mut input = String::from(CASES);
    let rows: Vec<&str> = CASES.lines().skip(1).collect();
    for i in 0..5_000 {
        input.push_str(rows[i % rows.len()]);
        input.push('\n');
    }
    let single = run(&input, 1).expect("valid file");
    assert_eq!(single.lines().count(), 1 + 6 + 5_000);
    for threads in [2, 3, 8] {
        assert_eq!(run(&input, threads).expect("valid file"), single);
    }
}

#[test]
fn every_bad_line_is_reported_with_its_field_and_the_rest_is_grouped() {
    let input = "\
Index,age,ageDay,leavingType,inHospitalTime,ICD10_DRGS,ICD9_DRGS,totalCost
1,35,,1,5,K35.800,47.0100,11000
2,35,,1,5,K35.800,47.0100,abc
3,35,,7,5,K35.800,47.0100,100
4,0,,1,5,P07.300,,100
5,35,,1,5,k35.800,,100
6,35,,1,5,K35.800,,-3
7,35,,1,5,K35.800
8,x,,1,5,K35.800,,100
9,35,,1,5,,,100
";
    let mut output = Vec::new();
    let Err(BatchError::BadRecords { records, summary }) = group_csv(
        input.as_bytes(),
        &mut output,
        &demo(),
        BatchOptions { threads: 2 },
        |_| {},
    ) else {
        panic!("bad lines must be reported");
    };
    assert_eq!(summary.rows, 1);
    let found: Vec<(u64, Option<&str>, &str)> = records
        .iter()
        .map(|r| (r.line, r.field, r.reason.reason()))
        .collect();
    assert_eq!(
        found,
        [
            (3, Some("totalCost"), "BAD_AMOUNT"),
            (4, Some("leavingType"), "BAD_DISCHARGE_TYPE"),
            (5, Some("ageDay"), "MISSING_AGE_DAYS"),
            (6, Some("ICD10_DRGS"), "BAD_PRINCIPAL_DIAGNOSIS"),
            (7, Some("totalCost"), "NEGATIVE_AMOUNT"),
            (8, None, "WRONG_FIELD_COUNT"),
            (9, Some("age"), "NOT_A_WHOLE_NUMBER"),
            (10, Some("ICD10_DRGS"), "MISSING_FIELD"),
        ]
    );
    assert_eq!(
        records[0].to_string(),
        "line 3, field totalCost: \"abc\" is not an amount in yuan with at most 2 decimals up to 10,000,000,000"
    );
    assert!(matches!(
        records[5].reason,
        BadRecordReason::FieldCount {
            expected: 8,
            found: 6
        }
    ));
}

#[test]
fn a_missing_column_is_named() {
    let error = run(
        "Index,age,ageDay,leavingType,ICD10_DRGS,ICD9_DRGS,totalCost\n",
        1,
    )
    .expect_err("inHospitalTime is required");
    assert!(matches!(
        error,
        BatchError::MissingColumn {
            column: "inHospitalTime"
        }
    ));
}
