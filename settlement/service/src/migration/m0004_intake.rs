//! Intake: upload requests (idempotency), institutions and agreements.

use sea_orm_migration::prelude::*;

pub struct Intake;

impl MigrationName for Intake {
    fn name(&self) -> &str {
        "m0004_intake"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Intake {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
