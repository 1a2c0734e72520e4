//! Conversions between `medpay.settlement.v1` messages and the intake and registry types:
//! requests are checked here, every violation reported at once; answers never fail.

use kernel::RegionCode;
use kernel::date::Date;
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use platform::status::bad_request;
use platform::wire;
use settlement_domain::admission::{Record, Rejection};
use settlement_domain::intake_warnings::IntakeWarning;
use tonic::{Code, Status};

use super::Violations;
use crate::intake::BrokenStream;
use crate::store::institutions::{AGREEMENT_STATUSES, AgreementRow, InstitutionRow, LEVELS, TYPES};
use crate::store::ledger::ListedCase;

/// The record of a wire message (the deprecated `case_json` when `record` is absent).
pub fn record_from_wire(record: Option<pb::SubmitRecord>, case_json: String) -> Record {
    match record.and_then(|r| r.record) {
        Some(pb::submit_record::Record::SettlementListJson(json)) => Record::List(json),
        Some(pb::submit_record::Record::AmbulatoryJson(json)) => Record::Ambulatory(json),
        Some(pb::submit_record::Record::SettlementList(list)) => {
            Record::TypedList(super::lists::typed_list(list))
        }
        Some(pb::submit_record::Record::Ambulatory(settlement)) => {
            Record::TypedAmbulatory(super::lists::typed_ambulatory(settlement))
        }
        None if !case_json.is_empty() => Record::List(case_json),
        None => Record::Empty,
    }
}

pub fn rejection_to_wire(rejection: Rejection) -> pb::RecordRejection {
    pb::RecordRejection {
        hospital_code: rejection.hospital_code,
        list_id: rejection.list_id,
        field: rejection.field,
        reason: rejection.reason,
        position: rejection.position,
        code: rejection.code,
    }
}

impl From<Status> for BrokenStream {
    fn from(status: Status) -> Self {
        if status.code() == Code::OutOfRange
            && status.message().contains("message length too large")
        {
            BrokenStream::OverDecodingLimit(status.message().to_owned())
        } else {
            BrokenStream::Failed {
                code: status.code().into(),
                message: status.message().to_owned(),
            }
        }
    }
}

/// A `PutInstitution` body, checked: the version to record once its region is authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstitutionChange {
    pub code: String,
    pub name: String,
    pub level: String,
    pub institution_type: String,
    pub alliance_code: String,
    /// `yyyymmdd`.
    pub effective_from: i32,
    pub reason: String,
}

impl InstitutionChange {
    /// The version as stored, registered in `region`.
    pub fn in_region(self, region: RegionCode) -> InstitutionRow {
        InstitutionRow {
            code: self.code,
            name: self.name,
            region,
            level: self.level,
            institution_type: self.institution_type,
            alliance_code: self.alliance_code,
            effective_from: self.effective_from,
            reason: self.reason,
        }
    }
}

impl TryFrom<&pb::PutInstitutionRequest> for InstitutionChange {
    type Error = Status;

    fn try_from(body: &pb::PutInstitutionRequest) -> Result<Self, Status> {
        let institution = body.institution.clone().unwrap_or_default();
        let mut violations = Vec::new();
        if institution.code.trim().is_empty() {
            violations.push(("institution.code".into(), "is required".into()));
        }
        if institution.name.trim().is_empty() {
            violations.push(("institution.name".into(), "is required".into()));
        }
        if !LEVELS.contains(&institution.level.as_str()) {
            violations.push((
                "institution.level".into(),
                format!("{:?} is not one of {LEVELS:?}", institution.level),
            ));
        }
        if !TYPES.contains(&institution.institution_type.as_str()) {
            violations.push((
                "institution.institution_type".into(),
                format!("{:?} is not one of {TYPES:?}", institution.institution_type),
            ));
        }
        let effective_from = read_date(
            "effective_from",
            body.effective_from.as_ref(),
            &mut violations,
        );
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        Ok(InstitutionChange {
            code: institution.code.trim().to_owned(),
            name: institution.name.trim().to_owned(),
            level: institution.level,
            institution_type: institution.institution_type,
            alliance_code: institution.alliance_code.trim().to_owned(),
            effective_from,
            reason: body.reason.clone(),
        })
    }
}

/// A `PutAgreement` body, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgreementChange {
    pub institution_code: String,
    pub agreement: AgreementRow,
    pub reason: String,
}

impl TryFrom<&pb::PutAgreementRequest> for AgreementChange {
    type Error = Status;

    fn try_from(body: &pb::PutAgreementRequest) -> Result<Self, Status> {
        let agreement = body.agreement.clone().unwrap_or_default();
        let mut violations = Vec::new();
        if body.institution_code.trim().is_empty() {
            violations.push(("institution_code".into(), "is required".into()));
        }
        if agreement.agreement_id.trim().is_empty() {
            violations.push(("agreement.agreement_id".into(), "is required".into()));
        }
        if !AGREEMENT_STATUSES.contains(&agreement.status.as_str()) {
            violations.push((
                "agreement.status".into(),
                format!(
                    "{:?} is not one of {AGREEMENT_STATUSES:?}",
                    agreement.status
                ),
            ));
        }
        let valid_from = read_date(
            "agreement.valid_from",
            agreement.valid_from.as_ref(),
            &mut violations,
        );
        let valid_to = read_date(
            "agreement.valid_to",
            agreement.valid_to.as_ref(),
            &mut violations,
        );
        if violations.is_empty() && valid_to < valid_from {
            violations.push((
                "agreement.valid_to".into(),
                format!("{valid_to} is before valid_from {valid_from}"),
            ));
        }
        if !violations.is_empty() {
            return Err(bad_request(violations));
        }
        Ok(AgreementChange {
            institution_code: body.institution_code.trim().to_owned(),
            agreement: AgreementRow {
                agreement_id: agreement.agreement_id.trim().to_owned(),
                valid_from,
                valid_to,
                status: agreement.status,
            },
            reason: body.reason.clone(),
        })
    }
}

/// A wire date as `yyyymmdd`, checked to exist.
fn read_date(
    field: &str,
    value: Option<&common::Date>,
    violations: &mut Vec<(String, String)>,
) -> i32 {
    let Some(date) = value else {
        violations.push((field.to_owned(), "is required".to_owned()));
        return 0;
    };
    let yyyymmdd = date.year * 10_000 + date.month * 100 + date.day;
    if Date::from_yyyymmdd(yyyymmdd).is_err() {
        violations.push((
            field.to_owned(),
            format!("{}-{}-{} is not a date", date.year, date.month, date.day),
        ));
    }
    yyyymmdd
}

pub fn institution_to_wire(row: &InstitutionRow) -> pb::Institution {
    pb::Institution {
        code: row.code.clone(),
        name: row.name.clone(),
        region_code: row.region.to_string(),
        level: row.level.clone(),
        institution_type: row.institution_type.clone(),
        alliance_code: row.alliance_code.clone(),
    }
}

pub fn agreement_to_wire(row: &AgreementRow) -> pb::Agreement {
    pb::Agreement {
        agreement_id: row.agreement_id.clone(),
        valid_from: Some(wire::date_to_wire(row.valid_from)),
        valid_to: Some(wire::date_to_wire(row.valid_to)),
        status: row.status.clone(),
    }
}

pub fn case_to_wire(case: ListedCase) -> pb::CaseSummary {
    pb::CaseSummary {
        hospital_code: case.hospital_code,
        list_id: case.list_id,
        version: case.version,
        fund_type: wire::fund_type_to_wire(case.fund),
        discharge_date: Some(wire::date_to_wire(case.discharge_date)),
        group_code: case.group_code,
        points: Some(wire::decimal_to_wire(case.points)),
        total_cost: Some(wire::money_to_wire(case.total_cost)),
        status: case.status.as_str().to_owned(),
        payment_mode: case.payment_mode,
        individual_burden: Some(wire::money_to_wire(case.individual_burden)),
        fund_amount: Some(wire::money_to_wire(case.fund_amount)),
        scheme_version: case.scheme_version,
        table_version: case.table_version,
        valuation_error: case.valuation_error,
        content_hash: case.content_hash,
        warnings: Vec::new(),
    }
}

pub fn warning_to_wire(warning: &IntakeWarning) -> pb::IntakeWarning {
    pb::IntakeWarning {
        level: warning.level.as_str().to_owned(),
        code: warning.code.clone(),
        field: warning.field.clone(),
        detail: warning.detail.clone(),
    }
}

/// The period and fund of a revaluation.
#[derive(Clone, Copy, Debug)]
pub struct RevaluationRequest {
    pub fund: kernel::FundType,
    /// Inclusive `yyyymmdd` range of the discharge date.
    pub discharged: (i32, i32),
    pub include_valued: bool,
}

impl TryFrom<&pb::RevalueCasesRequest> for RevaluationRequest {
    type Error = Status;

    fn try_from(body: &pb::RevalueCasesRequest) -> Result<Self, Status> {
        let mut violations = Violations::default();
        let fund = violations.check(wire::fund_type("fund_type", body.fund_type));
        let from = violations.check(wire::required_date(
            "discharged_from",
            body.discharged_from.as_ref(),
        ));
        let to = violations.check(wire::required_date(
            "discharged_to",
            body.discharged_to.as_ref(),
        ));
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            violations.push(
                "discharged_to",
                format!("{to} is before discharged_from {from}"),
            );
        }
        violations.finish(|| {
            Some(Self {
                fund: fund?,
                discharged: (from?.to_yyyymmdd(), to?.to_yyyymmdd()),
                include_valued: body.include_valued,
            })
        })
    }
}
