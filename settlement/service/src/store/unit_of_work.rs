//! The settlement database as the steps of intake, runs and special cases hold it, and the unit
//! of work each request's write runs in.
//!
//! A step never sees a connection or a transaction: it holds a [`Database`], reads through it
//! by handing it to the stores, and writes in [`Database::run_once`], whose effect receives the
//! request's [`UnitOfWork`] and hands that back to the stores. The unit of work is the journal's
//! transaction ([`platform::journal::Journal::run_once`]): one per request, the effect, the audit
//! entry and the stored response commit together, nothing is stored when the effect fails, and
//! the same request again replays the stored response without running the effect.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};

use super::journal::{Call, Effect, JOURNAL, Once, RequestIdReused};
use super::ledger::StoreError;

/// The settlement database.
#[derive(Clone, Debug)]
pub struct Database(DatabaseConnection);

impl From<DatabaseConnection> for Database {
    fn from(connection: DatabaseConnection) -> Self {
        Self(connection)
    }
}

/// The transaction of one request's write, as its effect hands it to the stores.
#[derive(Clone, Copy, Debug)]
pub struct UnitOfWork<'t>(&'t DatabaseTransaction);

/// An effect's error as the journal carries it: the journal's own failures become the effect's
/// error type, so a step's error needs no conversion from the database's.
struct Failed<E>(E);

impl<E: From<StoreError>> From<DbErr> for Failed<E> {
    fn from(error: DbErr) -> Self {
        Self(StoreError::Database(error).into())
    }
}

impl<E: From<RequestIdReused>> From<RequestIdReused> for Failed<E> {
    fn from(reused: RequestIdReused) -> Self {
        Self(reused.into())
    }
}

impl Database {
    /// Runs `effect` in a unit of work once per (caller, request id) of `call`: the effect's
    /// writes, its audit entry and its response commit in one transaction; the same request
    /// again replays the stored response; a failing effect stores nothing.
    pub async fn run_once<E, F>(&self, call: &Call, effect: F) -> Result<Once, E>
    where
        E: From<StoreError> + From<RequestIdReused> + 'static,
        F: for<'t> FnOnce(UnitOfWork<'t>) -> Effect<'t, E>,
    {
        JOURNAL
            .run_once::<Failed<E>, _>(&self.0, call, move |txn| {
                let work = effect(UnitOfWork(txn));
                Box::pin(async move { work.await.map_err(Failed) })
            })
            .await
            .map_err(|Failed(error)| error)
    }

    /// The stored response of `call` when the same request was already carried out (a retry
    /// answers before any peer is asked); refused when its request id was used with another body
    /// or for another method.
    pub async fn replay<E>(&self, call: &Call) -> Result<Option<Vec<u8>>, E>
    where
        E: From<StoreError> + From<RequestIdReused>,
    {
        JOURNAL
            .replay::<_, Failed<E>>(&self.0, call)
            .await
            .map_err(|Failed(error)| error)
    }

    /// Whether several writers may store at once (PostgreSQL); SQLite has a single writer.
    pub fn takes_concurrent_writers(&self) -> bool {
        self.0.get_database_backend() == DbBackend::Postgres
    }

    pub(super) fn connection(&self) -> &DatabaseConnection {
        &self.0
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Database {}
    impl Sealed for super::UnitOfWork<'_> {}
}

/// What a step hands to the stores: the [`Database`] for reads outside a write, or the
/// [`UnitOfWork`] of the write it runs in. Only the store layer queries through it.
pub trait Storage: ConnectionTrait + sealed::Sealed + Send {}

impl Storage for Database {}
impl Storage for UnitOfWork<'_> {}

/// Delegates every statement to the wrapped connection or transaction.
macro_rules! delegate_connection {
    ($wrapper:ty) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $wrapper {
            fn get_database_backend(&self) -> DbBackend {
                self.0.get_database_backend()
            }

            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                self.0.execute_raw(stmt).await
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.0.execute_unprepared(sql).await
            }

            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                self.0.query_one_raw(stmt).await
            }

            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                self.0.query_all_raw(stmt).await
            }

            fn support_returning(&self) -> bool {
                self.0.support_returning()
            }

            fn is_mock_connection(&self) -> bool {
                self.0.is_mock_connection()
            }
        }
    };
}

delegate_connection!(Database);
delegate_connection!(UnitOfWork<'_>);
