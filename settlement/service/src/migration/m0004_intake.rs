//! Intake: the registry of designated institutions (every version with the date it took effect)
//! and their service agreements. Upload idempotency uses the journal of m0003.

use sea_orm_migration::prelude::*;

pub struct Intake;

impl MigrationName for Intake {
    fn name(&self) -> &str {
        "m0004_intake"
    }
}

#[derive(DeriveIden)]
enum SettlementInstitution {
    Table,
    Code,
    EffectiveFrom,
    RegionCode,
    Name,
    Level,
    InstitutionType,
    AllianceCode,
    Reason,
    RequestId,
}

#[derive(DeriveIden)]
enum SettlementAgreement {
    Table,
    InstitutionCode,
    AgreementId,
    ValidFrom,
    ValidTo,
    Status,
    Reason,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Intake {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementInstitution::Table)
                    .col(
                        ColumnDef::new(SettlementInstitution::Code)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::EffectiveFrom)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::Name)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::Level)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::InstitutionType)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::AllianceCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::Reason)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementInstitution::RequestId)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementInstitution::Code)
                            .col(SettlementInstitution::EffectiveFrom),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_settlement_institution_region")
                    .table(SettlementInstitution::Table)
                    .col(SettlementInstitution::RegionCode)
                    .col(SettlementInstitution::Code)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SettlementAgreement::Table)
                    .col(
                        ColumnDef::new(SettlementAgreement::InstitutionCode)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::AgreementId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::ValidFrom)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::ValidTo)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::Reason)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementAgreement::RequestId)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementAgreement::InstitutionCode)
                            .col(SettlementAgreement::AgreementId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementAgreement::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SettlementInstitution::Table).to_owned())
            .await
    }
}
