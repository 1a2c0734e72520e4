//! Fixtures shared by the integration tests: the DOMAIN.md §3 worked-example region.

use std::collections::BTreeMap;

use kernel::{Date, FundType, Money, Points, RegionCode};
use points_domain::tables::{
    CoefficientSet, DatedCoefficient, DipGroupRate, DrgGroupRate, PerDiemProgramme,
};
use points_domain::{
    CaseForValuation, GroupStatus, GroupedCase, HospitalLevel, SchemeKind, ValuationPolicy,
    ValuationTables,
};
use rust_decimal_macros::dec;

pub fn region() -> RegionCode {
    "460000".parse().expect("region literal")
}

pub fn date(text: &str) -> Date {
    text.parse().expect("date literal")
}

pub fn money(text: &str) -> Money {
    text.parse().expect("money literal")
}

pub fn points(text: &str) -> Points {
    text.parse().expect("points literal")
}

pub fn drg_policy() -> ValuationPolicy {
    let mut policy = ValuationPolicy::new(region(), 2025, FundType::Employee);
    policy.main_method = SchemeKind::Drg;
    policy
}

pub fn dip_policy() -> ValuationPolicy {
    ValuationPolicy::new(region(), 2025, FundType::Employee)
}

/// All-DRG mean 10,000; GB11 mean 15,000 → base 150; hospital H1 coefficient 1.05 from 2025.
pub fn tables() -> ValuationTables {
    let mut tables = ValuationTables::new(region(), 2025, FundType::Employee);
    tables.drg.all_case_mean_cost = money("10000");
    let mut drg = |code: &str, mean: &str, base: &str| {
        tables.drg.groups.insert(
            code.into(),
            DrgGroupRate {
                mean_cost: money(mean),
                base_points: points(base),
                stable: true,
                per_diem_points: None,
            },
        );
    };
    drg("GB11", "15000", "150");
    drg("LOW1", "10000", "100");
    drg("TIER", "10000", "100.0001");
    drg("BIG1", "30000", "300");
    drg("BIG2", "30000", "300.0001");
    tables.drg.groups.insert(
        "UNST".into(),
        DrgGroupRate {
            mean_cost: money("20000"),
            base_points: points("200"),
            stable: false,
            per_diem_points: None,
        },
    );
    tables.drg.groups.insert(
        "PD11".into(),
        DrgGroupRate {
            mean_cost: money("5000"),
            base_points: points("50"),
            stable: true,
            per_diem_points: Some(points("10")),
        },
    );
    tables.coefficients.drg_by_hospital.insert(
        "H1".into(),
        CoefficientSet {
            all_groups: vec![DatedCoefficient {
                coefficient: dec!(1.05),
                effective_from: date("2025-01-01"),
                effective_to: None,
            }],
            per_group: Default::default(),
        },
    );
    // DIP: a 1,200-point group with a same-level reference cost of 12,000.
    tables.dip.groups.insert(
        "K35.8:47.01".into(),
        DipGroupRate {
            score: points("1200"),
            reference_costs: HospitalLevel::ALL
                .into_iter()
                .map(|level| (level, money("12000")))
                .collect(),
            basic_level_reference: Some(money("10000")),
        },
    );
    tables.dip.groups.insert(
        "ZERO".into(),
        DipGroupRate {
            score: Points::ZERO,
            reference_costs: BTreeMap::new(),
            basic_level_reference: None,
        },
    );
    // Psychiatric per diem at level 2A: acute 150, chronic 95, long-term 60.
    let phases = tables
        .per_diem
        .programmes
        .get_mut(&PerDiemProgramme::Psychiatric)
        .expect("default psychiatric phases");
    for (phase, rate) in phases.iter_mut().zip(["150", "95", "60"]) {
        phase
            .daily_rates
            .insert(HospitalLevel::Secondary2A, money(rate));
    }
    for programme in [PerDiemProgramme::Rehabilitation, PerDiemProgramme::Hospice] {
        if let Some(phases) = tables.per_diem.programmes.get_mut(&programme) {
            phases[0]
                .daily_rates
                .insert(HospitalLevel::Secondary2A, money("300"));
        }
    }
    tables
        .day_surgery
        .prices
        .insert("13.41".into(), money("4200"));
    tables.fixed_rates.diseases.insert(
        "O80".into(),
        BTreeMap::from([(HospitalLevel::Secondary2A, money("2800"))]),
    );
    tables
}

/// A DRG case of hospital H1 in GB11, ordered discharge, 5 days in 2025.
pub fn drg_case(cost: &str) -> CaseForValuation {
    CaseForValuation {
        hospital_code: "H1".into(),
        list_id: "L0001".into(),
        hospital_level: HospitalLevel::Secondary2A,
        fund_type: FundType::Employee,
        grouping: GroupedCase {
            scheme: SchemeKind::Drg,
            group_code: "GB11".into(),
            adrg: "GB1".into(),
            mdc: "MDCG".into(),
            status: GroupStatus::Grouped,
            dip_score: None,
            dip_aux_coefficient: None,
        },
        principal_diagnosis: "K25.000".into(),
        principal_procedure: Some("43.7x00".into()),
        department: "A03".into(),
        admission_date: date("2025-03-01"),
        discharge_date: date("2025-03-06"),
        stay_hours: None,
        discharge_type: 1,
        total_cost: money(cost),
        in_policy_cost: None,
        individual_burden: money("1000"),
        planned_readmission: false,
        prior_episode_days: 0,
        special_case: None,
    }
}

/// A DIP case in the 1,200-point group at a level-2B hospital (coefficient 1.0).
pub fn dip_case(cost: &str) -> CaseForValuation {
    let mut case = drg_case(cost);
    case.hospital_level = HospitalLevel::Secondary2B;
    case.grouping = GroupedCase {
        scheme: SchemeKind::Dip,
        group_code: "K35.8:47.01".into(),
        adrg: String::new(),
        mdc: String::new(),
        status: GroupStatus::Grouped,
        dip_score: None,
        dip_aux_coefficient: None,
    };
    case.principal_diagnosis = "K35.800".into();
    case
}
