//! The rules of the registry of designated institutions: the words institutions and agreements
//! are written with, and which changes the registry takes.
//!
//! A caller sees and changes only institutions registered (now) inside its scope; one registered
//! elsewhere is answered exactly like one never registered. A registered institution changes
//! only with a reason, and only with effect after its latest version, so its history stays in
//! order.

use kernel::RegionCode;

use crate::institution::{AgreementStatus, InstitutionLevel, InstitutionType};

/// Institution levels as written on the wire and stored.
pub const LEVELS: [&str; 7] = ["3A", "3B", "2A", "2B", "1", "community", "unrated"];
/// Institution types as written on the wire and stored.
pub const TYPES: [&str; 6] = [
    "general",
    "specialist",
    "tcm",
    "primary",
    "maternal_child",
    "other",
];
/// Agreement statuses as written on the wire and stored.
pub const AGREEMENT_STATUSES: [&str; 3] = ["active", "suspended", "terminated"];

/// The level a word of [`LEVELS`] names (any other word: unrated).
pub fn level_of(word: &str) -> InstitutionLevel {
    match word {
        "3A" => InstitutionLevel::TertiaryA,
        "3B" => InstitutionLevel::TertiaryB,
        "2A" => InstitutionLevel::SecondaryA,
        "2B" => InstitutionLevel::SecondaryB,
        "1" => InstitutionLevel::Primary,
        "community" => InstitutionLevel::Community,
        _ => InstitutionLevel::Unrated,
    }
}

/// The type a word of [`TYPES`] names (any other word: other).
pub fn type_of(word: &str) -> InstitutionType {
    match word {
        "general" => InstitutionType::GeneralHospital,
        "specialist" => InstitutionType::SpecialistHospital,
        "tcm" => InstitutionType::TraditionalChineseMedicine,
        "primary" => InstitutionType::PrimaryCare,
        "maternal_child" => InstitutionType::MaternalChild,
        _ => InstitutionType::Other,
    }
}

/// The status a word of [`AGREEMENT_STATUSES`] names (any other word: terminated).
pub fn agreement_status_of(word: &str) -> AgreementStatus {
    match word {
        "active" => AgreementStatus::Active,
        "suspended" => AgreementStatus::Suspended,
        _ => AgreementStatus::Terminated,
    }
}

/// Why the registry refuses a change.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryRefusal {
    /// Also the answer for an institution registered in another region, so that a caller
    /// learns nothing of institutions outside its scope.
    #[error("institution {code} is not registered in region {region}")]
    UnknownInstitution { code: String, region: RegionCode },
    /// A registration may only move an institution between regions the caller acts for.
    #[error("institution code {code} is registered to a region outside the caller's scope")]
    CodeTaken { code: String },
    #[error("institution {code} is registered: a change needs a reason")]
    ReasonRequired { code: String },
    /// Dates are `yyyymmdd`.
    #[error("institution {code}: a change must take effect after {latest}, not on {requested}")]
    HistoryOutOfOrder {
        code: String,
        latest: i32,
        requested: i32,
    },
}

/// The latest registered version of an institution, as far as the rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latest {
    pub region: RegionCode,
    /// `yyyymmdd`.
    pub effective_from: i32,
}

/// Whether a new version of institution `code`, effective `effective_from` (`yyyymmdd`) with
/// `reason`, may be recorded by a caller acting for the regions `may_act_for` accepts, given its
/// latest version (`None`: never registered).
pub fn check_new_version(
    code: &str,
    latest: Option<Latest>,
    effective_from: i32,
    reason: &str,
    may_act_for: impl Fn(RegionCode) -> bool,
) -> Result<(), RegistryRefusal> {
    let Some(latest) = latest else {
        return Ok(());
    };
    if !may_act_for(latest.region) {
        return Err(RegistryRefusal::CodeTaken {
            code: code.to_owned(),
        });
    }
    if reason.trim().is_empty() {
        return Err(RegistryRefusal::ReasonRequired {
            code: code.to_owned(),
        });
    }
    if effective_from <= latest.effective_from {
        return Err(RegistryRefusal::HistoryOutOfOrder {
            code: code.to_owned(),
            latest: latest.effective_from,
            requested: effective_from,
        });
    }
    Ok(())
}

/// Whether an agreement of institution `code` may be put for `region`: the institution must be
/// registered now inside it.
pub fn check_agreement_scope(
    code: &str,
    current_region: Option<RegionCode>,
    region: RegionCode,
) -> Result<(), RegistryRefusal> {
    if current_region.is_some_and(|current| region.contains(current)) {
        Ok(())
    } else {
        Err(RegistryRefusal::UnknownInstitution {
            code: code.to_owned(),
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> RegionCode {
        code.parse().expect("region")
    }

    #[test]
    fn a_change_needs_scope_reason_and_order() {
        let latest = Some(Latest {
            region: region("460108"),
            effective_from: 20200101,
        });
        let anywhere = |_: RegionCode| true;
        assert_eq!(
            check_new_version("H1", None, 20200101, "", anywhere),
            Ok(())
        );
        assert!(matches!(
            check_new_version("H1", latest, 20210101, "x", |r| r == region("460200")),
            Err(RegistryRefusal::CodeTaken { .. })
        ));
        assert!(matches!(
            check_new_version("H1", latest, 20210101, " ", anywhere),
            Err(RegistryRefusal::ReasonRequired { .. })
        ));
        assert_eq!(
            check_new_version("H1", latest, 20200101, "moved", anywhere),
            Err(RegistryRefusal::HistoryOutOfOrder {
                code: "H1".into(),
                latest: 20200101,
                requested: 20200101
            })
        );
        assert_eq!(
            check_new_version("H1", latest, 20200102, "moved", anywhere),
            Ok(())
        );
    }

    #[test]
    fn an_agreement_needs_the_institution_inside_the_region() {
        let inside = check_agreement_scope("H1", Some(region("460108")), region("460100"));
        assert_eq!(inside, Ok(()));
        assert!(check_agreement_scope("H1", Some(region("460200")), region("460100")).is_err());
        assert!(check_agreement_scope("H1", None, region("460000")).is_err());
    }

    #[test]
    fn every_word_names_its_value() {
        assert_eq!(level_of("2B"), InstitutionLevel::SecondaryB);
        assert_eq!(type_of("tcm"), InstitutionType::TraditionalChineseMedicine);
        assert_eq!(agreement_status_of("suspended"), AgreementStatus::Suspended);
    }
}
