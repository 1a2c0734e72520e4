//! The inputs of the Haikou 2025 year: three institutions, the DIP history the directory is built
//! from, the points table the bureau publishes (scores, same-level references, the basic-level
//! reference, per-diem programmes with phases, day surgery, basic-level diseases), the 2024 stays
//! the budget point value is published from and the stays of one fund, each placed on a boundary
//! of DOMAIN.md §5 "Hainan clearing with every mode".

use std::fmt::Write as _;
use std::str::FromStr;

use rust_decimal::Decimal;

/// Haikou: the pooling region of every stay, its table, scheme, budget and clearing.
pub const POOL: &str = "460100";

/// The procedure on the day-surgery list, and its price (the same at every level).
pub const DAY_SURGERY_PREFIX: &str = "47.01";
pub const DAY_SURGERY_PRICE: &str = "6000.00";

pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|e| panic!("{text} is not a decimal: {e}"))
}

pub struct Hospital {
    pub code: &'static str,
    pub county: &'static str,
    pub level: &'static str,
    /// The hospital's add-on (加成系数) on top of its level coefficient.
    pub add_on: &'static str,
}

/// A 3A hospital with an add-on and a 2B hospital in Longhua, a primary institution in Xiuying.
pub const HOSPITALS: [Hospital; 3] = [
    Hospital {
        code: "H46010601",
        county: "460106",
        level: "3A",
        add_on: "0.05",
    },
    Hospital {
        code: "H46010602",
        county: "460106",
        level: "2B",
        add_on: "0",
    },
    Hospital {
        code: "H46010501",
        county: "460105",
        level: "1",
        add_on: "0",
    },
];

pub fn hospital(code: &str) -> &'static Hospital {
    HOSPITALS
        .iter()
        .find(|h| h.code == code)
        .unwrap_or_else(|| panic!("no hospital {code}"))
}

pub const LEVELS: [&str; 6] = ["3A", "3B", "2A", "2B", "1", "community"];

/// DIP level coefficients (等级系数), DOMAIN.md §3's illustration.
pub const LEVEL_COEFFICIENTS: [(&str, &str); 6] = [
    ("3A", "1.20"),
    ("3B", "1.15"),
    ("2A", "1.05"),
    ("2B", "1.00"),
    ("1", "0.85"),
    ("community", "0.80"),
];

pub fn level_coefficient(level: &str) -> Decimal {
    LEVEL_COEFFICIENTS
        .iter()
        .find(|(l, _)| *l == level)
        .map(|(_, c)| d(c))
        .unwrap_or_else(|| panic!("no coefficient for {level}"))
}

/// A group of the directory as the bureau prices it: the history's combination (category and
/// procedure, empty for conservative treatment), the published score, the same-level
/// references (last year's mean at each level, in `LEVELS` order) and, for a basic-level
/// disease, its one reference at every level (last year's mean over 2A and 2B hospitals).
pub struct GroupPrice {
    pub category: &'static str,
    pub procedure: &'static str,
    pub score: &'static str,
    pub references: [&'static str; 6],
    pub basic_level: bool,
    pub basic_level_reference: Option<&'static str>,
}

pub const GROUPS: [GroupPrice; 5] = [
    // Laparoscopic appendectomy.
    GroupPrice {
        category: "K35.8",
        procedure: "47.0100",
        score: "1000",
        references: ["12000", "11000", "10000", "9000", "7000", "6500"],
        basic_level: false,
        basic_level_reference: None,
    },
    // Pneumonia, conservative: a basic-level disease, measured at every level against its one
    // basic-level reference, not its level's.
    GroupPrice {
        category: "J18.9",
        procedure: "",
        score: "500",
        references: ["6000", "5800", "5200", "4800", "4000", "3800"],
        basic_level: true,
        basic_level_reference: Some("5000"),
    },
    // Schizophrenia, acute phase.
    GroupPrice {
        category: "F20.0",
        procedure: "",
        score: "1500",
        references: ["15000", "14000", "13000", "12000", "10000", "9000"],
        basic_level: false,
        basic_level_reference: None,
    },
    // Cerebral infarction, conservative.
    GroupPrice {
        category: "I63.9",
        procedure: "",
        score: "1200",
        references: ["13000", "12500", "12000", "11000", "9000", "8500"],
        basic_level: false,
        basic_level_reference: None,
    },
    // Laparoscopic cholecystectomy: published with score 0, paid at cost.
    GroupPrice {
        category: "K80.1",
        procedure: "51.2300",
        score: "0",
        references: ["15000"; 6],
        basic_level: false,
        basic_level_reference: None,
    },
];

/// Per-diem programmes: (programme, phases of (name, last day, daily rate per level in `LEVELS`
/// order)).
pub type Phase = (&'static str, Option<u32>, [&'static str; 6]);

pub const PSYCHIATRIC: [Phase; 3] = [
    (
        "acute",
        Some(56),
        ["300", "290", "270", "250", "200", "190"],
    ),
    (
        "chronic",
        Some(180),
        ["200", "195", "185", "180", "150", "140"],
    ),
    ("long_term", None, ["150", "145", "130", "120", "100", "95"]),
];
pub const REHABILITATION: [Phase; 1] = [("stay", None, ["400", "390", "370", "350", "300", "280"])];
pub const HOSPICE: [Phase; 1] = [("stay", None, ["500", "490", "470", "450", "400", "380"])];

pub fn rate(phase: &Phase, level: &str) -> Decimal {
    let index = LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or_else(|| panic!("no level {level}"));
    d(phase.2[index])
}

/// The history the directory is built from: twenty stays a year of each combination, so each
/// becomes a core group; the rehabilitation and hospice diagnoses have no group (per diem).
pub fn history_csv() -> String {
    let mut csv = String::from("year,principal_diagnosis,procedures,total_cost\n");
    let combinations = [
        ("K35.800", "47.0100", 9_000),
        ("J18.900", "", 4_500),
        ("F20.000", "", 12_000),
        ("I63.900", "", 10_000),
        ("K80.100", "51.2300", 14_000),
    ];
    for year in [2022, 2023, 2024] {
        for (diagnosis, procedure, base) in combinations {
            for i in 0..20 {
                let _ = writeln!(csv, "{year},{diagnosis},{procedure},{}", base + i * 100);
            }
        }
    }
    csv
}

/// One inpatient stay of the year.
#[derive(Clone, Debug)]
pub struct Stay {
    pub list_id: String,
    pub hospital: &'static str,
    pub fund: u16,
    pub person: String,
    pub admitted_at: &'static str,
    pub discharged_at: &'static str,
    pub department: &'static str,
    pub diagnosis: &'static str,
    pub procedure: &'static str,
    pub total: Decimal,
    pub fund_paid: Decimal,
    pub account: Decimal,
    pub cash: Decimal,
    /// What the boundary is, for failure messages.
    pub note: &'static str,
}

impl Stay {
    pub fn burden(&self) -> Decimal {
        self.account + self.cash
    }

    /// The stay as a settlement list (DOMAIN.md §1), pooled in Haikou.
    pub fn list_json(&self) -> String {
        let level = hospital(self.hospital).level;
        let procedures = if self.procedure.is_empty() {
            String::new()
        } else {
            format!(
                r#"{{"code":"{}","name":"procedure","date":"{}"}}"#,
                self.procedure,
                &self.admitted_at[..10]
            )
        };
        format!(
            r#"{{"header":{{"setl_id":"{id}","fixmedins_code":"{hospital}","hospital_level":"{level}","insutype":{fund},"psn_no":"{person}","case_number":"BA-{id}","declared_at":"{declared} 20:00:00","pooling_region":"{POOL}"}},"patient":{{"sex":1,"birth_date":"1970-05-01","age_years":54}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{admitted}","admission_department":"{dept}","discharged_at":"{discharged}","discharge_department":"{dept}","discharge_type":1}},"diagnoses":[{{"code":"{diagnosis}","name":"diagnosis","admission_condition":1}}],"procedures":[{procedures}],"charges":[{{"category":"treatment","amount":"{total}"}}],"payment":{{"medfee_sumamt":"{total}","hifp_pay":"{fund_paid}","acct_pay":"{account}","psn_cash_pay":"{cash}"}}}}"#,
            id = self.list_id,
            hospital = self.hospital,
            fund = self.fund,
            person = self.person,
            declared = &self.discharged_at[..10],
            admitted = self.admitted_at,
            discharged = self.discharged_at,
            dept = self.department,
            diagnosis = self.diagnosis,
            total = self.total.round_dp(2),
            fund_paid = self.fund_paid.round_dp(2),
            account = self.account.round_dp(2),
            cash = self.cash.round_dp(2),
        )
    }
}

/// hospital, person, admitted, discharged, department, diagnosis, procedure, cost, note.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u32,
    &'static str,
);

/// The stays of `fund`: the employee fund pays 75 % of the cost (72 %, 73 % for every second and
/// third stay) and the personal account 10 %, the resident fund 60 % (57 %, 58 %) with no account;
/// the rest is cash. The shares differ so that the reimbursement ratio is not a round number.
pub fn stays(fund: u16) -> Vec<Stay> {
    let [ha, hb, hc] = [HOSPITALS[0].code, HOSPITALS[1].code, HOSPITALS[2].code];
    #[rustfmt::skip]
    let rows: [Row; 22] = [
        // hospital, person, admitted, discharged, department, diagnosis, procedure, cost, note
        (ha, "a", "2025-01-05 09:00:00", "2025-02-14 10:00:00", "psychiatry", "F20.000", "", 14_000, "psychiatric 40 days: acute, DIP"),
        (ha, "a", "2025-03-01 09:00:00", "2025-03-21 10:00:00", "psychiatry", "F20.000", "", 6_000, "readmitted on day 15: days 41-60, per diem"),
        (ha, "b", "2025-04-01 09:00:00", "2025-05-11 10:00:00", "psychiatry", "F20.000", "", 16_000, "psychiatric 40 days: acute, DIP"),
        (ha, "b", "2025-05-27 09:00:00", "2025-06-16 10:00:00", "psychiatry", "F20.000", "", 7_000, "readmitted on day 16: a new episode, DIP low"),
        (ha, "c", "2025-07-01 08:00:00", "2025-07-03 08:00:00", "general_surgery", "K35.800", "47.0100", 7_000, "48:00:00: day surgery"),
        (ha, "d", "2025-07-10 08:00:00", "2025-07-12 08:00:01", "general_surgery", "K35.800", "47.0100", 11_000, "48:00:01: DIP"),
        (ha, "e", "2025-08-03 09:00:00", "2025-08-09 10:00:00", "general_surgery", "K80.100", "51.2300", 16_000, "score 0: paid at cost"),
        (ha, "f", "2025-09-01 09:00:00", "2025-09-11 10:00:00", "A21", "Z51.500", "", 4_800, "hospice in a rehabilitation ward: hospice"),
        (ha, "g", "2025-10-02 09:00:00", "2025-10-08 10:00:00", "respiratory", "J18.900", "", 2_000, "basic-level, low, no add-on"),
        (ha, "h", "2025-11-01 09:00:00", "2025-11-10 10:00:00", "neurology", "I63.900", "", 13_000, "DIP normal"),
        (ha, "h", "2025-11-20 09:00:00", "2025-11-30 10:00:00", "neurology", "I63.900", "", 26_000, "readmitted after 10 days, cost exactly 2x: no halving, normal"),
        (hb, "i", "2025-01-10 09:00:00", "2025-03-07 10:00:00", "psychiatry", "F20.000", "", 12_000, "psychiatric LOS 56: acute, DIP"),
        (hb, "j", "2025-04-10 09:00:00", "2025-06-06 10:00:00", "psychiatry", "F20.000", "", 15_000, "psychiatric LOS 57: per diem, day 57 chronic"),
        (hb, "k", "2025-06-01 09:00:00", "2025-07-30 10:00:00", "neurology", "I63.900", "", 25_000, "LOS 59: DIP high"),
        (hb, "l", "2025-08-01 09:00:00", "2025-09-30 10:00:00", "neurology", "I63.900", "", 30_000, "LOS 60: excluded, FFS"),
        (hb, "m", "2025-05-03 09:00:00", "2025-05-07 10:00:00", "general_surgery", "K35.800", "47.0100", 4_500, "cost exactly 0.5x: normal"),
        (hb, "n", "2025-10-01 09:00:00", "2025-10-21 10:00:00", "A21", "Z50.100", "", 8_000, "rehabilitation by department and diagnosis"),
        (hc, "o", "2025-02-03 09:00:00", "2025-02-09 10:00:00", "general", "J18.900", "", 4_000, "basic-level at a primary institution: the 2A coefficient"),
        (hc, "p", "2025-03-01 09:00:00", "2025-03-31 10:00:00", "general", "Z50.100", "", 8_500, "rehabilitation by diagnosis, below the standard"),
        (hc, "q", "2025-06-02 09:00:00", "2025-06-06 10:00:00", "general_surgery", "K35.800", "47.0100", 14_000, "4 days at exactly 2x the level-1 reference: normal"),
        (hc, "r", "2025-09-05 09:00:00", "2025-09-10 10:00:00", "neurology", "I63.900", "", 3_000, "DIP low at level 1"),
        (hc, "s", "2025-12-01 08:30:00", "2025-12-02 04:30:00", "general_surgery", "K35.800", "47.0100", 5_000, "20 hours: day surgery, price above cost"),
    ];
    priced(fund, "HK", &rows)
}

/// The 2024 stays of `fund` the budget point value of 2025 is published from (other persons,
/// so that no episode or readmission reaches into 2025): DIP at 3A, DIP at 2B, basic-level at
/// level 1, and a score-0 stay that the value leaves out.
pub fn history_stays(fund: u16) -> Vec<Stay> {
    let [ha, hb, hc] = [HOSPITALS[0].code, HOSPITALS[1].code, HOSPITALS[2].code];
    #[rustfmt::skip]
    let rows: [Row; 4] = [
        (ha, "w", "2024-03-04 09:00:00", "2024-03-08 10:00:00", "general_surgery", "K35.800", "47.0100", 12_000, "2024: DIP at 3A"),
        (hb, "x", "2024-05-06 09:00:00", "2024-05-16 10:00:00", "neurology", "I63.900", "", 11_000, "2024: DIP at 2B"),
        (hc, "y", "2024-07-01 09:00:00", "2024-07-06 10:00:00", "general", "J18.900", "", 4_500, "2024: basic-level at level 1"),
        (ha, "z", "2024-09-02 09:00:00", "2024-09-08 10:00:00", "general_surgery", "K80.100", "51.2300", 15_000, "2024: score 0"),
    ];
    priced(fund, "HIST", &rows)
}

/// The stays of `rows` as `fund` pays them (see [`stays`]), list ids `{prefix}{fund}-nn`.
fn priced(fund: u16, prefix: &str, rows: &[Row]) -> Vec<Stay> {
    let (fund_share, account_share) = if fund == 310 {
        (d("0.75"), d("0.10"))
    } else {
        (d("0.60"), Decimal::ZERO)
    };
    rows.iter()
        .enumerate()
        .map(
            |(
                n,
                (
                    hospital,
                    person,
                    admitted_at,
                    discharged_at,
                    department,
                    diagnosis,
                    procedure,
                    cost,
                    note,
                ),
            )| {
                let total = Decimal::from(*cost);
                let less = match n % 3 {
                    1 => d("0.03"),
                    2 => d("0.02"),
                    _ => Decimal::ZERO,
                };
                let fund_paid = (total * (fund_share - less)).round_dp(2);
                let account = (total * account_share).round_dp(2);
                Stay {
                    list_id: format!("{prefix}{fund}-{n:02}"),
                    hospital,
                    fund,
                    person: format!("P{fund}-{person}"),
                    admitted_at,
                    discharged_at,
                    department,
                    diagnosis,
                    procedure,
                    total,
                    fund_paid,
                    account,
                    cash: total - fund_paid - account,
                    note,
                }
            },
        )
        .collect()
}
