//! Supervision tables, with the context's own migration table.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateScreeningRule)]
    }

    fn migration_table_name() -> DynIden {
        "supervision_migrations".into_iden()
    }
}

struct CreateScreeningRule;

impl MigrationName for CreateScreeningRule {
    fn name(&self) -> &str {
        "m0001_create_screening_rule"
    }
}

#[derive(DeriveIden)]
enum SupervisionRule {
    Table,
    RegionCode,
    RuleId,
    Name,
    Level,
    ParametersJson,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateScreeningRule {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupervisionRule::Table)
                    .col(
                        ColumnDef::new(SupervisionRule::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SupervisionRule::RuleId).string().not_null())
                    .col(ColumnDef::new(SupervisionRule::Name).string().not_null())
                    .col(ColumnDef::new(SupervisionRule::Level).string().not_null())
                    .col(
                        ColumnDef::new(SupervisionRule::ParametersJson)
                            .text()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SupervisionRule::RegionCode)
                            .col(SupervisionRule::RuleId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupervisionRule::Table).to_owned())
            .await
    }
}
