//! The end of a clearing: the sharing rule asked per sharing unit (a hospital, or a medical
//! alliance as one unit, [`super::alliance`]), then steps 5 and 6 and the residue rule per
//! hospital.

use std::collections::BTreeMap;

use kernel::{Decimal, Money};

use super::alliance::{
    AllianceDistribution, AllianceMember, AllianceShare, AllianceSummary, distribute,
    sharing_ratio, standard_share,
};
use super::{
    BalanceDirection, ClearingStatement, HospitalStatement, ModeLine, PreparedClearing,
    PreparedHospital,
};
use crate::error::SettlementError;
use crate::ports::{SharingCalculator, SharingOutcome, SharingRequest};

/// Who the sharing rule is asked about once: a hospital alone or an alliance's members.
struct Unit {
    code: String,
    alliance: bool,
    /// Indices into the prepared hospitals, in hospital-code order.
    members: Vec<usize>,
}

/// What the sharing gave one hospital.
struct Shared {
    payable: Money,
    tier: String,
    alliance: Option<AllianceShare>,
}

impl PreparedClearing {
    fn units(&self) -> Vec<Unit> {
        let pooled = self.policy.alliance_distribution == AllianceDistribution::StandardShare;
        let mut units: BTreeMap<String, Unit> = BTreeMap::new();
        for (index, h) in self.hospitals.iter().enumerate() {
            let (code, alliance) = match (&h.input.alliance, pooled) {
                (Some(alliance), true) => (alliance.clone(), true),
                _ => (h.input.hospital_code.clone(), false),
            };
            units
                .entry(code.clone())
                .or_insert_with(|| Unit {
                    code,
                    alliance,
                    members: Vec::new(),
                })
                .members
                .push(index);
        }
        units.into_values().collect()
    }

    fn unit_request(&self, unit: &Unit) -> SharingRequest {
        let members = unit.members.iter().map(|&i| &self.hospitals[i].request);
        if !unit.alliance
            && let Some(request) = members.clone().next()
        {
            return request.clone();
        }
        SharingRequest {
            hospital_code: unit.code.clone(),
            fund_type: self.fund_type,
            standard: members.clone().map(|r| r.standard).sum(),
            actual: members.map(|r| r.actual).sum(),
        }
    }

    /// What the sharing rule is asked, in unit-code order: each hospital's Std and Act, except
    /// that an alliance's members are asked as one request under the alliance's code with their
    /// Std and Act summed.
    pub fn sharing_requests(&self) -> Vec<SharingRequest> {
        self.units()
            .iter()
            .map(|unit| self.unit_request(unit))
            .collect()
    }

    /// An alliance's payable distributed to its members by their share of the unit's Std; with
    /// no positive unit Std there is no share to go by, so each member keeps its Std and what
    /// the rule paid beside it is split equally.
    fn distribute_unit(
        &self,
        unit: &Unit,
        request: &SharingRequest,
        outcome: &SharingOutcome,
    ) -> Result<(AllianceSummary, Vec<(usize, Shared)>), SettlementError> {
        let standards: Vec<(&str, Decimal)> = unit
            .members
            .iter()
            .map(|&i| {
                let r = &self.hospitals[i].request;
                (r.hospital_code.as_str(), r.standard.value())
            })
            .collect();
        let parts: Vec<Money> = if outcome.payable == request.standard {
            standards.iter().map(|(_, s)| Money::round(*s)).collect()
        } else if request.standard.value() > Decimal::ZERO {
            distribute(outcome.payable, &standards)?
        } else {
            let equal: Vec<(&str, Decimal)> =
                standards.iter().map(|(c, _)| (*c, Decimal::ONE)).collect();
            distribute(outcome.payable - request.standard, &equal)?
                .into_iter()
                .zip(&standards)
                .map(|(extra, (_, s))| Money::round(*s) + extra)
                .collect()
        };
        let ratio = sharing_ratio(request.actual, request.standard);
        let mut members = Vec::with_capacity(unit.members.len());
        let mut shared = Vec::with_capacity(unit.members.len());
        for (&index, payable) in unit.members.iter().zip(parts) {
            let r = &self.hospitals[index].request;
            let share = standard_share(r.standard, request.standard);
            members.push(AllianceMember {
                hospital_code: r.hospital_code.clone(),
                standard: r.standard,
                actual: r.actual,
                share,
                payable,
            });
            shared.push((
                index,
                Shared {
                    payable,
                    tier: outcome.tier.clone(),
                    alliance: Some(AllianceShare {
                        alliance_code: unit.code.clone(),
                        unit_standard: request.standard,
                        unit_actual: request.actual,
                        unit_ratio: ratio,
                        unit_tier: outcome.tier.clone(),
                        unit_payable: outcome.payable,
                        share,
                        distribution: self.policy.alliance_distribution,
                    }),
                },
            ));
        }
        let summary = AllianceSummary {
            alliance_code: unit.code.clone(),
            standard: request.standard,
            actual: request.actual,
            ratio,
            tier: outcome.tier.clone(),
            payable: outcome.payable,
            adjustment: outcome.payable - request.standard,
            distribution: self.policy.alliance_distribution,
            members,
        };
        Ok((summary, shared))
    }

    /// Finishes the clearing with `sharing`'s answers (steps 5 and 6, the residue rule); every
    /// hospital or alliance the sharing could not answer for is reported.
    pub fn settle(
        self,
        sharing: &dyn SharingCalculator,
    ) -> Result<ClearingStatement, Vec<SettlementError>> {
        let mut errors = Vec::new();
        let mut answers: Vec<Option<Shared>> = self.hospitals.iter().map(|_| None).collect();
        let mut alliances = Vec::new();
        for unit in self.units() {
            let request = self.unit_request(&unit);
            let outcome = match sharing.share(&request) {
                Ok(outcome) => outcome,
                Err(source) => {
                    errors.push(SettlementError::Port {
                        record: request.hospital_code,
                        source,
                    });
                    continue;
                }
            };
            if !unit.alliance {
                for &index in &unit.members {
                    answers[index] = Some(Shared {
                        payable: outcome.payable,
                        tier: outcome.tier.clone(),
                        alliance: None,
                    });
                }
                continue;
            }
            match self.distribute_unit(&unit, &request, &outcome) {
                Ok((summary, shared)) => {
                    alliances.push(summary);
                    for (index, answer) in shared {
                        answers[index] = Some(answer);
                    }
                }
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let point_value = self.point_value;
        let mut hospitals = Vec::with_capacity(self.hospitals.len());
        let mut region_modes: BTreeMap<&'static str, ModeLine> = BTreeMap::new();
        for (prepared, answer) in self.hospitals.into_iter().zip(answers) {
            let PreparedHospital {
                input: h,
                totals: t,
                gross_entitlement,
                points_fund_part,
                fund_entitlement,
                assessed_entitlement,
                request,
            } = prepared;
            let Some(shared) = answer else {
                continue;
            };
            for (name, line) in &t.modes {
                region_modes
                    .entry(name)
                    .or_insert_with(|| ModeLine {
                        mode: (*name).to_owned(),
                        ..ModeLine::default()
                    })
                    .merge(line);
            }
            let sharing_standard = request.standard;
            let deposit_returned = match h.assessment_score {
                Some(score) => self
                    .policy
                    .deposit_return
                    .returned(score, h.deposit_withheld),
                None => h.deposit_returned,
            };
            let deposit_forfeited = h.deposit_withheld - deposit_returned;
            let final_amount = shared.payable + t.ffs_special - deposit_forfeited;
            let balance = final_amount - h.prepaid;
            let direction = if balance.is_negative() {
                BalanceDirection::Repayment
            } else if balance.value().is_zero() {
                BalanceDirection::Settled
            } else {
                BalanceDirection::TopUp
            };
            hospitals.push(HospitalStatement {
                hospital_code: request.hospital_code,
                cases: t.cases,
                ffs_special_cases: t.ffs_cases,
                points: t.points,
                point_value,
                gross_entitlement,
                individual_burden: t.burden,
                points_fund_part,
                money_fund_part: t.money_fund_part,
                fund_entitlement,
                assessment_coefficient: h.assessment_coefficient,
                assessed_entitlement,
                violation_deductions: h.violation_deductions,
                violation_findings: h.violation_findings,
                sharing_standard,
                sharing_actual: t.actual,
                sharing_tier: shared.tier,
                sharing_payable: shared.payable,
                sharing_adjustment: shared.payable - sharing_standard,
                ffs_special_amount: t.ffs_special,
                deposit_withheld: h.deposit_withheld,
                assessment_score: h.assessment_score,
                assessment_score_source: h.assessment_score_source,
                credit_grade: h.credit_grade,
                deposit_returned,
                deposit_forfeited,
                final_amount,
                prepaid: h.prepaid,
                balance,
                direction,
                modes: t.modes.into_values().collect(),
                readmissions_halved: h.readmissions_halved,
                alliance: shared.alliance,
            });
        }

        let total_fund_entitlement: Money = hospitals.iter().map(|h| h.fund_entitlement).sum();
        // Residue rule (module doc): what the rounding leaves stays in the fund and is reported.
        let residue = self.distributable_budget - total_fund_entitlement - self.ffs_special_total;
        Ok(ClearingStatement {
            region: self.region,
            year: self.year,
            fund_type: self.fund_type,
            policy: self.policy,
            distributable_budget: self.distributable_budget,
            ffs_special_total: self.ffs_special_total,
            money_fund_total: self.money_fund_total,
            points_budget: self.points_budget,
            total_points: self.total_points,
            total_individual_burden: self.total_individual_burden,
            reimbursement_ratio: self.reimbursement_ratio,
            point_value_exact: self.point_value_exact,
            point_value,
            total_fund_entitlement,
            residue,
            total_sharing_adjustment: hospitals.iter().map(|h| h.sharing_adjustment).sum(),
            total_balance: hospitals.iter().map(|h| h.balance).sum(),
            modes: region_modes.into_values().collect(),
            alliances,
            hospitals,
        })
    }
}
