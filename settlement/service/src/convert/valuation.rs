//! A stored case's valuation as the wire's typed `Valuation`: read from the stored `valuation_json`
//! into the domain's [`ValuationRecord`] and written member for member, so the typed form is
//! always the JSON the same read answers.

use medpay_proto::settlement::v1 as pb;
use platform::wire::{decimal_to_wire, money_to_wire};
use settlement_domain::valuation_record::{Breakdown, PhaseDays, ValuationRecord};

/// The typed valuation of a stored `valuation_json`; `None` when it is empty (an unvalued case)
/// or not a valuation document.
pub fn valuation_to_wire(json: &str) -> Option<pb::Valuation> {
    ValuationRecord::from_json(json).map(valuation)
}

fn valuation(record: ValuationRecord) -> pb::Valuation {
    pb::Valuation {
        payment_mode: record.payment_mode,
        mode_rule: record.mode_rule,
        case_type: record.case_type,
        group_status: record.group_status,
        group_reason: record.group_reason,
        base: record.base.map(decimal_to_wire),
        coefficient: record.coefficient.map(decimal_to_wire),
        cost_ratio: record.cost_ratio.map(decimal_to_wire),
        add_on: record.add_on.map(decimal_to_wire),
        amount: record.amount.map(money_to_wire),
        breakdown: record.breakdown.map(breakdown),
        complications: record
            .complications
            .into_iter()
            .map(|counted| pb::ValuationComplication {
                position: counted.position,
                code: counted.code,
                kind: counted.kind,
            })
            .collect(),
        dip_treatment: record.dip_treatment.unwrap_or_default(),
    }
}

fn breakdown(breakdown: Breakdown) -> pb::ValuationBreakdown {
    pb::ValuationBreakdown {
        mode: breakdown.decision.mode.mode,
        per_diem_programme: breakdown.decision.mode.programme.unwrap_or_default(),
        rule: breakdown.decision.rule,
        case_type: breakdown.case_type,
        base: Some(decimal_to_wire(breakdown.base)),
        coefficient: Some(decimal_to_wire(breakdown.coefficient)),
        aux_coefficient: Some(decimal_to_wire(breakdown.aux_coefficient)),
        cost_ratio: breakdown.cost_ratio.map(decimal_to_wire),
        add_on: Some(decimal_to_wire(breakdown.add_on)),
        special_case_points: Some(decimal_to_wire(breakdown.special_case_points)),
        points: Some(decimal_to_wire(breakdown.points)),
        amount: breakdown.amount.map(money_to_wire),
        per_diem_days: breakdown
            .per_diem_days
            .into_iter()
            .map(|phase: PhaseDays| pb::PerDiemPhaseDays {
                phase: phase.phase,
                days: phase.days,
                daily_rate: Some(money_to_wire(phase.daily_rate)),
            })
            .collect(),
        requires_expert_review: breakdown.requires_expert_review,
        individual_burden: Some(money_to_wire(breakdown.individual_burden)),
        episode_programme: breakdown.episode_programme.unwrap_or_default(),
    }
}
