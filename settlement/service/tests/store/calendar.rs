//! The month calendar and the request journal: closing a month, and a request id carried out
//! once.

use kernel::{FundType, YearMonth};
use platform::store_test;
use settlement_service::Migrator;
use settlement_service::runs::RunError;
use settlement_service::store::closed_months;

use super::region;

store_test!(closing_a_prefecture_closes_its_counties, Migrator, |db| {
    let january = YearMonth::new(2025, 1).expect("month");
    let february = YearMonth::new(2025, 2).expect("month");
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, january)
            .await
            .expect("read")
    );
    assert!(
        closed_months::close(
            db,
            region("460100"),
            FundType::Employee,
            january,
            "run-1",
            1
        )
        .await
        .expect("close")
    );
    assert!(
        !closed_months::close(
            db,
            region("460100"),
            FundType::Employee,
            january,
            "run-2",
            2
        )
        .await
        .expect("close again"),
        "closing twice changes nothing"
    );
    assert!(
        closed_months::is_closed(db, region("460108"), FundType::Employee, january)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Resident, january)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, february)
            .await
            .expect("read")
    );
    assert!(
        !closed_months::is_closed(db, region("460201"), FundType::Employee, january)
            .await
            .expect("read")
    );
});

fn close_march(
    run_id: &'static str,
) -> impl for<'t> FnOnce(
    settlement_service::store::UnitOfWork<'t>,
) -> settlement_service::store::journal::Effect<'t, RunError> {
    move |work| {
        Box::pin(async move {
            let month = YearMonth::new(2025, 3).expect("month");
            closed_months::close(
                &work,
                region("460108"),
                FundType::Employee,
                month,
                run_id,
                1,
            )
            .await?;
            Ok((run_id.as_bytes().to_vec(), format!("closed by {run_id}")))
        })
    }
}

store_test!(a_request_id_is_carried_out_once, Migrator, |db| {
    use settlement_service::store::Database;
    use settlement_service::store::journal::{self, Call, Fingerprint, Once};
    let database = Database::from(db.clone());
    let audit = Call::with_fingerprint(
        "county-460108",
        "req-1",
        "CloseMonth",
        Fingerprint::of_parts("CloseMonth", &[b"460108 2025-03"]),
        Some(region("460108")),
    );
    let first = database
        .run_once(&audit, close_march("run-1"))
        .await
        .expect("first");
    assert_eq!(first, Once::Done(b"run-1".to_vec()));
    let again = database
        .run_once(&audit, close_march("run-2"))
        .await
        .expect("retry");
    assert_eq!(
        again,
        Once::Replayed(b"run-1".to_vec()),
        "the first answer is replayed"
    );
    let entries = journal::audit_entries(db).await.expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].detail, "closed by run-1");

    // A failing effect writes nothing, so the same request id can be retried.
    let failing = Call {
        request_id: "req-2".into(),
        ..audit
    };
    let failed = database
        .run_once(&failing, |work| -> journal::Effect<'_, RunError> {
            Box::pin(async move {
                let month = YearMonth::new(2025, 4).expect("month");
                closed_months::close(
                    &work,
                    region("460108"),
                    FundType::Employee,
                    month,
                    "run-3",
                    1,
                )
                .await?;
                Err(RunError::Internal("refused".into()))
            })
        })
        .await;
    assert!(failed.is_err());
    let april = YearMonth::new(2025, 4).expect("month");
    assert!(
        !closed_months::is_closed(db, region("460108"), FundType::Employee, april)
            .await
            .expect("read"),
        "a failing unit of work stores nothing of its effect"
    );
    assert_eq!(journal::audit_entries(db).await.expect("audit").len(), 1);
    let retried = database
        .run_once(&failing, |_work| -> journal::Effect<'_, RunError> {
            Box::pin(async { Ok((b"ok".to_vec(), "ok".into())) })
        })
        .await
        .expect("retry after failure");
    assert_eq!(retried, Once::Done(b"ok".to_vec()));
});
