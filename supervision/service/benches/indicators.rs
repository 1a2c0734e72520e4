//! GetIndicators over a province-year: 1,000,000 inpatient lists (12 months, 200 hospitals,
//! 400 DRGs, three fee lines each) streamed from a stub case source into the reports API, per
//! hospital, with the previous year read for the growth rates (another 1,000,000 lists).
//!
//! `cargo bench -p supervision-service --bench indicators`

use std::sync::Arc;
use std::time::Instant;

use kernel::{DateTime, FundType, Money, Principal, RegionCode, YearMonth};
use medpay_proto::common::v1 as common;
use medpay_proto::supervision::v1 as pb;
use medpay_proto::supervision::v1::supervision_reports_service_server::SupervisionReportsService;
use supervision_domain::{
    ChargeCategory, Diagnosis, DischargeType, FeeLine, InpatientList, ListWarning, SettlementKey,
    Sex,
};
use supervision_service::cases::{CaseSource, CaseSourceError};
use supervision_service::{SupervisionReportsApi, Tables};

const CASES_PER_YEAR: u32 = 1_000_000;
const HOSPITALS: u32 = 200;
const GROUPS: u32 = 400;

struct Stub;

fn at(month: YearMonth, day: u32, hour: u32) -> DateTime {
    format!(
        "{}-{:02}-{:02} {:02}:00",
        month.year(),
        month.month(),
        day,
        hour
    )
    .parse()
    .expect("date")
}

fn list(month: YearMonth, n: u32) -> InpatientList {
    let fen = 300_000 + i64::from(n) * 7919 % 2_000_000;
    let cost = Money::from_fen(fen);
    let day = 1 + n % 20;
    let line = |category: u8, fen: i64| FeeLine {
        item_code: format!("ITEM{}", n % 50),
        item_name: String::new(),
        category: ChargeCategory(category),
        quantity: 1.into(),
        unit_price: Money::from_fen(fen).value(),
        amount: Money::from_fen(fen),
        in_policy_amount: Money::from_fen(fen),
        charged_at: at(month, day, 9),
    };
    InpatientList {
        key: SettlementKey::new(
            format!("H{:04}", n % HOSPITALS),
            format!("L{}{n}", month.as_int()),
        ),
        fund_type: if n.is_multiple_of(3) {
            FundType::Employee
        } else {
            FundType::Resident
        },
        pooling_region: RegionCode::from_u32(460100).expect("region"),
        hospital_level: "3".into(),
        person_id: format!("P{}", (n * 31) % 600_000),
        sex: Sex::Male,
        birth_date: "1960-01-01".parse().expect("date"),
        med_type: "2101".into(),
        department: format!("D{}", n % 12),
        admitted_at: at(month, day, 8),
        discharged_at: at(month, day + 1 + n % 8, 10),
        discharge_type: if n.is_multiple_of(97) {
            DischargeType::Death
        } else {
            DischargeType::Ordered
        },
        planned_readmission: false,
        diagnoses: vec![Diagnosis::new("J18.900")],
        procedures: Vec::new(),
        drg: (!n.is_multiple_of(20)).then(|| {
            let g = n % GROUPS;
            format!(
                "{}{}{}",
                (b'A' + (g % 26) as u8) as char,
                (b'A' + (g / 26 % 26) as u8) as char,
                10 + g % 9
            )
        }),
        dip_group: None,
        total_cost: cost,
        in_policy_amount: cost,
        fund_paid: Money::from_fen(fen * 7 / 10),
        individual_burden: Money::from_fen(fen - fen * 7 / 10),
        full_self_pay: Money::ZERO,
        lines: vec![line(9, 12_000), line(8, 5_000), line(5, 20_000)],
        line_totals: Vec::new(),
        // One list in 50 with an unknown principal diagnosis.
        warnings: if n.is_multiple_of(50) {
            vec![ListWarning {
                fails_qc: true,
                code: "unknown_diagnosis_code".into(),
            }]
        } else {
            Vec::new()
        },
    }
}

#[async_trait::async_trait]
impl CaseSource for Stub {
    async fn inpatient_lists(
        &self,
        _: &Principal,
        _: RegionCode,
        _: YearMonth,
    ) -> Result<Vec<InpatientList>, CaseSourceError> {
        unreachable!("the reports stream")
    }

    async fn each_monitored_list(
        &self,
        _: &Principal,
        _: RegionCode,
        month: YearMonth,
        visit: &mut (dyn FnMut(InpatientList) + Send),
    ) -> Result<(), CaseSourceError> {
        let per_month = CASES_PER_YEAR / 12;
        let first = (month.month() - 1) * per_month;
        for n in first..first + per_month {
            visit(list(month, n));
        }
        Ok(())
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let api = SupervisionReportsApi::new(Arc::new(Stub), Tables::demo().expect("tables"));
    let request = pb::GetIndicatorsRequest {
        region_code: "460000".into(),
        period_from: Some(common::YearMonth {
            year: 2026,
            month: 1,
        }),
        period_to: Some(common::YearMonth {
            year: 2026,
            month: 12,
        }),
        breakdown: pb::Breakdown::Hospital.into(),
        fund_type: 0,
    };

    let generated = Instant::now();
    let mut lists = 0u64;
    for month in 1..=12 {
        let month = YearMonth::new(2026, month).expect("month");
        for n in 0..CASES_PER_YEAR / 12 {
            lists += u64::from(!list(month, n).lines.is_empty());
        }
    }
    let generation = generated.elapsed();

    let started = Instant::now();
    let answer = runtime
        .block_on(api.get_indicators(platform::testing::as_caller(
            request,
            "bench",
            "460000",
            &["read"],
        )))
        .expect("indicators")
        .into_inner();
    let elapsed = started.elapsed();
    println!(
        "GetIndicators per hospital over {lists} lists a year (and as many a year earlier): \
         {:.2} s ({} rows; generating one year's lists alone takes {:.2} s)",
        elapsed.as_secs_f64(),
        answer.rows.len(),
        generation.as_secs_f64(),
    );
}
