//! Invariants of valuation: points never negative, high ≥ normal in the same group, low ≤ base,
//! per-diem pay grows with days.

use crate::common::*;
use kernel::{Decimal, Money};
use points_domain::{CaseType, valuate};
use proptest::prelude::*;

fn cost_from_fen(fen: i64) -> Money {
    Money::from_fen(fen)
}

proptest! {
    #[test]
    fn drg_points_never_negative(fen in 0_i64..50_000_000, discharge in prop::sample::select(vec![1_u8, 2, 3, 4, 5, 9]),
                                 group in prop::sample::select(vec!["GB11", "LOW1", "TIER", "BIG1", "BIG2", "UNST", "NONE", "PD11"])) {
        let mut case = drg_case("0");
        case.total_cost = cost_from_fen(fen);
        case.discharge_type = discharge;
        case.grouping.group_code = group.into();
        let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
        prop_assert!(!valued.points.is_negative());
    }

    #[test]
    fn dip_points_never_negative(fen in 0_i64..50_000_000, aux in 1_i64..300) {
        let mut case = dip_case("0");
        case.total_cost = cost_from_fen(fen);
        case.grouping.dip_aux_coefficient = Some(Decimal::new(aux, 2));
        let valued = valuate(&dip_policy(), &tables(), &case).expect("valued");
        prop_assert!(!valued.points.is_negative());
    }

    #[test]
    fn high_cost_points_at_least_normal(fen in 0_i64..50_000_000) {
        let normal = valuate(&drg_policy(), &tables(), &drg_case("15000")).expect("valued");
        let mut case = drg_case("0");
        case.total_cost = cost_from_fen(fen);
        let valued = valuate(&drg_policy(), &tables(), &case).expect("valued");
        if valued.case_type == CaseType::HighCost {
            prop_assert!(valued.points >= normal.points);
        } else {
            prop_assert!(valued.points <= normal.points);
        }
    }

    #[test]
    fn low_cost_points_at_most_base(fen in 0_i64..1_000_000, multiple in 1_i64..15) {
        let mut policy = drg_policy();
        policy.drg.low_cost_multiple = Decimal::new(multiple, 1);
        let mut case = drg_case("0");
        case.total_cost = cost_from_fen(fen);
        let valued = valuate(&policy, &tables(), &case).expect("valued");
        if valued.case_type == CaseType::LowCost {
            prop_assert!(valued.points <= points("150"));
        }
    }

    #[test]
    fn points_grow_with_cost_within_a_group(a in 0_i64..10_000_000, b in 0_i64..10_000_000) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let mut cheap = drg_case("0");
        cheap.total_cost = cost_from_fen(low);
        let mut dear = cheap.clone();
        dear.total_cost = cost_from_fen(high);
        let cheap = valuate(&drg_policy(), &tables(), &cheap).expect("valued");
        let dear = valuate(&drg_policy(), &tables(), &dear).expect("valued");
        prop_assert!(cheap.points <= dear.points);
    }

    #[test]
    fn per_diem_pay_grows_with_days(days in 57_i32..400) {
        let mut case = dip_case("1");
        case.hospital_level = points_domain::HospitalLevel::Secondary2A;
        case.principal_diagnosis = "F31.000".into();
        case.discharge_date = case.admission_date.add_days(days);
        let shorter = valuate(&dip_policy(), &tables(), &case).expect("valued").amount;
        case.discharge_date = case.admission_date.add_days(days + 1);
        let longer = valuate(&dip_policy(), &tables(), &case).expect("valued").amount;
        prop_assert!(shorter < longer);
    }
}
