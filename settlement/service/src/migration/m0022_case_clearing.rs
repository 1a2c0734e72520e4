//! Which case versions a clearing took (`store::case_clearing`): one narrow row per version, keyed
//! like its ledger row with `region_code` last (the key a distributed deployment needs), with the
//! run that took it.
//!
//! Before, a clearing set `status = 'cleared'` on every ledger row it took: an UPDATE that rewrote
//! a million wide rows and every entry of their indexes. Rows cleared that way stay as they are and
//! readers take either as cleared; going down writes the word back onto the rows this table names,
//! so nothing cleared reads as valued again.

use sea_orm_migration::prelude::*;

pub struct CaseClearing;

impl MigrationName for CaseClearing {
    fn name(&self) -> &str {
        "m0022_case_clearing"
    }
}

#[derive(DeriveIden)]
enum SettlementCaseClearing {
    Table,
    HospitalCode,
    ListId,
    Version,
    RegionCode,
    RunId,
}

/// The ledger rows this table names, cleared in the ledger's own column again.
const STATUS_BACK: &str = "UPDATE settlement_case SET status = 'cleared' \
     WHERE status = 'valued' AND EXISTS (SELECT 1 FROM settlement_case_clearing k \
       WHERE k.hospital_code = settlement_case.hospital_code \
         AND k.list_id = settlement_case.list_id \
         AND k.version = settlement_case.version \
         AND k.region_code = settlement_case.region_code)";

#[async_trait::async_trait]
impl MigrationTrait for CaseClearing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementCaseClearing as T;
        let text = |column: T| ColumnDef::new(column).string().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(text(T::HospitalCode))
                    .col(text(T::ListId))
                    .col(ColumnDef::new(T::Version).integer().not_null())
                    .col(ColumnDef::new(T::RegionCode).integer().not_null())
                    .col(text(T::RunId))
                    .primary_key(
                        Index::create()
                            .col(T::HospitalCode)
                            .col(T::ListId)
                            .col(T::Version)
                            .col(T::RegionCode),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(STATUS_BACK)
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(SettlementCaseClearing::Table)
                    .to_owned(),
            )
            .await
    }
}
