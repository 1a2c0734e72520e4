//! A lead's links to findings carry the lead's region, so that they can be distributed with it
//! (`deploy/postgres/citus.sql`): the column, filled from each link's lead, and on PostgreSQL the
//! region last in the link's key.

use platform::distribution::{DistributionInKeys, KeyedTable, REGION};
use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

pub struct LeadLinkRegion;

impl MigrationName for LeadLinkRegion {
    fn name(&self) -> &str {
        "m0009_lead_link_region"
    }
}

#[derive(DeriveIden)]
enum SupervisionLeadLink {
    Table,
    RegionCode,
}

const LINK_KEYS: DistributionInKeys = DistributionInKeys {
    name: "m0009_lead_link_region",
    tables: &[KeyedTable {
        table: "supervision_lead_link",
        distribution_column: REGION,
        primary_key: &["lead_id", "finding_id"],
        unique_indexes: &[],
    }],
};

#[async_trait::async_trait]
impl MigrationTrait for LeadLinkRegion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A column added NOT NULL needs a default for the rows already there; every link written
        // from now on names its lead's region.
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisionLeadLink::Table)
                    .add_column(
                        ColumnDef::new(SupervisionLeadLink::RegionCode)
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
                "UPDATE supervision_lead_link SET region_code = \
                 (SELECT lead.region_code FROM supervision_lead lead \
                  WHERE lead.lead_id = supervision_lead_link.lead_id)",
            )
            .await?;
        LINK_KEYS.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        LINK_KEYS.down(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SupervisionLeadLink::Table)
                    .drop_column(SupervisionLeadLink::RegionCode)
                    .to_owned(),
            )
            .await
    }
}
