//! Timing of the budget calculations at provincial scale, printed as figures (no harness):
//! `cargo bench -p budget-domain --bench budget`.

use std::hint::black_box;
use std::time::Instant;

use budget_domain::{
    AllocationPolicy, AllocationUnit, HospitalYear, QuotaProfile, SharingPolicy, UnitKind,
    allocate, apportion, compute_sharing, monthly_quotas,
};
use kernel::{Decimal, FundType, Money};

const HOSPITALS: usize = 5_000;
const ROUNDS: u32 = 20;

fn time<T>(label: &str, items: usize, mut run: impl FnMut() -> T) {
    black_box(run());
    let start = Instant::now();
    for _ in 0..ROUNDS {
        black_box(run());
    }
    let per_round = start.elapsed() / ROUNDS;
    let per_item = per_round.as_secs_f64() * 1e9 / items as f64;
    println!("{label:<44} {per_round:>12.2?} per run  {per_item:>9.0} ns per item");
}

fn main() {
    let units: Vec<AllocationUnit> = (0..HOSPITALS)
        .map(|i| AllocationUnit {
            code: format!("H{i:06}"),
            kind: UnitKind::Hospital {
                history: (0..3)
                    .map(|year| {
                        Money::from_fen(
                            100_000_000 + (i as i64 * 7_919 + year * 104_729) % 9_000_000_000,
                        )
                    })
                    .collect(),
            },
            assessment_coefficient: Decimal::new(90 + (i as i64 % 15), 2),
            adjustment_factor: Decimal::ONE,
            primary_care: i % 4 == 0,
        })
        .collect();
    let policy = AllocationPolicy {
        primary_care_tilt: Decimal::new(115, 2),
        ..AllocationPolicy::default()
    };
    let block = Money::from_yuan(5_700_000_000);
    time("allocate 5,000 hospitals", HOSPITALS, || {
        allocate(&policy, block, &units)
    });

    time(
        "monthly quotas (even) for 5,000 hospitals",
        HOSPITALS,
        || {
            units
                .iter()
                .enumerate()
                .filter_map(|(i, _)| {
                    monthly_quotas(Money::from_fen(123_456_789 + i as i64), &QuotaProfile::Even)
                        .ok()
                })
                .count()
        },
    );

    let hospitals: Vec<HospitalYear> = (0..HOSPITALS)
        .map(|i| {
            let standard = 1_000_000_000 + (i as i64 * 7_919) % 500_000_000;
            HospitalYear {
                hospital_code: format!("H{i:06}"),
                fund: FundType::Employee,
                standard: Money::from_fen(standard),
                actual: Money::from_fen(standard * (85 + (i as i64 % 40)) / 100),
                prepaid: Money::from_fen(standard * 85 / 100),
                ffs_special_cases: Money::ZERO,
            }
        })
        .collect();
    let sharing = SharingPolicy::hainan();
    time(
        "compute_sharing 5,000 hospitals (reserve ok)",
        HOSPITALS,
        || compute_sharing(&sharing, Money::from_yuan(10_000_000_000), &hospitals),
    );
    time(
        "compute_sharing 5,000 hospitals (scale-down)",
        HOSPITALS,
        || compute_sharing(&sharing, Money::from_yuan(1_000_000), &hospitals),
    );

    let weights: Vec<(usize, Decimal)> = (0..100_000)
        .map(|i| (i, Decimal::new(1 + (i as i64 * 104_729) % 1_000_000, 2)))
        .collect();
    time("apportion over 100,000 weights", weights.len(), || {
        apportion(Money::from_yuan(987_654_321), &weights)
    });
}
