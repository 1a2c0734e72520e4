//! The institution registry: history and agreements, and its region checks.

use super::*;

#[tokio::test]
async fn the_registry_keeps_history_and_agreements() {
    let Server { mut client, .. } = start(true).await;
    register(&mut client, "H1").await;
    // Who may change the registry is the edge's check (platform::access), not this server's.

    let change = pb::PutInstitutionRequest {
        request_id: "change-1".into(),
        institution: Some(pb::Institution {
            code: "H1".into(),
            name: "Hospital H1".into(),
            region_code: "460108".into(),
            level: "3B".into(),
            institution_type: "general".into(),
            alliance_code: "ALLIANCE-1".into(),
        }),
        effective_from: date(2024, 7, 1),
        reason: "joined the alliance".into(),
    };
    let versions = client
        .put_institution(bureau(change.clone()))
        .await
        .expect("change")
        .into_inner()
        .versions;
    assert_eq!(versions, 2);
    // The same request id replays instead of recording the change twice.
    let replay = client
        .put_institution(bureau(change))
        .await
        .expect("replay")
        .into_inner()
        .versions;
    assert_eq!(replay, 2);
    let bad_level = client
        .put_institution(bureau(pb::PutInstitutionRequest {
            request_id: "bad".into(),
            institution: Some(pb::Institution {
                code: "H3".into(),
                name: "H3".into(),
                region_code: "460108".into(),
                level: "4Z".into(),
                institution_type: "general".into(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        }))
        .await
        .expect_err("bad level");
    assert_eq!(bad_level.code(), Code::InvalidArgument);
    assert!(bad_level.message().contains("institution.level"));

    let got = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460100".into(),
            code: "H1".into(),
        }))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.history.len(), 2);
    assert_eq!(got.history[1].reason, "joined the alliance");
    assert_eq!(
        got.history[1]
            .institution
            .as_ref()
            .map(|i| i.alliance_code.as_str()),
        Some("ALLIANCE-1")
    );
    assert_eq!(got.agreements.len(), 1);
    let elsewhere = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460200".into(),
            code: "H1".into(),
        }))
        .await
        .expect_err("other prefecture");
    assert_eq!(elsewhere.code(), Code::NotFound);
    let listed = client
        .list_institutions(bureau(pb::ListInstitutionsRequest {
            region_code: "460000".into(),
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.institutions.len(), 1);
    assert_eq!(listed.institutions[0].level, "3B");
}

#[tokio::test]
async fn the_registry_cannot_be_used_across_regions() {
    let Server { mut client, .. } = start(true).await;
    register_in(&mut client, "HB", "460105").await;
    let county_a = |message| as_caller(message, "460108", "bureau");
    // An agreement for B's hospital from A: answered like one for a hospital never registered.
    let agreement = |code: &str, request_id: &str| pb::PutAgreementRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        institution_code: code.into(),
        agreement: Some(pb::Agreement {
            agreement_id: "A-FORGED".into(),
            valid_from: date(2025, 1, 1),
            valid_to: date(2025, 12, 31),
            status: "terminated".into(),
        }),
        reason: "forged".into(),
    };
    let existing = client
        .put_agreement(county_a(agreement("HB", "x1")))
        .await
        .expect_err("B's hospital");
    let missing = client
        .put_agreement(county_a(agreement("HZ", "x2")))
        .await
        .expect_err("nobody's hospital");
    assert_eq!(existing.code(), Code::NotFound);
    assert_eq!(existing.code(), missing.code());
    assert_eq!(
        existing.message().replace("HB", "<h>"),
        missing.message().replace("HZ", "<h>")
    );
    // Re-registering B's hospital into A is refused.
    let moved = client
        .put_institution(as_caller(
            pb::PutInstitutionRequest {
                request_id: "x3".into(),
                institution: Some(pb::Institution {
                    code: "HB".into(),
                    name: "Hospital HB".into(),
                    region_code: "460108".into(),
                    level: "2A".into(),
                    institution_type: "general".into(),
                    alliance_code: String::new(),
                }),
                effective_from: date(2025, 7, 1),
                reason: "moved".into(),
            },
            "460108",
            "bureau",
        ))
        .await
        .expect_err("another county's institution");
    assert_eq!(moved.code(), Code::AlreadyExists);
    let history = client
        .get_institution(bureau(pb::GetInstitutionRequest {
            region_code: "460105".into(),
            code: "HB".into(),
        }))
        .await
        .expect("B's institution")
        .into_inner();
    assert_eq!(history.history.len(), 1);
    assert_eq!(history.agreements.len(), 1);
    assert_eq!(history.agreements[0].status, "active");
}
