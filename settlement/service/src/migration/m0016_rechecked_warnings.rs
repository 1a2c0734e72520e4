//! The warnings a revaluation found for the version it stored (`store::rechecked_warnings`):
//! one row per version rechecked, its warnings as JSON (an empty list is a recheck that found
//! nothing, which must hide the content's warnings from intake).

use sea_orm_migration::prelude::*;

pub struct RecheckedWarnings;

impl MigrationName for RecheckedWarnings {
    fn name(&self) -> &str {
        "m0016_rechecked_warnings"
    }
}

#[derive(DeriveIden)]
enum SettlementCaseRecheck {
    Table,
    HospitalCode,
    ListId,
    Version,
    ContentHash,
    WarningsJson,
}

#[async_trait::async_trait]
impl MigrationTrait for RecheckedWarnings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SettlementCaseRecheck as T;
        let text = |column: T| ColumnDef::new(column).string().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(text(T::HospitalCode))
                    .col(text(T::ListId))
                    .col(ColumnDef::new(T::Version).integer().not_null())
                    .col(text(T::ContentHash))
                    .col(ColumnDef::new(T::WarningsJson).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(T::HospitalCode)
                            .col(T::ListId)
                            .col(T::Version),
                    )
                    .to_owned(),
            )
            .await?;
        // Reads look a page of cases up by list id, as the content's warnings.
        manager
            .create_index(
                Index::create()
                    .name("settlement_case_recheck_list")
                    .table(T::Table)
                    .col(T::ListId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementCaseRecheck::Table).to_owned())
            .await
    }
}
