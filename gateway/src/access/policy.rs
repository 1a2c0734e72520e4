//! What a key may be, and who may manage which keys.
//!
//! The rule, the same for every method of `AdminService`:
//! - only a caller with the role `admin` manages keys;
//! - it manages only keys whose every scope lies inside its own scopes (a prefecture admin keeps
//!   to its prefecture and counties, and can neither see nor touch a province key or another
//!   prefecture's);
//! - inside its scope it may grant any role, except `admin` and `service`, which it may grant only
//!   when it holds that role itself (a service key, used between servers, is never minted by an
//!   admin that is not one; an admin can make admins, but only below or beside itself).
//!
//! The operator on the box (`medpay admin keys`) is not bound by it: that is how the first admin
//! key is made.

use kernel::{Principal, RegionCode, Role};
use platform::status::permission_denied;
use platform::wire::Violation;
use tonic::Status;

use super::store::KeyRecord;

/// Roles only a caller holding them may grant.
const SELF_GRANTED_ROLES: [Role; 2] = [Role::Admin, Role::Service];

/// What a new key is to be, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    pub caller_id: String,
    pub scopes: Vec<RegionCode>,
    pub roles: Vec<String>,
    pub institution: Option<String>,
    pub expires_at: Option<i64>,
}

/// The raw fields of a new key, as a request or the command line gives them.
pub struct KeyFields<'a> {
    pub caller_id: &'a str,
    pub scopes: &'a [String],
    pub roles: &'a [String],
    pub institution: &'a str,
    /// Unix seconds; 0 for none.
    pub expires_at: i64,
}

impl KeySpec {
    /// Checks every field and reports each bad one.
    pub fn read(fields: &KeyFields<'_>, now: i64) -> Result<KeySpec, Vec<Violation>> {
        let mut violations: Vec<Violation> = Vec::new();
        let mut bad = |field: &str, why: String| violations.push((field.to_owned(), why));
        let caller_id = fields.caller_id.trim();
        if caller_id.is_empty()
            || caller_id.len() > 64
            || !caller_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            bad(
                "caller_id",
                format!(
                    "{caller_id:?} must be 1 to 64 letters, digits, `-`, `_` or `.` (it is the \
                     caller's name in every audit log)"
                ),
            );
        }
        let mut scopes = Vec::new();
        if fields.scopes.is_empty() {
            bad("scopes", "name at least one region code".into());
        }
        for (index, scope) in fields.scopes.iter().enumerate() {
            match scope.trim().parse::<RegionCode>() {
                Ok(code) if !scopes.contains(&code) => scopes.push(code),
                Ok(_) => {}
                Err(error) => bad(&format!("scopes[{index}]"), error.to_string()),
            }
        }
        let mut roles: Vec<String> = Vec::new();
        if fields.roles.is_empty() {
            bad("roles", "name at least one role".into());
        }
        for (index, role) in fields.roles.iter().enumerate() {
            match role.trim().parse::<Role>() {
                Ok(role) if !roles.iter().any(|r| r == role.as_str()) => {
                    roles.push(role.as_str().to_owned());
                }
                Ok(_) => {}
                Err(error) => bad(&format!("roles[{index}]"), error.to_string()),
            }
        }
        let institution = fields.institution.trim();
        let is_hospital = roles.iter().any(|r| r == Role::Hospital.as_str());
        let institution = match (institution.is_empty(), is_hospital) {
            (true, true) => {
                bad(
                    "institution_code",
                    "is required for a key with the role `hospital`".into(),
                );
                None
            }
            (true, false) => None,
            (false, false) => {
                bad(
                    "institution_code",
                    "is only for keys with the role `hospital`".into(),
                );
                None
            }
            (false, true) => {
                if institution.len() > 32 || !institution.bytes().all(|b| b.is_ascii_alphanumeric())
                {
                    bad(
                        "institution_code",
                        format!("{institution:?} must be 1 to 32 letters and digits"),
                    );
                }
                Some(institution.to_owned())
            }
        };
        let expires_at = match fields.expires_at {
            0 => None,
            at if at <= now => {
                bad(
                    "expires_at_unix",
                    format!("{at} is not in the future (now is {now})"),
                );
                None
            }
            at => Some(at),
        };
        if violations.is_empty() {
            Ok(KeySpec {
                caller_id: caller_id.to_owned(),
                scopes,
                roles,
                institution,
                expires_at,
            })
        } else {
            Err(violations)
        }
    }
}

/// The caller must hold the role `admin`.
pub fn require_admin(caller: &Principal) -> Result<(), Status> {
    if caller.holds(Role::Admin) {
        Ok(())
    } else {
        Err(permission_denied(
            "ADMIN_ROLE_REQUIRED",
            format!(
                "caller {} lacks the role `admin` that administering keys needs",
                caller.caller_id
            ),
        ))
    }
}

/// Whether every scope lies inside the caller's scopes.
pub fn covers(caller: &Principal, scopes: &[RegionCode]) -> bool {
    scopes.iter().all(|scope| caller.may_act_for(*scope))
}

/// The caller may manage `key` (see it, rotate it, revoke it).
pub fn may_manage(caller: &Principal, key: &KeyRecord) -> Result<(), Status> {
    if covers(caller, &key.scopes) {
        Ok(())
    } else {
        Err(out_of_scope(caller, &key.scopes))
    }
}

/// The caller may create a key of `spec`.
pub fn may_grant(caller: &Principal, spec: &KeySpec) -> Result<(), Status> {
    if !covers(caller, &spec.scopes) {
        return Err(out_of_scope(caller, &spec.scopes));
    }
    if let Some(role) = SELF_GRANTED_ROLES
        .iter()
        .find(|role| spec.roles.iter().any(|r| r == role.as_str()) && !caller.holds(**role))
    {
        return Err(permission_denied(
            "ROLE_NOT_GRANTABLE",
            format!(
                "caller {} may not grant the role `{role}`: only a caller holding it may",
                caller.caller_id
            ),
        ));
    }
    Ok(())
}

fn out_of_scope(caller: &Principal, scopes: &[RegionCode]) -> Status {
    let outside: Vec<String> = scopes
        .iter()
        .filter(|scope| !caller.may_act_for(**scope))
        .map(RegionCode::to_string)
        .collect();
    permission_denied(
        "KEY_OUT_OF_SCOPE",
        format!(
            "caller {} may not manage keys for region(s) {}",
            caller.caller_id,
            outside.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str], roles: &[&str]) -> Principal {
        Principal {
            caller_id: "admin-x".into(),
            scopes: scopes.iter().map(|s| s.parse().expect("code")).collect(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            institution: None,
        }
    }

    fn spec(scopes: &[&str], roles: &[&str]) -> KeySpec {
        KeySpec {
            caller_id: "k".into(),
            scopes: scopes.iter().map(|s| s.parse().expect("code")).collect(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            institution: None,
            expires_at: None,
        }
    }

    #[test]
    fn prefecture_admin_grants_inside_its_prefecture_only() {
        let haikou = caller(&["460100"], &["admin"]);
        assert!(may_grant(&haikou, &spec(&["460108"], &["submit", "read"])).is_ok());
        assert!(may_grant(&haikou, &spec(&["460100"], &["admin"])).is_ok());
        for outside in [&["460200"][..], &["460000"], &["460108", "460202"]] {
            let denied = may_grant(&haikou, &spec(outside, &["read"])).expect_err("outside");
            assert_eq!(denied.code(), tonic::Code::PermissionDenied);
            assert!(denied.message().contains("46020") || denied.message().contains("460000"));
        }
        let service = may_grant(&haikou, &spec(&["460108"], &["service"])).expect_err("service");
        assert!(
            service.message().contains("`service`"),
            "{}",
            service.message()
        );
        let province_service = caller(&["460000"], &["admin", "service"]);
        assert!(may_grant(&province_service, &spec(&["460000"], &["service"])).is_ok());
        assert!(require_admin(&caller(&["460000"], &["read"])).is_err());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let scopes = vec!["4601".to_owned(), "460108".to_owned()];
        let roles = vec!["Submit".to_owned(), "hospital".to_owned()];
        let violations = KeySpec::read(
            &KeyFields {
                caller_id: "bad caller",
                scopes: &scopes,
                roles: &roles,
                institution: "",
                expires_at: 5,
            },
            10,
        )
        .expect_err("bad");
        let fields: Vec<&str> = violations.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "caller_id",
                "scopes[0]",
                "roles[0]",
                "institution_code",
                "expires_at_unix"
            ]
        );
        let good = KeySpec::read(
            &KeyFields {
                caller_id: "H46010800001",
                scopes: &["460108".to_owned()],
                roles: &["hospital".to_owned(), "hospital".to_owned()],
                institution: "H46010800001",
                expires_at: 0,
            },
            10,
        )
        .expect("good");
        assert_eq!(good.roles, ["hospital"]);
        assert_eq!(good.institution.as_deref(), Some("H46010800001"));
    }
}
