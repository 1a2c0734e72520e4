//! The one place wire requests become the service's inputs: each `TryFrom<pb::…>` reads every
//! field and reports every violation at once, so a caller fixes all of them in one go. Requests
//! whose document must be about the request's region take that region (from the scope check)
//! alongside the request.

use std::collections::HashSet;

use budget_domain::{
    AllocationPolicy, AllocationUnit, BlockKind, BudgetDocument, BudgetMode, HospitalYear,
    QuotaProfile, SharingPolicy,
};
use kernel::{FundType, Money, RegionCode};
use medpay_proto::budget::internal::v1 as internal;
use medpay_proto::budget::v1 as pb;
use platform::wire::{self, Violation};
use serde::Deserialize;

use crate::error::Error;
use crate::typed;

/// Collects a field's value, or its violation.
fn take<T>(result: Result<T, Violation>, violations: &mut Vec<Violation>) -> Option<T> {
    result.map_err(|v| violations.push(v)).ok()
}

fn request_id(value: &str, violations: &mut Vec<Violation>) {
    if value.trim().is_empty() {
        violations.push(("request_id".to_owned(), "is required".to_owned()));
    }
}

/// Reads `year` and `fund_type`, adding their violations to `violations`.
fn year_and_fund(
    year: i32,
    fund: i32,
    violations: &mut Vec<Violation>,
) -> (Option<i32>, Option<FundType>) {
    (
        take(wire::year("year", year), violations),
        take(wire::fund_type("fund_type", fund), violations),
    )
}

/// The valid budget key, or every violation found.
fn keyed<T>(
    year: Option<i32>,
    fund: Option<FundType>,
    rest: Option<T>,
    violations: Vec<Violation>,
) -> Result<(i32, FundType, T), Error> {
    match (year, fund, rest, violations.is_empty()) {
        (Some(year), Some(fund), Some(rest), true) => Ok((year, fund, rest)),
        _ => Err(Error::InvalidArgument(violations)),
    }
}

/// The name of a budget mode, as stored and as messages give it.
pub fn mode_name(mode: BudgetMode) -> &'static str {
    match mode {
        BudgetMode::RegionalPoints => "regional_points",
        BudgetMode::HospitalCaps => "hospital_caps",
    }
}

/// Which form a request gave its document in: the field that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The typed message (`document`, `policy`).
    Typed,
    /// The JSON string (`document_json`, `policy_json`).
    Json,
}

/// The form a request gives a payload in: exactly one of the typed field `typed` (set when
/// `given`) and its JSON twin `json` (two payloads could disagree, and neither says nothing).
/// Both given names both fields; neither names the typed one.
fn one_form(
    given: Option<&str>,
    json: &str,
    (typed_field, json_field): (&str, &str),
    violations: &mut Vec<Violation>,
) -> Option<Form> {
    let one_form = || format!("give exactly one of {typed_field} and {json_field}");
    match (given, json.trim().is_empty()) {
        (Some(_), false) => {
            violations
                .extend([typed_field, json_field].map(|field| (field.to_owned(), one_form())));
            None
        }
        (None, true) => {
            violations.push((typed_field.to_owned(), one_form()));
            None
        }
        (Some(_), true) => Some(Form::Typed),
        (None, false) => Some(Form::Json),
    }
}

/// Keeps what a reader read, or its violations.
fn taken<T>(read: Result<T, Vec<Violation>>, violations: &mut Vec<Violation>) -> Option<T> {
    read.map_err(|found| violations.extend(found)).ok()
}

/// Reads a budget document given as exactly one of the typed `document` and `document_json`,
/// then checks it is about the budget the request names. Both forms go through the same checks;
/// violations are named under the field given.
fn read_document(
    typed: Option<&pb::BudgetDocument>,
    json: &str,
    region: RegionCode,
    year: Option<i32>,
    fund: Option<FundType>,
    violations: &mut Vec<Violation>,
) -> Option<(BudgetDocument, Form)> {
    let form = one_form(
        typed.map(|_| "document"),
        json,
        ("document", "document_json"),
        violations,
    )?;
    let document = match (form, typed) {
        (Form::Typed, Some(typed)) => {
            taken(typed::document_from_wire("document", typed), violations)?
        }
        _ => take(
            read_json(json, "a budget document").map_err(|err| ("document_json".to_owned(), err)),
            violations,
        )?,
    };
    let field = form.document_field();
    if document.region != region {
        violations.push((
            format!("{field}.region"),
            format!("is {}, the request is for region {region}", document.region),
        ));
    }
    if year.is_some_and(|year| year != document.year) {
        violations.push((
            format!("{field}.year"),
            format!("is {}, the request names another year", document.year),
        ));
    }
    if fund.is_some_and(|fund| fund != document.fund) {
        let key = match form {
            Form::Typed => "fund_type",
            Form::Json => "fund",
        };
        violations.push((
            format!("{field}.{key}"),
            format!("is {}, the request names another fund", document.fund),
        ));
    }
    Some((document, form))
}

impl Form {
    /// The request field allocation inputs in this form are carried in.
    pub fn inputs_field(self) -> &'static str {
        match self {
            Form::Typed => "inputs",
            Form::Json => "inputs_json",
        }
    }

    /// The request field a quota profile in this form is carried in.
    pub fn quota_profile_field(self) -> &'static str {
        match self {
            Form::Typed => "inputs.quota_profile",
            Form::Json => "inputs_json.quota_profile",
        }
    }

    /// The request field hospital years in this form are carried in.
    pub fn hospitals_field(self) -> &'static str {
        match self {
            Form::Typed => "hospitals",
            Form::Json => "hospitals_json",
        }
    }

    /// The request field a budget document in this form is carried in.
    pub fn document_field(self) -> &'static str {
        match self {
            Form::Typed => "document",
            Form::Json => "document_json",
        }
    }

    /// The request field a sharing policy in this form is carried in.
    pub fn policy_field(self) -> &'static str {
        match self {
            Form::Typed => "policy",
            Form::Json => "policy_json",
        }
    }
}

/// A `CreateBudget` request, read.
pub struct NewBudget {
    pub year: i32,
    pub fund: FundType,
    pub document: BudgetDocument,
    /// The form the document was given in, which names its fields in errors.
    pub form: Form,
}

impl TryFrom<(RegionCode, &pb::CreateBudgetRequest)> for NewBudget {
    type Error = Error;

    fn try_from((region, body): (RegionCode, &pb::CreateBudgetRequest)) -> Result<Self, Error> {
        let mut violations = Vec::new();
        request_id(&body.request_id, &mut violations);
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let document = read_document(
            body.document.as_ref(),
            &body.document_json,
            region,
            year,
            fund,
            &mut violations,
        );
        // The mode is optional on the request; when given it must agree with the document.
        let requested_mode = match pb::BudgetMode::try_from(body.mode) {
            Ok(pb::BudgetMode::Unspecified) => None,
            Ok(pb::BudgetMode::RegionalPoints) => Some(BudgetMode::RegionalPoints),
            Ok(pb::BudgetMode::HospitalCaps) => Some(BudgetMode::HospitalCaps),
            Err(_) => {
                violations.push(("mode".to_owned(), format!("{} is not a mode", body.mode)));
                None
            }
        };
        if let (Some(requested), Some((document, _))) = (requested_mode, document.as_ref())
            && requested != document.mode
        {
            violations.push((
                "mode".to_owned(),
                format!(
                    "is {}, the document is in mode {}",
                    mode_name(requested),
                    mode_name(document.mode)
                ),
            ));
        }
        let (year, fund, (document, form)) = keyed(year, fund, document, violations)?;
        Ok(NewBudget {
            year,
            fund,
            document,
            form,
        })
    }
}

/// An `AdjustBudget` request, read.
pub struct BudgetAdjustment {
    pub year: i32,
    pub fund: FundType,
    pub document: BudgetDocument,
    /// The form the document was given in, which names its fields in errors.
    pub form: Form,
}

impl TryFrom<(RegionCode, &pb::AdjustBudgetRequest)> for BudgetAdjustment {
    type Error = Error;

    fn try_from((region, body): (RegionCode, &pb::AdjustBudgetRequest)) -> Result<Self, Error> {
        let mut violations = Vec::new();
        request_id(&body.request_id, &mut violations);
        if body.reason.trim().is_empty() {
            violations.push((
                "reason".to_owned(),
                "is required: every adjustment records why".to_owned(),
            ));
        }
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let document = read_document(
            body.document.as_ref(),
            &body.document_json,
            region,
            year,
            fund,
            &mut violations,
        );
        let (year, fund, (document, form)) = keyed(year, fund, document, violations)?;
        Ok(BudgetAdjustment {
            year,
            fund,
            document,
            form,
        })
    }
}

/// The inputs of `Allocate` (`inputs_json`, or typed `inputs`): which block to allocate, the allocation policy, the hospitals and
/// alliances, and how each cap is spread over the months for `GetQuotas`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocateInputs {
    #[serde(default = "inpatient")]
    pub block: BlockKind,
    #[serde(default)]
    pub policy: AllocationPolicy,
    pub units: Vec<AllocationUnit>,
    #[serde(default = "even")]
    pub quota_profile: QuotaProfile,
}

fn inpatient() -> BlockKind {
    BlockKind::Inpatient
}

fn even() -> QuotaProfile {
    QuotaProfile::Even
}

/// An `Allocate` request, read.
pub struct Allocation {
    pub year: i32,
    pub fund: FundType,
    pub inputs: AllocateInputs,
    /// The form the inputs were given in, which names their fields in errors.
    pub form: Form,
}

impl TryFrom<&pb::AllocateRequest> for Allocation {
    type Error = Error;

    fn try_from(body: &pb::AllocateRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        request_id(&body.request_id, &mut violations);
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let form = one_form(
            body.inputs.as_ref().map(|_| "inputs"),
            &body.inputs_json,
            ("inputs", "inputs_json"),
            &mut violations,
        );
        let inputs = match (form, &body.inputs) {
            (None, _) => None,
            (Some(Form::Typed), Some(typed)) => {
                taken(typed::inputs_from_wire("inputs", typed), &mut violations)
            }
            (Some(_), _) => take(
                read_json(&body.inputs_json, "allocation inputs")
                    .map_err(|err| ("inputs_json".to_owned(), err)),
                &mut violations,
            ),
        };
        let (year, fund, (inputs, form)) = keyed(year, fund, inputs.zip(form), violations)?;
        Ok(Allocation {
            year,
            fund,
            inputs,
            form,
        })
    }
}

/// A `GetQuotas` request, read.
pub struct QuotaQuery {
    pub year: i32,
    pub fund: FundType,
}

impl TryFrom<&pb::GetQuotasRequest> for QuotaQuery {
    type Error = Error;

    fn try_from(body: &pb::GetQuotasRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        if body.hospital_code.trim().is_empty() {
            violations.push(("hospital_code".to_owned(), "is required".to_owned()));
        }
        let (year, fund, ()) = keyed(year, fund, Some(()), violations)?;
        Ok(QuotaQuery { year, fund })
    }
}

/// A `PutSharingPolicy` request's key, the request giving its policy in exactly one form; the
/// policy itself is read by [`sharing_policy`] once the request is known not to be a retry.
pub struct SharingPolicyWrite {
    pub year: i32,
}

impl TryFrom<&pb::PutSharingPolicyRequest> for SharingPolicyWrite {
    type Error = Error;

    fn try_from(body: &pb::PutSharingPolicyRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        request_id(&body.request_id, &mut violations);
        let year = take(wire::year("year", body.year), &mut violations);
        // One form or the other: two policies could disagree, and neither says nothing.
        one_form(
            body.policy.as_ref().map(|_| "policy"),
            &body.policy_json,
            ("policy", "policy_json"),
            &mut violations,
        );
        match (year, violations.is_empty()) {
            (Some(year), true) => Ok(SharingPolicyWrite { year }),
            _ => Err(Error::InvalidArgument(violations)),
        }
    }
}

/// The sharing policy a put request gives: the typed `policy`, or in `policy_json` a preset name
/// (`hainan`, `xinxiang`, bare or as a JSON string) or a whole policy document. Both forms are
/// validated by the same check, its problems named under the field given.
pub fn sharing_policy(body: &pb::PutSharingPolicyRequest) -> Result<SharingPolicy, Error> {
    let (policy, form) = match &body.policy {
        Some(typed) => (
            typed::policy_from_wire("policy", typed).map_err(Error::InvalidArgument)?,
            Form::Typed,
        ),
        None => (json_sharing_policy(&body.policy_json)?, Form::Json),
    };
    policy
        .validate()
        .map_err(Error::domain(form.policy_field()))?;
    Ok(policy)
}

fn json_sharing_policy(json: &str) -> Result<SharingPolicy, Error> {
    let trimmed = json.trim();
    let name = trimmed.trim_matches('"');
    Ok(match name {
        "hainan" => SharingPolicy::hainan(),
        "xinxiang" => SharingPolicy::xinxiang(),
        _ if trimmed.is_empty() => {
            return Err(Error::InvalidArgument(vec![(
                "policy_json".into(),
                "is required: a policy document or a preset name (hainan, xinxiang)".into(),
            )]));
        }
        _ => read_json(trimmed, "a sharing policy nor a preset name")
            .map_err(|err| Error::InvalidArgument(vec![("policy_json".into(), err)]))?,
    })
}

/// A `ComputeSharing` request, read: hospital years of the request's fund.
pub struct SharingQuestion {
    pub year: i32,
    pub fund: FundType,
    pub hospitals: Vec<HospitalYear>,
    /// The form the hospitals were given in, which names their fields in errors.
    pub form: Form,
}

impl TryFrom<&pb::ComputeSharingRequest> for SharingQuestion {
    type Error = Error;

    fn try_from(body: &pb::ComputeSharingRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let form = one_form(
            body.hospitals.as_ref().map(|_| "hospitals"),
            &body.hospitals_json,
            ("hospitals", "hospitals_json"),
            &mut violations,
        );
        let hospitals: Option<Vec<HospitalYear>> = match (form, &body.hospitals) {
            (None, _) => None,
            (Some(Form::Typed), Some(typed)) => taken(
                typed::hospitals_from_wire("hospitals", typed),
                &mut violations,
            ),
            (Some(_), _) => take(
                read_json(&body.hospitals_json, "a list of hospital years")
                    .map_err(|err| ("hospitals_json".to_owned(), err)),
                &mut violations,
            ),
        };
        let (year, fund, (hospitals, form)) = keyed(year, fund, hospitals.zip(form), violations)?;
        let field = |index: usize| match form {
            Form::Typed => format!("hospitals.hospitals[{index}].fund_type"),
            Form::Json => format!("hospitals_json[{index}].fund"),
        };
        let mismatched: Vec<Violation> = hospitals
            .iter()
            .enumerate()
            .filter(|(_, hospital)| hospital.fund != fund)
            .map(|(index, hospital)| {
                (
                    field(index),
                    format!("is {}, the request is for fund {fund}", hospital.fund),
                )
            })
            .collect();
        if !mismatched.is_empty() {
            return Err(Error::InvalidArgument(mismatched));
        }
        Ok(SharingQuestion {
            year,
            fund,
            hospitals,
            form,
        })
    }
}

/// A `ShareForClearing` request, read: one hospital year per hospital, nothing prepaid yet.
pub struct ClearingSharing {
    pub year: i32,
    pub fund: FundType,
    pub hospitals: Vec<HospitalYear>,
}

impl TryFrom<&internal::ShareForClearingRequest> for ClearingSharing {
    type Error = Error;

    fn try_from(body: &internal::ShareForClearingRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let mut seen = HashSet::new();
        let mut hospitals = Vec::with_capacity(body.hospitals.len());
        for (index, hospital) in body.hospitals.iter().enumerate() {
            let field = |name: &str| format!("hospitals[{index}].{name}");
            if hospital.hospital_code.trim().is_empty() {
                violations.push((field("hospital_code"), "is required".to_owned()));
            } else if !seen.insert(hospital.hospital_code.as_str()) {
                violations.push((
                    field("hospital_code"),
                    format!("{} is listed twice", hospital.hospital_code),
                ));
            }
            let standard = take(
                wire::money(&field("standard"), hospital.standard.as_ref()),
                &mut violations,
            );
            let actual = take(
                wire::money(&field("actual"), hospital.actual.as_ref()),
                &mut violations,
            );
            if let (Some(standard), Some(actual), Some(fund)) = (standard, actual, fund) {
                hospitals.push(HospitalYear {
                    hospital_code: hospital.hospital_code.clone(),
                    fund,
                    standard,
                    actual,
                    prepaid: Money::ZERO,
                    ffs_special_cases: Money::ZERO,
                });
            }
        }
        let (year, fund, hospitals) = keyed(year, fund, Some(hospitals), violations)?;
        Ok(ClearingSharing {
            year,
            fund,
            hospitals,
        })
    }
}

/// A `GetMonthlyQuotas` request, read.
pub struct MonthlyQuotaQuery {
    pub year: i32,
    pub fund: FundType,
    /// 1 to 12.
    pub month: usize,
}

impl TryFrom<&internal::GetMonthlyQuotasRequest> for MonthlyQuotaQuery {
    type Error = Error;

    fn try_from(body: &internal::GetMonthlyQuotasRequest) -> Result<Self, Error> {
        let mut violations = Vec::new();
        let (year, fund) = year_and_fund(body.year, body.fund_type, &mut violations);
        let month = usize::try_from(body.month)
            .ok()
            .filter(|m| (1..=12).contains(m));
        if month.is_none() {
            violations.push((
                "month".to_owned(),
                format!("is {}, expected 1 to 12", body.month),
            ));
        }
        let (year, fund, month) = keyed(year, fund, month, violations)?;
        Ok(MonthlyQuotaQuery { year, fund, month })
    }
}

/// A JSON document read as `T`, after `kernel::check_decimal_strings_in_json` (a decimal string
/// too long to read safely is refused first); the error is what to tell the caller.
fn read_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    kernel::check_decimal_strings_in_json(text).map_err(|err| err.to_string())?;
    serde_json::from_str(text).map_err(|err| format!("is not {what}: {err}"))
}
