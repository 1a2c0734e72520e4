//! The quarter paid through faults between the server and its PostgreSQL database: a seeded
//! proxy for the PostgreSQL wire protocol (`integration_tests::pg_faults`) refuses new
//! connections, stalls round trips, cuts connections inside transactions and loses the answer
//! to a COMMIT. The county and the bureau retry as before; after each seed the quarter must be
//! exactly the fault-free run's. Runs only with `MEDPAY_FAULT_POSTGRES` (each seed on its own
//! database of that server); `MEDPAY_DB_FAULT_SEEDS=n` runs seeds 0..n (10 by default).

use super::{
    DATA_SEED, Harness, Mode, list_cases, pay_through_faults, record, seeds, set_up, timed,
};
use integration_tests::pg_faults::{DbFault, DbPlan, FaultDatabase};
use integration_tests::quarter::{self, COUNTY};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::Code;
use tonic_types::StatusExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarter_paid_through_database_faults_ends_as_without_them() -> anyhow::Result<()> {
    if FaultDatabase::server().is_none() {
        eprintln!("skipped: MEDPAY_FAULT_POSTGRES names no PostgreSQL server");
        return Ok(());
    }
    pay_through_faults(
        Mode::Database,
        seeds("MEDPAY_DB_FAULT_SEEDS", 10)?,
        "faults::database::a_quarter_paid_through_database_faults",
    )
    .await
}

/// A connection cut in the middle of an upload's transaction: the county is answered
/// UNAVAILABLE (a lost database is retryable, not an internal error), nothing of the upload is
/// stored, and the county's retry with the same request id stores every case once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_mid_transaction_is_unavailable_stores_nothing_and_its_retry_stores_it()
-> anyhow::Result<()> {
    if FaultDatabase::server().is_none() {
        eprintln!("skipped: MEDPAY_FAULT_POSTGRES names no PostgreSQL server");
        return Ok(());
    }
    let h = Harness::start_for(Mode::Database).await?;
    set_up(&h).await?;
    let proxy = h
        .database
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no database proxy"))?;
    let intake = SettlementServiceClient::new(h.channel.clone());
    let lists = quarter::lists(DATA_SEED, 6);
    let messages: Vec<settlement::SubmitCasesRequest> = lists
        .iter()
        .enumerate()
        .map(|(i, list)| settlement::SubmitCasesRequest {
            request_id: if i == 0 {
                "cut-mid-transaction".into()
            } else {
                String::new()
            },
            region_code: COUNTY.into(),
            case_json: String::new(),
            record: Some(record(list)),
        })
        .collect();
    proxy.set_plan(DbPlan(
        [(DbFault::CutInTransaction, 0)].into_iter().collect(),
    ));
    let failed = intake
        .clone()
        .submit_cases(timed(tokio_stream::iter(messages.clone())))
        .await
        .expect_err("the connection was cut under the upload");
    assert_eq!(failed.code(), Code::Unavailable, "{failed:?}");
    assert_eq!(
        failed
            .get_error_details()
            .error_info()
            .map(|info| info.reason.as_str()),
        Some("DATABASE_UNAVAILABLE")
    );
    assert_eq!(proxy.applied(), vec![(DbFault::CutInTransaction, 0)]);
    assert!(list_cases(&h, &intake, "").await?.is_empty());

    let answer = h
        .call("SubmitCases", || {
            let (mut c, body) = (intake.clone(), messages.clone());
            async move { c.submit_cases(timed(tokio_stream::iter(body))).await }
        })
        .await?;
    assert_eq!(
        answer.outcome.map(|o| (o.accepted, o.replayed)),
        Some((6, false))
    );
    let cases = list_cases(&h, &intake, "").await?;
    assert_eq!(cases.len(), 6);
    assert!(
        cases.iter().all(|c| c.version == 1 && c.status == "valued"),
        "{cases:?}"
    );
    Ok(())
}
