//! The quarter paid through faults between the server and its PostgreSQL database: a seeded
//! proxy for the PostgreSQL wire protocol (`integration_tests::pg_faults`) refuses new
//! connections, stalls round trips, cuts connections inside transactions and loses the answer
//! to a COMMIT. The county and the bureau retry as before; after each seed the quarter must be
//! exactly the fault-free run's. Runs only with `MEDPAY_FAULT_POSTGRES` (each seed on its own
//! database of that server); `MEDPAY_DB_FAULT_SEEDS=n` runs seeds 0..n (10 by default).

use super::{Mode, pay_through_faults, seeds};
use integration_tests::pg_faults::FaultDatabase;

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
