//! Who may call what, over real sockets against `medpay up` with anonymous access off: every
//! method of every contract × every role × in-region and out-of-region, the internal contracts
//! on the public and on the internal listener, and the per-caller limits.

use futures::StreamExt;
use integration_tests::Medpay;
use integration_tests::raw::{self, Method};
use kernel::Role;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// The county every role's key is scoped to, and a neighbouring county none of them covers.
const COUNTY: &str = "460108";
const NEIGHBOUR: &str = "460106";

fn key_of(role: Role) -> String {
    format!("key-of-the-{}-role-0001", role.as_str())
}

fn config(limits: &str) -> String {
    let mut config = String::from(
        "[telemetry]\nlog_filter = \"warn\"\n[auth]\nallow_anonymous = false\n[demo]\nregions = [\"460000\"]\n",
    );
    config.push_str(limits);
    for role in Role::ALL {
        let institution = if role == Role::Hospital {
            "institution = \"H46010800001\"\n"
        } else {
            ""
        };
        config.push_str(&format!(
            "[[auth.api_keys]]\nkey = \"{}\"\ncaller_id = \"caller-{}\"\nscopes = [\"{COUNTY}\"]\nroles = [\"{}\"]\n{institution}",
            key_of(role),
            role.as_str(),
            role.as_str()
        ));
    }
    config
}

fn reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

async fn channel_to(address: &str) -> anyhow::Result<Channel> {
    Ok(Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?)
}

/// Whether `role` may call `path` by the one table the edge enforces.
fn allowed(path: &str, role: Role) -> bool {
    platform_roles(path).contains(&role)
}

fn platform_roles(path: &str) -> Vec<Role> {
    // The table is the platform's; the test reads it through the public edge's answers and
    // checks them against the roles documented for each method here, so a change to either
    // is visible.
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("", ""));
    use Role::*;
    if service.contains(".internal.") {
        return vec![Service];
    }
    if service.starts_with("medpay.admin.") || method == "ListAuditEntries" {
        return vec![Admin];
    }
    match method {
        "SubmitCases" | "SubmitCaseBatch" => vec![Submit],
        "ApplySpecialCase" | "AppealSpecialCase" => vec![Submit, Hospital],
        "ConfirmStatement" | "ObjectToStatement" => vec![Hospital],
        "ListStatements" | "ExportStatements" | "ListDeductions" | "GetDipBudgetPointValue" => {
            vec![Read, Hospital]
        }
        "ListDisputes"
        | "GetSpecialCase"
        | "ListSpecialCases"
        | "ListFindings"
        | "GetIndicators"
        | "GetMonitoringReport"
        | "ExportIndicators"
        | "GetScorecard"
        | "GetCreditPolicy"
        | "GetAssessment"
        | "ListAssessments"
        | "GetCredit"
        | "GetPeriodReport"
        | "ExportPeriodReport" => vec![Read, Review, Hospital],
        "RespondToFinding" => vec![Submit, Hospital],
        "ListExperts" | "ListLeads" => vec![Read, Review],
        "ListCases" | "ExportCases" => vec![Read],
        "ResolveDispute" | "AssignReviewers" | "DecideSpecialCase" | "BindSpecialCase"
        | "ReviewFinding" | "RecordLead" | "LinkLeadToFinding" => vec![Review],
        "Calibrate"
        | "Allocate"
        | "RunPrepayment"
        | "CloseMonth"
        | "RunClearing"
        | "RevalueCases"
        | "RunShadowSettlement"
        | "ScreenCases"
        | "RunAssessment"
        | "PublishDipBudgetPointValue"
        | "RunOutpatientClearing"
        | "RunOutpatientPrepayment" => vec![Run],
        "LoadScheme"
        | "ActivateScheme"
        | "BuildDipDirectory"
        | "PutTable"
        | "ActivateTable"
        | "CreateBudget"
        | "AdjustBudget"
        | "PutSharingPolicy"
        | "PutInstitution"
        | "PutAgreement"
        | "PutSettlementPolicy"
        | "PutMainInpatientMethod"
        | "PutHospitalYearInputs"
        | "PutOutpatientEnrolment"
        | "PutExpert"
        | "ChangeRuleLevel"
        | "SetRuleParameters"
        | "PutScorecard"
        | "PutCreditPolicy" => {
            vec![Configure]
        }
        _ => vec![Read],
    }
}

#[tokio::test]
async fn every_method_every_role_every_region() -> anyhow::Result<()> {
    let medpay = Medpay::up(&config(""))?;
    let channel = medpay.channel().await?;
    let methods: Vec<Method> = raw::methods()?
        .into_iter()
        .filter(|m| !m.is_internal())
        .collect();
    assert!(methods.len() > 50, "{} public methods", methods.len());

    for (index, method) in methods.iter().enumerate() {
        for role in Role::ALL {
            let body = method.request(COUNTY, &format!("access-{index}-{}", role.as_str()));
            let status = raw::call(&channel, &method.path, body, Some(&key_of(role))).await;
            let permitted = allowed(&method.path, role);
            if permitted {
                // Past the role and region gates; the service may still refuse the object
                // (a hospital asking for a statement that is not its own).
                assert!(
                    status.code() != Code::Unauthenticated
                        && ![
                            "ROLE_REQUIRED",
                            "REGION_OUT_OF_SCOPE",
                            "METHOD_UNKNOWN",
                            "INTERNAL_CONTRACT"
                        ]
                        .contains(&reason(&status).as_str()),
                    "{} as {role} in its own county: {status:?}",
                    method.path
                );
            } else {
                assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (Code::PermissionDenied, "ROLE_REQUIRED"),
                    "{} as {role}: {status:?}",
                    method.path
                );
            }
            // The same role, permitted, asking for a region outside its scope.
            if permitted && method.region_field.is_some() {
                let body = method.request(NEIGHBOUR, &format!("access-x-{index}-{role}"));
                let status = raw::call(&channel, &method.path, body, Some(&key_of(role))).await;
                assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (Code::PermissionDenied, "REGION_OUT_OF_SCOPE"),
                    "{} as {role} for {NEIGHBOUR}: {status:?}",
                    method.path
                );
            }
        }
    }
    // Without a key nothing but health and reflection answers.
    for method in &methods {
        let status = raw::call(&channel, &method.path, method.request(COUNTY, "anon"), None).await;
        assert_eq!(status.code(), Code::Unauthenticated, "{}", method.path);
    }
    // A method medpay does not have is refused to every role, not routed.
    let status = raw::call(
        &channel,
        "/medpay.points.v1.PointsService/DropTable",
        Vec::new(),
        Some(&key_of(Role::Admin)),
    )
    .await;
    assert_eq!(reason(&status), "METHOD_UNKNOWN");
    Ok(())
}

#[tokio::test]
async fn internal_contracts_are_served_on_the_internal_listener_to_services_only()
-> anyhow::Result<()> {
    let medpay = Medpay::up(&config(""))?;
    let public = medpay.channel().await?;
    let internal = channel_to(&medpay.internal_address).await?;
    let methods: Vec<Method> = raw::methods()?
        .into_iter()
        .filter(Method::is_internal)
        .collect();
    assert!(methods.len() >= 5, "{methods:?}");
    for method in &methods {
        // On the public listener, refused whoever calls, even a key with the service role.
        for role in Role::ALL {
            let status = raw::call(
                &public,
                &method.path,
                method.request(COUNTY, "i"),
                Some(&key_of(role)),
            )
            .await;
            assert_eq!(
                (status.code(), reason(&status).as_str()),
                (Code::PermissionDenied, "INTERNAL_CONTRACT"),
                "{} as {role} on the public listener",
                method.path
            );
        }
        // On the internal listener: no identity, or a caller's role, is refused.
        let anonymous = raw::call(&internal, &method.path, method.request(COUNTY, "i"), None).await;
        assert_eq!(anonymous.code(), Code::Unauthenticated, "{}", method.path);
        for role in [Role::Submit, Role::Read, Role::Admin, Role::Run] {
            let status = raw::call(
                &internal,
                &method.path,
                method.request(COUNTY, "i"),
                Some(&key_of(role)),
            )
            .await;
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "{} as {role}",
                method.path
            );
        }
        // A service identity passes the gate (the call then fails or succeeds on its merits;
        // supervision's internal contract is not served yet).
        let service = raw::call(
            &internal,
            &method.path,
            method.request(COUNTY, "i"),
            Some(&key_of(Role::Service)),
        )
        .await;
        assert!(
            !matches!(
                service.code(),
                Code::PermissionDenied | Code::Unauthenticated
            ),
            "{} as a service: {service:?}",
            method.path
        );
    }
    // The public services are not on the internal listener.
    let status = raw::call(
        &internal,
        "/medpay.settlement.v1.SettlementService/ListCases",
        Vec::new(),
        Some(&key_of(Role::Service)),
    )
    .await;
    assert_ne!(status.code(), Code::Ok);
    Ok(())
}

#[tokio::test]
async fn a_caller_over_its_rate_is_told_when_to_retry_and_others_are_served() -> anyhow::Result<()>
{
    let medpay = Medpay::up(&config(
        "[limits]\nrequests_per_second = 2\nburst = 5\nconcurrent_per_caller = 4\n",
    ))?;
    let channel = medpay.channel().await?;
    let list = "/medpay.settlement.v1.SettlementService/ListInstitutions";
    let body = || {
        let mut bytes = Vec::new();
        prost::encoding::string::encode(1, &COUNTY.to_owned(), &mut bytes);
        bytes
    };
    let mut codes = Vec::new();
    for _ in 0..12 {
        codes.push(raw::call(&channel, list, body(), Some(&key_of(Role::Read))).await);
    }
    let exhausted: Vec<_> = codes
        .iter()
        .filter(|s| s.code() == Code::ResourceExhausted)
        .collect();
    assert!(
        (5..=7).contains(&(codes.len() - exhausted.len())),
        "the burst of 5 and what the rate refilled were served: {codes:?}"
    );
    let retry = exhausted[0]
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("retry info");
    assert!(retry <= std::time::Duration::from_secs(1), "{retry:?}");
    // Another caller is not held back by the first one's limit.
    let other = raw::call(&channel, list, body(), Some(&key_of(Role::Configure))).await;
    assert_ne!(other.code(), Code::ResourceExhausted);
    // After the advised delay the first caller is served again.
    tokio::time::sleep(retry + std::time::Duration::from_millis(50)).await;
    let again = raw::call(&channel, list, body(), Some(&key_of(Role::Read))).await;
    assert_ne!(again.code(), Code::ResourceExhausted, "{again:?}");
    Ok(())
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_resource_exhausted() -> anyhow::Result<()> {
    let medpay = Medpay::up(&config(""))?;
    let channel = medpay.channel().await?;
    // A GetBudget request padded with 5 MB in a field the message does not have (the budget
    // service keeps the gRPC default limit of 4 MiB).
    let mut body = Vec::new();
    prost::encoding::string::encode(1, &COUNTY.to_owned(), &mut body);
    prost::encoding::bytes::encode(99, &vec![b'x'; 5_000_000], &mut body);
    let status = raw::call(
        &channel,
        "/medpay.budget.v1.BudgetService/GetBudget",
        body,
        Some(&key_of(Role::Read)),
    )
    .await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("size limit"), "{status:?}");
    Ok(())
}

#[tokio::test]
async fn a_call_cannot_outlive_the_servers_longest_deadline() -> anyhow::Result<()> {
    let mut config = config("");
    config = config.replacen("[auth]", "[server]\nmax_deadline_seconds = 2\n[auth]", 1);
    let medpay = Medpay::up(&config)?;
    let channel = medpay.channel().await?;
    // An upload that asks for an hour and then stalls after its first message.
    let first = {
        let mut bytes = Vec::new();
        prost::encoding::string::encode(1, &"stalled-upload".to_owned(), &mut bytes);
        prost::encoding::string::encode(2, &COUNTY.to_owned(), &mut bytes);
        bytes
    };
    let stalled = futures::stream::iter([first]).chain(futures::stream::pending());
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await?;
    let mut request = tonic::Request::new(stalled);
    request.set_timeout(std::time::Duration::from_secs(3600));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", key_of(Role::Submit)).parse()?,
    );
    let started = std::time::Instant::now();
    let outcome = grpc
        .streaming(
            request,
            "/medpay.settlement.v1.SettlementService/SubmitCases".parse()?,
            raw::RawCodec,
        )
        .await;
    let elapsed = started.elapsed();
    let Err(status) = outcome else {
        panic!("the stalled upload is cut off");
    };
    assert!(
        matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{status:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "cut off after {elapsed:?}, not the hour asked for"
    );
    // The server still answers.
    let status = raw::call(
        &channel,
        "/medpay.settlement.v1.SettlementService/ListInstitutions",
        {
            let mut bytes = Vec::new();
            prost::encoding::string::encode(1, &COUNTY.to_owned(), &mut bytes);
            bytes
        },
        Some(&key_of(Role::Read)),
    )
    .await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
    Ok(())
}
