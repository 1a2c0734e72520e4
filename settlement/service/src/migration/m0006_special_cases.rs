//! Special-case review: experts and applications.

use sea_orm_migration::prelude::*;

pub struct SpecialCases;

impl MigrationName for SpecialCases {
    fn name(&self) -> &str {
        "m0006_special_cases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SpecialCases {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
