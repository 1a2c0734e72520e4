//! The stored documents settlement streams, read into the domain's input: an inpatient list
//! whole, as the monitoring reads it, as a stay or as its costs, and an ambulatory settlement.

use std::borrow::Cow;
use std::collections::BTreeMap;

use kernel::{Date, DateTime, Decimal, FundType, Money, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::settlement::internal::v1 as pb;
use medpay_proto::settlement::v1::CaseSummary;
use platform::wire;
use serde::Deserialize;
use supervision_domain::{
    AmbulatoryKind, AmbulatorySettlement, CategoryTotal, ChargeCategory, Complication, Diagnosis,
    DipGroup, DipTreatment, DischargeType, EarlierCosts, FeeLine, InpatientList, ListWarning,
    Procedure, SettlementKey, Sex,
};

use super::CaseSourceError;

/// What screening reads of a stored settlement list (the national platform's field names, as
/// settlement stores them), its fee lines read as `L` ([`StoredLines`]).
#[derive(Deserialize)]
#[serde(bound(deserialize = "L: Deserialize<'de> + Default"))]
struct StoredList<L> {
    header: StoredHeader,
    patient: StoredPatient,
    stay: StoredStay,
    diagnoses: Vec<StoredDiagnosis>,
    #[serde(default)]
    procedures: Vec<StoredProcedure>,
    payment: StoredPayment,
    #[serde(default)]
    fee_lines: L,
}

/// How a stored list's fee lines are read: each one ([`Vec`] of [`StoredFeeLine`]), or not at
/// all ([`SkippedLines`]).
trait StoredLines<'a>: Deserialize<'a> + Default {
    fn read(
        self,
        unreadable: &dyn Fn(String) -> CaseSourceError,
    ) -> Result<Vec<FeeLine>, CaseSourceError>;
}

impl<'a> StoredLines<'a> for Vec<StoredFeeLine<'a>> {
    fn read(
        self,
        unreadable: &dyn Fn(String) -> CaseSourceError,
    ) -> Result<Vec<FeeLine>, CaseSourceError> {
        fee_lines(self, unreadable)
    }
}

/// Fee lines passed over unread: the JSON is still checked, nothing of it is built.
#[derive(Default)]
struct SkippedLines;

impl<'de> Deserialize<'de> for SkippedLines {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer).map(|_| SkippedLines)
    }
}

impl StoredLines<'_> for SkippedLines {
    fn read(
        self,
        _unreadable: &dyn Fn(String) -> CaseSourceError,
    ) -> Result<Vec<FeeLine>, CaseSourceError> {
        Ok(Vec::new())
    }
}

/// What screening reads of a stored outpatient, chronic-outpatient or pharmacy settlement.
#[derive(Deserialize)]
struct StoredAmbulatory<'a> {
    header: StoredAmbulatoryHeader,
    settled_at: DateTime,
    #[serde(default)]
    diagnoses: Vec<StoredAmbulatoryDiagnosis>,
    #[serde(default, borrow)]
    fee_lines: Vec<StoredFeeLine<'a>>,
}

#[derive(Deserialize)]
struct StoredAmbulatoryHeader {
    setl_id: String,
    fixmedins_code: String,
    psn_no: String,
}

#[derive(Deserialize)]
struct StoredAmbulatoryDiagnosis {
    code: String,
}

#[derive(Deserialize)]
struct StoredHeader {
    setl_id: String,
    fixmedins_code: String,
    hospital_level: String,
    psn_no: String,
    pooling_region: RegionCode,
}

#[derive(Deserialize)]
struct StoredPatient {
    sex: u8,
    birth_date: Date,
}

#[derive(Deserialize)]
struct StoredStay {
    med_type: String,
    admitted_at: DateTime,
    admission_department: String,
    discharged_at: DateTime,
    discharge_type: u8,
    #[serde(default)]
    planned_readmission_31d: bool,
}

#[derive(Deserialize)]
struct StoredDiagnosis {
    code: String,
    name: String,
    admission_condition: u8,
}

#[derive(Deserialize)]
struct StoredProcedure {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct StoredPayment {
    medfee_sumamt: Money,
    hifp_pay: Money,
    #[serde(default)]
    acct_pay: Money,
    #[serde(default)]
    psn_cash_pay: Money,
    #[serde(default)]
    fulamt_ownpay_amt: Money,
}

/// A fee line as stored; its charge category is read in place, since only its code is kept.
#[derive(Deserialize)]
struct StoredFeeLine<'a> {
    hilist_code: String,
    #[serde(borrow)]
    med_chrgitm_type: Cow<'a, str>,
    pric: Decimal,
    cnt: Decimal,
    det_item_fee_sumamt: Money,
    #[serde(default)]
    inscp_amt: Money,
    fee_ocur_time: DateTime,
}

/// The fields of a stored list [`EarlierCosts`] reads; serde skips the rest of the document
/// without building it.
#[derive(Deserialize)]
struct StoredCosts {
    header: StoredCostsHeader,
    stay: StoredCostsStay,
    payment: StoredCostsPayment,
}

#[derive(Deserialize)]
struct StoredCostsHeader {
    fixmedins_code: String,
}

#[derive(Deserialize)]
struct StoredCostsStay {
    admission_department: String,
}

#[derive(Deserialize)]
struct StoredCostsPayment {
    medfee_sumamt: Money,
    hifp_pay: Money,
}

/// How a streamed case that cannot be read is reported: by the hospital and list id the ledger
/// gave it (empty when the stream sent no summary).
fn unreadable_case(
    summary: Option<&CaseSummary>,
) -> impl Fn(String) -> CaseSourceError + Copy + '_ {
    move |reason| CaseSourceError::Unreadable {
        hospital: summary.map(|s| s.hospital_code.clone()).unwrap_or_default(),
        list_id: summary.map(|s| s.list_id.clone()).unwrap_or_default(),
        reason,
    }
}

/// The fund the ledger recorded for a streamed case.
fn ledger_fund(
    summary: Option<&CaseSummary>,
    unreadable: &dyn Fn(String) -> CaseSourceError,
) -> Result<FundType, CaseSourceError> {
    wire::fund_type("fund_type", summary.map_or(0, |s| s.fund_type))
        .map_err(|(_, reason)| unreadable(format!("fund type: {reason}")))
}

/// The costs of one streamed list, as [`inpatient_list`] would read them.
pub fn earlier_costs(case: &pb::StreamCasesResponse) -> Result<EarlierCosts, CaseSourceError> {
    let unreadable = unreadable_case(case.summary.as_ref());
    let stored: StoredCosts = serde_json::from_str(&case.case_json)
        .map_err(|e| unreadable(format!("the stored list is not readable: {e}")))?;
    let fund_type = ledger_fund(case.summary.as_ref(), &unreadable)?;
    Ok(EarlierCosts {
        hospital: stored.header.fixmedins_code,
        department: stored.stay.admission_department,
        fund_type,
        total_cost: stored.payment.medfee_sumamt,
        fund_paid: stored.payment.hifp_pay,
    })
}

/// The screening input of one streamed case: its stored list, with the group, fund and grouping
/// facts (counted complications, the DIP group's treatment type) the ledger recorded for it.
pub fn inpatient_list(case: &pb::StreamCasesResponse) -> Result<InpatientList, CaseSourceError> {
    read_inpatient::<Vec<StoredFeeLine<'_>>>(case)
}

/// One streamed case as the monitoring indicators read it: as [`inpatient_list`] reads it, and
/// for a list streamed without its fee lines, with their totals per category and their
/// in-policy sum instead. A list that came with its lines (a server from before
/// `without_fee_lines` streams them whole) is read from them alone.
pub fn monitored_list(case: &pb::StreamCasesResponse) -> Result<InpatientList, CaseSourceError> {
    let mut list = inpatient_list(case)?;
    if !list.lines.is_empty() || case.fee_line_totals.is_empty() {
        return Ok(list);
    }
    let unreadable = unreadable_case(case.summary.as_ref());
    let money = |value: Option<&common::Money>, what: &str, category: &str| {
        let yuan = value.map_or("", |money| money.yuan.as_str());
        yuan.parse::<Money>().map_err(|e| {
            unreadable(format!(
                "the {what} of the fee lines of category {category:?}, {yuan:?}: {e}"
            ))
        })
    };
    let mut in_policy = Money::default();
    for total in &case.fee_line_totals {
        let category = ChargeCategory::parse(&total.med_chrgitm_type).ok_or_else(|| {
            unreadable(format!(
                "charge category {:?} of the fee line totals is not a code",
                total.med_chrgitm_type
            ))
        })?;
        let code = total.med_chrgitm_type.as_str();
        list.line_totals.push(CategoryTotal {
            category,
            amount: money(total.amount.as_ref(), "amount", code)?,
        });
        in_policy += money(total.in_policy_amount.as_ref(), "in-policy amount", code)?;
    }
    list.in_policy_amount = in_policy;
    Ok(list)
}

/// One streamed case as the rules across stays read it: as [`inpatient_list`] reads it, but
/// without its fee lines, which none of those rules reads. The list's `lines` are empty, and its
/// in-policy amount is therefore the payment's.
pub fn inpatient_stay(case: &pb::StreamCasesResponse) -> Result<InpatientList, CaseSourceError> {
    read_inpatient::<SkippedLines>(case)
}

fn read_inpatient<'a, L: StoredLines<'a>>(
    case: &'a pb::StreamCasesResponse,
) -> Result<InpatientList, CaseSourceError> {
    let summary = case.summary.clone().unwrap_or_default();
    let unreadable = unreadable_case(Some(&summary));
    let stored: StoredList<L> = serde_json::from_str(&case.case_json)
        .map_err(|e| unreadable(format!("the stored list is not readable: {e}")))?;
    let fund_type = ledger_fund(Some(&summary), &unreadable)?;
    let sex = match stored.patient.sex {
        1 => Sex::Male,
        2 => Sex::Female,
        other => return Err(unreadable(format!("sex {other} is neither 1 nor 2"))),
    };
    let discharge_type = DischargeType::from_code(stored.stay.discharge_type).ok_or_else(|| {
        unreadable(format!(
            "discharge type {} is not a code",
            stored.stay.discharge_type
        ))
    })?;
    let lines = stored.fee_lines.read(&unreadable)?;
    let payment = stored.payment;
    // A list without fee lines carries no in-policy split: everything not wholly self-paid is.
    let in_policy_amount = if lines.is_empty() {
        payment.medfee_sumamt - payment.fulamt_ownpay_amt
    } else {
        lines
            .iter()
            .fold(Money::default(), |sum, line| sum + line.in_policy_amount)
    };
    let facts = case.grouping.clone().unwrap_or_default();
    let grouped = !summary.group_code.is_empty();
    let drg = (summary.payment_mode == "drg" && grouped).then(|| summary.group_code.clone());
    let dip_group = dip_group(&summary, &facts).map_err(unreadable)?;
    let counted = counted_complications(&facts).map_err(unreadable)?;
    Ok(InpatientList {
        key: SettlementKey::new(stored.header.fixmedins_code, stored.header.setl_id),
        fund_type,
        pooling_region: stored.header.pooling_region,
        hospital_level: stored.header.hospital_level,
        person_id: stored.header.psn_no,
        sex,
        birth_date: stored.patient.birth_date,
        med_type: stored.stay.med_type,
        department: stored.stay.admission_department,
        admitted_at: stored.stay.admitted_at,
        discharged_at: stored.stay.discharged_at,
        discharge_type,
        planned_readmission: stored.stay.planned_readmission_31d,
        diagnoses: stored
            .diagnoses
            .into_iter()
            .enumerate()
            .map(|(index, d)| Diagnosis {
                code: d.code,
                name: d.name,
                admission_condition: Some(d.admission_condition),
                // Grouping's count, by 1-based position, read for a list paid by its group.
                complication: (drg.is_some() || dip_group.is_some())
                    .then(|| counted.get(&(index + 1)).copied())
                    .flatten()
                    .unwrap_or(Complication::None),
            })
            .collect(),
        procedures: stored
            .procedures
            .into_iter()
            .map(|p| Procedure {
                code: p.code,
                name: p.name,
            })
            .collect(),
        drg,
        dip_group,
        total_cost: payment.medfee_sumamt,
        in_policy_amount,
        fund_paid: payment.hifp_pay,
        individual_burden: payment.acct_pay + payment.psn_cash_pay,
        full_self_pay: payment.fulamt_ownpay_amt,
        lines,
        line_totals: Vec::new(),
        warnings: summary
            .warnings
            .iter()
            .map(|w| ListWarning {
                fails_qc: w.level == "error",
                code: w.code.clone(),
            })
            .collect(),
    })
}

/// Payment modes that pay a DIP-grouped list by its group or its procedure: DIP itself, a
/// basic-level disease (a DIP group at one price at every level) and day surgery (a price per
/// disease and procedure). Per-diem and fee-for-service lists are not paid by their group.
const DIP_MODES: [&str; 3] = ["dip", "basic_level_disease", "day_surgery"];

/// The DIP group a list was paid by: its group code with the treatment type grouping reported;
/// `None` for a list paid otherwise, ungrouped, or valued before grouping reported the type.
fn dip_group(
    summary: &medpay_proto::settlement::v1::CaseSummary,
    facts: &pb::GroupingFacts,
) -> Result<Option<DipGroup>, String> {
    if !DIP_MODES.contains(&summary.payment_mode.as_str())
        || summary.group_code.is_empty()
        || facts.dip_treatment.is_empty()
    {
        return Ok(None);
    }
    let treatment = DipTreatment::parse(&facts.dip_treatment).ok_or_else(|| {
        format!(
            "DIP treatment type {:?} is not a treatment type",
            facts.dip_treatment
        )
    })?;
    Ok(Some(DipGroup {
        code: summary.group_code.clone(),
        treatment,
    }))
}

/// The secondary diagnoses grouping counted (MCC or CC of a DRG, CCI of a DIP group), by
/// 1-based position.
fn counted_complications(
    facts: &pb::GroupingFacts,
) -> Result<BTreeMap<usize, Complication>, String> {
    facts
        .complications
        .iter()
        .map(|counted| {
            let complication = match counted.kind.as_str() {
                "mcc" => Complication::Mcc,
                "cc" => Complication::Cc,
                "cci" => Complication::Cci,
                other => {
                    return Err(format!(
                        "complication kind {other:?} of {} is not mcc, cc or cci",
                        counted.code
                    ));
                }
            };
            Ok((counted.position as usize, complication))
        })
        .collect()
}

fn fee_lines(
    stored: Vec<StoredFeeLine<'_>>,
    unreadable: &dyn Fn(String) -> CaseSourceError,
) -> Result<Vec<FeeLine>, CaseSourceError> {
    stored
        .into_iter()
        .map(|line| {
            let category = ChargeCategory::parse(&line.med_chrgitm_type).ok_or_else(|| {
                unreadable(format!(
                    "charge category {:?} of {} is not a code",
                    line.med_chrgitm_type, line.hilist_code
                ))
            })?;
            Ok(FeeLine {
                item_code: line.hilist_code,
                item_name: String::new(),
                category,
                quantity: line.cnt,
                unit_price: line.pric,
                amount: line.det_item_fee_sumamt,
                in_policy_amount: line.inscp_amt,
                charged_at: line.fee_ocur_time,
            })
        })
        .collect()
}

/// The screening input of one streamed ambulatory settlement: its stored record, with the kind
/// and fund the ledger recorded for it.
pub fn ambulatory_settlement(
    case: &pb::StreamCasesResponse,
) -> Result<AmbulatorySettlement, CaseSourceError> {
    let unreadable = unreadable_case(case.summary.as_ref());
    let kind = match case.record_kind.as_str() {
        "outpatient" => AmbulatoryKind::Outpatient,
        "chronic_outpatient" => AmbulatoryKind::ChronicOutpatient,
        "pharmacy" => AmbulatoryKind::Pharmacy,
        other => {
            return Err(unreadable(format!(
                "record kind {other:?} is not an ambulatory settlement"
            )));
        }
    };
    let stored: StoredAmbulatory = serde_json::from_str(&case.case_json)
        .map_err(|e| unreadable(format!("the stored settlement is not readable: {e}")))?;
    let fund_type = ledger_fund(case.summary.as_ref(), &unreadable)?;
    Ok(AmbulatorySettlement {
        key: SettlementKey::new(stored.header.fixmedins_code, stored.header.setl_id),
        fund_type,
        person_id: stored.header.psn_no,
        kind,
        settled_at: stored.settled_at,
        diagnoses: stored.diagnoses.into_iter().map(|d| d.code).collect(),
        lines: fee_lines(stored.fee_lines, &unreadable)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streamed(case_json: String) -> pb::StreamCasesResponse {
        pb::StreamCasesResponse {
            summary: Some(CaseSummary {
                hospital_code: "H001".into(),
                list_id: "L1".into(),
                fund_type: 390,
                ..Default::default()
            }),
            case_json,
            record_kind: crate::cases::INPATIENT.into(),
            grouping: None,
            fee_line_totals: Vec::new(),
        }
    }

    fn total(category: &str, amount: &str, in_policy: &str) -> pb::FeeLineTotal {
        pb::FeeLineTotal {
            med_chrgitm_type: category.into(),
            amount: Some(common::Money {
                yuan: amount.into(),
            }),
            in_policy_amount: Some(common::Money {
                yuan: in_policy.into(),
            }),
        }
    }

    /// The stored list of [`stored`] as settlement streams it without its fee lines.
    fn head_of(document: &str) -> pb::StreamCasesResponse {
        let mut list: serde_json::Value = serde_json::from_str(document).expect("json");
        list.as_object_mut().expect("list").remove("fee_lines");
        let mut case = streamed(list.to_string());
        case.fee_line_totals = vec![total("09", "25.00", "25.00")];
        case
    }

    fn stored(department: &str, total: &str, fund: &str) -> String {
        serde_json::json!({
            "header": {"setl_id": "L1", "fixmedins_code": "H001", "hospital_level": "3",
                       "psn_no": "P1", "pooling_region": "460100"},
            "patient": {"sex": 2, "birth_date": "1960-05-01"},
            "stay": {"med_type": "21", "admitted_at": "2024-03-01 08:00:00",
                     "admission_department": department,
                     "discharged_at": "2024-03-09 10:00:00", "discharge_type": 1},
            "diagnoses": [{"code": "J18.900", "name": "肺炎", "admission_condition": 1}],
            "payment": {"medfee_sumamt": total, "hifp_pay": fund, "psn_cash_pay": "10.00"},
            "fee_lines": [{"hilist_code": "XJ01", "med_chrgitm_type": "09", "pric": "12.50",
                           "cnt": "2", "det_item_fee_sumamt": "25.00", "inscp_amt": "25.00",
                           "fee_ocur_time": "2024-03-02 09:00:00"}],
        })
        .to_string()
    }

    #[test]
    fn the_costs_read_alone_are_those_of_the_whole_list() {
        for (department, total, fund) in [("A03", "1234.56", "987.65"), ("内科", "0.00", "0.00")]
        {
            let case = streamed(stored(department, total, fund));
            let whole = inpatient_list(&case).expect("the whole list reads");
            let costs = earlier_costs(&case).expect("the costs read");
            assert_eq!(costs, EarlierCosts::from(&whole));
            assert_eq!(costs.department, department);
            assert_eq!(costs.total_cost.to_string(), total);
            assert_eq!(costs.fund_paid.to_string(), fund);
        }
    }

    #[test]
    fn a_stay_is_the_whole_list_without_its_fee_lines() {
        let case = streamed(stored("A03", "1234.56", "987.65"));
        let whole = inpatient_list(&case).expect("the whole list reads");
        let stay = inpatient_stay(&case).expect("the stay reads");
        assert_eq!(whole.lines.len(), 1);
        assert_eq!(whole.in_policy_amount.to_string(), "25.00");
        let mut expected = whole;
        expected.lines.clear();
        expected.in_policy_amount = expected.total_cost - expected.full_self_pay;
        assert_eq!(stay, expected);
    }

    #[test]
    fn a_list_read_without_its_lines_bills_and_covers_what_its_lines_did() {
        let document = stored("A03", "1234.56", "987.65");
        let whole = inpatient_list(&streamed(document.clone())).expect("the whole list reads");
        let monitored = monitored_list(&head_of(&document)).expect("the head reads");
        assert!(monitored.lines.is_empty());
        let drugs = [ChargeCategory::WESTERN_DRUGS];
        assert_eq!(monitored.billed_in(&drugs), whole.billed_in(&drugs));
        assert_eq!(monitored.billed_in(&drugs).to_string(), "25.00");
        assert_eq!(
            monitored.billed_in(&[ChargeCategory::CONSUMABLES]),
            Decimal::ZERO
        );
        let mut expected = whole.clone();
        expected.lines.clear();
        expected.line_totals = vec![CategoryTotal {
            category: ChargeCategory::WESTERN_DRUGS,
            amount: "25.00".parse().expect("amount"),
        }];
        assert_eq!(monitored, expected);
        assert_eq!(monitored.in_policy_amount, whole.in_policy_amount);
        // A server that streams the list whole is read from its lines, whatever else it sends.
        let mut both = streamed(document);
        both.fee_line_totals = vec![total("09", "25.00", "25.00")];
        assert_eq!(monitored_list(&both).expect("whole list"), whole);
    }

    #[test]
    fn unreadable_line_totals_are_refused_by_name() {
        let document = stored("A03", "10.00", "5.00");
        for (bad, named) in [
            (total("drugs", "1.00", "1.00"), "\"drugs\""),
            (total("09", "1.005", "1.00"), "amount"),
            (total("09", "1.00", ""), "in-policy amount"),
        ] {
            let mut case = head_of(&document);
            case.fee_line_totals = vec![bad];
            let refused = monitored_list(&case).expect_err("unreadable totals");
            let CaseSourceError::Unreadable {
                hospital, reason, ..
            } = refused
            else {
                panic!("{refused:?}");
            };
            assert_eq!(hospital, "H001");
            assert!(reason.contains(named), "{reason}");
        }
    }

    #[test]
    fn a_list_without_its_costs_is_refused_by_name() {
        let mut document: serde_json::Value =
            serde_json::from_str(&stored("A03", "10.00", "5.00")).expect("json");
        document["payment"]
            .as_object_mut()
            .expect("payment")
            .remove("hifp_pay");
        let refused = earlier_costs(&streamed(document.to_string())).expect_err("no fund paid");
        let CaseSourceError::Unreadable {
            hospital,
            list_id,
            reason,
        } = refused
        else {
            panic!("{refused:?}");
        };
        assert_eq!((hospital.as_str(), list_id.as_str()), ("H001", "L1"));
        assert!(reason.contains("hifp_pay"), "{reason}");
    }
}
