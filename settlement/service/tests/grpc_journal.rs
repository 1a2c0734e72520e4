//! The settlement journal over a real socket: a request id reused with another body or for
//! another method is refused and changes nothing, and the audit log is listed to administrators
//! by region, caller, method and page.

use medpay_proto::common::v1 as common;
use medpay_proto::settlement::v1 as pb;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use settlement_service::store::ledger::CaseStore;
use settlement_service::{Migrator, SettlementApi};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

struct Server {
    client: SettlementServiceClient<Channel>,
    db: DatabaseConnection,
}

async fn start() -> Server {
    let db = platform::testing::sqlite::<Migrator>().await;
    let api = SettlementApi::new(CaseStore::new(db.clone()));
    let channel = platform::testing::serve(tonic::service::Routes::new(api.into_server())).await;
    Server {
        client: SettlementServiceClient::new(channel),
        db,
    }
}

fn as_caller<T>(message: T, scope: &str, role: &str) -> Request<T> {
    platform::testing::as_caller(message, &format!("caller-{scope}-{role}"), scope, &[role])
}

fn bureau<T>(message: T) -> Request<T> {
    as_caller(message, "460000", "bureau")
}

fn institution(
    request_id: &str,
    code: &str,
    name: &str,
    region: &str,
) -> pb::PutInstitutionRequest {
    pb::PutInstitutionRequest {
        request_id: request_id.to_owned(),
        institution: Some(pb::Institution {
            code: code.to_owned(),
            name: name.to_owned(),
            region_code: region.to_owned(),
            level: "3A".to_owned(),
            institution_type: "general".to_owned(),
            alliance_code: String::new(),
        }),
        effective_from: Some(common::Date {
            year: 2020,
            month: 1,
            day: 1,
        }),
        reason: String::new(),
    }
}

fn agreement(request_id: &str, code: &str, region: &str) -> pb::PutAgreementRequest {
    pb::PutAgreementRequest {
        request_id: request_id.to_owned(),
        region_code: region.to_owned(),
        institution_code: code.to_owned(),
        agreement: Some(pb::Agreement {
            agreement_id: "A2025".to_owned(),
            valid_from: Some(common::Date {
                year: 2025,
                month: 1,
                day: 1,
            }),
            valid_to: Some(common::Date {
                year: 2025,
                month: 12,
                day: 31,
            }),
            status: "active".to_owned(),
        }),
        reason: "annual agreement".to_owned(),
    }
}

#[tokio::test]
async fn a_request_id_reused_with_another_body_is_refused_and_changes_nothing() {
    let mut server = start().await;
    server
        .client
        .put_institution(bureau(institution("i-1", "H1", "Hospital A", "460108")))
        .await
        .expect("registered");
    server
        .client
        .put_institution(bureau(institution("i-1", "H1", "Hospital A", "460108")))
        .await
        .expect("the same request replays");
    let reused = server
        .client
        .put_institution(bureau(institution("i-1", "H1", "Hospital B", "460108")))
        .await
        .expect_err("another name under the same request id");
    assert_eq!(reused.code(), Code::AlreadyExists);
    let info = reused
        .get_error_details()
        .error_info()
        .expect("info")
        .clone();
    assert_eq!(info.reason, "REQUEST_ID_REUSED");
    assert!(
        reused.message().contains("i-1") && reused.message().contains("PutInstitution"),
        "{}",
        reused.message()
    );
    let other_method = server
        .client
        .put_agreement(bureau(agreement("i-1", "H1", "460108")))
        .await
        .expect_err("the request id of a PutInstitution");
    assert_eq!(other_method.code(), Code::AlreadyExists);
    let stored = server
        .client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460108".into(),
            code: "H1".into(),
        }))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(stored.history.len(), 1, "one version only");
    let current = stored.history[0].institution.as_ref().expect("institution");
    assert_eq!(current.name, "Hospital A");
    assert!(stored.agreements.is_empty(), "the agreement was not stored");
    let audit = settlement_service::store::journal::audit_entries(&server.db)
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
}

#[tokio::test]
async fn audit_entries_are_listed_to_administrators_by_region_filter_and_page() {
    let mut server = start().await;
    // An entry written before entries carried a region.
    server
        .db
        .execute_unprepared(
            "INSERT INTO settlement_audit (at_unix_seconds, caller_id, action, detail, request_id) \
             VALUES (1, 'old-caller', 'PutInstitution', 'before regions', 'old-1')",
        )
        .await
        .expect("old entry");
    server
        .client
        .put_institution(bureau(institution("i-1", "H1", "Hospital A", "460108")))
        .await
        .expect("H1");
    server
        .client
        .put_institution(bureau(institution("i-2", "H2", "Hospital B", "460202")))
        .await
        .expect("H2");
    server
        .client
        .put_agreement(bureau(agreement("a-1", "H1", "460108")))
        .await
        .expect("agreement");
    let admin =
        |request: pb::ListAuditEntriesRequest, scope: &str| as_caller(request, scope, "admin");
    let ids = |response: pb::ListAuditEntriesResponse| -> Vec<String> {
        response.entries.into_iter().map(|e| e.request_id).collect()
    };
    let all = server
        .client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460000"))
        .await
        .expect("province")
        .into_inner();
    assert_eq!(
        all.entries[0].region_code, "",
        "the old entry has no region"
    );
    assert_eq!(all.entries[1].region_code, "460108");
    assert_eq!(ids(all), ["old-1", "i-1", "i-2", "a-1"]);
    let haikou = server
        .client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460100"))
        .await
        .expect("prefecture")
        .into_inner();
    assert_eq!(
        ids(haikou),
        ["i-1", "a-1"],
        "no other prefecture, no old entry"
    );
    let filtered = server
        .client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                region_code: "460108".into(),
                method: "PutInstitution".into(),
                caller_id: "caller-460000-bureau".into(),
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("filtered")
        .into_inner();
    assert_eq!(ids(filtered), ["i-1"]);
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = server
            .client
            .list_audit_entries(admin(
                pb::ListAuditEntriesRequest {
                    page_size: 3,
                    page_token: token.clone(),
                    ..Default::default()
                },
                "460000",
            ))
            .await
            .expect("page")
            .into_inner();
        assert!(page.entries.len() <= 3);
        token = page.next_page_token.clone();
        paged.extend(ids(page));
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(paged, ["old-1", "i-1", "i-2", "a-1"]);
    // A token carries its page within the listing that issued it only: the same token with
    // another filter would skip that filter's first rows, so it is refused naming the token.
    let first = server
        .client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 1,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("first page")
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let carried = server
        .client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 1,
                method: "PutInstitution".into(),
                page_token: first.next_page_token.clone(),
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect_err("a token of another filter");
    assert_eq!(carried.code(), Code::InvalidArgument);
    assert!(carried.message().contains("page_token"), "{carried:?}");
    let resumed = server
        .client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 10,
                page_token: first.next_page_token,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("the same listing, another page size")
        .into_inner();
    assert_eq!(ids(resumed), ["i-1", "i-2", "a-1"]);
    let denied = server
        .client
        .list_audit_entries(bureau(pb::ListAuditEntriesRequest::default()))
        .await
        .expect_err("not an administrator");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let bad_range = server
        .client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                since_unix_seconds: 10,
                until_unix_seconds: 5,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect_err("until before since");
    assert_eq!(bad_range.code(), Code::InvalidArgument);
}
