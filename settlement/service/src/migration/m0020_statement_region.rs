//! A statement carries its run's region, so that it can be distributed with the run
//! (`deploy/postgres/citus.sql`): the column, filled from each statement's run, and on PostgreSQL
//! the region last in the statement's key.

use platform::distribution::{DistributionInKeys, KeyedTable, REGION};
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

pub struct StatementRegion;

impl MigrationName for StatementRegion {
    fn name(&self) -> &str {
        "m0020_statement_region"
    }
}

#[derive(DeriveIden)]
enum SettlementStatement {
    Table,
    RegionCode,
}

const STATEMENT_KEYS: DistributionInKeys = DistributionInKeys {
    name: "m0020_statement_region",
    tables: &[KeyedTable {
        table: "settlement_statement",
        distribution_column: REGION,
        primary_key: &["run_id", "hospital_code"],
        unique_indexes: &[],
    }],
};

#[async_trait::async_trait]
impl MigrationTrait for StatementRegion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A column added NOT NULL needs a default for the rows already there; every statement
        // stored from now on names its run's region.
        manager
            .alter_table(
                Table::alter()
                    .table(SettlementStatement::Table)
                    .add_column(
                        ColumnDef::new(SettlementStatement::RegionCode)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE settlement_statement SET region_code = \
                 (SELECT run.region_code FROM settlement_run run \
                  WHERE run.run_id = settlement_statement.run_id)",
            )
            .await?;
        STATEMENT_KEYS.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        STATEMENT_KEYS.down(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SettlementStatement::Table)
                    .drop_column(SettlementStatement::RegionCode)
                    .to_owned(),
            )
            .await
    }
}
