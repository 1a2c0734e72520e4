//! The case warnings and the rechecked warnings carry the region of the case versions they belong
//! to, so that a distributed deployment keeps them on their case's shard: the column, NOT NULL (0
//! only while the rows already there are filled), filled from `settlement_case`, and on
//! PostgreSQL the region last in each table's key (`platform::distribution`).
//!
//! A case's region is the pooling region its record names, so a correction may move a case to
//! another region: a version's warnings take the region of that version, found by what each table
//! names it by. A recheck names its version; kept warnings name their content, whose versions all
//! carry one region because the region is part of the content hashed.

use platform::distribution::{
    DistributionInKeys, KeyedTable, REGION, add_region_column, drop_region_column,
};
use sea_orm_migration::prelude::*;

pub struct WarningRegion;

const NAME: &str = "m0021_warning_region";

impl MigrationName for WarningRegion {
    fn name(&self) -> &str {
        NAME
    }
}

/// The two tables with their keys as they were.
const KEYED: &[KeyedTable] = &[
    KeyedTable {
        distribution_column: REGION,
        table: "settlement_case_warning",
        primary_key: &["hospital_code", "list_id", "content_hash", "seq"],
        unique_indexes: &[],
    },
    KeyedTable {
        distribution_column: REGION,
        table: "settlement_case_recheck",
        primary_key: &["hospital_code", "list_id", "version"],
        unique_indexes: &[],
    },
];

/// The statements that fill each table's region from its case versions. Several versions share a
/// content (a revaluation stores it again), all in one region, so any one of them answers.
const FILLS: &[&str] = &[
    "UPDATE settlement_case_warning SET region_code = \
     (SELECT c.region_code FROM settlement_case c \
      WHERE c.hospital_code = settlement_case_warning.hospital_code \
        AND c.list_id = settlement_case_warning.list_id \
        AND c.content_hash = settlement_case_warning.content_hash \
      LIMIT 1)",
    "UPDATE settlement_case_recheck SET region_code = \
     (SELECT c.region_code FROM settlement_case c \
      WHERE c.hospital_code = settlement_case_recheck.hospital_code \
        AND c.list_id = settlement_case_recheck.list_id \
        AND c.version = settlement_case_recheck.version)",
];

/// The rekeying of m0019, applied to these two tables.
const REKEY: DistributionInKeys = DistributionInKeys {
    name: NAME,
    tables: KEYED,
};

#[async_trait::async_trait]
impl MigrationTrait for WarningRegion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in KEYED {
            add_region_column(manager, table.table).await?;
        }
        for fill in FILLS {
            manager.get_connection().execute_unprepared(fill).await?;
        }
        REKEY.up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        REKEY.down(manager).await?;
        for table in KEYED {
            drop_region_column(manager, table.table).await?;
        }
        Ok(())
    }
}
