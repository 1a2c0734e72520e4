//! Runs: settlement policies, hospital year inputs, runs, statements, disputes.

use sea_orm_migration::prelude::*;

pub struct Runs;

impl MigrationName for Runs {
    fn name(&self) -> &str {
        "m0005_runs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Runs {
    async fn up(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
