//! A stored statement as the wire's typed detail (`Statement.prepayment`, `.clearing`,
//! `.outpatient`, `.outpatient_prepayment`): the stored `statement_json` is read into the
//! domain's statement of the run's kind, the type the run wrote it from, and written member for
//! member, so the typed form is always the JSON the same read answers.

use medpay_proto::settlement::v1 as pb;
use platform::wire::{decimal_to_wire, money_to_wire};
use serde::Serialize;
use settlement_domain::clearing::{AllianceShare, HospitalStatement, ModeLine};
use settlement_domain::outpatient_clearing::OutpatientStatement;
use settlement_domain::outpatient_prepayment::OutpatientPrepaymentLine;
use settlement_domain::prepayment::PrepaymentLine;
use settlement_domain::readmission::Halving;
use settlement_domain::violation_deductions::DeductionFinding;

use super::outpatient::grpc::statement_to_wire as outpatient_to_wire;
use super::outpatient::prepayment::line_to_wire as outpatient_prepayment_to_wire;
use super::store::kind;

/// The typed detail of a statement stored by a run of `run_kind`; `None` when the text is not a
/// statement of that kind.
pub fn detail(run_kind: &str, json: &str) -> Option<pb::statement::Detail> {
    use pb::statement::Detail;
    if run_kind == kind::CLEARING {
        let statement: HospitalStatement = serde_json::from_str(json).ok()?;
        Some(Detail::Clearing(clearing(statement)))
    } else if run_kind == kind::OUTPATIENT {
        let statement: OutpatientStatement = serde_json::from_str(json).ok()?;
        Some(Detail::Outpatient(outpatient_to_wire(&statement)))
    } else if run_kind == kind::OUTPATIENT_PREPAYMENT {
        let line: OutpatientPrepaymentLine = serde_json::from_str(json).ok()?;
        Some(Detail::OutpatientPrepayment(outpatient_prepayment_to_wire(
            &line,
        )))
    } else if run_kind == kind::PREPAYMENT {
        let line: PrepaymentLine = serde_json::from_str(json).ok()?;
        Some(Detail::Prepayment(prepayment(line)))
    } else {
        None
    }
}

/// A unit enum's text as serde writes it into the statement's JSON.
fn serde_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

pub fn prepayment(line: PrepaymentLine) -> pb::PrepaymentStatement {
    pb::PrepaymentStatement {
        hospital_code: line.hospital_code,
        points: Some(decimal_to_wire(line.points)),
        point_value: Some(decimal_to_wire(line.point_value)),
        fund_value: Some(money_to_wire(line.fund_value)),
        individual_burden: Some(money_to_wire(line.individual_burden)),
        money_fund_part: Some(money_to_wire(line.money_fund_part)),
        point_value_source: line.point_value_source.unwrap_or_default(),
        prepayment_ratio: Some(decimal_to_wire(line.prepayment_ratio)),
        prepayable: Some(money_to_wire(line.prepayable)),
        monthly_quota: line.monthly_quota.map(money_to_wire),
        deferred: Some(money_to_wire(line.deferred)),
        capped: Some(money_to_wire(line.capped)),
        quality_deposit: Some(money_to_wire(line.quality_deposit)),
        payable: Some(money_to_wire(line.payable)),
        alliance_code: line.alliance_code.unwrap_or_default(),
    }
}

pub fn clearing(s: HospitalStatement) -> pb::ClearingStatement {
    pb::ClearingStatement {
        hospital_code: s.hospital_code,
        cases: s.cases,
        ffs_special_cases: s.ffs_special_cases,
        points: Some(decimal_to_wire(s.points)),
        point_value: Some(decimal_to_wire(s.point_value)),
        gross_entitlement: Some(money_to_wire(s.gross_entitlement)),
        individual_burden: Some(money_to_wire(s.individual_burden)),
        points_fund_part: Some(money_to_wire(s.points_fund_part)),
        money_fund_part: Some(money_to_wire(s.money_fund_part)),
        fund_entitlement: Some(money_to_wire(s.fund_entitlement)),
        assessment_coefficient: Some(decimal_to_wire(s.assessment_coefficient)),
        assessed_entitlement: Some(money_to_wire(s.assessed_entitlement)),
        violation_deductions: Some(money_to_wire(s.violation_deductions)),
        violation_findings: s.violation_findings.into_iter().map(finding).collect(),
        sharing_standard: Some(money_to_wire(s.sharing_standard)),
        sharing_actual: Some(money_to_wire(s.sharing_actual)),
        sharing_tier: s.sharing_tier,
        sharing_payable: Some(money_to_wire(s.sharing_payable)),
        sharing_adjustment: Some(money_to_wire(s.sharing_adjustment)),
        ffs_special_amount: Some(money_to_wire(s.ffs_special_amount)),
        deposit_withheld: Some(money_to_wire(s.deposit_withheld)),
        assessment_score: s.assessment_score.map(decimal_to_wire),
        assessment_score_source: s
            .assessment_score_source
            .map(|source| serde_name(&source))
            .unwrap_or_default(),
        deposit_returned: Some(money_to_wire(s.deposit_returned)),
        deposit_forfeited: Some(money_to_wire(s.deposit_forfeited)),
        final_amount: Some(money_to_wire(s.final_amount)),
        prepaid: Some(money_to_wire(s.prepaid)),
        balance: Some(money_to_wire(s.balance)),
        direction: serde_name(&s.direction),
        modes: s.modes.into_iter().map(mode_line).collect(),
        readmissions_halved: s.readmissions_halved.into_iter().map(halving).collect(),
        alliance: s.alliance.map(alliance),
        credit_grade: s.credit_grade.unwrap_or_default(),
    }
}

fn finding(f: DeductionFinding) -> pb::DeductedFinding {
    pb::DeductedFinding {
        finding_id: f.finding_id,
        rule_id: f.rule_id,
        case_ids: f.case_ids,
        amount: Some(money_to_wire(f.amount)),
    }
}

fn mode_line(line: ModeLine) -> pb::ClearingModeLine {
    pb::ClearingModeLine {
        mode: line.mode,
        cases: line.cases,
        points: Some(decimal_to_wire(line.points)),
        amount: Some(money_to_wire(line.amount)),
        fund_part: Some(money_to_wire(line.fund_part)),
        individual_burden: Some(money_to_wire(line.individual_burden)),
        total_cost: Some(money_to_wire(line.total_cost)),
    }
}

fn halving(h: Halving) -> pb::ReadmissionHalving {
    pb::ReadmissionHalving {
        hospital_code: h.hospital_code,
        list_id: h.list_id,
        readmitted_as: h.readmitted_as,
        gap_days: h.gap_days,
        points_before: Some(decimal_to_wire(h.points_before)),
        points_after: Some(decimal_to_wire(h.points_after)),
    }
}

fn alliance(a: AllianceShare) -> pb::AllianceShare {
    pb::AllianceShare {
        alliance_code: a.alliance_code,
        unit_standard: Some(money_to_wire(a.unit_standard)),
        unit_actual: Some(money_to_wire(a.unit_actual)),
        unit_ratio: a.unit_ratio.map(decimal_to_wire),
        unit_tier: a.unit_tier,
        unit_payable: Some(money_to_wire(a.unit_payable)),
        share: Some(decimal_to_wire(a.share)),
        distribution: serde_name(&a.distribution),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::statement::Detail;

    /// A clearing statement with every optional part present, as a run stores it.
    const CLEARING: &str = r#"{"hospital_code":"H1","cases":12,"ffs_special_cases":1,
        "points":"1250.5000","point_value":"80.1234","gross_entitlement":"100195.31",
        "individual_burden":"20000.00","points_fund_part":"80195.31","money_fund_part":"5000.00",
        "fund_entitlement":"85195.31","assessment_coefficient":"0.98",
        "assessed_entitlement":"83491.40","violation_deductions":"300.00",
        "violation_findings":[{"finding_id":"f-1","rule_id":"readmission_15_days",
        "case_ids":["L1","L2"],"amount":"300.00"}],"sharing_standard":"83191.40",
        "sharing_actual":"90000.00","sharing_tier":"overspend_shared",
        "sharing_payable":"85000.00","sharing_adjustment":"1808.60",
        "ffs_special_amount":"4000.00","deposit_withheld":"2000.00","assessment_score":"92.5",
        "assessment_score_source":"supervision","credit_grade":"B","deposit_returned":"2000.00",
        "deposit_forfeited":"0.00","final_amount":"89000.00","prepaid":"90000.00",
        "balance":"-1000.00","direction":"repayment",
        "modes":[{"mode":"drg","cases":11,"points":"1250.5000","amount":"0.00",
        "fund_part":"0.00","individual_burden":"20000.00","total_cost":"110000.00"}],
        "readmissions_halved":[{"hospital_code":"H1","list_id":"L1","readmitted_as":"L2",
        "gap_days":9,"points_before":"100.0000","points_after":"50.0000"}],
        "alliance":{"alliance_code":"A1","unit_standard":"200000.00",
        "unit_actual":"210000.00","unit_ratio":"1.0500","unit_tier":"overspend_shared",
        "unit_payable":"204000.00","share":"0.415957","distribution":"standard_share"}}"#;

    #[test]
    fn a_clearing_statement_is_typed_member_for_member_with_its_findings_and_alliance() {
        let Some(Detail::Clearing(typed)) = detail(kind::CLEARING, CLEARING) else {
            panic!("a clearing detail");
        };
        let yuan = |m: &Option<medpay_proto::common::v1::Money>| {
            m.as_ref().map(|m| m.yuan.clone()).unwrap_or_default()
        };
        let text = |d: &Option<medpay_proto::common::v1::Decimal>| {
            d.as_ref().map(|d| d.value.clone()).unwrap_or_default()
        };
        assert_eq!((typed.cases, typed.ffs_special_cases), (12, 1));
        assert_eq!(text(&typed.point_value), "80.1234");
        assert_eq!(yuan(&typed.balance), "-1000.00");
        assert_eq!(typed.direction, "repayment");
        assert_eq!(typed.assessment_score_source, "supervision");
        assert_eq!(text(&typed.assessment_score), "92.5");
        assert_eq!(typed.credit_grade, "B");
        let finding = &typed.violation_findings[0];
        assert_eq!(
            (
                finding.rule_id.as_str(),
                finding.case_ids.clone(),
                yuan(&finding.amount)
            ),
            (
                "readmission_15_days",
                vec!["L1".into(), "L2".into()],
                "300.00".into()
            )
        );
        let halving = &typed.readmissions_halved[0];
        assert_eq!(
            (halving.gap_days, text(&halving.points_after)),
            (9, "50.0000".into())
        );
        let alliance = typed.alliance.as_ref().expect("an alliance share");
        assert_eq!(
            (alliance.distribution.as_str(), text(&alliance.unit_ratio)),
            ("standard_share", "1.0500".into())
        );
        assert_eq!(typed.modes[0].mode, "drg");
    }

    #[test]
    fn a_prepayment_line_leaves_what_its_json_leaves_out_empty() {
        let json = r#"{"hospital_code":"H1","points":"105.0000","point_value":"800",
            "fund_value":"95000.00","individual_burden":"3000.00","money_fund_part":"14000.00",
            "prepayment_ratio":"0.90","prepayable":"85500.00","monthly_quota":null,
            "deferred":"0.00","capped":"85500.00","quality_deposit":"4275.00",
            "payable":"81225.00"}"#;
        let Some(Detail::Prepayment(typed)) = detail(kind::PREPAYMENT, json) else {
            panic!("a prepayment detail");
        };
        assert_eq!(typed.payable.map(|m| m.yuan).as_deref(), Some("81225.00"));
        assert_eq!(typed.monthly_quota, None);
        assert_eq!(
            (
                typed.point_value_source.as_str(),
                typed.alliance_code.as_str()
            ),
            ("", "")
        );
        // A statement not of its run's kind has no detail rather than a wrong one.
        assert_eq!(detail(kind::CLEARING, json), None);
        assert_eq!(detail("other", json), None);
    }
}
