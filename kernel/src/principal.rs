//! The verified caller of a request and the one rule that decides which regions it may act for.

use serde::{Deserialize, Serialize};

use crate::RegionCode;

/// Who is calling, as verified by the gateway's edge layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub caller_id: String,
    /// Regions the caller may act for; each covers itself and everything inside it.
    pub scopes: Vec<RegionCode>,
    /// Names of [`Role`]s the caller holds; an unknown name grants nothing.
    pub roles: Vec<String>,
    /// The institution (`fixmedins_code`) a hospital's key acts for: a caller with the
    /// [`Role::Hospital`] role reaches that institution's objects only.
    pub institution: Option<String>,
}

/// What a caller may do. Every method of every contract requires one of these
/// (`platform::access`); regions are checked separately, on the request and on the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Upload settlement lists and ambulatory settlements (a county agency's intake).
    Submit,
    /// Read cases, tables, budgets, runs and statements, and group or value a case.
    Read,
    /// Review special cases and disputes, decide findings.
    Review,
    /// Set up a year: institutions, agreements, schemes, tables, budgets and policies.
    Configure,
    /// Run money: calibration, allocation, prepayment, month closing, clearing, screening.
    Run,
    /// Manage keys and read the audit log.
    Admin,
    /// A designated institution: its own statements, disputes and special-case applications.
    Hospital,
    /// Another medpay context calling an internal contract.
    Service,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Submit,
        Role::Read,
        Role::Review,
        Role::Configure,
        Role::Run,
        Role::Admin,
        Role::Hospital,
        Role::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Submit => "submit",
            Role::Read => "read",
            Role::Review => "review",
            Role::Configure => "configure",
            Role::Run => "run",
            Role::Admin => "admin",
            Role::Hospital => "hospital",
            Role::Service => "service",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role (submit, read, review, configure, run, admin, hospital, service)")]
pub struct RoleError(pub String);

impl std::str::FromStr for Role {
    type Err = RoleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| RoleError(text.to_owned()))
    }
}

/// A request outside the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("caller {caller_id} may not act for region {region}")]
pub struct ScopeError {
    pub caller_id: String,
    pub region: RegionCode,
}

impl Principal {
    /// Whether the caller may act for `region` (province ⊃ prefecture ⊃ county).
    pub fn may_act_for(&self, region: RegionCode) -> bool {
        self.scopes.iter().any(|scope| scope.contains(region))
    }

    /// The check every service runs on the region of each request.
    pub fn check_region(&self, region: RegionCode) -> Result<(), ScopeError> {
        if self.may_act_for(region) {
            Ok(())
        } else {
            Err(ScopeError {
                caller_id: self.caller_id.clone(),
                region,
            })
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the caller holds `role`.
    pub fn holds(&self, role: Role) -> bool {
        self.has_role(role.as_str())
    }

    /// Whether the caller may reach objects of institution `code`: every caller but a hospital
    /// may (its region is checked apart); a hospital only its own.
    pub fn may_reach_institution(&self, code: &str) -> bool {
        !self.holds(Role::Hospital) || self.institution.as_deref() == Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &[&str]) -> Principal {
        Principal {
            caller_id: "agency".into(),
            scopes: scopes.iter().map(|s| s.parse().expect("code")).collect(),
            roles: vec![],
            institution: None,
        }
    }

    #[test]
    fn county_acts_for_itself_only() {
        let county = principal(&["460105"]);
        assert!(county.check_region("460105".parse().expect("code")).is_ok());
        assert!(
            county
                .check_region("460106".parse().expect("code"))
                .is_err()
        );
        assert!(
            county
                .check_region("460100".parse().expect("code"))
                .is_err()
        );
    }

    #[test]
    fn role_names_round_trip_and_unknown_names_are_refused() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("bureau".parse::<Role>().is_err());
    }

    #[test]
    fn a_hospital_reaches_its_own_institution_only() {
        let mut hospital = principal(&["460108"]);
        hospital.roles = vec!["hospital".into()];
        hospital.institution = Some("H46010800001".into());
        assert!(hospital.may_reach_institution("H46010800001"));
        assert!(!hospital.may_reach_institution("H46010800002"));
        let agency = principal(&["460108"]);
        assert!(agency.may_reach_institution("H46010800002"));
    }

    #[test]
    fn prefecture_and_province_cover_their_counties() {
        let prefecture = principal(&["460100"]);
        assert!(prefecture.may_act_for("460105".parse().expect("code")));
        assert!(!prefecture.may_act_for("460200".parse().expect("code")));
        let province = principal(&["460000"]);
        assert!(province.may_act_for("469001".parse().expect("code")));
        assert!(!province.may_act_for("440000".parse().expect("code")));
        let none = principal(&[]);
        assert!(!none.may_act_for("460000".parse().expect("code")));
    }
}
