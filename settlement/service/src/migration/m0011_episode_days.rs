//! The per-diem episode of a valued stay, as columns of the case ledger: the programme the points
//! context named by its mode rules' tests (`psychiatric`, `rehabilitation`, `hospice`, empty for
//! none) and the prior episode days the stay was valued with. Settlement chains a person's stays
//! on them (`settlement_domain::episode`). Cases valued before have neither (empty, 0): they take
//! no part in a chain until revalued. The index finds a person's stays at a hospital.

use sea_orm_migration::prelude::*;

pub struct EpisodeDays;

impl MigrationName for EpisodeDays {
    fn name(&self) -> &str {
        "m0011_episode_days"
    }
}

#[derive(DeriveIden)]
enum SettlementCase {
    Table,
    PersonId,
    HospitalCode,
    EpisodeProgramme,
    PriorEpisodeDays,
}

const PERSON_INDEX: &str = "settlement_case_person_hospital";

#[async_trait::async_trait]
impl MigrationTrait for EpisodeDays {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(SettlementCase::EpisodeProgramme)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(SettlementCase::PriorEpisodeDays)
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            // One column per statement: SQLite alters one at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(PERSON_INDEX)
                    .table(SettlementCase::Table)
                    .col(SettlementCase::PersonId)
                    .col(SettlementCase::HospitalCode)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(PERSON_INDEX)
                    .table(SettlementCase::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            SettlementCase::EpisodeProgramme,
            SettlementCase::PriorEpisodeDays,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SettlementCase::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
