//! The one place wire requests become the service's inputs: each `TryFrom<pb::…>` reads every
//! field and reports every violation at once, so a caller fixes all of them in one go. The
//! region comes from the scope check, so conversions that key a table take it alongside the
//! request.

use std::collections::BTreeMap;

use kernel::{Date, Decimal, FundType, Money, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::points::v1 as pb;
use platform::wire::{self, Violation};
use points_domain::calibration::{CalibrationOptions, TrimRule};
use points_domain::policy::UnstableRule;
use points_domain::{
    CaseForValuation, GroupStatus, GroupedCase, HospitalLevel, SchemeKind, SpecialCaseDecision,
};
use serde::Deserialize;

use crate::error::{Error, policy_violations};
use crate::store::TableKey;
use crate::table_choice::TableDocument;
use crate::typed_document::document_from_wire;

/// A `PutTable` request, read: the key of the new draft and its checked document.
pub struct TableDraft {
    pub key: TableKey,
    pub document: TableDocument,
}

impl TryFrom<(RegionCode, &pb::PutTableRequest)> for TableDraft {
    type Error = Error;

    fn try_from((region, body): (RegionCode, &pb::PutTableRequest)) -> Result<Self, Error> {
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let Some((year, fund)) = year_fund(body.year, body.fund_type, &mut v) else {
            return Err(Error::InvalidArgument(v));
        };
        let key = TableKey { region, year, fund };
        // One form or the other: two documents could disagree, and neither says nothing.
        let read = match (&body.document, body.document_json.trim().is_empty()) {
            (Some(_), false) => Err(["document", "document_json"]
                .map(|field| {
                    (
                        field.to_owned(),
                        "give exactly one of document and document_json".to_owned(),
                    )
                })
                .to_vec()),
            (None, true) => Err(vec![(
                "document".to_owned(),
                "give exactly one of document and document_json".to_owned(),
            )]),
            (Some(typed), true) => document_from_wire("document", typed, key)
                .and_then(|document| check_read_document(document, key, "document")),
            (None, false) => check_document(&body.document_json, key),
        };
        let document = match read {
            Ok(document) => Some(document),
            Err(more) => {
                v.extend(more);
                None
            }
        };
        match (document, v.is_empty()) {
            (Some(document), true) => Ok(TableDraft { key, document }),
            _ => Err(Error::InvalidArgument(v)),
        }
    }
}

/// An `ActivateTable` request, read.
pub struct TableActivation {
    pub key: TableKey,
    pub version: i32,
    pub effective_from: Date,
}

impl TryFrom<(RegionCode, &pb::ActivateTableRequest)> for TableActivation {
    type Error = Error;

    fn try_from((region, body): (RegionCode, &pb::ActivateTableRequest)) -> Result<Self, Error> {
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        if body.version <= 0 {
            v.push((
                "version".into(),
                "must name a stored version (1 or more)".into(),
            ));
        }
        let from = take(
            wire::required_date("effective_from", body.effective_from.as_ref()),
            &mut v,
        );
        match (year_fund, from, v.is_empty()) {
            (Some((year, fund)), Some(effective_from), true) => Ok(TableActivation {
                key: TableKey { region, year, fund },
                version: body.version,
                effective_from,
            }),
            _ => Err(Error::InvalidArgument(v)),
        }
    }
}

/// A `Calibrate` request, read: the domain's options and the historical cases.
pub struct Calibration {
    pub key: TableKey,
    pub options: CalibrationOptions,
    pub cases: Vec<CsvCase>,
}

impl TryFrom<(RegionCode, &pb::CalibrateRequest)> for Calibration {
    type Error = Error;

    fn try_from((region, body): (RegionCode, &pb::CalibrateRequest)) -> Result<Self, Error> {
        let mut v = Vec::new();
        request_id(&body.request_id, &mut v);
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        let options: Option<CalibrateOptionsJson> = if body.options_json.trim().is_empty() {
            Some(CalibrateOptionsJson::default())
        } else {
            take(
                kernel::check_decimal_strings_in_json(&body.options_json)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        serde_json::from_str(&body.options_json).map_err(|e| e.to_string())
                    })
                    .map_err(|e| ("options_json".to_owned(), e)),
                &mut v,
            )
        };
        let cases = match parse_cases_csv(&body.cases_csv) {
            Ok(cases) => Some(cases),
            Err(more) => {
                v.extend(more);
                None
            }
        };
        let (Some((year, fund)), Some(options), Some(cases), true) =
            (year_fund, options, cases, v.is_empty())
        else {
            return Err(Error::InvalidArgument(v));
        };
        let january_first =
            Date::new(year, 1, 1).map_err(|e| Error::field("year", e.to_string()))?;
        let mut domain_options = CalibrationOptions::new(
            options.scheme.unwrap_or(SchemeKind::Drg),
            region,
            year,
            fund,
            options.coefficient_effective_from.unwrap_or(january_first),
        );
        if let Some(weights) = options.year_weights {
            domain_options.year_weights = weights;
        }
        if let Some(trim) = options.trim {
            domain_options.trim = trim;
        }
        if let Some(scale) = options.scale {
            domain_options.scale = scale;
        }
        if let Some(unstable) = options.unstable {
            domain_options.unstable = unstable;
        }
        Ok(Calibration {
            key: TableKey { region, year, fund },
            options: domain_options,
            cases,
        })
    }
}

/// A `PreviewPointValue` request, read.
pub struct PointValueQuestion {
    pub key: TableKey,
    pub fund_budget: Money,
    pub individual_burden: Money,
    pub total_points: Points,
}

impl TryFrom<(RegionCode, &pb::PreviewPointValueRequest)> for PointValueQuestion {
    type Error = Error;

    fn try_from(
        (region, body): (RegionCode, &pb::PreviewPointValueRequest),
    ) -> Result<Self, Error> {
        let mut v = Vec::new();
        let year_fund = year_fund(body.year, body.fund_type, &mut v);
        let budget = take(
            wire::money("fund_budget", body.fund_budget.as_ref()),
            &mut v,
        );
        let burden = match body.individual_burden.as_ref() {
            Some(m) if !m.yuan.is_empty() => {
                take(wire::money("individual_burden", Some(m)), &mut v)
            }
            _ => Some(Money::ZERO),
        };
        let total = take(
            wire::points("total_points", body.total_points.as_ref()),
            &mut v,
        );
        match (year_fund, budget, burden, total, v.is_empty()) {
            (
                Some((year, fund)),
                Some(fund_budget),
                Some(individual_burden),
                Some(total_points),
                true,
            ) => Ok(PointValueQuestion {
                key: TableKey { region, year, fund },
                fund_budget,
                individual_burden,
                total_points,
            }),
            _ => Err(Error::InvalidArgument(v)),
        }
    }
}

fn decimal(field: &str, value: Option<&common::Decimal>) -> Result<Option<Decimal>, Violation> {
    match value
        .map(|d| d.value.as_str())
        .filter(|text| !text.is_empty())
    {
        None => Ok(None),
        // Refused by length before rust_decimal reads it, which recurses once per leading zero.
        Some(text) => match kernel::check_decimal_text(text) {
            Err(too_long) => Err((field.to_owned(), too_long.to_string())),
            Ok(()) => text
                .parse()
                .map(Some)
                .map_err(|e: rust_decimal::Error| (field.to_owned(), e.to_string())),
        },
    }
}

/// Collects a field's value, or its violation.
fn take<T>(result: Result<T, Violation>, violations: &mut Vec<Violation>) -> Option<T> {
    result.map_err(|v| violations.push(v)).ok()
}

fn group_status(value: &str) -> Option<GroupStatus> {
    match value {
        "SUCCESS" | "GROUP_STATUS_SUCCESS" | "GROUPED" => Some(GroupStatus::Grouped),
        "AMBIGUOUS" | "GROUP_STATUS_AMBIGUOUS" => Some(GroupStatus::Ambiguous),
        // Every way grouping can fail to place a case is 无法入组 here.
        "FAIL"
        | "GROUP_STATUS_FAIL"
        | "CHECK_FAILED"
        | "GROUP_STATUS_CHECK_FAILED"
        | "DX_NOT_MAPPED"
        | "GROUP_STATUS_DX_NOT_MAPPED"
        | "PROC_NOT_MAPPED"
        | "GROUP_STATUS_PROC_NOT_MAPPED"
        | "UNGROUPABLE" => Some(GroupStatus::Ungroupable),
        _ => None,
    }
}

/// A wire case read into the domain's case, with every violation reported at once under `case.`.
pub struct CaseToValue(pub CaseForValuation);

impl TryFrom<pb::CaseForValuation> for CaseToValue {
    type Error = Error;

    fn try_from(case: pb::CaseForValuation) -> Result<Self, Error> {
        case_from_wire(case)
            .map(CaseToValue)
            .map_err(Error::InvalidArgument)
    }
}

/// Longest episode a caller may send: the phases count days from there, and a bound keeps a
/// corrupt number from overflowing them.
const MAX_PRIOR_EPISODE_DAYS: u32 = 3_660;

fn case_from_wire(case: pb::CaseForValuation) -> Result<CaseForValuation, Vec<Violation>> {
    let mut v = Vec::new();
    if case.hospital_code.trim().is_empty() {
        v.push(("case.hospital_code".into(), "is required".into()));
    }
    let level = HospitalLevel::from_code(&case.hospital_level);
    if level.is_none() {
        v.push((
            "case.hospital_level".into(),
            format!(
                "{:?} is not a level: use 3A, 3B, 2A, 2B, 1 or community",
                case.hospital_level
            ),
        ));
    }
    let fund = take(wire::fund_type("case.fund_type", case.fund_type), &mut v);
    let status = group_status(&case.group_status);
    if status.is_none() {
        v.push((
            "case.group_status".into(),
            format!(
                "{:?} is not a grouping status: use SUCCESS, AMBIGUOUS, FAIL, CHECK_FAILED, \
                 DX_NOT_MAPPED or PROC_NOT_MAPPED",
                case.group_status
            ),
        ));
    }
    // A case grouping could not place has no group; a placed one must name it.
    if status != Some(GroupStatus::Ungroupable) && case.group_code.trim().is_empty() {
        v.push(("case.group_code".into(), "is required".into()));
    }
    let total_cost = take(
        wire::money("case.total_cost", case.total_cost.as_ref()),
        &mut v,
    );
    let burden = match case.individual_burden.as_ref() {
        Some(m) if !m.yuan.is_empty() => {
            take(wire::money("case.individual_burden", Some(m)), &mut v)
        }
        _ => Some(Money::ZERO),
    };
    let admission = take(
        wire::required_date("case.admission_date", case.admission_date.as_ref()),
        &mut v,
    );
    let discharge = take(
        wire::required_date("case.discharge_date", case.discharge_date.as_ref()),
        &mut v,
    );
    let discharge_type = case.discharge_type.trim().parse::<u8>().ok();
    if discharge_type.is_none() {
        v.push((
            "case.discharge_type".into(),
            format!("{:?} is not a discharge type code", case.discharge_type),
        ));
    }
    let extra = match case.special_case_points.as_ref() {
        Some(d) if !d.value.is_empty() => {
            take(wire::points("case.special_case_points", Some(d)), &mut v)
        }
        _ => None,
    };
    let aux = take(
        decimal(
            "case.dip_aux_coefficient",
            case.dip_aux_coefficient.as_ref(),
        ),
        &mut v,
    )
    .flatten();
    let special_case = match (case.special_case_ffs, extra) {
        (true, Some(_)) => {
            v.push((
                "case.special_case_points".into(),
                "must be empty when special_case_ffs is set".into(),
            ));
            None
        }
        (true, None) => Some(SpecialCaseDecision::FeeForService),
        (false, Some(points)) => Some(SpecialCaseDecision::ExtraPoints(points)),
        (false, None) => None,
    };
    if case.prior_episode_days > MAX_PRIOR_EPISODE_DAYS {
        v.push((
            "case.prior_episode_days".into(),
            format!(
                "{} exceeds {MAX_PRIOR_EPISODE_DAYS} (ten years of one episode)",
                case.prior_episode_days
            ),
        ));
    }
    let stay_hours = match u32::try_from(case.stay_hours) {
        Ok(0) => None,
        Ok(hours) => Some(hours),
        Err(_) => {
            v.push(("case.stay_hours".into(), "must not be negative".into()));
            None
        }
    };
    match (
        level,
        fund,
        status,
        total_cost,
        burden,
        admission,
        discharge,
        discharge_type,
    ) {
        (
            Some(level),
            Some(fund),
            Some(status),
            Some(total_cost),
            Some(burden),
            Some(admission),
            Some(discharge),
            Some(discharge_type),
        ) if v.is_empty() => Ok(CaseForValuation {
            hospital_code: case.hospital_code,
            list_id: case.case_id,
            hospital_level: level,
            fund_type: fund,
            grouping: GroupedCase {
                scheme: SchemeKind::Drg,
                group_code: case.group_code,
                adrg: case.adrg,
                mdc: String::new(),
                status,
                dip_score: None,
                dip_aux_coefficient: aux,
            },
            principal_diagnosis: case.principal_diagnosis,
            principal_procedure: (!case.principal_procedure.is_empty())
                .then_some(case.principal_procedure),
            department: case.department,
            admission_date: admission,
            discharge_date: discharge,
            stay_hours,
            discharge_type,
            total_cost,
            in_policy_cost: None,
            individual_burden: burden,
            planned_readmission: false,
            prior_episode_days: case.prior_episode_days,
            special_case,
        }),
        _ => Err(v),
    }
}

fn request_id(value: &str, violations: &mut Vec<Violation>) {
    if value.trim().is_empty() {
        violations.push(("request_id".into(), "is required".into()));
    }
}

/// Reads `year` and `fund_type`, adding their violations to `violations`.
fn year_fund(year: i32, fund: i32, violations: &mut Vec<Violation>) -> Option<(i32, FundType)> {
    let year = take(wire::year("year", year), violations);
    let fund = take(wire::fund_type("fund_type", fund), violations);
    year.zip(fund)
}

/// Parses and validates a table document for `key`; every problem is a violation under
/// `document_json`.
fn check_document(text: &str, key: TableKey) -> Result<TableDocument, Vec<Violation>> {
    kernel::check_decimal_strings_in_json(text)
        .map_err(|e| vec![("document_json".to_owned(), e.to_string())])?;
    let document: TableDocument = serde_json::from_str(text)
        .map_err(|e| vec![("document_json".to_owned(), e.to_string())])?;
    check_read_document(document, key, "document_json")
}

/// The checks of a document however it was given (`document_json` or the typed `document`,
/// named by `field`): it names the request's region, year and fund, and its policy and tables are
/// valid. The document passed is the one stored, its money at the fen.
fn check_read_document(
    mut document: TableDocument,
    key: TableKey,
    field: &str,
) -> Result<TableDocument, Vec<Violation>> {
    document.money_at_fen();
    let mut v = Vec::new();
    let policy_prefix = format!("{field}.policy");
    let tables_prefix = format!("{field}.tables");
    for (prefix, region, year, fund) in [
        (
            policy_prefix.as_str(),
            document.policy.region,
            document.policy.year,
            document.policy.fund_type,
        ),
        (
            tables_prefix.as_str(),
            document.tables.region,
            document.tables.year,
            document.tables.fund_type,
        ),
    ] {
        if region != key.region {
            v.push((
                format!("{prefix}.region"),
                format!("is {region}, the request is for {}", key.region),
            ));
        }
        if year != key.year {
            v.push((
                format!("{prefix}.year"),
                format!("is {year}, the request is for {}", key.year),
            ));
        }
        if fund != key.fund {
            v.push((
                format!("{prefix}.fund_type"),
                format!("is {fund}, the request is for {}", key.fund),
            ));
        }
    }
    if let Err(errors) = document.policy.validate() {
        v.extend(policy_violations(&format!("{policy_prefix}."), &errors));
    }
    if let Err(errors) = document.tables.validate(&document.policy) {
        v.extend(policy_violations(&format!("{tables_prefix}."), &errors));
    }
    if v.is_empty() { Ok(document) } else { Err(v) }
}

/// Calibration options as the request's JSON gives them; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalibrateOptionsJson {
    scheme: Option<SchemeKind>,
    year_weights: Option<BTreeMap<i32, Decimal>>,
    trim: Option<TrimRule>,
    scale: Option<Decimal>,
    unstable: Option<UnstableRule>,
    coefficient_effective_from: Option<Date>,
}

/// One row of `cases_csv`.
pub struct CsvCase {
    pub year: i32,
    pub hospital_code: String,
    pub hospital_level: Option<HospitalLevel>,
    pub group_code: String,
    pub total_cost: Money,
}

/// The columns of `cases_csv`, in order, as its header line names them.
pub const CALIBRATION_COLUMNS: [&str; 5] = [
    "year",
    "hospital_code",
    "hospital_level",
    "group_code",
    "total_cost",
];

/// The most row violations reported for one CSV; more would drown the first ones.
const MAX_CSV_VIOLATIONS: usize = 50;

/// Parses historical cases: a header line `year,hospital_code,hospital_level,group_code,total_cost`
/// then one case a line (hospital level may be empty; total cost in yuan). Every bad cell is a
/// violation `cases_csv.line N.column`.
fn parse_cases_csv(text: &str) -> Result<Vec<CsvCase>, Vec<Violation>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if header != CALIBRATION_COLUMNS {
        return Err(vec![(
            "cases_csv".into(),
            format!(
                "the first line must be the header {}",
                CALIBRATION_COLUMNS.join(",")
            ),
        )]);
    }
    let mut cases = Vec::new();
    let mut v = Vec::new();
    for (index, line) in lines {
        let at = |column: &str| format!("cases_csv.line {}.{column}", index + 1);
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != CALIBRATION_COLUMNS.len() {
            v.push((
                format!("cases_csv.line {}", index + 1),
                format!("has {} columns, expected 5", cells.len()),
            ));
            continue;
        }
        let year = cells[0].parse::<i32>().ok();
        if year.is_none() {
            v.push((at("year"), format!("{:?} is not a year", cells[0])));
        }
        let level = if cells[2].is_empty() {
            Some(None)
        } else {
            HospitalLevel::from_code(cells[2]).map(Some)
        };
        if level.is_none() {
            v.push((
                at("hospital_level"),
                format!("{:?} is not a level", cells[2]),
            ));
        }
        if cells[3].is_empty() {
            v.push((at("group_code"), "is required".into()));
        }
        let cost = cells[4]
            .parse::<Money>()
            .map_err(|e| v.push((at("total_cost"), e.to_string())))
            .ok();
        if let (Some(year), Some(level), Some(cost)) = (year, level, cost) {
            cases.push(CsvCase {
                year,
                hospital_code: cells[1].to_owned(),
                hospital_level: level,
                group_code: cells[3].to_owned(),
                total_cost: cost,
            });
        }
        if v.len() >= MAX_CSV_VIOLATIONS {
            break;
        }
    }
    if v.is_empty() { Ok(cases) } else { Err(v) }
}
