//! `AllocationInputs` ⇄ [`AllocateInputs`], and the allocation's typed form.

use budget_domain::{
    AllianceMember, Allocation, AllocationPolicy, AllocationUnit, BlockKind, QuotaProfile, UnitKind,
};
use kernel::{Decimal, Money};
use medpay_proto::budget::v1 as pb;
use medpay_proto::common::v1 as common;
use pb::allocation_unit::Kind as Unit;
use pb::quota_profile::Kind as Profile;
use platform::wire::Violation;

use super::{Reader, decimal_to_wire, money_to_wire};
use crate::convert::AllocateInputs;

/// Reads typed allocation inputs over the defaults the JSON reader gives a missing key; every
/// violation is named under `prefix` (`inputs`). The inputs are checked by the caller and the
/// domain, as JSON inputs are.
pub fn inputs_from_wire(
    prefix: &str,
    given: &pb::AllocationInputs,
) -> Result<AllocateInputs, Vec<Violation>> {
    let mut read = Reader::new(prefix);
    let mut block = BlockKind::Inpatient;
    read.word_into("block", &given.block, &mut block);
    let mut policy = AllocationPolicy::default();
    if let Some(given) = &given.policy {
        if let Some(list) = &given.history_weights {
            policy.history_weights = list
                .weights
                .iter()
                .enumerate()
                .filter_map(|(index, weight)| {
                    read.decimal(
                        &format!("policy.history_weights.weights[{index}]"),
                        Some(weight),
                    )
                })
                .collect();
        }
        read.decimal_into(
            "policy.primary_care_tilt",
            given.primary_care_tilt.as_ref(),
            &mut policy.primary_care_tilt,
        );
    }
    let units: Vec<AllocationUnit> = given
        .units
        .iter()
        .enumerate()
        .filter_map(|(index, unit)| read_unit(&mut read, index, unit))
        .collect();
    let quota_profile = match given.quota_profile.as_ref().map(|p| p.kind.as_ref()) {
        None => Some(QuotaProfile::Even),
        Some(None) => {
            read.push(
                "quota_profile",
                "is set without a profile: even or seasonal",
            );
            None
        }
        Some(Some(Profile::Even(_))) => Some(QuotaProfile::Even),
        Some(Some(Profile::Seasonal(seasonal))) => read_seasonal(&mut read, seasonal),
    };
    let inputs = quota_profile.map(|quota_profile| AllocateInputs {
        block,
        policy,
        units,
        quota_profile,
    });
    read.finish(inputs)
}

fn read_unit(
    read: &mut Reader,
    index: usize,
    given: &pb::AllocationUnit,
) -> Option<AllocationUnit> {
    let at = |field: &str| format!("units[{index}].{field}");
    if given.code.trim().is_empty() {
        read.push(&at("code"), "is required");
    }
    let history = |read: &mut Reader, field: &str, given: &[common::Money]| -> Option<Vec<Money>> {
        let years: Vec<Option<Money>> = given
            .iter()
            .enumerate()
            .map(|(year, amount)| read.money(&format!("{field}[{year}]"), Some(amount)))
            .collect();
        years.into_iter().collect()
    };
    let kind = match &given.kind {
        None => {
            read.push(&at("kind"), "is required: hospital or alliance");
            None
        }
        Some(Unit::Hospital(unit)) => history(read, &at("hospital.history"), &unit.history)
            .map(|history| UnitKind::Hospital { history }),
        Some(Unit::Alliance(alliance)) => {
            let members: Vec<Option<AllianceMember>> = alliance
                .members
                .iter()
                .enumerate()
                .map(|(member, given)| {
                    let field = at(&format!("alliance.members[{member}]"));
                    if given.hospital_code.trim().is_empty() {
                        read.push(&format!("{field}.hospital_code"), "is required");
                    }
                    history(read, &format!("{field}.history"), &given.history).map(|history| {
                        AllianceMember {
                            hospital_code: given.hospital_code.clone(),
                            history,
                        }
                    })
                })
                .collect();
            members
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(|members| UnitKind::Alliance { members })
        }
    };
    let coefficient = read.decimal(
        &at("assessment_coefficient"),
        given.assessment_coefficient.as_ref(),
    );
    let factor = read.decimal(&at("adjustment_factor"), given.adjustment_factor.as_ref());
    Some(AllocationUnit {
        code: given.code.clone(),
        kind: kind?,
        assessment_coefficient: coefficient?,
        adjustment_factor: factor?,
        primary_care: given.primary_care,
    })
}

fn read_seasonal(read: &mut Reader, given: &pb::SeasonalQuotaProfile) -> Option<QuotaProfile> {
    let weights: Vec<Option<Decimal>> = given
        .weights
        .iter()
        .enumerate()
        .map(|(month, weight)| {
            read.decimal(
                &format!("quota_profile.seasonal.weights[{month}]"),
                Some(weight),
            )
        })
        .collect();
    let weights: Vec<Decimal> = weights.into_iter().collect::<Option<_>>()?;
    match <[Decimal; 12]>::try_from(weights) {
        Ok(weights) => Some(QuotaProfile::Seasonal { weights }),
        Err(weights) => {
            read.push(
                "quota_profile.seasonal.weights",
                format!("has {} weights, a seasonal profile needs 12", weights.len()),
            );
            None
        }
    }
}

/// The typed form of an allocation, every field set.
pub fn allocation_to_wire(allocation: &Allocation) -> pb::Allocation {
    pb::Allocation {
        block: money_to_wire(allocation.block),
        lines: allocation
            .lines
            .iter()
            .map(|line| pb::AllocationLine {
                code: line.code.clone(),
                members: line.members.clone(),
                weighted_history: decimal_to_wire(line.weighted_history),
                score: decimal_to_wire(line.score),
                share: decimal_to_wire(line.share),
                amount: money_to_wire(line.amount),
            })
            .collect(),
    }
}
