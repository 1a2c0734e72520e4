//! Valuation at intake: every accepted inpatient case is grouped (grouping context) and priced in
//! points (points context) through their internal gRPC contracts, a batch at a time.
//!
//! [`GrpcValuer`] implements the domain's [`CaseValuer`] port: it calls
//! `GroupingInternalService/GroupBatch` then `PointsInternalService/ValueBatch`. A case the peers
//! refuse on its own comes back as `Err(reason)` and is stored unvalued; a peer that cannot be
//! reached fails the whole batch ([`PeerUnavailable`]) so that nothing of it is stored and the
//! caller can retry.

use std::collections::BTreeSet;

use kernel::{Decimal, FundType, Points, RegionCode};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::internal::v1 as grouping_internal;
use medpay_proto::grouping::internal::v1::grouping_internal_service_client::GroupingInternalServiceClient;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::points::internal::v1 as points_internal;
use medpay_proto::points::internal::v1::points_internal_service_client::PointsInternalServiceClient;
use medpay_proto::points::v1 as points;
use platform::peer::PeerCredentials;
use settlement_domain::case::SettlementList;
use settlement_domain::payment_mode::PaymentMode;
use settlement_domain::ports::{
    BatchValuation, CaseValuer, CheckedValuation, CodeKind, PeerUnavailable, UnknownCode,
    ValuedCase,
};
use settlement_domain::valuation_record::{self, ValuationRecord};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The ledger's word for a valuation's payment mode: from the typed `mode`; a points service
/// older than that field sends only the text, read as before.
fn ledger_mode(valuation: &points::CaseValuation) -> String {
    let typed = match valuation.mode() {
        points::PaymentMode::Unspecified => None,
        points::PaymentMode::Drg => Some(PaymentMode::Drg),
        points::PaymentMode::Dip => Some(PaymentMode::Dip),
        points::PaymentMode::PerDiemPsychiatric => Some(PaymentMode::PerDiemPsychiatric),
        points::PaymentMode::PerDiemRehabilitation => Some(PaymentMode::PerDiemRehabilitation),
        points::PaymentMode::PerDiemHospice => Some(PaymentMode::PerDiemHospice),
        points::PaymentMode::DaySurgery => Some(PaymentMode::DaySurgery),
        points::PaymentMode::FixedRate => Some(PaymentMode::FixedRate),
        points::PaymentMode::BasicLevel => Some(PaymentMode::BasicLevelDisease),
        points::PaymentMode::FeeForService => Some(PaymentMode::FeeForService),
    };
    typed.map_or_else(
        || payment_mode_name(&valuation.payment_mode),
        |mode| mode.as_str().to_owned(),
    )
}

/// Ledger spelling of the points context's payment modes, from their text.
pub fn payment_mode_name(wire: &str) -> String {
    match wire {
        "FFS" => "fee_for_service".to_owned(),
        "BASIC_LEVEL" => "basic_level_disease".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

/// Whether a failed call is the peer's trouble rather than the cases': then nothing of the batch
/// may be kept (the peers fail a whole call only for the request itself or for their storage).
/// `Unknown` is never a peer's answer: it is how the client reports a call that got none, a
/// transport error or a connection lost after the answer's headers and before its body ("h2
/// protocol error: error reading a body from connection"). A peer that refuses this service's identity (a missing or wrong `peers.api_key` or client
/// certificate) is a misconfiguration the operator must see: it fails the batch too, and is
/// logged, instead of leaving every case unvalued.
fn unreachable(status: &Status) -> bool {
    if matches!(
        status.code(),
        Code::Unauthenticated | Code::PermissionDenied | Code::Unimplemented
    ) {
        tracing::error!(
            code = ?status.code(),
            message = status.message(),
            "a peer context refused this service's call: check [peers] (api_key, TLS identity)"
        );
        return true;
    }
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Internal
            | Code::Unknown
    )
}

fn group_status_name(status: i32) -> &'static str {
    match grouping::GroupStatus::try_from(status) {
        Ok(grouping::GroupStatus::Success) => "SUCCESS",
        Ok(grouping::GroupStatus::Fail) => "FAIL",
        Ok(grouping::GroupStatus::CheckFailed) => "CHECK_FAILED",
        Ok(grouping::GroupStatus::DxNotMapped) => "DX_NOT_MAPPED",
        Ok(grouping::GroupStatus::ProcNotMapped) => "PROC_NOT_MAPPED",
        Ok(grouping::GroupStatus::Ambiguous) => "AMBIGUOUS",
        _ => "UNSPECIFIED",
    }
}

fn wire_date(date: kernel::date::Date) -> common::Date {
    let (year, month, day) = date.ymd();
    common::Date {
        year,
        month: i32::try_from(month).unwrap_or(0),
        day: i32::try_from(day).unwrap_or(0),
    }
}

fn money(value: kernel::Money) -> common::Money {
    common::Money {
        yuan: value.to_string(),
    }
}

/// The grouping input of a case; the case id is its position in the batch.
pub fn case_input(position: usize, list: &SettlementList) -> grouping::CaseInput {
    grouping::CaseInput {
        case_id: position.to_string(),
        gender: list.patient.sex.to_string(),
        age_years: list.patient.age_years.to_string(),
        age_days: list
            .patient
            .age_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        weight_grams: list
            .patient
            .newborn_birth_weight_g
            .map(|w| w.to_string())
            .unwrap_or_default(),
        department: list.stay.discharge_department.clone(),
        diagnoses: list.diagnoses.iter().map(|d| d.code.clone()).collect(),
        procedures: list.procedures.iter().map(|p| p.code.clone()).collect(),
        total_cost: Some(money(list.payment.total)),
        discharge_type: list.stay.discharge_type.to_string(),
        length_of_stay_days: list.stay.length_of_stay(),
    }
}

/// The points input of a grouped case.
fn case_for_valuation(
    position: usize,
    list: &SettlementList,
    group: &grouping::GroupResult,
    prior_episode_days: u32,
) -> points::CaseForValuation {
    points::CaseForValuation {
        case_id: position.to_string(),
        hospital_code: list.header.hospital_code.clone(),
        hospital_level: list.header.hospital_level.clone(),
        fund_type: FundType::from_code(list.header.insurance_type)
            .map_or(0, |fund| i32::from(fund.code())),
        group_code: group.drg.clone(),
        adrg: group.adrg.clone(),
        group_status: group_status_name(group.status).to_owned(),
        principal_diagnosis: list
            .principal_diagnosis()
            .map(|d| d.code.clone())
            .unwrap_or_default(),
        total_cost: Some(money(list.payment.total)),
        individual_burden: Some(money(list.payment.individual_burden())),
        admission_date: Some(wire_date(list.stay.admitted_at.date())),
        discharge_date: Some(wire_date(list.stay.discharged_at.date())),
        discharge_type: list.stay.discharge_type.to_string(),
        medical_type: list.stay.med_type.clone(),
        department: list.stay.discharge_department.clone(),
        special_case_ffs: false,
        special_case_points: None,
        dip_aux_coefficient: group.dip_coefficient.clone(),
        stay_hours: i32::try_from(list.stay.started_hours()).unwrap_or(i32::MAX),
        principal_procedure: list
            .procedures
            .first()
            .map(|p| p.code.clone())
            .unwrap_or_default(),
        prior_episode_days,
    }
}

/// The valuer over the grouping and points internal gRPC services.
#[derive(Clone)]
pub struct GrpcValuer {
    grouping: GroupingInternalServiceClient<Channel>,
    points: PointsInternalServiceClient<Channel>,
    credentials: PeerCredentials,
}

impl GrpcValuer {
    /// A valuer over two channels; `api_key`, when set, is sent as `authorization: Bearer`.
    pub fn new(grouping: Channel, points: Channel, api_key: Option<&str>) -> Result<Self, String> {
        let credentials = PeerCredentials::from_api_key(api_key)?;
        Ok(Self {
            grouping: GroupingInternalServiceClient::new(grouping)
                .max_decoding_message_size(256 * 1024 * 1024)
                .max_encoding_message_size(256 * 1024 * 1024),
            points: PointsInternalServiceClient::new(points)
                .max_decoding_message_size(256 * 1024 * 1024)
                .max_encoding_message_size(256 * 1024 * 1024),
            credentials,
        })
    }

    fn request<T>(&self, body: T) -> Request<T> {
        self.credentials.request(body)
    }
}

/// The unknown codes grouping reported for a case.
fn unknown_codes(outcome: &grouping_internal::GroupBatchResult) -> Vec<UnknownCode> {
    outcome
        .unknown_codes
        .iter()
        .filter_map(|unknown| {
            let kind = match unknown.kind() {
                grouping_internal::CodeKind::Diagnosis => CodeKind::Diagnosis,
                grouping_internal::CodeKind::Procedure => CodeKind::Procedure,
                grouping_internal::CodeKind::Unspecified => return None,
            };
            Some(UnknownCode {
                kind,
                position: usize::try_from(unknown.position).unwrap_or(usize::MAX),
                code: unknown.code.clone(),
            })
        })
        .collect()
}

#[async_trait::async_trait]
impl CaseValuer for GrpcValuer {
    async fn value_batch(
        &self,
        region: RegionCode,
        cases: &[SettlementList],
        prior_days: &[u32],
    ) -> Result<BatchValuation, PeerUnavailable> {
        Ok(self
            .value_and_check(region, cases, prior_days)
            .await?
            .valuations)
    }

    async fn value_and_check(
        &self,
        region: RegionCode,
        cases: &[SettlementList],
        prior_days: &[u32],
    ) -> Result<CheckedValuation, PeerUnavailable> {
        let prior = |i: usize| prior_days.get(i).copied().unwrap_or(0);
        if cases.is_empty() {
            return Ok(CheckedValuation::default());
        }
        let unvalued = |answers: BatchValuation| CheckedValuation {
            unknown_codes: vec![Vec::new(); answers.len()],
            valuations: answers,
        };
        let mut answers: BatchValuation = vec![Err("not valued".to_owned()); cases.len()];
        let grouped = self
            .grouping
            .clone()
            .group_batch(
                self.request(grouping_internal::GroupBatchRequest {
                    region_code: region.to_string(),
                    cases: cases
                        .iter()
                        .enumerate()
                        .map(|(i, list)| grouping_internal::DatedCase {
                            case: Some(case_input(i, list)),
                            discharge_date: Some(wire_date(list.stay.discharged_at.date())),
                        })
                        .collect(),
                }),
            )
            .await;
        let groups = match grouped {
            Ok(response) => response.into_inner().results,
            Err(status) if unreachable(&status) => {
                return Err(PeerUnavailable {
                    peer: "grouping",
                    message: status.message().to_owned(),
                });
            }
            Err(status) => {
                let reason = format!("grouping: {}", status.message());
                return Ok(unvalued(vec![Err(reason); cases.len()]));
            }
        };
        if groups.len() != cases.len() {
            return Ok(unvalued(vec![
                Err(format!(
                    "grouping answered {} results for {} cases",
                    groups.len(),
                    cases.len()
                ));
                cases.len()
            ]));
        }
        let unknown: Vec<Vec<UnknownCode>> = groups.iter().map(unknown_codes).collect();
        // A case grouping refused on its own is not valued; the others go on to points.
        let mut groups_of = Vec::with_capacity(groups.len());
        for (i, outcome) in groups.into_iter().enumerate() {
            match outcome.result {
                Some(result) if outcome.error.is_empty() => groups_of.push(Some(result)),
                _ => {
                    answers[i] = Err(format!(
                        "grouping: {} {}",
                        outcome.error, outcome.error_message
                    ));
                    groups_of.push(None);
                }
            }
        }
        let groups = groups_of;
        // The points table is chosen by discharge year: one ValueBatch per year of the batch.
        let years: BTreeSet<i32> = cases
            .iter()
            .map(|list| list.stay.discharged_at.date().year())
            .collect();
        for year in years {
            let positions: Vec<usize> = (0..cases.len())
                .filter(|&i| {
                    groups[i].is_some() && cases[i].stay.discharged_at.date().year() == year
                })
                .collect();
            if positions.is_empty() {
                continue;
            }
            let valued = self
                .points
                .clone()
                .value_batch(
                    self.request(points_internal::ValueBatchRequest {
                        region_code: region.to_string(),
                        year,
                        cases: positions
                            .iter()
                            .filter_map(|&i| {
                                groups[i]
                                    .as_ref()
                                    .map(|group| case_for_valuation(i, &cases[i], group, prior(i)))
                            })
                            .collect(),
                    }),
                )
                .await;
            let results = match valued {
                Ok(response) => response.into_inner().results,
                Err(status) if unreachable(&status) => {
                    return Err(PeerUnavailable {
                        peer: "points",
                        message: status.message().to_owned(),
                    });
                }
                Err(status) => {
                    for &i in &positions {
                        answers[i] = Err(format!("points: {}", status.message()));
                    }
                    continue;
                }
            };
            for (slot, &i) in positions.iter().enumerate() {
                let Some(group) = &groups[i] else {
                    continue;
                };
                answers[i] = match results.get(slot) {
                    None => Err("points answered fewer results than cases".to_owned()),
                    Some(result) if !result.error.is_empty() => {
                        Err(format!("points: {} {}", result.error_reason, result.error))
                    }
                    Some(result) => match &result.valuation {
                        None => Err("points answered no valuation".to_owned()),
                        Some(valuation) => valued_from(group, valuation, prior(i)),
                    },
                };
            }
        }
        Ok(CheckedValuation {
            valuations: answers,
            unknown_codes: unknown,
        })
    }
}

/// The secondary diagnoses grouping counted as MCC or CC, as the ledger keeps them.
fn counted_diagnoses(group: &grouping::GroupResult) -> Vec<valuation_record::CountedDiagnosis> {
    group
        .complications
        .iter()
        .filter_map(|counted| {
            let kind = match counted.kind() {
                grouping::ComplicationKind::Mcc => "mcc",
                grouping::ComplicationKind::Cc => "cc",
                grouping::ComplicationKind::Cci => "cci",
                grouping::ComplicationKind::Unspecified => return None,
            };
            Some(valuation_record::CountedDiagnosis {
                position: counted.position,
                code: counted.code.clone(),
                kind: kind.to_owned(),
            })
        })
        .collect()
}

/// The treatment type of a DIP group in grouping's words; `None` for DRG and older peers.
fn dip_treatment(group: &grouping::GroupResult) -> Option<String> {
    let word = match group.dip_treatment() {
        grouping::DipTreatment::Unspecified => return None,
        grouping::DipTreatment::Conservative => "conservative",
        grouping::DipTreatment::Diagnostic => "diagnostic",
        grouping::DipTreatment::Therapeutic => "therapeutic",
        grouping::DipTreatment::Interventional => "interventional",
        grouping::DipTreatment::Surgical => "surgical",
    };
    Some(word.to_owned())
}

fn valued_from(
    group: &grouping::GroupResult,
    valuation: &points::CaseValuation,
    prior_episode_days: u32,
) -> Result<ValuedCase, String> {
    let case_points = match &valuation.points {
        None => Points::from_scaled(0),
        Some(value) if value.value.is_empty() => Points::from_scaled(0),
        Some(value) => value
            .value
            .parse::<Decimal>()
            .map(Points::round)
            .map_err(|e| format!("points answered unreadable points {:?}: {e}", value.value))?,
    };
    let amount = match &valuation.amount {
        Some(money) if !money.yuan.is_empty() => {
            Some(money.yuan.parse::<kernel::Money>().map_err(|e| {
                format!("points answered an unreadable amount {:?}: {e}", money.yuan)
            })?)
        }
        _ => None,
    };
    let scheme_version = group
        .scheme
        .as_ref()
        .map(|s| format!("{}@{}", s.scheme_id, s.version))
        .unwrap_or_default();
    let decimal = |name: &str, value: &Option<common::Decimal>| {
        crate::convert::optional_decimal(name, value.as_ref()).map_err(|(_, why)| {
            let text = value.as_ref().map(|d| d.value.as_str()).unwrap_or_default();
            format!("points answered an unreadable {name} {text:?}: {why}")
        })
    };
    let breakdown = if valuation.breakdown_json.is_empty() {
        None
    } else {
        Some(
            serde_json::from_str::<valuation_record::Breakdown>(&valuation.breakdown_json)
                .map_err(|e| format!("points answered an unreadable breakdown: {e}"))?,
        )
    };
    let record = ValuationRecord {
        payment_mode: valuation.payment_mode.clone(),
        mode_rule: valuation.mode_rule.clone(),
        case_type: valuation.case_type.clone(),
        group_status: group_status_name(group.status).to_owned(),
        group_reason: group.reason.clone(),
        base: decimal("base", &valuation.base)?,
        coefficient: decimal("coefficient", &valuation.coefficient)?,
        cost_ratio: decimal("cost_ratio", &valuation.cost_ratio)?,
        add_on: decimal("add_on", &valuation.add_on)?,
        amount,
        breakdown,
        complications: counted_diagnoses(group),
        dip_treatment: dip_treatment(group),
    };
    Ok(ValuedCase {
        payment_mode: ledger_mode(valuation),
        group_code: group.drg.clone(),
        points: case_points,
        amount,
        scheme_version,
        table_version: valuation.table_version.to_string(),
        valuation_json: record.to_json(),
        episode_programme: valuation.episode_programme.clone(),
        prior_episode_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_got_no_answer_fails_the_batch_and_a_refusal_of_the_cases_does_not() {
        // What tonic reports when the connection goes between the answer's headers and body.
        let cut = Status::unknown("h2 protocol error: error reading a body from connection");
        assert!(unreachable(&cut));
        assert!(unreachable(&Status::unknown("transport error")));
        assert!(unreachable(&Status::unavailable("tcp connect error")));
        assert!(!unreachable(&Status::failed_precondition(
            "NO_ACTIVE_SCHEME: no scheme in force"
        )));
        assert!(!unreachable(&Status::invalid_argument("cases[0].gender")));
        assert!(!unreachable(&Status::not_found("no table")));
    }

    /// Intake sends valuation its lists without their fee lines (`spawn_first_valuation`), so
    /// what grouping and points are sent must not depend on them.
    #[test]
    fn what_grouping_and_points_are_sent_reads_no_fee_line() {
        let list: SettlementList =
            serde_json::from_str(crate::convert::lists::tests::RICH_LIST).expect("json");
        assert!(!list.fee_lines.is_empty());
        let without = list.without_fee_lines();
        assert!(without.fee_lines.is_empty());
        assert_eq!(case_input(3, &without), case_input(3, &list));
        let group = grouping::GroupResult {
            drg: "GB11".into(),
            adrg: "GB1".into(),
            ..Default::default()
        };
        assert_eq!(
            case_for_valuation(3, &without, &group, 12),
            case_for_valuation(3, &list, &group, 12)
        );
        assert_eq!(
            SettlementList {
                fee_lines: list.fee_lines.clone(),
                ..without
            },
            list
        );
    }

    fn valuation(mode: points::PaymentMode, text: &str) -> points::CaseValuation {
        points::CaseValuation {
            mode: mode as i32,
            payment_mode: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_episode_programme_and_the_prior_days_sent_are_kept_with_the_valuation() {
        let mut answer = valuation(points::PaymentMode::PerDiemPsychiatric, "");
        answer.episode_programme = "psychiatric".into();
        let valued =
            valued_from(&grouping::GroupResult::default(), &answer, 58).expect("a valuation");
        assert_eq!(
            (valued.episode_programme.as_str(), valued.prior_episode_days),
            ("psychiatric", 58)
        );
        let valued = valued_from(
            &grouping::GroupResult::default(),
            &valuation(points::PaymentMode::Drg, ""),
            0,
        )
        .expect("a valuation");
        assert_eq!(valued.episode_programme, "");
    }

    #[test]
    fn the_grouping_facts_supervision_reads_are_kept_in_the_valuation() {
        let group = grouping::GroupResult {
            complications: vec![
                grouping::CountedComplication {
                    position: 2,
                    code: "J96.000".into(),
                    kind: grouping::ComplicationKind::Mcc as i32,
                },
                grouping::CountedComplication {
                    position: 4,
                    code: "E87.100".into(),
                    kind: grouping::ComplicationKind::Cc as i32,
                },
            ],
            dip_treatment: grouping::DipTreatment::Interventional as i32,
            ..Default::default()
        };
        let valued = valued_from(&group, &valuation(points::PaymentMode::Dip, "DIP"), 0)
            .expect("a valuation");
        let record = ValuationRecord::from_json(&valued.valuation_json).expect("a record");
        let kept: Vec<(u32, &str, &str)> = record
            .complications
            .iter()
            .map(|c| (c.position, c.code.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(kept, [(2, "J96.000", "mcc"), (4, "E87.100", "cc")]);
        assert_eq!(record.dip_treatment.as_deref(), Some("interventional"));
        // An older grouping peer says nothing: nothing is written.
        let valued = valued_from(
            &grouping::GroupResult::default(),
            &valuation(points::PaymentMode::Drg, "DRG"),
            0,
        )
        .expect("a valuation");
        assert!(!valued.valuation_json.contains("complications"));
        assert!(!valued.valuation_json.contains("dip_treatment"));
    }

    #[test]
    fn an_unreadable_member_of_the_answer_leaves_the_case_unvalued_naming_it() {
        let group = grouping::GroupResult::default();
        let mut answer = valuation(points::PaymentMode::Drg, "DRG");
        answer.breakdown_json = "{\"decision\":7}".into();
        let refused = valued_from(&group, &answer, 0).expect_err("an unreadable breakdown");
        assert!(refused.contains("unreadable breakdown"), "{refused}");
        let mut answer = valuation(points::PaymentMode::Drg, "DRG");
        answer.coefficient = Some(common::Decimal {
            value: "1,05".into(),
        });
        let refused = valued_from(&group, &answer, 0).expect_err("an unreadable coefficient");
        assert!(
            refused.contains("unreadable coefficient \"1,05\""),
            "{refused}"
        );
        // An answer without a breakdown is stored with a null one, as before.
        let valued = valued_from(&group, &valuation(points::PaymentMode::Drg, "DRG"), 0)
            .expect("a valuation");
        assert!(
            valued.valuation_json.contains("\"breakdown\":null"),
            "{}",
            valued.valuation_json
        );
    }

    #[test]
    fn the_ledger_word_comes_from_the_typed_mode_and_from_the_text_of_an_older_peer() {
        assert_eq!(
            ledger_mode(&valuation(points::PaymentMode::PerDiemHospice, "")),
            "per_diem_hospice"
        );
        assert_eq!(
            ledger_mode(&valuation(points::PaymentMode::BasicLevel, "BASIC_LEVEL")),
            "basic_level_disease"
        );
        assert_eq!(
            ledger_mode(&valuation(points::PaymentMode::Unspecified, "FFS")),
            "fee_for_service"
        );
        assert_eq!(
            ledger_mode(&valuation(points::PaymentMode::Unspecified, "DIP")),
            "dip"
        );
    }
}
