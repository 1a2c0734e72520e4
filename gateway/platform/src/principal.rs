//! The verified principal in request metadata, and the region check every service runs.
//!
//! The gateway's edge layer removes any principal headers a caller sent, verifies the caller, and
//! sets these headers; services behind it trust them and nothing else.

use kernel::{Principal, RegionCode};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Status};

use crate::status::{field_violation, permission_denied};

/// Metadata key of the caller id.
pub const CALLER_HEADER: &str = "x-medpay-caller";
/// Metadata key of the comma-separated region scopes.
pub const SCOPES_HEADER: &str = "x-medpay-scopes";
/// Metadata key of the comma-separated roles.
pub const ROLES_HEADER: &str = "x-medpay-roles";
/// Metadata key of the institution a hospital's key acts for (absent for other callers).
pub const INSTITUTION_HEADER: &str = "x-medpay-institution";
/// Every principal header, for the edge layer to strip from incoming requests.
pub const PRINCIPAL_HEADERS: [&str; 4] = [
    CALLER_HEADER,
    SCOPES_HEADER,
    ROLES_HEADER,
    INSTITUTION_HEADER,
];

/// Writes `principal` into `metadata`, replacing whatever was there.
pub fn set_principal(metadata: &mut MetadataMap, principal: &Principal) -> Result<(), Status> {
    let scopes = principal
        .scopes
        .iter()
        .map(RegionCode::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let roles = principal.roles.join(",");
    for (key, value) in [
        (CALLER_HEADER, principal.caller_id.as_str()),
        (SCOPES_HEADER, scopes.as_str()),
        (ROLES_HEADER, roles.as_str()),
    ] {
        let value: MetadataValue<_> = value
            .parse()
            .map_err(|_| Status::internal(format!("principal header {key} is not ascii")))?;
        metadata.insert(key, value);
    }
    metadata.remove(INSTITUTION_HEADER);
    if let Some(institution) = &principal.institution {
        let value: MetadataValue<_> = institution
            .parse()
            .map_err(|_| Status::internal("principal institution is not ascii"))?;
        metadata.insert(INSTITUTION_HEADER, value);
    }
    Ok(())
}

/// Reads the verified principal from metadata.
pub fn principal_from_metadata(metadata: &MetadataMap) -> Result<Principal, Status> {
    let header = |key: &str| -> Result<&str, Status> {
        metadata
            .get(key)
            .ok_or_else(|| Status::unauthenticated("request carries no verified principal"))?
            .to_str()
            .map_err(|_| Status::unauthenticated(format!("principal header {key} is not text")))
    };
    let caller_id = header(CALLER_HEADER)?.to_owned();
    if caller_id.is_empty() {
        return Err(Status::unauthenticated(
            "request carries no verified principal",
        ));
    }
    let scopes = split_list(header(SCOPES_HEADER)?)
        .map(|code| {
            code.parse::<RegionCode>()
                .map_err(|e| Status::unauthenticated(format!("principal scope is invalid: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let roles = split_list(
        metadata
            .get(ROLES_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
    .map(str::to_owned)
    .collect();
    let institution = metadata
        .get(INSTITUTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(str::to_owned);
    Ok(Principal {
        caller_id,
        scopes,
        roles,
        institution,
    })
}

fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The principal of a request.
pub fn principal_of<T>(request: &Request<T>) -> Result<Principal, Status> {
    principal_from_metadata(request.metadata())
}

/// Parses the region named by request field `field` and checks that `principal` may act for it.
///
/// A malformed code is INVALID_ARGUMENT with a field violation; a region outside the caller's
/// scope is PERMISSION_DENIED with reason `REGION_OUT_OF_SCOPE`.
pub fn authorize_region(
    principal: &Principal,
    field: &str,
    value: &str,
) -> Result<RegionCode, Status> {
    let region: RegionCode = value
        .parse()
        .map_err(|e: kernel::RegionCodeError| field_violation(field, e.to_string()))?;
    principal
        .check_region(region)
        .map_err(|e| permission_denied("REGION_OUT_OF_SCOPE", e.to_string()))?;
    crate::trace::record_region(&region);
    Ok(region)
}

/// The principal of `request` and the checked region of its field `field`, in one call.
pub fn authorize_request<T>(
    request: &Request<T>,
    field: &str,
    value: &str,
) -> Result<(Principal, RegionCode), Status> {
    let principal = principal_of(request)?;
    let region = authorize_region(&principal, field, value)?;
    Ok((principal, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn province() -> Principal {
        Principal {
            caller_id: "bureau".into(),
            scopes: vec!["460000".parse().expect("code")],
            roles: vec!["admin".into()],
            institution: None,
        }
    }

    #[test]
    fn principal_round_trips_through_metadata() {
        let mut metadata = MetadataMap::new();
        set_principal(&mut metadata, &province()).expect("ascii");
        assert_eq!(
            principal_from_metadata(&metadata).expect("present"),
            province()
        );
    }

    #[test]
    fn a_hospital_principal_carries_its_institution() {
        let hospital = Principal {
            caller_id: "h1".into(),
            scopes: vec!["460108".parse().expect("code")],
            roles: vec!["hospital".into()],
            institution: Some("H46010800001".into()),
        };
        let mut metadata = MetadataMap::new();
        set_principal(&mut metadata, &province()).expect("ascii");
        set_principal(&mut metadata, &hospital).expect("ascii");
        assert_eq!(
            principal_from_metadata(&metadata).expect("present"),
            hospital
        );
        set_principal(&mut metadata, &province()).expect("ascii");
        assert_eq!(
            principal_from_metadata(&metadata)
                .expect("present")
                .institution,
            None
        );
    }

    #[test]
    fn missing_principal_is_unauthenticated() {
        let err = principal_from_metadata(&MetadataMap::new()).expect_err("absent");
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
    }

    #[test]
    fn region_outside_scope_is_denied() {
        let county = Principal {
            caller_id: "meilan".into(),
            scopes: vec!["460108".parse().expect("code")],
            roles: vec![],
            institution: None,
        };
        assert!(authorize_region(&county, "region_code", "460108").is_ok());
        let denied = authorize_region(&county, "region_code", "460106").expect_err("other county");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        let bad = authorize_region(&county, "region_code", "46010").expect_err("malformed");
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    }
}
