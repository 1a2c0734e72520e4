//! The registry of designated institutions (定点医疗机构) and their service agreements (服务协议).
//!
//! An institution's attributes change over time (level, alliance membership); the registry keeps
//! every version as a value with the date it took effect, so a case is always read against the
//! institution as it was on the day of the stay.

use kernel::RegionCode;
use serde::{Deserialize, Serialize};

use crate::error::SettlementError;
use kernel::date::Date;

/// Hospital level (医保结算等级 / 医院等级), which selects DIP level coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionLevel {
    TertiaryA,
    TertiaryB,
    SecondaryA,
    SecondaryB,
    Primary,
    /// Community health centre or township hospital (社区 / 乡镇卫生院).
    Community,
    Unrated,
}

/// Kind of institution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionType {
    GeneralHospital,
    SpecialistHospital,
    TraditionalChineseMedicine,
    MaternalChild,
    PrimaryCare,
    Pharmacy,
    Other,
}

/// One version of a designated institution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// 定点医疗机构代码 (`fixmedins_code`).
    pub code: String,
    pub name: String,
    /// Pooling region (统筹区) the institution settles in.
    pub pooling_region: RegionCode,
    pub level: InstitutionLevel,
    pub institution_type: InstitutionType,
    /// The tight medical alliance (紧密型医联体) it belongs to, if any; budgeted as one unit.
    pub medical_alliance: Option<String>,
}

/// Status of a service agreement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    Active,
    Suspended,
    Terminated,
}

/// A service agreement between the agency and the institution, valid from `start` to `end`
/// inclusive while active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAgreement {
    pub agreement_id: String,
    pub start: Date,
    pub end: Date,
    pub status: AgreementStatus,
}

impl ServiceAgreement {
    /// An agreement, refused when it ends before it starts.
    pub fn new(
        agreement_id: impl Into<String>,
        start: Date,
        end: Date,
        status: AgreementStatus,
    ) -> Result<Self, SettlementError> {
        let agreement_id = agreement_id.into();
        if end < start {
            return Err(SettlementError::AgreementPeriod {
                agreement_id,
                start: start.to_string(),
                end: end.to_string(),
            });
        }
        Ok(Self {
            agreement_id,
            start,
            end,
            status,
        })
    }

    /// Whether this agreement is active and covers `on`.
    pub fn covers(&self, on: Date) -> bool {
        self.status == AgreementStatus::Active && self.start <= on && on <= self.end
    }
}

/// A version of an institution with the date it took effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionVersion {
    pub effective_from: Date,
    pub institution: Institution,
}

/// An institution's whole record: its versions in order and its agreements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionRecord {
    code: String,
    versions: Vec<InstitutionVersion>,
    agreements: Vec<ServiceAgreement>,
}

impl InstitutionRecord {
    /// A record whose first version takes effect on `effective_from`.
    pub fn new(effective_from: Date, institution: Institution) -> Self {
        Self {
            code: institution.code.clone(),
            versions: vec![InstitutionVersion {
                effective_from,
                institution,
            }],
            agreements: Vec::new(),
        }
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    /// Records a change; it must take effect after the latest version and keep the code.
    pub fn record_change(
        &mut self,
        effective_from: Date,
        institution: Institution,
    ) -> Result<(), SettlementError> {
        let after_latest = self
            .versions
            .last()
            .is_none_or(|latest| effective_from > latest.effective_from);
        if !after_latest || institution.code != self.code {
            return Err(SettlementError::HistoryOutOfOrder {
                code: self.code.clone(),
                effective_from: effective_from.to_string(),
            });
        }
        self.versions.push(InstitutionVersion {
            effective_from,
            institution,
        });
        Ok(())
    }

    /// The institution as it was on `on`; `None` before its first version.
    pub fn as_of(&self, on: Date) -> Option<&Institution> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= on)
            .map(|v| &v.institution)
    }

    /// Every version, oldest first.
    pub fn history(&self) -> &[InstitutionVersion] {
        &self.versions
    }

    pub fn add_agreement(&mut self, agreement: ServiceAgreement) {
        self.agreements.push(agreement);
    }

    pub fn agreements(&self) -> &[ServiceAgreement] {
        &self.agreements
    }

    /// Whether an active agreement covers `on`: only then may the institution settle a case of
    /// that day with the fund.
    pub fn has_valid_agreement(&self, on: Date) -> bool {
        self.agreements.iter().any(|a| a.covers(on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().expect("test date")
    }

    fn hospital(level: InstitutionLevel, alliance: Option<&str>) -> Institution {
        Institution {
            code: "H46010001".into(),
            name: "Haikou People's Hospital".into(),
            pooling_region: "460000".parse().expect("region"),
            level,
            institution_type: InstitutionType::GeneralHospital,
            medical_alliance: alliance.map(str::to_owned),
        }
    }

    #[test]
    fn agreement_validity_on_both_edges_and_by_status() {
        let mut record = InstitutionRecord::new(
            date("2020-01-01"),
            hospital(InstitutionLevel::SecondaryA, None),
        );
        assert!(!record.has_valid_agreement(date("2025-01-01")));
        record.add_agreement(
            ServiceAgreement::new(
                "A1",
                date("2025-01-01"),
                date("2025-12-31"),
                AgreementStatus::Active,
            )
            .expect("period"),
        );
        record.add_agreement(
            ServiceAgreement::new(
                "A2",
                date("2026-01-01"),
                date("2026-12-31"),
                AgreementStatus::Suspended,
            )
            .expect("period"),
        );
        assert!(!record.has_valid_agreement(date("2024-12-31")));
        assert!(record.has_valid_agreement(date("2025-01-01")));
        assert!(record.has_valid_agreement(date("2025-12-31")));
        assert!(!record.has_valid_agreement(date("2026-06-01")));
    }

    #[test]
    fn inverted_agreement_period_is_refused() {
        let err = ServiceAgreement::new(
            "A1",
            date("2025-02-01"),
            date("2025-01-31"),
            AgreementStatus::Active,
        )
        .expect_err("inverted");
        assert_eq!(err.reason(), "AGREEMENT_PERIOD_INVERTED");
    }

    #[test]
    fn history_is_read_as_of_a_date_and_kept_in_order() {
        let mut record = InstitutionRecord::new(
            date("2020-01-01"),
            hospital(InstitutionLevel::SecondaryA, None),
        );
        record
            .record_change(
                date("2024-07-01"),
                hospital(InstitutionLevel::TertiaryB, Some("MA-01")),
            )
            .expect("later change");
        assert_eq!(record.as_of(date("2019-12-31")), None);
        assert_eq!(
            record.as_of(date("2024-06-30")).map(|i| i.level),
            Some(InstitutionLevel::SecondaryA)
        );
        assert_eq!(
            record
                .as_of(date("2024-07-01"))
                .and_then(|i| i.medical_alliance.clone()),
            Some("MA-01".to_owned())
        );
        let err = record
            .record_change(
                date("2024-07-01"),
                hospital(InstitutionLevel::TertiaryA, None),
            )
            .expect_err("same day again");
        assert_eq!(err.reason(), "HISTORY_OUT_OF_ORDER");
        assert_eq!(record.history().len(), 2);
    }
}
