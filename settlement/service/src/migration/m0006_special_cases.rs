//! Special-case review: the expert registry per pooling region and the applications (the whole
//! application as JSON, with the columns queries filter on).

use sea_orm_migration::prelude::*;

pub struct SpecialCases;

impl MigrationName for SpecialCases {
    fn name(&self) -> &str {
        "m0006_special_cases"
    }
}

#[derive(DeriveIden)]
enum SettlementExpert {
    Table,
    RegionCode,
    ExpertId,
    Name,
    Specialty,
    InstitutionsJson,
    Active,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SettlementSpecialCase {
    Table,
    ApplicationId,
    RegionCode,
    HospitalCode,
    ListId,
    Year,
    PaymentMode,
    State,
    DecisionJson,
    ApplicationJson,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for SpecialCases {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementExpert::Table)
                    .col(
                        ColumnDef::new(SettlementExpert::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementExpert::ExpertId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SettlementExpert::Name).string().not_null())
                    .col(
                        ColumnDef::new(SettlementExpert::Specialty)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementExpert::InstitutionsJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementExpert::Active)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementExpert::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementExpert::RegionCode)
                            .col(SettlementExpert::ExpertId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SettlementSpecialCase::Table)
                    .col(
                        ColumnDef::new(SettlementSpecialCase::ApplicationId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::HospitalCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::ListId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::Year)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::PaymentMode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::State)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::DecisionJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::ApplicationJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementSpecialCase::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One application per case: a second one for the same list is refused by the key.
        manager
            .create_index(
                Index::create()
                    .name("settlement_special_case_case")
                    .table(SettlementSpecialCase::Table)
                    .col(SettlementSpecialCase::HospitalCode)
                    .col(SettlementSpecialCase::ListId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("settlement_special_case_region_year")
                    .table(SettlementSpecialCase::Table)
                    .col(SettlementSpecialCase::RegionCode)
                    .col(SettlementSpecialCase::Year)
                    .col(SettlementSpecialCase::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementSpecialCase::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SettlementExpert::Table).to_owned())
            .await
    }
}
