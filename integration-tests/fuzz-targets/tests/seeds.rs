//! Writes the seed corpora of `integration-tests/fuzz/corpus/` from the project's own demo data,
//! samples and test fixtures (the shared schemes are never copied): run it once with
//! `cargo test -p fuzz-targets --test seeds -- --ignored`, then fuzz and `cargo fuzz cmin`.
#![cfg(feature = "services")]

use std::path::{Path, PathBuf};

use fuzz_targets::grouping::{DIP_FILES, SCHEME_FILES};
use fuzz_targets::settlement::{FEE_HEADER, LIST_HEADER};
use medpay_proto::common::v1 as common;
use medpay_proto::{budget, grouping, points, settlement, supervision};
use prost::Message;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = repo().join("integration-tests/fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    std::fs::write(dir.join(name), bytes).expect("seed written");
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).expect("sample reads")
}

/// The first `lines` lines of a text.
fn head(text: &str, lines: usize) -> String {
    text.lines().take(lines).map(|l| format!("{l}\n")).collect()
}

fn with_selector(selector: u8, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![selector];
    bytes.extend_from_slice(body);
    bytes
}

const LIST_JSON: &str = r#"{"header":{"setl_id":"L1","fixmedins_code":"H46010801","hospital_level":"3A","insutype":310,"psn_no":"P1","case_number":"BA1","declared_at":"2025-03-07 18:00:00","pooling_region":"460108"},"patient":{"sex":2,"birth_date":"1990-03-01","age_years":35},"stay":{"med_type":"21","admission_route":"2","admitted_at":"2025-03-02 08:30","admission_department":"general_surgery","discharged_at":"2025-03-07 17:00","discharge_department":"general_surgery","discharge_type":1},"diagnoses":[{"code":"K35.800","name":"diagnosis","admission_condition":1}],"procedures":[{"code":"47.0100","name":"procedure","date":"2025-03-02"}],"charges":[{"category":"surgery","amount":"12000.00"}],"payment":{"medfee_sumamt":"12000.00","hifp_pay":"9000.00","acct_pay":"1000.00","psn_cash_pay":"2000.00"},"fee_lines":[{"hilist_code":"XA01BAA001","list_type":"101","med_chrgitm_type":"09","pric":"12.5","cnt":"4","det_item_fee_sumamt":"50.00","inscp_amt":"50.00","fee_ocur_time":"2025-03-03 09:00"}]}"#;

const AMBULATORY_JSON: &str = r#"{"header":{"setl_id":"M1","fixmedins_code":"H46010801","hospital_level":"3","insutype":390,"psn_no":"PM1","case_number":"MZM1","declared_at":"2025-06-16 18:00:00","pooling_region":"460108"},"kind":"outpatient","med_type":"11","settled_at":"2025-06-16 10:00","diagnoses":[{"code":"I10.x00","name":"hypertension","admission_condition":1}],"payment":{"medfee_sumamt":"300.00","hifp_pay":"150.00","acct_pay":"50.00","psn_cash_pay":"100.00"}}"#;

const TABLE_DOCUMENT: &str = r#"{"policy":{"region":"460108","year":2025,"fund_type":"310","main_method":"drg"},"tables":{"region":"460108","year":2025,"fund_type":"310","drg":{"all_case_mean_cost":"10000","groups":{"GD15":{"mean_cost":"12000","base_points":"100"},"GD13":{"mean_cost":"15000","base_points":"150"}}},"coefficients":{"drg_by_hospital":{"H46010801":{"all_groups":[{"coefficient":"1.05","effective_from":"2025-01-01"}]}}}}}"#;

const CASES: &str = r#"[{"hospital_code":"H46010801","list_id":"L1","hospital_level":"3A","fund_type":"310","grouping":{"scheme":"drg","group_code":"GD15","adrg":"GD1","mdc":"MDCG","status":"grouped"},"principal_diagnosis":"K35.800","principal_procedure":"47.0100","admission_date":"2025-03-02","discharge_date":"2025-03-07","discharge_type":1,"total_cost":"12000.00","individual_burden":"3000.00"},{"hospital_code":"H46010801","list_id":"L2","hospital_level":"3A","fund_type":"310","grouping":{"scheme":"drg","group_code":"GD13","adrg":"GD1","mdc":"MDCG","status":"grouped"},"principal_diagnosis":"K35.800","admission_date":"2025-03-02","discharge_date":"2025-03-03","discharge_type":5,"total_cost":"90000.00"},{"hospital_code":"H46010802","list_id":"L3","hospital_level":"2A","fund_type":"310","grouping":{"scheme":"drg","group_code":"0000","status":"ungroupable"},"principal_diagnosis":"Z99.999","admission_date":"2025-03-02","discharge_date":"2025-05-02","discharge_type":1,"total_cost":"1.00"}]"#;

/// A hospital-cap budget of Meilan's 2025 employee fund, all inpatient, last year's spending
/// grown by at most 5 %.
fn budget_document() -> String {
    use budget_domain::{
        BlockKind, BlockShare, BlockSplit, BudgetBasis, BudgetDocument, BudgetMode,
    };
    let document = BudgetDocument {
        region: "460108".parse().expect("Meilan"),
        year: 2025,
        fund: kernel::FundType::Employee,
        mode: BudgetMode::HospitalCaps,
        basis: BudgetBasis::LastYearGrowth {
            last_year_spending: kernel::Money::from_yuan(1_000_000),
            growth_cap: kernel::Decimal::new(5, 2),
        },
        split: BlockSplit::Shares(vec![BlockShare {
            block: BlockKind::Inpatient,
            share: kernel::Decimal::ONE,
        }]),
        policy: Default::default(),
    };
    serde_json::to_string(&document).expect("budget document")
}

#[test]
#[ignore = "writes the seed corpora into the source tree"]
fn write_seed_corpora() {
    // The documents inside the seeds must read, or the fuzzer starts from refusals only.
    let document: serde_json::Value = serde_json::from_str(TABLE_DOCUMENT).expect("table document");
    let policy: points_domain::ValuationPolicy =
        serde_json::from_value(document["policy"].clone()).expect("policy");
    let tables: points_domain::ValuationTables =
        serde_json::from_value(document["tables"].clone()).expect("tables");
    policy.validate().expect("policy validates");
    tables.validate(&policy).expect("tables validate");
    let cases: Vec<points_domain::CaseForValuation> = serde_json::from_str(CASES).expect("cases");
    assert!(
        points_domain::valuate_all(&policy, &tables, &cases)
            .valued()
            .count()
            >= 2
    );

    // Settlement CSV: the samples' rows with their fee lines, and whole files with the shapes
    // exports come in (BOM, CRLF, quoting, a truncated last line).
    let lists = read("settlement/samples/settlement-lists.csv");
    let fees = read("settlement/samples/fee-lines.csv");
    assert!(lists.starts_with(LIST_HEADER) && fees.starts_with(FEE_HEADER));
    for (n, row) in lists.lines().skip(1).take(4).enumerate() {
        let id = row.split(',').next().unwrap_or_default();
        let own: Vec<&str> = fees.lines().filter(|l| l.contains(id)).collect();
        write(
            "settlement_csv_row",
            &format!("row-{n}"),
            format!("{row}\0{}", own.join("\n")).as_bytes(),
        );
    }
    let whole = format!("{lists}\0{fees}");
    write("settlement_import_file", "samples", whole.as_bytes());
    write(
        "settlement_import_file",
        "bom-crlf",
        format!("\u{feff}{}", whole.replace('\n', "\r\n")).as_bytes(),
    );
    write(
        "settlement_import_file",
        "truncated",
        &lists.as_bytes()[..lists.len() - 40],
    );
    let quoted = head(&lists, 2)
        .replace(",K35.800,", ",\"K35.800\",")
        .replace("急性阑尾炎", "\"急性,阑尾炎\"\"\"");
    write("settlement_import_file", "quoted", quoted.as_bytes());

    // Schemes and directories: each demo file as the replaced one.
    for (selector, (name, text)) in SCHEME_FILES.iter().enumerate() {
        write(
            "scheme_files",
            name,
            &with_selector(selector as u8, text.as_bytes()),
        );
    }
    for (selector, (name, text)) in DIP_FILES.iter().enumerate() {
        write(
            "dip_directory",
            name,
            &with_selector(selector as u8, text.as_bytes()),
        );
    }

    // Points: the end-to-end tests' table document with cases of every kind of outcome.
    let tables = format!(
        "{},\"cases\":{CASES}}}",
        &TABLE_DOCUMENT[..TABLE_DOCUMENT.len() - 1]
    );
    write("points_tables", "drg", tables.as_bytes());

    // Supervision: each demo table, and parameter sets that change every kind of value.
    for (selector, name) in [
        "items",
        "exclusive_pairs",
        "packages",
        "substitutions",
        "group_means",
    ]
    .iter()
    .enumerate()
    {
        let text = read(&format!("supervision/domain/data/demo/{name}.tsv"));
        write(
            "supervision_tables",
            name,
            &with_selector(selector as u8, head(&text, 30).as_bytes()),
        );
    }
    let parameters = r#"{"sets":[{"region":"460000","year":2024,"overrides":[{"ReadmissionWindowDays":30},{"BedBlockingDays":2},{"LowCostRatio":"0.5"},{"FemaleOnly":[{"first":"O00","last":"O99"}]},{"VeryLongStayDays":30}],"disabled":[],"enabled":[],"levels":{}}]}"#;
    write("supervision_parameters", "overrides", parameters.as_bytes());

    // Wire messages.
    let record = |json: &str, ambulatory: bool| settlement::v1::SubmitRecord {
        record: Some(if ambulatory {
            settlement::v1::submit_record::Record::AmbulatoryJson(json.to_owned())
        } else {
            settlement::v1::submit_record::Record::SettlementListJson(json.to_owned())
        }),
    };
    let one = settlement::v1::SubmitCasesRequest {
        request_id: "upload-1".into(),
        region_code: "460108".into(),
        case_json: String::new(),
        record: Some(record(LIST_JSON, false)),
    };
    write(
        "settlement_submit_record",
        "stream",
        &with_selector(0, &one.encode_to_vec()),
    );
    let batch = settlement::v1::SubmitCaseBatchRequest {
        request_id: "batch-1".into(),
        region_code: "460108".into(),
        records: vec![record(LIST_JSON, false), record(AMBULATORY_JSON, true)],
    };
    write(
        "settlement_submit_record",
        "batch",
        &with_selector(1, &batch.encode_to_vec()),
    );
    write(
        "settlement_submit_record",
        "list-json",
        &with_selector(2, LIST_JSON.as_bytes()),
    );
    write(
        "settlement_submit_record",
        "ambulatory-json",
        &with_selector(3, AMBULATORY_JSON.as_bytes()),
    );

    let case = |id: &str, diagnoses: &[&str], procedures: &[&str]| grouping::v1::CaseInput {
        case_id: id.into(),
        gender: "1".into(),
        age_years: "65".into(),
        age_days: String::new(),
        weight_grams: String::new(),
        department: "4401".into(),
        diagnoses: diagnoses.iter().map(|c| (*c).to_owned()).collect(),
        procedures: procedures.iter().map(|c| (*c).to_owned()).collect(),
        total_cost: Some(common::Money {
            yuan: "5234.62".into(),
        }),
        discharge_type: "1".into(),
        length_of_stay_days: 7,
    };
    for (name, input, trace) in [
        (
            "appendix",
            case("D001", &["K35.800", "J18.900"], &["47.0100"]),
            false,
        ),
        ("dip-traced", case("D002", &["A09.000"], &["45.2300"]), true),
    ] {
        let request = grouping::v1::GroupCaseRequest {
            region_code: "460108".into(),
            case: Some(input),
            map_codes: true,
            trace,
            ..Default::default()
        };
        write("group_case_request", name, &request.encode_to_vec());
    }

    let put = points::v1::PutTableRequest {
        request_id: "table-1".into(),
        region_code: "460108".into(),
        year: 2025,
        fund_type: common::FundType::Employee as i32,
        document_json: TABLE_DOCUMENT.into(),
        document: None,
    };
    write("points_put_table", "drg", &put.encode_to_vec());

    let create = budget::v1::CreateBudgetRequest {
        request_id: "budget-1".into(),
        region_code: "460108".into(),
        year: 2025,
        fund_type: common::FundType::Employee as i32,
        document_json: budget_document(),
        ..Default::default()
    };
    write("budget_create", "hospital-caps", &create.encode_to_vec());

    let screen = supervision::v1::ScreenCasesRequest {
        request_id: "screen-1".into(),
        region_code: "460108".into(),
        year: 2025,
        month: 3,
    };
    write(
        "supervision_requests",
        "screen",
        &with_selector(0, &screen.encode_to_vec()),
    );
    let list = supervision::v1::ListFindingsRequest {
        region_code: "460108".into(),
        page_size: 50,
        period: Some(common::YearMonth {
            year: 2025,
            month: 3,
        }),
        rule_id: "1".into(),
        status: "open".into(),
        ..Default::default()
    };
    write(
        "supervision_requests",
        "list",
        &with_selector(1, &list.encode_to_vec()),
    );
    let review = supervision::v1::ReviewFindingRequest {
        request_id: "review-1".into(),
        region_code: "460108".into(),
        finding_id: "F1".into(),
        decision: "confirm".into(),
        reason: "checked the notes".into(),
    };
    write(
        "supervision_requests",
        "review",
        &with_selector(2, &review.encode_to_vec()),
    );
    let rule = supervision::v1::GetRuleRequest {
        region_code: "460108".into(),
        rule_id: "1".into(),
        year: 2025,
    };
    write(
        "supervision_requests",
        "rule",
        &with_selector(3, &rule.encode_to_vec()),
    );

    // The gateway's configuration: the deploy overlays' files and the defaults' keys.
    for overlay in ["dev", "province", "staging"] {
        let path = format!("deploy/k8s/overlays/{overlay}/medpay.toml");
        if let Ok(text) = std::fs::read_to_string(repo().join(&path)) {
            write("gateway_config", overlay, text.as_bytes());
        }
    }
}
