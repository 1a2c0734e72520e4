//! Public request messages read into the domain: the bytes are decoded as the prost message,
//! then converted as the service does before it touches storage, and what converts is used.

use std::collections::HashMap;
use std::sync::OnceLock;

use grouping_service::catalog::LoadedScheme;
use kernel::RegionCode;
use kernel::date::Date;
use medpay_proto::{budget, grouping, points, settlement, supervision};
use prost::Message;
use settlement_domain::admission::{Record, read_record};
use settlement_domain::ports::GroupingChecksCodes;
use settlement_domain::validation::ValidationPolicy;

use crate::select;

fn meilan() -> Option<RegionCode> {
    RegionCode::from_u32(460108).ok()
}

/// A selector byte: 0 a `SubmitCasesRequest`, 1 a `SubmitCaseBatchRequest` (both decoded with
/// prost), 2 and 3 the rest as the JSON of a settlement list or an ambulatory settlement, then
/// each record read as intake reads it.
pub fn settlement_submit_record(data: &[u8]) {
    use settlement::v1 as pb;
    use settlement_service::convert::intake::record_from_wire;
    let (which, rest) = select(data, 4);
    let (region, records) = match which {
        0 => {
            let Ok(message) = pb::SubmitCasesRequest::decode(rest) else {
                return;
            };
            let record = record_from_wire(message.record, message.case_json);
            (message.region_code, vec![record])
        }
        1 => {
            let Ok(message) = pb::SubmitCaseBatchRequest::decode(rest) else {
                return;
            };
            let records = message
                .records
                .into_iter()
                .map(|r| record_from_wire(Some(r), String::new()))
                .collect();
            (message.region_code, records)
        }
        2 => (
            String::new(),
            vec![Record::List(String::from_utf8_lossy(rest).into_owned())],
        ),
        _ => (
            String::new(),
            vec![Record::Ambulatory(
                String::from_utf8_lossy(rest).into_owned(),
            )],
        ),
    };
    let Some(region) = region.parse::<RegionCode>().ok().or_else(meilan) else {
        return;
    };
    let Ok(today) = Date::new(2026, 6, 30) else {
        return;
    };
    for (position, record) in records.into_iter().enumerate() {
        let _ = read_record(
            record,
            position as u64,
            region,
            &GroupingChecksCodes,
            &ValidationPolicy::default(),
            today,
        );
    }
}

fn demo_schemes() -> &'static [LoadedScheme] {
    static SCHEMES: OnceLock<Vec<LoadedScheme>> = OnceLock::new();
    SCHEMES.get_or_init(|| {
        [LoadedScheme::demo().ok(), LoadedScheme::demo_dip().ok()]
            .into_iter()
            .flatten()
            .collect()
    })
}

/// A `GroupCaseRequest` grouped with the demo DRG scheme and the demo DIP directory, as the
/// `GroupCase` handler does once it has resolved the scheme.
pub fn group_case_request(data: &[u8]) {
    let Ok(request) = grouping::v1::GroupCaseRequest::decode(data) else {
        return;
    };
    for scheme in demo_schemes() {
        let _ = grouping_service::grpc::group_request(scheme, &request);
    }
}

/// A `PutTableRequest` read as `PutTable` reads it for Meilan: its document parsed and its
/// policy and tables validated (valuing with a document is the `points_tables` target).
pub fn points_put_table(data: &[u8]) {
    use points_service::convert::TableDraft;
    let Ok(request) = points::v1::PutTableRequest::decode(data) else {
        return;
    };
    let Some(region) = meilan() else { return };
    let _ = TableDraft::try_from((region, &request));
}

/// A `CreateBudgetRequest` read as `CreateBudget` reads it (for Meilan), then started as a
/// budget history, which computes every block.
pub fn budget_create(data: &[u8]) {
    use budget_service::convert::NewBudget;
    let Ok(request) = budget::v1::CreateBudgetRequest::decode(data) else {
        return;
    };
    let Some(region) = meilan() else { return };
    let Ok(budget) = NewBudget::try_from((region, &request)) else {
        return;
    };
    let _ = budget_domain::BudgetHistory::create(budget.document);
}

/// A selector byte: 0 `ScreenCasesRequest`, 1 `ListFindingsRequest`, 2 `ReviewFindingRequest`,
/// 3 `GetRuleRequest`'s year, each read as the supervision service reads it.
pub fn supervision_requests(data: &[u8]) {
    use supervision::v1 as pb;
    use supervision_service::convert::{FindingsQuery, ReviewRequest, policy_year, screened_month};
    let (which, rest) = select(data, 4);
    match which {
        0 => {
            if let Ok(request) = pb::ScreenCasesRequest::decode(rest) {
                let _ = screened_month(&request);
            }
        }
        1 => {
            if let Ok(request) = pb::ListFindingsRequest::decode(rest) {
                let _ = FindingsQuery::try_from(&request);
            }
        }
        2 => {
            if let Ok(request) = pb::ReviewFindingRequest::decode(rest) {
                let _ = ReviewRequest::try_from(&request);
            }
        }
        _ => {
            if let Ok(request) = pb::GetRuleRequest::decode(rest) {
                let _ = policy_year(request.year);
            }
        }
    }
}

/// The gateway's configuration file: the TOML text as `medpay.toml`, loaded over the defaults and
/// validated as `medpay up` does (no environment).
pub fn gateway_config(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("medpay.toml");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let _ = gateway::config::load_from(Some(&path), HashMap::<String, String>::new());
}
