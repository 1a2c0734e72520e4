//! A settlement internal server streaming canned stored lists and ambulatory settlements, in the
//! ledger's JSON, by discharge (or settlement) month and the record kinds asked, region-scoped
//! the way settlement scopes them.

use std::collections::BTreeMap;
use std::pin::Pin;

use futures::Stream;
use kernel::Money;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::internal::v1 as pb;
use medpay_proto::settlement::internal::v1::settlement_internal_service_server::{
    SettlementInternalService, SettlementInternalServiceServer,
};
use medpay_proto::settlement::v1::CaseSummary;
use platform::principal::authorize_request;
use serde_json::json;
use tonic::{Request, Response, Status};

/// A stored list with the summary settlement streams with it.
#[derive(Clone)]
pub struct StoredCase {
    pub region: String,
    /// `yyyymm` of discharge.
    pub month: i32,
    pub message: pb::StreamCasesResponse,
}

#[derive(Clone, Default)]
pub struct FakeSettlement {
    pub cases: Vec<StoredCase>,
}

impl FakeSettlement {
    pub fn into_server(self) -> SettlementInternalServiceServer<Self> {
        SettlementInternalServiceServer::new(self)
    }
}

/// A fee line as the ledger stores it.
pub fn fee_line(code: &str, category: &str, price: &str, at: &str) -> serde_json::Value {
    json!({
        "hilist_code": code,
        "list_type": "201",
        "med_chrgitm_type": category,
        "pric": price,
        "cnt": "1",
        "det_item_fee_sumamt": price,
        "inscp_amt": price,
        "fee_ocur_time": at,
    })
}

/// An inpatient list of `person` at hospital H001 in `region`, as settlement stores it.
pub fn stored_list(
    region: &str,
    list_id: &str,
    person: &str,
    admitted: &str,
    discharged: &str,
    lines: Vec<serde_json::Value>,
) -> StoredCase {
    let list = json!({
        "header": {
            "setl_id": list_id,
            "fixmedins_code": "H001",
            "hospital_level": "3",
            "insutype": 390,
            "psn_no": person,
            "case_number": list_id,
            "declared_at": discharged,
            "pooling_region": region,
        },
        "patient": { "sex": 1, "birth_date": "1970-01-01", "age_years": 56 },
        "stay": {
            "med_type": "21",
            "admission_route": "1",
            "admitted_at": admitted,
            "admission_department": "內科",
            "discharged_at": discharged,
            "discharge_department": "內科",
            "discharge_type": 1,
        },
        "diagnoses": [{ "code": "J18.900", "name": "肺炎", "admission_condition": 1 }],
        "charges": [],
        "payment": {
            "medfee_sumamt": "1000.00",
            "hifp_pay": "700.00",
            "psn_cash_pay": "300.00",
        },
        "fee_lines": lines,
    });
    let month = discharged[..7].replace('-', "").parse().expect("yyyymm");
    StoredCase {
        region: region.into(),
        month,
        message: pb::StreamCasesResponse {
            summary: Some(CaseSummary {
                hospital_code: "H001".into(),
                list_id: list_id.into(),
                version: 1,
                fund_type: 390,
                payment_mode: "drg".into(),
                group_code: "ES23".into(),
                status: "valued".into(),
                ..Default::default()
            }),
            case_json: list.to_string(),
            record_kind: "inpatient".into(),
            grouping: None,
            fee_line_totals: Vec::new(),
        },
    }
}

/// An ambulatory settlement (`kind` outpatient, chronic_outpatient or pharmacy) of `person` at
/// `hospital` in `region`, as settlement stores it.
pub fn stored_ambulatory(
    region: &str,
    (hospital, id): (&str, &str),
    person: &str,
    kind: &str,
    settled: &str,
    (diagnosis, lines): (&str, Vec<serde_json::Value>),
) -> StoredCase {
    let settlement = json!({
        "header": {
            "setl_id": id,
            "fixmedins_code": hospital,
            "hospital_level": "3",
            "insutype": 390,
            "psn_no": person,
            "case_number": id,
            "declared_at": settled,
            "pooling_region": region,
        },
        "kind": kind,
        "med_type": "11",
        "settled_at": settled,
        "diagnoses": [{ "code": diagnosis, "name": "", "admission_condition": 1 }],
        "payment": { "medfee_sumamt": "300.00", "hifp_pay": "150.00", "psn_cash_pay": "150.00" },
        "fee_lines": lines,
    });
    let month = settled[..7].replace('-', "").parse().expect("yyyymm");
    StoredCase {
        region: region.into(),
        month,
        message: pb::StreamCasesResponse {
            summary: Some(CaseSummary {
                hospital_code: hospital.into(),
                list_id: id.into(),
                version: 1,
                fund_type: 390,
                payment_mode: "fee_for_service".into(),
                status: "valued".into(),
                ..Default::default()
            }),
            case_json: settlement.to_string(),
            record_kind: kind.into(),
            grouping: None,
            fee_line_totals: Vec::new(),
        },
    }
}

/// A stored list as settlement streams it `without_fee_lines`: its JSON without `fee_lines`, with
/// what they add up to per category.
fn without_lines(mut message: pb::StreamCasesResponse) -> pb::StreamCasesResponse {
    let mut list: serde_json::Value =
        serde_json::from_str(&message.case_json).expect("stored list");
    let lines = list
        .as_object_mut()
        .and_then(|fields| fields.remove("fee_lines"))
        .unwrap_or_default();
    let mut totals: BTreeMap<String, (Money, Money)> = BTreeMap::new();
    for line in lines.as_array().into_iter().flatten() {
        let amount =
            |field: &str| -> Money { line[field].as_str().expect(field).parse().expect(field) };
        let total = totals
            .entry(
                line["med_chrgitm_type"]
                    .as_str()
                    .expect("category")
                    .to_owned(),
            )
            .or_default();
        total.0 += amount("det_item_fee_sumamt");
        total.1 += amount("inscp_amt");
    }
    message.case_json = list.to_string();
    message.fee_line_totals = totals
        .into_iter()
        .map(|(category, (amount, in_policy))| pb::FeeLineTotal {
            med_chrgitm_type: category,
            amount: Some(common::Money {
                yuan: amount.to_string(),
            }),
            in_policy_amount: Some(common::Money {
                yuan: in_policy.to_string(),
            }),
        })
        .collect();
    message
}

type CaseStream = Pin<Box<dyn Stream<Item = Result<pb::StreamCasesResponse, Status>> + Send>>;

#[tonic::async_trait]
impl SettlementInternalService for FakeSettlement {
    type StreamCasesStream = CaseStream;

    async fn stream_cases(
        &self,
        request: Request<pb::StreamCasesRequest>,
    ) -> Result<Response<Self::StreamCasesStream>, Status> {
        let filter = request.get_ref().filter.clone().unwrap_or_default();
        let kinds = match request.get_ref().record_kinds.as_slice() {
            [] => vec!["inpatient".to_owned()],
            kinds => kinds.to_vec(),
        };
        let (_, region) = authorize_request(&request, "filter.region_code", &filter.region_code)?;
        let period = filter.period.unwrap_or_default();
        let month = period.year * 100 + period.month;
        let prefix = region.to_string().trim_end_matches('0').to_owned();
        let without_fee_lines = request.get_ref().without_fee_lines;
        let messages: Vec<Result<pb::StreamCasesResponse, Status>> = self
            .cases
            .iter()
            .filter(|case| case.month == month && case.region.starts_with(&prefix))
            .filter(|case| kinds.contains(&case.message.record_kind))
            .map(|case| {
                let message = case.message.clone();
                Ok(if without_fee_lines && message.record_kind == "inpatient" {
                    without_lines(message)
                } else {
                    message
                })
            })
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(messages))))
    }
}
