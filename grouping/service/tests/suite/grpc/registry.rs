//! The scheme registry: loading, activation, audit, idempotency and who may do what.

use std::sync::Arc;

use grouping_service::GroupingApi;
use grouping_service::catalog::SchemeCatalog;
use medpay_proto::grouping::v1 as pb;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::Code;

use super::{activate_demo, as_caller, bureau, date, start};

#[tokio::test]
async fn activation_is_audited_idempotent_and_forward_only() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let first = activate_demo(&mut client, "act-7", date(2025, 1, 1))
        .await
        .expect("activated");
    // The same request again replays the first answer and writes nothing.
    let again = activate_demo(&mut client, "act-7", date(2025, 1, 1))
        .await
        .expect("replayed");
    assert_eq!(first, again);
    let audit = server.registry.audit_log().await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].method, "ActivateScheme");
    assert_eq!(audit[0].request_id, "act-7");
    assert!(
        audit[0].detail.contains("demo 1 from 20250101"),
        "{}",
        audit[0].detail
    );

    // A new activation may not start on or before the latest one.
    let backdated = activate_demo(&mut client, "act-8", date(2024, 6, 1))
        .await
        .expect_err("backdated");
    assert_eq!(backdated.code(), Code::FailedPrecondition);
    let unknown = client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-9".into(),
            region_code: "460000".into(),
            scheme_id: "nope".into(),
            version: "1".into(),
            effective_from: date(2026, 1, 1),
        }))
        .await
        .expect_err("unknown scheme");
    assert_eq!(unknown.code(), Code::FailedPrecondition);
    let impossible = activate_demo(&mut client, "act-10", date(2026, 2, 30))
        .await
        .expect_err("bad date");
    assert_eq!(impossible.code(), Code::InvalidArgument);

    // Roles are the edge's (platform::access, integration-tests/tests/access.rs).
    assert_eq!(server.registry.audit_log().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn loaded_schemes_are_validated_listed_and_remembered() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    let demo_dir = grouping_domain::demo_scheme_dir();
    let mut files = std::collections::HashMap::new();
    for entry in std::fs::read_dir(&demo_dir).expect("demo dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json" || e == "tsv") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_owned();
            let mut bytes = std::fs::read(&path).expect("read");
            if name == "scheme.json" {
                let text = String::from_utf8(bytes).expect("utf8").replacen(
                    "\"version\": \"1\"",
                    "\"version\": \"2\"",
                    1,
                );
                bytes = text.into_bytes();
            }
            files.insert(name, bytes);
        }
    }
    let loaded = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "load-1".into(),
            region_code: "460000".into(),
            files: files.clone(),
            kind: pb::SchemeKind::Drg as i32,
            ..Default::default()
        }))
        .await
        .expect("loaded")
        .into_inner()
        .scheme
        .expect("scheme");
    assert_eq!(
        (loaded.scheme_id.as_str(), loaded.version.as_str()),
        ("demo", "2")
    );
    assert!(loaded.drg_count > 0 && loaded.mdc_count > 0);

    // A broken upload is refused with the file named, and nothing is remembered.
    let mut broken = files.clone();
    broken.insert("drg_names.tsv".into(), b"drg\tname\nGD11\n".to_vec());
    let refused = client
        .load_scheme(bureau(pb::LoadSchemeRequest {
            request_id: "load-2".into(),
            region_code: "460000".into(),
            files: broken,
            ..Default::default()
        }))
        .await
        .expect_err("broken");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("drg_names.tsv"),
        "{}",
        refused.message()
    );

    let listed = client
        .list_schemes(bureau(pb::ListSchemesRequest {
            region_code: "460000".into(),
            ..Default::default()
        }))
        .await
        .expect("listed")
        .into_inner();
    let versions: Vec<_> = listed
        .schemes
        .iter()
        .filter(|s| s.kind == pb::SchemeKind::Drg as i32)
        .map(|s| (s.scheme_id.as_str(), s.version.as_str()))
        .collect();
    assert_eq!(versions, [("demo", "1"), ("demo", "2")]);
    assert!(
        listed
            .schemes
            .iter()
            .any(|s| s.kind == pb::SchemeKind::Dip as i32),
        "the demo DIP directory is listed"
    );

    // A restarted service reloads what the registry remembers.
    let restarted = GroupingApi::start(server.registry.clone())
        .await
        .expect("restart");
    drop(restarted);
    let stored = server.registry.schemes().await.expect("schemes");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].version, "2");
    let catalog = SchemeCatalog::with_demo().expect("demo");
    assert_eq!(
        catalog.summaries().len(),
        2,
        "demo DRG scheme and demo DIP directory"
    );
    let _ = Arc::new(catalog);
}

#[tokio::test]
async fn a_request_id_reused_for_another_activation_is_refused_and_activates_nothing() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-1", date(2025, 1, 1))
        .await
        .expect("activated");
    let reused = activate_demo(&mut client, "act-1", date(2026, 1, 1))
        .await
        .expect_err("another date under the same request id");
    assert_eq!(reused.code(), Code::AlreadyExists);
    assert!(
        reused.message().contains("act-1") && reused.message().contains("ActivateScheme"),
        "{}",
        reused.message()
    );
    let region = "460000".parse().expect("code");
    assert_eq!(
        server
            .registry
            .latest_activation_date(region)
            .await
            .expect("read")
            .map(kernel::Date::to_yyyymmdd),
        Some(20250101),
        "the second activation was not stored"
    );
    assert_eq!(server.registry.audit_log().await.expect("audit").len(), 1);
}

#[tokio::test]
async fn audit_entries_are_listed_to_administrators_by_region_filter_and_page() {
    let server = start().await;
    let mut client = GroupingServiceClient::new(server.channel.clone());
    activate_demo(&mut client, "act-1", date(2025, 1, 1))
        .await
        .expect("province");
    activate_demo(&mut client, "act-2", date(2025, 7, 1))
        .await
        .expect("province again");
    client
        .activate_scheme(bureau(pb::ActivateSchemeRequest {
            request_id: "act-3".into(),
            region_code: "460105".into(),
            scheme_id: "demo".into(),
            version: "1".into(),
            effective_from: date(2025, 3, 1),
        }))
        .await
        .expect("county");
    let admin =
        |request: pb::ListAuditEntriesRequest, scope: &str| as_caller(request, scope, &["admin"]);
    let ids = |response: pb::ListAuditEntriesResponse| -> Vec<String> {
        response.entries.into_iter().map(|e| e.request_id).collect()
    };
    let all = client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460000"))
        .await
        .expect("province")
        .into_inner();
    assert!(all.entries.iter().all(|e| e.method == "ActivateScheme"));
    assert_eq!(ids(all), ["act-1", "act-2", "act-3"]);
    let county = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                region_code: "460105".into(),
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("county filter")
        .into_inner();
    assert_eq!(ids(county), ["act-3"]);
    let prefecture = client
        .list_audit_entries(admin(pb::ListAuditEntriesRequest::default(), "460100"))
        .await
        .expect("prefecture scope")
        .into_inner();
    assert_eq!(ids(prefecture), ["act-3"]);
    let first = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 2,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("first page")
        .into_inner();
    let token = first.next_page_token.clone();
    assert_eq!(ids(first), ["act-1", "act-2"]);
    let second = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            },
            "460000",
        ))
        .await
        .expect("second page")
        .into_inner();
    assert_eq!(second.next_page_token, "");
    assert_eq!(ids(second), ["act-3"]);
    let outside = client
        .list_audit_entries(admin(
            pb::ListAuditEntriesRequest {
                region_code: "460000".into(),
                ..Default::default()
            },
            "460100",
        ))
        .await
        .expect_err("the province is outside a prefecture's scope");
    assert_eq!(outside.code(), Code::PermissionDenied);
    let denied = client
        .list_audit_entries(bureau(pb::ListAuditEntriesRequest::default()))
        .await
        .expect_err("not an administrator");
    assert_eq!(denied.code(), Code::PermissionDenied);
}
