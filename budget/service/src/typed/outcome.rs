//! `HospitalYearList` ⇄ [`HospitalYear`]s, and the sharing outcome's typed form.

use budget_domain::{AppliedTier, HospitalYear, SharingOutcome};
use medpay_proto::budget::v1 as pb;
use platform::wire::{self, Violation};

use super::{Reader, decimal_to_wire, money_to_wire, word_of};

/// Reads typed hospital years; every violation is named under `prefix` (`hospitals`). Whether
/// each is of the request's fund is checked by the caller, as for JSON ones.
pub fn hospitals_from_wire(
    prefix: &str,
    given: &pb::HospitalYearList,
) -> Result<Vec<HospitalYear>, Vec<Violation>> {
    let mut read = Reader::new(prefix);
    let hospitals: Vec<Option<HospitalYear>> = given
        .hospitals
        .iter()
        .enumerate()
        .map(|(index, hospital)| {
            let at = |field: &str| format!("hospitals[{index}].{field}");
            if hospital.hospital_code.trim().is_empty() {
                read.push(&at("hospital_code"), "is required");
            }
            let fund =
                wire::fund_type(&format!("{prefix}.{}", at("fund_type")), hospital.fund_type)
                    .map_err(|violation| read.record(violation))
                    .ok();
            let standard = read.money(&at("standard"), hospital.standard.as_ref());
            let actual = read.money(&at("actual"), hospital.actual.as_ref());
            let prepaid = read.money(&at("prepaid"), hospital.prepaid.as_ref());
            let special = read.money(
                &at("ffs_special_cases"),
                hospital.ffs_special_cases.as_ref(),
            );
            Some(HospitalYear {
                hospital_code: hospital.hospital_code.clone(),
                fund: fund?,
                standard: standard?,
                actual: actual?,
                prepaid: prepaid?,
                ffs_special_cases: special?,
            })
        })
        .collect();
    let hospitals = hospitals.into_iter().collect::<Option<Vec<_>>>();
    read.finish(hospitals)
}

fn tier_to_wire(tier: AppliedTier) -> pb::AppliedTier {
    let band = match tier {
        AppliedTier::Overspend { band } => u32::try_from(band).ok(),
        AppliedTier::SurplusRetained | AppliedTier::SurplusCapped => None,
    };
    let kind = match serde_json::to_value(tier) {
        Ok(serde_json::Value::Object(fields)) => fields
            .get("kind")
            .and_then(|kind| kind.as_str())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    pb::AppliedTier { kind, band }
}

/// The typed form of a sharing outcome, every field set.
pub fn outcome_to_wire(outcome: &SharingOutcome) -> pb::SharingOutcome {
    pb::SharingOutcome {
        fund_type: outcome.fund.map_or(0, wire::fund_type_to_wire),
        hospitals: outcome
            .hospitals
            .iter()
            .map(|h| pb::HospitalSharing {
                hospital_code: h.hospital_code.clone(),
                fund_type: wire::fund_type_to_wire(h.fund),
                standard: money_to_wire(h.standard),
                actual: money_to_wire(h.actual),
                ratio: decimal_to_wire(h.ratio),
                ratio_shown: decimal_to_wire(h.ratio_shown),
                tier: Some(tier_to_wire(h.tier)),
                tier_payment: money_to_wire(h.tier_payment),
                from_budget: money_to_wire(h.from_budget),
                from_reserve: money_to_wire(h.from_reserve),
                payment: money_to_wire(h.payment),
                retained_savings: money_to_wire(h.retained_savings),
                ffs_special_cases: money_to_wire(h.ffs_special_cases),
                prepaid: money_to_wire(h.prepaid),
                balance: money_to_wire(h.balance),
            })
            .collect(),
        reserve_available: money_to_wire(outcome.reserve_available),
        reserve_requested: money_to_wire(outcome.reserve_requested),
        reserve_used: money_to_wire(outcome.reserve_used),
        reserve_remaining: money_to_wire(outcome.reserve_remaining),
        shortfall: outcome
            .shortfall
            .as_ref()
            .map(|shortfall| pb::ReserveShortfall {
                requested: money_to_wire(shortfall.requested),
                available: money_to_wire(shortfall.available),
                rule: word_of(&shortfall.rule),
                scale: decimal_to_wire(shortfall.scale),
                overdrawn: money_to_wire(shortfall.overdrawn),
            }),
    }
}
