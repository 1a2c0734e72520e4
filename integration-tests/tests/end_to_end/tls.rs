//! TLS on both listeners and on peer calls, with client certificates as identities (mutual TLS),
//! against the real `medpay up` with certificates generated in the test.

use integration_tests::pki::{Pair, Pki};
use integration_tests::{
    Medpay, list_json, put_and_activate_table, register_institution, table_document,
};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;
use tonic::transport::Channel;

fn config(pki: &Pki, settlement_peer: &Pair) -> String {
    format!(
        r#"
[telemetry]
log_filter = "warn"

[server.tls]
cert = "{server_cert}"
key = "{server_key}"
client_ca = "{ca}"

[auth]
allow_anonymous = false

[[auth.certificates]]
subject = "meilan-agency"
caller_id = "meilan-agency"
scopes = ["460108"]
roles = ["submit", "read", "configure"]

[peers]
tls_ca = "{ca}"
tls_cert = "{peer_cert}"
tls_key = "{peer_key}"
"#,
        server_cert = pki.server.cert.display(),
        server_key = pki.server.key.display(),
        ca = pki.ca.display(),
        peer_cert = settlement_peer.cert.display(),
        peer_key = settlement_peer.key.display(),
    )
}

fn list_cases(region: &str) -> settlement::ListCasesRequest {
    settlement::ListCasesRequest {
        region_code: region.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn callers_and_services_are_identified_by_their_certificates() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::generate(dir.path())?;
    let agency = pki.issue("meilan-agency", &[])?;
    let stranger = pki.issue("someone-else", &[])?;
    let settlement_peer = pki.issue("medpay-settlement", &[])?;
    let medpay = Medpay::up(&config(&pki, &settlement_peer))?;

    // Plaintext is not served.
    let plaintext = Channel::from_shared(format!("http://{}", medpay.address))?
        .connect()
        .await;
    if let Ok(channel) = plaintext {
        let status = SettlementServiceClient::new(channel)
            .list_cases(list_cases("460108"))
            .await
            .expect_err("plaintext call");
        assert_ne!(status.code(), Code::Ok);
    }

    // TLS without a client certificate: the connection is made, the caller is nobody.
    let anonymous = pki.channel(&medpay.address, None).await?;
    let status = SettlementServiceClient::new(anonymous)
        .list_cases(list_cases("460108"))
        .await
        .expect_err("no identity");
    assert_eq!(status.code(), Code::Unauthenticated);

    // A certificate of the CA whose subject is not registered is nobody either.
    let unknown = pki.channel(&medpay.address, Some(&stranger)).await?;
    let status = SettlementServiceClient::new(unknown)
        .list_cases(list_cases("460108"))
        .await
        .expect_err("unregistered subject");
    assert_eq!(status.code(), Code::Unauthenticated);

    // The agency's certificate acts for its county and nothing else.
    let channel = pki.channel(&medpay.address, Some(&agency)).await?;
    let mut client = SettlementServiceClient::new(channel.clone());
    client.list_cases(list_cases("460108")).await?;
    let status = client
        .list_cases(list_cases("460106"))
        .await
        .expect_err("neighbouring county");
    assert_eq!(status.code(), Code::PermissionDenied);

    // The internal listener needs a client certificate at the handshake, and a service's.
    let refused = pki.channel(&medpay.internal_address, None).await;
    if let Ok(channel) = refused {
        let status = tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .expect_err("no client certificate");
        assert_ne!(status.code(), Code::Ok);
    }
    let as_agency = pki.channel(&medpay.internal_address, Some(&agency)).await?;
    let status = integration_tests::raw::call(
        &as_agency,
        "/medpay.points.internal.v1.PointsInternalService/ValueBatch",
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(status.code(), Code::PermissionDenied);

    // Intake values a case through the grouping and points peers, over TLS on the internal
    // listener: the case is valued, not stored unvalued.
    register_institution(&mut client, "H46010801", "460108", "3A").await?;
    put_and_activate_table(channel.clone(), "460108", table_document()).await?;
    let outcome = client
        .submit_case_batch(settlement::SubmitCaseBatchRequest {
            request_id: "tls-1".into(),
            region_code: "460108".into(),
            records: vec![settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    list_json("H46010801", "S1", "2025-03-10", "BA1"),
                )),
            }],
        })
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!(outcome.accepted, 1, "{outcome:?}");
    let cases = client
        .list_cases(list_cases("460108"))
        .await?
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].valuation_error, "", "{:?}", cases[0]);
    assert_eq!(cases[0].group_code, "GD15", "{:?}", cases[0]);
    Ok(())
}
