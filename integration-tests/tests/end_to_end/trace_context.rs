//! One trace through the servers of an upload: the real `medpay up` binary, a vendor's upload
//! sent with a W3C `traceparent`, and the request log lines (`medpay_request=debug`) of
//! settlement's SubmitCases and of the grouping and points calls it makes over the internal
//! listener, each naming the same trace and a different parent span.

use integration_tests::{
    COUNTY_KEY, Medpay, config_with_county_key, list_json, put_and_activate_table,
    register_institution, table_document,
};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const VENDOR_SPAN: &str = "00f067aa0ba902b7";

/// The value of `field=` in a log line's span fields (text fields are quoted).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = [' ', '{']
        .iter()
        .find_map(|before| line.find(&format!("{before}{name}=")))?
        + name.len()
        + 2;
    let rest = &line[start..];
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next(),
        None => rest.split([' ', '}']).next(),
    }
}

/// The `(trace_id, parent_id, caller)` of the answered request of `method`.
fn answered<'a>(log: &'a str, method: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    log.lines()
        .filter(|line| line.contains("answered") && field(line, "method") == Some(method))
        .map(|line| {
            (
                field(line, "trace_id").unwrap_or(""),
                field(line, "parent_id").unwrap_or(""),
                field(line, "caller").unwrap_or(""),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_upload_is_one_trace_through_settlement_grouping_and_points() -> anyhow::Result<()> {
    // The request spans' log lines on, every other log line as usual.
    let config = config_with_county_key().replace(
        "log_filter = \"warn\"",
        "log_filter = \"warn,medpay_request=debug\"",
    );
    assert!(config.contains("medpay_request=debug"));
    let server = Medpay::up_in_logged(tempfile::tempdir()?, &config)?;
    let mut client = SettlementServiceClient::new(server.channel().await?);
    register_institution(&mut client, "H46010801", "460108", "3A").await?;
    put_and_activate_table(server.channel().await?, "460108", table_document()).await?;

    let mut upload =
        tonic::Request::new(tokio_stream::iter(vec![settlement::SubmitCasesRequest {
            request_id: "traced-upload".into(),
            region_code: "460108".into(),
            case_json: String::new(),
            record: Some(settlement::SubmitRecord {
                record: Some(settlement::submit_record::Record::SettlementListJson(
                    list_json("H46010801", "T1", "2025-03-10", "BA1"),
                )),
            }),
        }]));
    upload
        .metadata_mut()
        .insert("authorization", format!("Bearer {COUNTY_KEY}").parse()?);
    upload.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{VENDOR_SPAN}-01").parse()?,
    );
    let outcome = client
        .submit_cases(upload)
        .await?
        .into_inner()
        .outcome
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!(outcome.accepted, 1, "{outcome:?}");

    // The log is written as the requests end; give the last line a moment to arrive.
    let mut log = server.log();
    for _ in 0..50 {
        if !answered(&log, "/medpay.settlement.v1.SettlementService/SubmitCases").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        log = server.log();
    }
    let upload = answered(&log, "/medpay.settlement.v1.SettlementService/SubmitCases");
    let grouping = answered(
        &log,
        "/medpay.grouping.internal.v1.GroupingInternalService/GroupBatch",
    );
    let points = answered(
        &log,
        "/medpay.points.internal.v1.PointsInternalService/ValueBatch",
    );
    assert_eq!(upload.len(), 1, "one upload answered:\n{log}");
    assert_eq!(
        grouping.len(),
        1,
        "one grouping call for one record:\n{log}"
    );
    assert_eq!(points.len(), 1, "one valuation call for one record:\n{log}");
    let (upload, grouping, points) = (upload[0], grouping[0], points[0]);

    // Settlement answers under the vendor's span, as the county agency.
    assert_eq!(upload, (TRACE_ID, VENDOR_SPAN, "meilan-agency"), "{log}");
    // Its peers answer in the same trace, each under a span of its own call, as the service.
    for (peer, line) in [("grouping", grouping), ("points", points)] {
        assert_eq!(line.0, TRACE_ID, "{peer} is in the upload's trace:\n{log}");
        assert_eq!(line.2, "medpay-services", "{peer}'s caller:\n{log}");
        assert_eq!(line.1.len(), 16, "{peer}'s parent is a span id:\n{log}");
        assert_ne!(
            line.1, VENDOR_SPAN,
            "{peer}'s parent is settlement's call:\n{log}"
        );
    }
    assert_ne!(
        grouping.1, points.1,
        "each peer call is a span of its own:\n{log}"
    );
    // Every line in a request carries its region once checked.
    assert!(
        log.lines()
            .filter(|line| line.contains("SubmitCases") && line.contains("answered"))
            .all(|line| line.contains("region=460108")),
        "{log}"
    );
    Ok(())
}
