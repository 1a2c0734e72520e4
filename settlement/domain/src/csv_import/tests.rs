use kernel::Money;

use crate::case::ListType;

use super::*;

const HEADER: &str = "setl_id,fixmedins_code,hi_setl_lv,insutype,psn_no,medcasno,dcla_time,pooling_region,gend,brdy,med_type,adm_way,adm_time,adm_caty,dscg_time,dscg_caty,dscg_way,diag_code,diag_name,adm_cond_type,oprn_oprt_code,oprn_oprt_name,oprn_oprt_date,anst_way,chrg_surgery,chrg_bed,medfee_sumamt,hifp_pay,hifmi_pay,acct_pay,psn_cash_pay,fulamt_ownpay_amt,copay_amt,vendor_extra";

const GOOD: &str = "L1,H46010801,3,310,P001,BA1,2025-06-20 10:00:00,460108,2,1990-03-01,21,2,2025-06-12 08:30,general_surgery,2025-06-15 10:00,general_surgery,1,K35.800|I10.x00,急性阑尾炎|高血压,1|1,47.0100,腹腔镜下阑尾切除术,2025-06-12,general,7000.00,5000.00,12000.00,8400.00,600.00,1000.00,2000.00,300.00,2700.00,ignored";

/// The codes of the test rows.
struct Dictionary;

impl crate::ports::CodeDictionary for Dictionary {
    fn has_diagnosis(&self, code: &str) -> bool {
        ["K35.800", "I10.x00"].contains(&code)
    }
    fn has_procedure(&self, code: &str) -> bool {
        code == "47.0100"
    }
}

fn read(lists: &str, fees: Option<&str>) -> (Vec<ImportedList>, Vec<RowError>) {
    let (index, mut errors) = match fees {
        Some(fees) => FeeLineIndex::read(fees.as_bytes(), "fees.csv"),
        None => (FeeLineIndex::default(), Vec::new()),
    };
    let mut reader = ListReader::new(
        lists.as_bytes(),
        "lists.csv",
        index,
        ImportOptions::default(),
    );
    let mut good = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(list) => good.push(list),
            Err(bad) => errors.extend(bad),
        }
    }
    errors.extend(reader.unmatched_fee_lines());
    (good, errors)
}

#[test]
fn a_row_maps_to_the_case_model_and_round_trips_as_json() {
    let (good, errors) = read(&format!("{HEADER}\n{GOOD}\n"), None);
    assert!(errors.is_empty(), "{errors:?}");
    let list = &good[0].list;
    assert_eq!(good[0].line, 2);
    assert_eq!(list.header.list_id, "L1");
    assert_eq!(list.header.pooling_region.to_string(), "460108");
    assert_eq!(list.patient.age_years, 35, "age computed from brdy");
    assert_eq!(list.diagnoses.len(), 2);
    assert_eq!(list.diagnoses[1].code, "I10.x00");
    assert_eq!(list.diagnoses[1].name, "高血压");
    assert_eq!(list.procedures[0].anaesthesia.as_deref(), Some("general"));
    assert_eq!(list.charges.len(), 2);
    assert_eq!(list.payment.total, "12000.00".parse().expect("money"));
    assert_eq!(list.payment.identity_gap(), Money::ZERO);
    let back: SettlementList = serde_json::from_str(&good[0].json).expect("json");
    assert_eq!(&back, list);
    assert!(good[0].json.contains("\"medfee_sumamt\""));
    let report = crate::validation::validate_list(
        list,
        &Dictionary,
        &crate::validation::ValidationPolicy::default(),
        "2026-01-01".parse().expect("date"),
    );
    assert!(report.is_accepted(), "{:?}", report.error_reasons());
}

#[test]
fn bad_rows_name_line_column_and_reason_and_good_rows_still_import() {
    let bad_money = GOOD
        .replacen("L1", "L2", 1)
        .replace(",12000.00,", ",12 thousand,");
    let bad_names = GOOD
        .replacen("L1", "L3", 1)
        .replace("急性阑尾炎|高血压", "急性阑尾炎");
    let no_id = GOOD.replacen("L1", "", 1);
    let lists = format!("{HEADER}\n{GOOD}\n{bad_money}\n{bad_names}\n{no_id}\n{GOOD}\n");
    let (good, errors) = read(&lists, None);
    assert_eq!(good.len(), 1);
    let at = |line: u64| -> Vec<(&str, &str)> {
        errors
            .iter()
            .filter(|e| e.line == line)
            .map(|e| (e.column.as_str(), e.list_id.as_str()))
            .collect()
    };
    assert_eq!(at(3), vec![("medfee_sumamt", "L2")]);
    assert_eq!(at(4), vec![("diag_name", "L3")]);
    assert_eq!(at(5), vec![("setl_id", "")]);
    // The same list twice is refused the second time, naming the first line.
    assert_eq!(at(6), vec![("setl_id", "L1")]);
    assert!(errors.iter().any(|e| e.reason.contains("line 2")));
    assert!(
        errors[0]
            .to_string()
            .starts_with("lists.csv:3: setl_id L2: medfee_sumamt:")
    );
}

#[test]
fn a_missing_required_column_is_reported_once_at_the_header() {
    let header = HEADER.replace("hifp_pay,", "");
    let row = GOOD.replace(",8400.00,", ",");
    let (good, errors) = read(&format!("{header}\n{row}\n"), None);
    assert!(good.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].line, errors[0].column.as_str()), (1, "hifp_pay"));
}

#[test]
fn fee_lines_join_by_hospital_and_list_and_bad_ones_refuse_their_list() {
    let fees = "fixmedins_code,setl_id,hilist_code,list_type,med_chrgitm_type,pric,cnt,det_item_fee_sumamt,inscp_amt,fee_ocur_time\n\
        H46010801,L1,XA01BAA001,101,09,12.5,4,50.00,50.00,2025-06-13 09:00\n\
        H46010801,L1,XB01,201,05,30,1,30.00,,2025-06-13 10:00\n\
        H46010801,L2,XC01,999,05,30,1,30.00,,2025-06-13 10:00\n\
        H46010801,L9,XC01,201,05,30,1,30.00,,2025-06-13 10:00\n";
    let second = GOOD.replacen("L1", "L2", 1);
    let (good, errors) = read(&format!("{HEADER}\n{GOOD}\n{second}\n"), Some(fees));
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].list.fee_lines.len(), 2);
    assert_eq!(good[0].list.fee_lines[0].list_type, ListType::WesternDrug);
    assert_eq!(good[0].list.fee_lines[1].inscp_amt, Money::ZERO);
    let described: Vec<(String, u64, String)> = errors
        .iter()
        .map(|e| (e.file.clone(), e.line, e.column.clone()))
        .collect();
    assert!(described.contains(&("fees.csv".into(), 4, "list_type".into())));
    assert!(described.contains(&("lists.csv".into(), 3, "fee_lines".into())));
    assert!(described.contains(&("fees.csv".into(), 5, "setl_id".into())));
}

/// Codes of a scheme's `diagnoses.tsv` / `procedures.tsv`.
struct SchemeCodes {
    diagnoses: Vec<String>,
    procedures: Vec<String>,
}

impl crate::ports::CodeDictionary for SchemeCodes {
    fn has_diagnosis(&self, code: &str) -> bool {
        self.diagnoses.iter().any(|c| c == code)
    }
    fn has_procedure(&self, code: &str) -> bool {
        self.procedures.iter().any(|c| c == code)
    }
}

#[test]
fn the_shipped_sample_reads_whole_and_validates_against_the_demo_scheme_codes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read_text = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let codes = |path: &str| -> Vec<String> {
        read_text(path)
            .lines()
            .skip(1)
            .filter_map(|line| line.split('\t').next())
            .map(str::to_owned)
            .collect()
    };
    let demo = SchemeCodes {
        diagnoses: codes("../grouping/domain/schemes/demo/diagnoses.tsv"),
        procedures: codes("../grouping/domain/schemes/demo/procedures.tsv"),
    };
    let (good, errors) = read(
        &read_text("samples/settlement-lists.csv"),
        Some(&read_text("samples/fee-lines.csv")),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(good.len(), 10);
    assert_eq!(good[0].list.fee_lines.len(), 3);
    for imported in &good {
        assert_eq!(imported.list.header.pooling_region.to_string(), "460108");
        let report = crate::validation::validate_list(
            &imported.list,
            &demo,
            &crate::validation::ValidationPolicy::default(),
            "2026-01-01".parse().expect("date"),
        );
        assert!(
            report.is_accepted(),
            "line {}: {:?}",
            imported.line,
            report.errors
        );
    }
}

#[test]
fn the_request_id_follows_the_contents() {
    let a = import_request_id(&[b"x", b"y"]);
    assert_eq!(a, import_request_id(&[b"x", b"y"]));
    assert_ne!(a, import_request_id(&[b"xy", b""]));
    assert_ne!(a, import_request_id(&[b"x", b"z"]));
}
