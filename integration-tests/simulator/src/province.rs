//! Hainan as the simulation sees it: its GB/T 2260 regions, designated hospitals and pharmacies
//! with their service agreements, and the insured persons of both funds.
//!
//! The regions are Hainan's real prefectures and counties. `kernel::RegionCode` reads the
//! province-administered county-level units (`4690xx`) as counties that belong to the province
//! only (no prefecture contains them), and the roster follows it: their hospitals settle in their
//! own county code, which `460000` contains and no prefecture does.
//!
//! Hospitals and pharmacies are synthetic (names and codes are made up in the national format);
//! the roster is fixed, so every seed simulates the same institutions. Persons are not stored:
//! person `n` of the pool is computed from `n` and the seed whenever a case needs one.

use kernel::date::Date;
use kernel::{FundType, RegionCode, RegionLevel};
use serde::Serialize;
use settlement_domain::institution::{
    AgreementStatus, Institution, InstitutionLevel, InstitutionType, ServiceAgreement,
};

use crate::rng::hash_of;

/// A region of the province.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: RegionCode,
    /// Name as in GB/T 2260 (Chinese).
    pub name: &'static str,
    pub level: RegionLevel,
}

/// Hainan's regions (GB/T 2260), province first.
const HAINAN_REGIONS: [(&str, &str); 28] = [
    ("460000", "海南省"),
    ("460100", "海口市"),
    ("460105", "秀英区"),
    ("460106", "龙华区"),
    ("460107", "琼山区"),
    ("460108", "美兰区"),
    ("460200", "三亚市"),
    ("460202", "海棠区"),
    ("460203", "吉阳区"),
    ("460204", "天涯区"),
    ("460205", "崖州区"),
    ("460300", "三沙市"),
    ("460400", "儋州市"),
    ("469001", "五指山市"),
    ("469002", "琼海市"),
    ("469005", "文昌市"),
    ("469006", "万宁市"),
    ("469007", "东方市"),
    ("469021", "定安县"),
    ("469022", "屯昌县"),
    ("469023", "澄迈县"),
    ("469024", "临高县"),
    ("469025", "白沙黎族自治县"),
    ("469026", "昌江黎族自治县"),
    ("469027", "乐东黎族自治县"),
    ("469028", "陵水黎族自治县"),
    ("469029", "保亭黎族苗族自治县"),
    ("469030", "琼中黎族苗族自治县"),
];

/// A hospital's settlement level (医保结算等级), as written in `hospital_level` of a list: the
/// codes of the points context's level coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum HospitalLevel {
    #[serde(rename = "3A")]
    Tertiary3A,
    #[serde(rename = "3B")]
    Tertiary3B,
    #[serde(rename = "2A")]
    Secondary2A,
    #[serde(rename = "2B")]
    Secondary2B,
    #[serde(rename = "1")]
    Primary1,
    /// Community health centre or township hospital (基层医疗卫生机构).
    #[serde(rename = "community")]
    Community,
}

impl HospitalLevel {
    pub const ALL: [HospitalLevel; 6] = [
        HospitalLevel::Tertiary3A,
        HospitalLevel::Tertiary3B,
        HospitalLevel::Secondary2A,
        HospitalLevel::Secondary2B,
        HospitalLevel::Primary1,
        HospitalLevel::Community,
    ];

    /// The code written on the list ("3A" … "1", "community").
    pub fn code(self) -> &'static str {
        match self {
            HospitalLevel::Tertiary3A => "3A",
            HospitalLevel::Tertiary3B => "3B",
            HospitalLevel::Secondary2A => "2A",
            HospitalLevel::Secondary2B => "2B",
            HospitalLevel::Primary1 => "1",
            HospitalLevel::Community => "community",
        }
    }

    /// The institution registry's level.
    pub fn institution_level(self) -> InstitutionLevel {
        match self {
            HospitalLevel::Tertiary3A => InstitutionLevel::TertiaryA,
            HospitalLevel::Tertiary3B => InstitutionLevel::TertiaryB,
            HospitalLevel::Secondary2A => InstitutionLevel::SecondaryA,
            HospitalLevel::Secondary2B => InstitutionLevel::SecondaryB,
            HospitalLevel::Primary1 => InstitutionLevel::Primary,
            HospitalLevel::Community => InstitutionLevel::Community,
        }
    }

    /// Whether the institution is a primary one (一级 and 基层), where basic-level diseases are
    /// treated.
    pub fn is_primary(self) -> bool {
        matches!(self, HospitalLevel::Primary1 | HospitalLevel::Community)
    }

    /// Relative cost of a stay at this level (a 2A hospital is 1).
    pub(crate) fn cost_factor(self) -> f64 {
        match self {
            HospitalLevel::Tertiary3A => 1.25,
            HospitalLevel::Tertiary3B => 1.12,
            HospitalLevel::Secondary2A => 1.0,
            HospitalLevel::Secondary2B => 0.92,
            HospitalLevel::Primary1 => 0.8,
            HospitalLevel::Community => 0.7,
        }
    }
}

/// What a hospital does besides general care, for the modes that need a specialist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speciality {
    General,
    Psychiatric,
    Rehabilitation,
}

/// A designated hospital with its service agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hospital {
    pub institution: Institution,
    pub level: HospitalLevel,
    pub speciality: Speciality,
    pub agreement: ServiceAgreement,
}

impl Hospital {
    pub fn code(&self) -> &str {
        &self.institution.code
    }

    pub fn region(&self) -> RegionCode {
        self.institution.pooling_region
    }
}

/// A designated retail pharmacy (定点零售药店) with its service agreement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pharmacy {
    pub institution: Institution,
    pub agreement: ServiceAgreement,
}

/// An insured person, computed from the pool position and the seed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    /// 医保编号 (pseudonymous).
    pub person_id: String,
    pub fund: FundType,
    /// 1 male, 2 female.
    pub sex: u8,
    pub birth_date: Date,
    /// Where the person is insured and lives.
    pub home_region: RegionCode,
}

/// The simulated province.
#[derive(Clone, Debug)]
pub struct Province {
    pub code: RegionCode,
    pub name: &'static str,
    pub regions: Vec<Region>,
    pub hospitals: Vec<Hospital>,
    pub pharmacies: Vec<Pharmacy>,
    /// Insured persons in the pool (default 1,000,000); person `n` is [`Province::person`].
    pub insured_persons: u64,
    /// Share of the pool insured by the employee fund (310); the rest are residents (390).
    pub employee_share: f64,
    /// Years the service agreements cover, inclusive.
    agreement_years: (i32, i32),
}

/// Why a province cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ProvinceError {
    #[error("region code {code} is not accepted by the kernel: {reason}")]
    Region { code: String, reason: String },
    #[error("agreement of {hospital} has a bad period: {reason}")]
    Agreement { hospital: String, reason: String },
}

/// Hospitals of one region: (level, speciality, count).
fn roster(code: &str) -> &'static [(HospitalLevel, Speciality, u32)] {
    use HospitalLevel::*;
    use Speciality::*;
    match code {
        // Provincial hospitals: two general 3A, the provincial psychiatric hospital.
        "460000" => &[(Tertiary3A, General, 2), (Tertiary3A, Psychiatric, 1)],
        "460100" => &[
            (Tertiary3A, General, 1),
            (Tertiary3B, General, 1),
            (Secondary2A, Rehabilitation, 1),
        ],
        "460105" | "460106" | "460107" | "460108" => &[
            (Secondary2A, General, 1),
            (Secondary2B, General, 1),
            (Primary1, General, 1),
            (Community, General, 2),
        ],
        "460200" => &[
            (Tertiary3A, General, 1),
            (Secondary2A, Psychiatric, 1),
            (Secondary2A, Rehabilitation, 1),
        ],
        "460202" | "460203" | "460204" | "460205" => &[
            (Secondary2A, General, 1),
            (Primary1, General, 1),
            (Community, General, 2),
        ],
        "460300" => &[(Primary1, General, 1), (Community, General, 1)],
        "460400" => &[
            (Tertiary3B, General, 1),
            (Secondary2A, General, 1),
            (Primary1, General, 1),
            (Community, General, 2),
        ],
        "469002" | "469005" | "469006" => &[
            (Tertiary3B, General, 1),
            (Secondary2B, General, 1),
            (Primary1, General, 1),
            (Community, General, 3),
        ],
        _ => &[
            (Secondary2A, General, 1),
            (Secondary2B, General, 1),
            (Primary1, General, 1),
            (Community, General, 3),
        ],
    }
}

fn parse_region(code: &str) -> Result<RegionCode, ProvinceError> {
    code.parse()
        .map_err(|e: kernel::RegionCodeError| ProvinceError::Region {
            code: code.to_owned(),
            reason: e.to_string(),
        })
}

fn date(year: i32, month: u32, day: u32) -> Date {
    // Callers pass 1 January or 31 December of years the simulation accepts (1900..=9998).
    Date::new(year, month, day).unwrap_or_else(|_| Date::from_days_since_epoch(0))
}

impl Province {
    /// Hainan (460000) with its 28 regions, 130-odd hospitals of every level and a pharmacy per
    /// prefecture and county, agreements covering 2020–2030, and a pool of 1,000,000 insured
    /// persons of whom 30 % are employees (310) and 70 % residents (390).
    pub fn hainan() -> Self {
        // The codes are constants checked by the tests; a failure here is a programming error.
        Self::try_hainan(2020, 2030).expect("Hainan's constant regions are valid GB/T 2260 codes")
    }

    /// Hainan with agreements covering `first_year` to `last_year`.
    pub fn try_hainan(first_year: i32, last_year: i32) -> Result<Self, ProvinceError> {
        let mut regions = Vec::new();
        for (code, name) in HAINAN_REGIONS.iter() {
            let code = parse_region(code)?;
            regions.push(Region {
                code,
                name,
                level: code.level(),
            });
        }
        let start = date(first_year, 1, 1);
        let end = date(last_year, 12, 31);
        let mut hospitals = Vec::new();
        let mut pharmacies = Vec::new();
        for region in &regions {
            let mut serial = 1;
            for &(level, speciality, count) in roster(&region.code.to_string()) {
                for _ in 0..count {
                    let code = format!("H{}{serial:02}", region.code);
                    let name = format!(
                        "{}{}{}",
                        region.name,
                        match speciality {
                            Speciality::General => "",
                            Speciality::Psychiatric => "精神卫生",
                            Speciality::Rehabilitation => "康复",
                        },
                        match level {
                            HospitalLevel::Community => format!("卫生院{serial}"),
                            _ => format!("医院{serial}（{}）", level.code()),
                        }
                    );
                    let agreement = ServiceAgreement::new(
                        format!("XY{}{first_year}", &code[1..]),
                        start,
                        end,
                        AgreementStatus::Active,
                    )
                    .map_err(|e| ProvinceError::Agreement {
                        hospital: code.clone(),
                        reason: e.to_string(),
                    })?;
                    hospitals.push(Hospital {
                        institution: Institution {
                            code,
                            name,
                            pooling_region: region.code,
                            level: level.institution_level(),
                            institution_type: match (speciality, level) {
                                (Speciality::General, l) if l.is_primary() => {
                                    InstitutionType::PrimaryCare
                                }
                                (Speciality::General, _) => InstitutionType::GeneralHospital,
                                _ => InstitutionType::SpecialistHospital,
                            },
                            medical_alliance: None,
                        },
                        level,
                        speciality,
                        agreement,
                    });
                    serial += 1;
                }
            }
            if region.level != RegionLevel::Province {
                let code = format!("P{}01", region.code);
                let agreement = ServiceAgreement::new(
                    format!("YD{}{first_year}", &code[1..]),
                    start,
                    end,
                    AgreementStatus::Active,
                )
                .map_err(|e| ProvinceError::Agreement {
                    hospital: code.clone(),
                    reason: e.to_string(),
                })?;
                pharmacies.push(Pharmacy {
                    institution: Institution {
                        code,
                        name: format!("{}大药房", region.name),
                        pooling_region: region.code,
                        level: InstitutionLevel::Unrated,
                        institution_type: InstitutionType::Pharmacy,
                        medical_alliance: None,
                    },
                    agreement,
                });
            }
        }
        Ok(Self {
            code: parse_region("460000")?,
            name: "海南省",
            regions,
            hospitals,
            pharmacies,
            insured_persons: 1_000_000,
            employee_share: 0.3,
            agreement_years: (first_year, last_year),
        })
    }

    /// Years the agreements cover, inclusive.
    pub fn agreement_years(&self) -> (i32, i32) {
        self.agreement_years
    }

    /// Person `position` of the pool (taken modulo the pool size), the same for the same seed.
    /// Sex alternates with the position so that a case can ask for a sex; fund, birth date and
    /// home region come from a hash of the position.
    pub fn person(&self, seed: u64, position: u64) -> Person {
        let position = position % self.insured_persons.max(1);
        let h = hash_of(seed ^ 0x005E_ED0F_9E45, position);
        let fund = if (h % 10_000) as f64 / 10_000.0 < self.employee_share {
            FundType::Employee
        } else {
            FundType::Resident
        };
        // Ages 0–95 at the start of 2024, from a day offset so that birthdays spread over the year.
        let age_days = ((h >> 16) % (96 * 365)) as i32;
        let birth_date = date(2024, 1, 1).add_days(-age_days);
        let home = &self.regions[1 + ((h >> 40) as usize % (self.regions.len() - 1))];
        Person {
            person_id: format!("P{}{position:08}", home.code),
            fund,
            sex: if position.is_multiple_of(2) { 1 } else { 2 },
            birth_date,
            home_region: home.code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_parses_with_the_level_the_kernel_gives() {
        let p = Province::hainan();
        assert_eq!(p.regions.len(), 28);
        let province = p.code;
        for region in &p.regions {
            assert!(province.contains(region.code), "{}", region.code);
        }
        let haikou: RegionCode = "460100".parse().expect("code");
        let wuzhishan: RegionCode = "469001".parse().expect("code");
        assert_eq!(wuzhishan.level(), RegionLevel::County);
        assert!(!haikou.contains(wuzhishan));
    }

    #[test]
    fn every_region_has_a_hospital_and_every_level_appears() {
        let p = Province::hainan();
        for region in &p.regions {
            assert!(
                p.hospitals.iter().any(|h| h.region() == region.code),
                "{}",
                region.code
            );
        }
        for level in HospitalLevel::ALL {
            assert!(p.hospitals.iter().any(|h| h.level == level), "{level:?}");
        }
        let codes: std::collections::BTreeSet<_> = p.hospitals.iter().map(Hospital::code).collect();
        assert_eq!(codes.len(), p.hospitals.len(), "hospital codes are unique");
    }

    #[test]
    fn persons_are_stable_and_both_funds_occur() {
        let p = Province::hainan();
        assert_eq!(p.person(1, 42), p.person(1, 42));
        assert_ne!(p.person(1, 42), p.person(2, 42));
        let employees = (0..10_000)
            .filter(|n| p.person(1, *n).fund == FundType::Employee)
            .count();
        assert!((2_700..3_300).contains(&employees), "{employees}");
    }
}
