//! The list JSON reader (`read_record`), the CSV import (lists and fee lines) and the settlement
//! policy document never panic: each input is answered with a value or a reason, in time.

use kernel::RegionCode;
use kernel::date::Date;
use proptest::prelude::*;
use settlement_domain::SettlementPolicy;
use settlement_domain::admission::{Record, read_record};
use settlement_domain::csv_import::{
    FeeLineIndex, ImportOptions, ImportedList, ListReader, RowError,
};
use settlement_domain::ports::GroupingChecksCodes;
use settlement_domain::validation::ValidationPolicy;

use crate::mutation::{MAX_INPUT, answered_in_time, apply, mutations};

const LISTS: &str = include_str!("../../../samples/settlement-lists.csv");
const FEE_LINES: &str = include_str!("../../../samples/fee-lines.csv");
const AMBULATORY: &str = r#"{"header":{"setl_id":"M1","fixmedins_code":"H46010801","hospital_level":"3","insutype":390,"psn_no":"PM1","case_number":"MZM1","declared_at":"2025-06-16 18:00:00","pooling_region":"460108"},"kind":"outpatient","med_type":"11","settled_at":"2025-06-16 10:00","diagnoses":[{"code":"I10.x00","name":"hypertension","admission_condition":1}],"payment":{"medfee_sumamt":"300.00","hifp_pay":"150.00","acct_pay":"50.00","psn_cash_pay":"100.00"}}"#;

fn hainan() -> RegionCode {
    "460000".parse().expect("region literal")
}

fn today() -> Date {
    "2030-01-01".parse().expect("date literal")
}

/// Every list and every bad row of a list file joined with a fee-line file. The reader must stop:
/// it may not answer more items than the file has bytes.
fn import(lists: &[u8], fee_lines: &[u8]) -> (Vec<ImportedList>, Vec<RowError>) {
    let (index, mut errors) = FeeLineIndex::read(fee_lines, "fees.csv");
    let mut reader = ListReader::new(lists, "lists.csv", index, ImportOptions::default());
    let mut good = Vec::new();
    for (items, item) in reader.by_ref().enumerate() {
        assert!(items <= lists.len() + 1, "the list reader does not stop");
        match item {
            Ok(list) => good.push(list),
            Err(bad) => errors.extend(bad),
        }
    }
    errors.extend(reader.unmatched_fee_lines());
    (good, errors)
}

/// The JSON of every list of the sample file, as `SubmitCases` receives it.
fn sample_list_json() -> Vec<String> {
    let (good, errors) = import(LISTS.as_bytes(), FEE_LINES.as_bytes());
    assert!(errors.is_empty(), "the sample imports cleanly: {errors:?}");
    good.into_iter().map(|list| list.json).collect()
}

fn read(
    record: Record,
) -> Result<settlement_domain::admission::Admitted, Vec<settlement_domain::admission::Rejection>> {
    answered_in_time("read_record", || {
        read_record(
            record,
            0,
            hainan(),
            &GroupingChecksCodes,
            &ValidationPolicy::default(),
            today(),
        )
    })
}

fn assert_rejections_say_why(
    answer: &Result<
        settlement_domain::admission::Admitted,
        Vec<settlement_domain::admission::Rejection>,
    >,
) {
    if let Err(rejections) = answer {
        assert!(!rejections.is_empty(), "a refusal without a reason");
        for rejection in rejections {
            assert!(!rejection.reason.is_empty(), "{rejection:?}");
            assert!(!rejection.code.is_empty(), "{rejection:?}");
        }
    }
}

#[test]
fn the_seeds_are_admitted() {
    for json in sample_list_json() {
        assert!(read(Record::List(json)).is_ok());
    }
    assert!(read(Record::Ambulatory(AMBULATORY.to_owned())).is_ok());
}

/// A run of leading zeros or `_` separators made `rust_decimal`'s reader recurse once a character
/// until a 2 MiB stack (a tokio worker's, a test's) overflowed and the process aborted: a list
/// with such an amount or hours is now refused, naming the field, on such a stack.
#[test]
fn an_overlong_number_in_a_list_is_refused_not_a_crash() {
    let (answers, csv_errors) = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let seed: serde_json::Value =
                serde_json::from_str(&sample_list_json()[0]).expect("sample JSON");
            let zeros = format!("{}.00", "0".repeat(1_000_000));
            let separators = format!("1{}", "_".repeat(1_000_000));
            let mut answers = Vec::new();
            for (field, pointer, text) in [
                ("stay.icu_hours", "/stay/icu_hours", &separators),
                ("payment.medfee_sumamt", "/payment/medfee_sumamt", &zeros),
            ] {
                let mut list = seed.clone();
                *list.pointer_mut(pointer).expect(pointer) = text.clone().into();
                answers.push((field, read(Record::List(list.to_string()))));
            }
            let lines = LISTS.replacen(",0,K35.800", &format!(",{zeros},K35.800"), 1);
            assert_ne!(lines, LISTS, "the sample's first row has icu_hours 0");
            (answers, import(lines.as_bytes(), FEE_LINES.as_bytes()).1)
        })
        .expect("thread")
        .join()
        .expect("answered without overflowing the stack");
    for (field, answer) in answers {
        let rejections = answer.expect_err(field);
        assert!(
            rejections.iter().any(|r| r.reason.contains("(at most 64)")),
            "{field}: {rejections:?}"
        );
    }
    assert!(
        csv_errors
            .iter()
            .any(|e| e.line == 2 && e.column == "icu_hours" && e.reason.contains("(at most 64)")),
        "{csv_errors:?}"
    );
}

proptest! {
    #[test]
    fn a_damaged_list_is_admitted_or_refused_with_reasons(
        which in any::<proptest::sample::Index>(),
        damage in mutations(),
    ) {
        let seeds = sample_list_json();
        let seed = which.get(&seeds);
        let text = String::from_utf8_lossy(&apply(seed.as_bytes(), &damage)).into_owned();
        assert_rejections_say_why(&read(Record::List(text)));
    }

    #[test]
    fn a_damaged_ambulatory_record_is_admitted_or_refused_with_reasons(damage in mutations()) {
        let text = String::from_utf8_lossy(&apply(AMBULATORY.as_bytes(), &damage)).into_owned();
        assert_rejections_say_why(&read(Record::Ambulatory(text)));
    }

    #[test]
    fn a_damaged_list_file_is_read_to_its_end(
        list_damage in mutations(),
        fee_damage in mutations(),
    ) {
        let lists = apply(LISTS.as_bytes(), &list_damage);
        let fee_lines = apply(FEE_LINES.as_bytes(), &fee_damage);
        let (good, errors) = answered_in_time("the CSV import", || import(&lists, &fee_lines));
        for error in &errors {
            prop_assert!(error.line >= 1, "{error}");
            prop_assert!(!error.reason.is_empty(), "{error}");
        }
        // A good row is one that `SubmitCases` can read back.
        for list in good {
            let back: serde_json::Value = serde_json::from_str(&list.json).expect("JSON of a good row");
            prop_assert!(back.is_object());
        }
    }

    #[test]
    fn a_damaged_policy_document_is_read_or_refused(damage in mutations()) {
        let seed = serde_json::to_string_pretty(&SettlementPolicy::default()).expect("policy JSON");
        let text = String::from_utf8_lossy(&apply(seed.as_bytes(), &damage)).into_owned();
        match answered_in_time("from_document", || SettlementPolicy::from_document(&text)) {
            Ok(policy) => {
                // What was read is what is stored: it reads back as the same policy.
                let stored = serde_json::to_string(&policy).expect("policy JSON");
                prop_assert_eq!(SettlementPolicy::from_document(&stored), Ok(policy));
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }
}

#[test]
fn the_default_policy_document_reads_back() {
    let seed = serde_json::to_string(&SettlementPolicy::default()).expect("policy JSON");
    assert_eq!(
        SettlementPolicy::from_document(&seed),
        Ok(SettlementPolicy::default())
    );
}

/// A megabyte in one field, nesting far beyond any reader's limit, a byte-order mark and CRLF:
/// each answered, none a crash.
#[test]
fn extreme_inputs_are_answered() {
    let seed = &sample_list_json()[0];
    let huge_name = seed.replacen(
        "\"name\":\"",
        &format!("\"name\":\"{}", "x".repeat(MAX_INPUT)),
        1,
    );
    assert!(huge_name.len() > MAX_INPUT);
    assert_rejections_say_why(&read(Record::List(huge_name)));

    let deep = "[".repeat(MAX_INPUT);
    let refused = read(Record::List(deep.clone())).expect_err("deep nesting is not a list");
    assert_eq!(
        refused[0].code,
        settlement_domain::admission::reason::UNREADABLE
    );
    assert!(SettlementPolicy::from_document(&deep).is_err());
    let deep_objects = "{\"validation\":".repeat(MAX_INPUT / 14);
    assert!(SettlementPolicy::from_document(&deep_objects).is_err());

    let bom = format!("\u{feff}{seed}");
    assert_rejections_say_why(&read(Record::List(bom)));

    let crlf_lists = LISTS.replace('\n', "\r\n");
    let crlf_fees = FEE_LINES.replace('\n', "\r\n");
    let (good, errors) = import(crlf_lists.as_bytes(), crlf_fees.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(good.len(), LISTS.lines().count() - 1, "CRLF reads like LF");

    // Cut in the middle of the last row, before its required money columns.
    let last_row_start = LISTS.trim_end().rfind('\n').expect("rows") + 1;
    let cut = &LISTS.as_bytes()[..last_row_start + 40];
    let (good, errors) = import(cut, FEE_LINES.as_bytes());
    assert_eq!(
        good.len() + 1,
        LISTS.lines().count() - 1,
        "all but the cut row"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.line == LISTS.lines().count() as u64),
        "{errors:?}"
    );

    let not_utf8: Vec<u8> = LISTS
        .bytes()
        .map(|b| if b == b'S' { 0xff } else { b })
        .collect();
    let (_, errors) = import(&not_utf8, FEE_LINES.as_bytes());
    assert!(!errors.is_empty(), "bytes that are not UTF-8 are a bad row");

    let huge_cell = LISTS.replacen("急性阑尾炎", &"急".repeat(MAX_INPUT / 3), 1);
    let (_, _) = answered_in_time("a megabyte cell", || {
        import(huge_cell.as_bytes(), FEE_LINES.as_bytes())
    });
}
