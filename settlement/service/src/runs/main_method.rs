//! A region's main inpatient payment method per year (`PutMainInpatientMethod`,
//! `GetMainInpatientMethod`): recorded by the agency, in force county → prefecture → province,
//! and the scheme whose defaults the region's settlement policies take where they name none
//! (DOMAIN.md §5 "Hainan clearing: precise defaults" where it is DIP).

use kernel::RegionCode;
use medpay_proto::settlement::v1 as pb;
use platform::principal::authorize_request;
use platform::status::bad_request;
use platform::wire;
use prost::Message;
use settlement_domain::policy::{MainInpatientMethod, PolicyScheme};
use tonic::{Request, Response, Status};

use super::api::SettlementRunApi;
use super::main_method_store;
use super::{RunError, internal};
use crate::store::Storage;
use crate::store::journal::call_by;

/// The record that applies to a region and year.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodInForce {
    /// The region whose record it is: the one asked about, or one containing it.
    pub recorded_for: RegionCode,
    pub version: i32,
    pub method: MainInpatientMethod,
}

/// The main method in force for `region` and `year`: its own latest record, else its
/// prefecture's, else its province's; `None` when none is recorded.
pub async fn in_force<C: Storage>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<Option<MethodInForce>, RunError> {
    for candidate in region.self_and_ancestors() {
        if let Some(row) = main_method_store::latest(conn, candidate, year).await? {
            let method = MainInpatientMethod::from_stored(&row.method).ok_or_else(|| {
                internal(format!(
                    "stored main method {:?} of {candidate} {year} v{} names no method",
                    row.method, row.version
                ))
            })?;
            return Ok(Some(MethodInForce {
                recorded_for: candidate,
                version: row.version,
                method,
            }));
        }
    }
    Ok(None)
}

/// The scheme whose defaults a policy of `region` and `year` takes where it names none.
pub async fn default_scheme<C: Storage>(
    conn: &C,
    region: RegionCode,
    year: i32,
) -> Result<PolicyScheme, RunError> {
    Ok(in_force(conn, region, year)
        .await?
        .map_or(PolicyScheme::Generic, |found| found.method.default_scheme()))
}

fn to_wire(method: MainInpatientMethod) -> pb::MainInpatientMethod {
    match method {
        MainInpatientMethod::Drg => pb::MainInpatientMethod::Drg,
        MainInpatientMethod::Dip => pb::MainInpatientMethod::Dip,
    }
}

fn scheme_name(scheme: PolicyScheme) -> String {
    match serde_json::to_value(scheme) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// `PutMainInpatientMethod`: every field checked, then stored through the journal.
pub(super) async fn put(
    api: &SettlementRunApi,
    request: Request<pb::PutMainInpatientMethodRequest>,
) -> Result<Response<pb::PutMainInpatientMethodResponse>, Status> {
    let (principal, region) =
        authorize_request(&request, "region_code", &request.get_ref().region_code)?;
    let body = request.into_inner();
    let mut violations = Vec::new();
    let year = wire::year("year", body.year)
        .map_err(|v| violations.push(v))
        .ok();
    let method = match pb::MainInpatientMethod::try_from(body.method) {
        Ok(pb::MainInpatientMethod::Drg) => Some(MainInpatientMethod::Drg),
        Ok(pb::MainInpatientMethod::Dip) => Some(MainInpatientMethod::Dip),
        Ok(pb::MainInpatientMethod::Unspecified) => {
            violations.push((
                "method".to_owned(),
                "is required: MAIN_INPATIENT_METHOD_DIP or MAIN_INPATIENT_METHOD_DRG".to_owned(),
            ));
            None
        }
        Err(_) => {
            violations.push((
                "method".to_owned(),
                format!("{} names no main inpatient method", body.method),
            ));
            None
        }
    };
    let (Some(year), Some(method)) = (year, method) else {
        return Err(bad_request(violations));
    };
    let caller = principal.caller_id.clone();
    let call = call_by(
        &principal,
        "PutMainInpatientMethod",
        &body,
        &body.request_id,
        region,
    );
    api.write(&call, move |work| {
        Box::pin(async move {
            let version = main_method_store::put(
                &work,
                (region, year),
                method.as_str(),
                &body.reason,
                (&caller, wire::unix_seconds()),
            )
            .await?;
            Ok((
                pb::PutMainInpatientMethodResponse { version }.encode_to_vec(),
                format!(
                    "main inpatient method of {region} {year}: {} v{version}",
                    method.as_str()
                ),
            ))
        })
    })
    .await
}

/// `GetMainInpatientMethod`.
pub(super) async fn get(
    api: &SettlementRunApi,
    request: Request<pb::GetMainInpatientMethodRequest>,
) -> Result<Response<pb::GetMainInpatientMethodResponse>, Status> {
    let (_, region) = authorize_request(&request, "region_code", &request.get_ref().region_code)?;
    let year = wire::year("year", request.get_ref().year).map_err(|v| bad_request(vec![v]))?;
    let found = in_force(&api.db, region, year).await?;
    let scheme = found.map_or(PolicyScheme::Generic, |f| f.method.default_scheme());
    Ok(Response::new(pb::GetMainInpatientMethodResponse {
        method: found.map_or(pb::MainInpatientMethod::Unspecified, |f| to_wire(f.method)) as i32,
        recorded_for_region: found
            .map(|f| f.recorded_for.to_string())
            .unwrap_or_default(),
        version: found.map_or(0, |f| f.version),
        policy_scheme: scheme_name(scheme),
    }))
}
