//! A small simulated quarter of Meilan district (460108) for tests that pay it end to end: three
//! hospitals, a points table with DRG groups, a rehabilitation per-diem programme and a
//! day-surgery price, and settlement lists of every mode that table prices, from a seed.

use crate::faults::SeededRng;

/// The county of every list.
pub const COUNTY: &str = "460108";
/// The prefecture that prepays and clears the county's cases.
pub const PREFECTURE: &str = "460100";
/// The hospitals and their levels; only the first runs the rehabilitation programme.
pub const HOSPITALS: [(&str, &str); 3] =
    [("H46010801", "3A"), ("H46010802", "2A"), ("H46010803", "1")];

/// One settlement list as the county sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List {
    pub hospital: &'static str,
    pub list_id: String,
    /// Discharge month, 1 to 3.
    pub month: u32,
    pub json: String,
}

/// What kind of stay a list is.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// GD15: appendectomy.
    Appendectomy,
    /// GD13: appendectomy with a complication.
    WithComplication,
    /// A diagnosis the scheme does not know: valued on its cost.
    Ungroupable,
    /// Admitted and discharged within 48 hours: day surgery at its price.
    DaySurgery,
    /// Rehabilitation, paid per day.
    Rehabilitation,
}

/// `count` lists of the quarter, the same for the same seed.
pub fn lists(seed: u64, count: usize) -> Vec<List> {
    let mut rng = SeededRng::new(seed);
    (0..count)
        .map(|n| {
            let (hospital, level) = HOSPITALS[rng.below(HOSPITALS.len() as u64) as usize];
            let kinds: &[Kind] = if level == "3A" {
                &[
                    Kind::Appendectomy,
                    Kind::WithComplication,
                    Kind::Ungroupable,
                    Kind::DaySurgery,
                    Kind::Rehabilitation,
                ]
            } else {
                &[
                    Kind::Appendectomy,
                    Kind::WithComplication,
                    Kind::Ungroupable,
                    Kind::DaySurgery,
                ]
            };
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            let month = rng.between(1, 3) as u32;
            let admitted = rng.between(1, 10) as u32;
            let days = match kind {
                Kind::DaySurgery => 1,
                Kind::Rehabilitation => rng.between(10, 17) as u32,
                _ => rng.between(3, 12) as u32,
            };
            let discharge_time = if matches!(kind, Kind::DaySurgery) {
                "17:00"
            } else {
                "10:00"
            };
            // Every amount in fen, so the fund's three quarters is exact to the fen.
            let total_fen = rng.between(500_000, 3_000_000) as i64;
            // A few patients come back: readmissions meet the halving rule in any order.
            let person = format!("P{}", rng.below(count as u64 * 3 / 4 + 1));
            let (diagnoses, procedure): (&[&str], &str) = match kind {
                Kind::Appendectomy | Kind::DaySurgery => (&["K35.800"], "47.0100"),
                Kind::WithComplication => (&["K35.800", "J18.900"], "47.0100"),
                Kind::Ungroupable => (&["Z99.999"], "47.0100"),
                Kind::Rehabilitation => (&["Z50.100"], "93.3900"),
            };
            let stay = Stay {
                hospital,
                level,
                list_id: format!("Q{n:04}"),
                person: &person,
                admitted_at: format!("2025-{month:02}-{admitted:02} 08:30"),
                discharged_at: format!("2025-{month:02}-{:02} {discharge_time}", admitted + days),
                diagnoses,
                procedure,
                total_fen,
            };
            List {
                hospital,
                list_id: stay.list_id.clone(),
                month,
                json: stay.json(),
            }
        })
        .collect()
}

/// The same list with another total: a correction, which the ledger keeps as a new version.
pub fn corrected(list: &List, extra_fen: i64) -> List {
    // The amounts are the only numbers written with two decimals and a dot; the correction adds
    // to each of them by rewriting from the parsed list.
    let mut value: serde_json::Value = match serde_json::from_str(&list.json) {
        Ok(value) => value,
        Err(_) => return list.clone(),
    };
    let fen = |v: &serde_json::Value| -> i64 {
        v.as_str()
            .and_then(|s| s.replace('.', "").parse().ok())
            .unwrap_or_default()
    };
    let total = fen(&value["payment"]["medfee_sumamt"]) + extra_fen;
    let (fund, cash) = split(total);
    value["payment"]["medfee_sumamt"] = yuan(total).into();
    value["payment"]["hifp_pay"] = yuan(fund).into();
    value["payment"]["psn_cash_pay"] = yuan(cash).into();
    value["charges"][0]["amount"] = yuan(total).into();
    List {
        json: value.to_string(),
        ..list.clone()
    }
}

/// Ways a list fails intake.
#[derive(Clone, Copy, Debug)]
pub enum Damage {
    /// The fund pays more than the whole stay cost.
    FundOverTotal,
    /// Discharged before admitted.
    DischargeBeforeAdmission,
    /// A hospital not registered in the county.
    UnregisteredHospital,
}

impl Damage {
    pub const ALL: [Damage; 3] = [
        Damage::FundOverTotal,
        Damage::DischargeBeforeAdmission,
        Damage::UnregisteredHospital,
    ];
}

/// `list` damaged so that intake refuses it: under the same list id, except an unregistered
/// hospital's.
pub fn damaged(list: &List, damage: Damage) -> List {
    let mut value: serde_json::Value = match serde_json::from_str(&list.json) {
        Ok(value) => value,
        Err(_) => return list.clone(),
    };
    match damage {
        Damage::FundOverTotal => {
            let total = value["payment"]["medfee_sumamt"].clone();
            value["payment"]["hifp_pay"] = total;
        }
        Damage::DischargeBeforeAdmission => {
            let admitted = value["stay"]["admitted_at"].clone();
            value["stay"]["admitted_at"] = value["stay"]["discharged_at"].clone();
            value["stay"]["discharged_at"] = admitted;
        }
        Damage::UnregisteredHospital => {
            value["header"]["fixmedins_code"] = "H46010899".into();
        }
    }
    List {
        json: value.to_string(),
        ..list.clone()
    }
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The fund pays three quarters (rounded down to the fen), the patient the rest in cash.
fn split(total_fen: i64) -> (i64, i64) {
    let fund = total_fen * 3 / 4;
    (fund, total_fen - fund)
}

struct Stay<'a> {
    hospital: &'a str,
    level: &'a str,
    list_id: String,
    person: &'a str,
    admitted_at: String,
    discharged_at: String,
    diagnoses: &'a [&'a str],
    procedure: &'a str,
    total_fen: i64,
}

impl Stay<'_> {
    fn json(&self) -> String {
        let (fund, cash) = split(self.total_fen);
        let admission_day = self.admitted_at.get(..10).unwrap_or(&self.admitted_at);
        let discharge_day = self.discharged_at.get(..10).unwrap_or(&self.discharged_at);
        let diagnoses: Vec<serde_json::Value> = self
            .diagnoses
            .iter()
            .map(|code| serde_json::json!({"code": code, "name": "diagnosis", "admission_condition": 1}))
            .collect();
        let department = if self.procedure.starts_with("93") {
            "rehabilitation"
        } else {
            "general_surgery"
        };
        serde_json::json!({
            "header": {
                "setl_id": self.list_id, "fixmedins_code": self.hospital,
                "hospital_level": self.level, "insutype": 310, "psn_no": self.person,
                "case_number": format!("BA-{}", self.list_id),
                "declared_at": format!("{discharge_day} 18:00:00"), "pooling_region": COUNTY,
            },
            "patient": {"sex": 2, "birth_date": "1990-03-01", "age_years": 34},
            "stay": {
                "med_type": "21", "admission_route": "2", "admitted_at": self.admitted_at,
                "admission_department": department, "discharged_at": self.discharged_at,
                "discharge_department": department, "discharge_type": 1,
            },
            "diagnoses": diagnoses,
            "procedures": [{"code": self.procedure, "name": "procedure", "date": admission_day}],
            "charges": [{"category": "surgery", "amount": yuan(self.total_fen)}],
            "payment": {
                "medfee_sumamt": yuan(self.total_fen), "hifp_pay": yuan(fund),
                "acct_pay": "0.00", "psn_cash_pay": yuan(cash),
            },
        })
        .to_string()
    }
}

/// The county's 2025 employee points table: DRG main method, GD15 and GD13 priced, the 3A
/// hospital's coefficient 1.05, rehabilitation at 300 a day at level 3A, appendectomy as day
/// surgery at 8,000.
pub fn table_document() -> String {
    serde_json::json!({
        "policy": {
            "region": COUNTY, "year": 2025, "fund_type": "310", "main_method": "drg",
            "modes": {"day_surgery": {"procedure_codes": ["47.01"]}},
        },
        "tables": {
            "region": COUNTY,
            "year": 2025,
            "fund_type": "310",
            "drg": {
                "all_case_mean_cost": "10000",
                "groups": {
                    "GD15": {"mean_cost": "12000", "base_points": "100"},
                    "GD13": {"mean_cost": "15000", "base_points": "150"},
                },
            },
            "coefficients": {
                "drg_by_hospital": {
                    "H46010801": {
                        "all_groups": [{"coefficient": "1.05", "effective_from": "2025-01-01"}],
                    },
                },
            },
            "per_diem": {
                "programmes": {
                    "rehabilitation": [{"name": "all", "daily_rates": {"3A": "300"}}],
                },
            },
            "day_surgery": {"prices": {"47.01": "8000"}},
        },
    })
    .to_string()
}
