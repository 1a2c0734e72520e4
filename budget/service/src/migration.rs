//! Budget tables. The context keeps its own migration table so contexts migrate independently.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateBudgetVersion)]
    }

    fn migration_table_name() -> DynIden {
        "budget_migrations".into_iden()
    }
}

struct CreateBudgetVersion;

impl MigrationName for CreateBudgetVersion {
    fn name(&self) -> &str {
        "m0001_create_budget_version"
    }
}

#[derive(DeriveIden)]
enum BudgetVersion {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    Mode,
    TotalFen,
    DocumentJson,
    Reason,
    CreatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateBudgetVersion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BudgetVersion::Table)
                    .col(
                        ColumnDef::new(BudgetVersion::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetVersion::Year).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::FundType).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::Version).integer().not_null())
                    .col(ColumnDef::new(BudgetVersion::Mode).string().not_null())
                    .col(
                        ColumnDef::new(BudgetVersion::TotalFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BudgetVersion::DocumentJson)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BudgetVersion::Reason).text().not_null())
                    .col(ColumnDef::new(BudgetVersion::CreatedBy).string().not_null())
                    .primary_key(
                        Index::create()
                            .col(BudgetVersion::RegionCode)
                            .col(BudgetVersion::Year)
                            .col(BudgetVersion::FundType)
                            .col(BudgetVersion::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BudgetVersion::Table).to_owned())
            .await
    }
}
