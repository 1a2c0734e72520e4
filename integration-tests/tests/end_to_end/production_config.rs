//! The province's `medpay.toml` as shipped (deploy/k8s/overlays/province): each context its own
//! `medpay serve` process, migrated beforehand by `medpay migrate` as the migration Jobs do, no
//! anonymous access, TLS on every listener, settlement calling grouping and points on their
//! internal listeners over mutual TLS with its own client certificate. Only what a deployment
//! changes is changed here: addresses, file paths, databases, and one caller registered.

use std::path::Path;

use integration_tests::pki::{Pair, Pki};
use integration_tests::{
    Medpay, list_json, put_and_activate_table, register_institution, table_document,
};
use medpay_proto::common::v1 as common;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;

const BUREAU: &str = "hainan-bureau";

/// The shipped configuration with one caller registered by its certificate, as a deployment adds
/// its agencies.
fn shipped_config_with_a_caller() -> anyhow::Result<String> {
    let shipped =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s/overlays/province/medpay.toml");
    let mut config = std::fs::read_to_string(shipped)?;
    config.push_str(&format!(
        "\n[[auth.certificates]]\nsubject = \"{BUREAU}\"\ncaller_id = \"{BUREAU}\"\nscopes = [\"460000\"]\nroles = [\"submit\", \"read\", \"configure\"]\n"
    ));
    Ok(config)
}

/// Migrates the context's tables and the key store as its migration Job does, then starts
/// `medpay serve <context>` with the shipped configuration (which does not migrate at start);
/// `peers` are the internal addresses of grouping and points for settlement, and `client` its
/// peer certificate.
fn serve(
    context: &str,
    pki: &Pki,
    client: &Pair,
    peers: &[(&str, &str)],
) -> anyhow::Result<Medpay> {
    let data = tempfile::tempdir()?;
    let config = data.path().join("medpay.toml");
    std::fs::write(&config, shipped_config_with_a_caller()?)?;
    let database = data.path().join(format!("{context}.db"));
    let path = |p: &Path| p.display().to_string();
    let mut env = vec![
        ("MEDPAY__SERVER__INTERNAL_LISTEN", "127.0.0.1:0".to_owned()),
        ("MEDPAY__SERVER__HEALTH_LISTEN", "127.0.0.1:0".to_owned()),
        ("MEDPAY__SERVER__TLS__CERT", path(&pki.server.cert)),
        ("MEDPAY__SERVER__TLS__KEY", path(&pki.server.key)),
        ("MEDPAY__SERVER__TLS__CLIENT_CA", path(&pki.ca)),
        ("MEDPAY__PEERS__TLS_CA", path(&pki.ca)),
        ("MEDPAY__PEERS__TLS_CERT", path(&client.cert)),
        ("MEDPAY__PEERS__TLS_KEY", path(&client.key)),
        (
            "MEDPAY__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        ),
        ("MEDPAY__TELEMETRY__OTLP_ENDPOINT", String::new()),
        ("MEDPAY__TELEMETRY__METRICS_LISTEN", String::new()),
        ("MEDPAY__TELEMETRY__LOG_FILTER", "warn".to_owned()),
    ];
    for (peer, address) in peers {
        env.push((peer, format!("https://localhost:{}", port_of(address))));
    }
    let env: Vec<(String, String)> = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let migrated = std::process::Command::new(integration_tests::medpay_binary()?)
        .arg("--config")
        .arg(&config)
        .args(["migrate", context, "keys"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .status()?;
    anyhow::ensure!(migrated.success(), "medpay migrate {context} keys failed");
    let args: Vec<String> = [
        "--config",
        &config.display().to_string(),
        "serve",
        context,
        "--listen",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    Medpay::start_with_env(&args, &env, data)
}

fn port_of(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(_, port)| port)
}

fn batch(request_id: &str, list_id: &str) -> settlement::SubmitCaseBatchRequest {
    settlement::SubmitCaseBatchRequest {
        request_id: request_id.into(),
        region_code: "460108".into(),
        records: vec![settlement::SubmitRecord {
            record: Some(settlement::submit_record::Record::SettlementListJson(
                list_json("H46010801", list_id, "2025-03-10", "BA1"),
            )),
        }],
    }
}

#[tokio::test]
async fn the_shipped_production_config_values_cases_across_processes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::generate(dir.path())?;
    let service = pki.issue("medpay-settlement", &[])?;
    let bureau = pki.issue(BUREAU, &[])?;
    let impostor = pki.issue("medpay-impostor", &[])?;

    let grouping = serve("grouping", &pki, &service, &[])?;
    let points = serve("points", &pki, &service, &[])?;
    let peers = [
        (
            "MEDPAY__PEERS__GROUPING",
            grouping.internal_address.as_str(),
        ),
        ("MEDPAY__PEERS__POINTS", points.internal_address.as_str()),
    ];
    let settlement = serve("settlement", &pki, &service, &peers)?;

    // The bureau sets up the year: the demo scheme active for the county, a points table.
    let mut registry =
        GroupingServiceClient::new(pki.channel(&grouping.address, Some(&bureau)).await?);
    let demo = registry
        .list_schemes(grouping::ListSchemesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .schemes
        .into_iter()
        .find(|s| s.source == "builtin:demo")
        .ok_or_else(|| anyhow::anyhow!("the demo scheme is not listed"))?;
    registry
        .activate_scheme(grouping::ActivateSchemeRequest {
            request_id: "activate-demo".into(),
            region_code: "460108".into(),
            scheme_id: demo.scheme_id.clone(),
            version: demo.version.clone(),
            effective_from: Some(common::Date {
                year: 2025,
                month: 1,
                day: 1,
            }),
        })
        .await?;
    put_and_activate_table(
        pki.channel(&points.address, Some(&bureau)).await?,
        "460108",
        table_document(),
    )
    .await?;

    let mut intake =
        SettlementServiceClient::new(pki.channel(&settlement.address, Some(&bureau)).await?);
    register_institution(&mut intake, "H46010801", "460108", "3A").await?;
    let outcome = intake
        .submit_case_batch(batch("prod-1", "S1"))
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!(outcome.accepted, 1, "{outcome:?}");
    let cases = intake
        .list_cases(settlement::ListCasesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 1);
    assert_eq!(
        (
            cases[0].group_code.as_str(),
            cases[0].valuation_error.as_str()
        ),
        ("GD15", ""),
        "{:?}",
        cases[0]
    );

    // A settlement whose client certificate is not a registered service is refused by its peers:
    // the upload fails for the operator to see, and nothing of it is stored unvalued.
    let misconfigured = serve("settlement", &pki, &impostor, &peers)?;
    let mut intake =
        SettlementServiceClient::new(pki.channel(&misconfigured.address, Some(&bureau)).await?);
    register_institution(&mut intake, "H46010801", "460108", "3A").await?;
    let refused = intake
        .submit_case_batch(batch("prod-2", "S2"))
        .await
        .expect_err("the peers refuse an unregistered service");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    let stored = intake
        .list_cases(settlement::ListCasesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .cases;
    assert!(stored.is_empty(), "{stored:?}");
    Ok(())
}
