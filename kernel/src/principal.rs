//! The verified caller of a request and the one rule that decides which regions it may act for.

use serde::{Deserialize, Serialize};

use crate::RegionCode;

/// Who is calling, as verified by the gateway's edge layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub caller_id: String,
    /// Regions the caller may act for; each covers itself and everything inside it.
    pub scopes: Vec<RegionCode>,
    pub roles: Vec<String>,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &[&str]) -> Principal {
        Principal {
            caller_id: "agency".into(),
            scopes: scopes.iter().map(|s| s.parse().expect("code")).collect(),
            roles: vec![],
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
