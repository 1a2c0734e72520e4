//! Schema migrations apart from serving. `medpay migrate` applies them (one Kubernetes Job per
//! context before the services roll out); a server with `database.migrate = false` only checks
//! that none is pending, so replicas starting together never race to alter the schema.

use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

use crate::server::ContextName;

/// What `medpay migrate` migrates: a context's tables, or the API key store every server reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Grouping,
    Points,
    Budget,
    Settlement,
    Supervision,
    /// The API key store (`access_*`), read by every server.
    Keys,
}

impl From<ContextName> for Target {
    fn from(context: ContextName) -> Self {
        match context {
            ContextName::Grouping => Target::Grouping,
            ContextName::Points => Target::Points,
            ContextName::Budget => Target::Budget,
            ContextName::Settlement => Target::Settlement,
            ContextName::Supervision => Target::Supervision,
        }
    }
}

impl Target {
    /// The targets a server of `contexts` needs migrated: its contexts and the key store.
    pub fn of_server(contexts: &[ContextName]) -> Vec<Target> {
        contexts
            .iter()
            .map(|c| Target::from(*c))
            .chain([Target::Keys])
            .collect()
    }

    /// The target as `medpay migrate` names it.
    pub fn name(self) -> &'static str {
        match self {
            Target::Grouping => "grouping",
            Target::Points => "points",
            Target::Budget => "budget",
            Target::Settlement => "settlement",
            Target::Supervision => "supervision",
            Target::Keys => "keys",
        }
    }

    /// Applies the target's pending migrations (each target keeps its own migration table).
    pub async fn apply(self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        match self {
            Target::Grouping => grouping_service::Migrator::up(db, None).await,
            Target::Points => points_service::Migrator::up(db, None).await,
            Target::Budget => budget_service::Migrator::up(db, None).await,
            Target::Settlement => settlement_service::Migrator::up(db, None).await,
            Target::Supervision => supervision_service::Migrator::up(db, None).await,
            Target::Keys => crate::access::Migrator::up(db, None).await,
        }
    }

    /// The names of the target's migrations not applied yet; reads only, never creates a table.
    pub async fn pending(self, db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
        let pending = match self {
            Target::Grouping => grouping_service::Migrator::get_pending_migrations_read_only(db),
            Target::Points => points_service::Migrator::get_pending_migrations_read_only(db),
            Target::Budget => budget_service::Migrator::get_pending_migrations_read_only(db),
            Target::Settlement => {
                settlement_service::Migrator::get_pending_migrations_read_only(db)
            }
            Target::Supervision => {
                supervision_service::Migrator::get_pending_migrations_read_only(db)
            }
            Target::Keys => crate::access::Migrator::get_pending_migrations_read_only(db),
        }
        .await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }
}

/// `grouping, keys`: targets as `medpay migrate` names them.
pub fn names(targets: &[Target]) -> String {
    targets
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies the migrations of `targets`, in order.
pub async fn apply(db: &DatabaseConnection, targets: &[Target]) -> anyhow::Result<()> {
    for target in targets {
        target
            .apply(db)
            .await
            .map_err(|e| anyhow::anyhow!("migrating {}: {e}", target.name()))?;
    }
    Ok(())
}

/// Fails, naming every pending migration and the command that applies it, unless `targets` are
/// fully migrated.
pub async fn check(db: &DatabaseConnection, targets: &[Target]) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for target in targets {
        let pending = target
            .pending(db)
            .await
            .map_err(|e| anyhow::anyhow!("reading the migrations of {}: {e}", target.name()))?;
        if !pending.is_empty() {
            missing.push(format!(
                "{} ({}; run `medpay migrate {}`)",
                target.name(),
                pending.join(", "),
                target.name()
            ));
        }
    }
    anyhow::ensure!(
        missing.is_empty(),
        "the database is not migrated: pending {}",
        missing.join("; ")
    );
    Ok(())
}

/// [`check`] until it passes or `wait` has elapsed, so an init container can hold a service back
/// until its migration Job is done.
pub async fn wait_until_migrated(
    db: &DatabaseConnection,
    targets: &[Target],
    wait: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + wait;
    loop {
        match check(db, targets).await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() >= deadline => return Err(error),
            Err(error) => tracing::info!(%error, "waiting for the migration"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
