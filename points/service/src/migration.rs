//! Points tables, with the context's own migration table.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateValuationTable),
            Box::new(CreateAuditAndRequests),
        ]
    }

    fn migration_table_name() -> DynIden {
        "points_migrations".into_iden()
    }
}

struct CreateValuationTable;

impl MigrationName for CreateValuationTable {
    fn name(&self) -> &str {
        "m0001_create_valuation_table"
    }
}

#[derive(DeriveIden)]
enum PointsTableVersion {
    Table,
    RegionCode,
    Year,
    FundType,
    Version,
    Status,
    DocumentJson,
    EffectiveFrom,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateValuationTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PointsTableVersion::Table)
                    .col(
                        ColumnDef::new(PointsTableVersion::RegionCode)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Year)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::FundType)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::DocumentJson)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PointsTableVersion::EffectiveFrom)
                            .integer()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PointsTableVersion::RegionCode)
                            .col(PointsTableVersion::Year)
                            .col(PointsTableVersion::FundType)
                            .col(PointsTableVersion::Version),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PointsTableVersion::Table).to_owned())
            .await
    }
}

/// The audit log of table changes and the stored responses of idempotent requests.
struct CreateAuditAndRequests;

impl MigrationName for CreateAuditAndRequests {
    fn name(&self) -> &str {
        "m0002_create_audit_and_requests"
    }
}

#[derive(DeriveIden)]
enum PointsAudit {
    Table,
    Id,
    AtUnixSeconds,
    CallerId,
    Action,
    Detail,
    RequestId,
}

#[derive(DeriveIden)]
enum PointsRequest {
    Table,
    RequestId,
    CallerId,
    Method,
    Response,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditAndRequests {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PointsAudit::Table)
                    .col(
                        ColumnDef::new(PointsAudit::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PointsAudit::AtUnixSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PointsAudit::CallerId).string().not_null())
                    .col(ColumnDef::new(PointsAudit::Action).string().not_null())
                    .col(ColumnDef::new(PointsAudit::Detail).text().not_null())
                    .col(ColumnDef::new(PointsAudit::RequestId).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PointsRequest::Table)
                    .col(ColumnDef::new(PointsRequest::RequestId).string().not_null())
                    .col(ColumnDef::new(PointsRequest::CallerId).string().not_null())
                    .col(ColumnDef::new(PointsRequest::Method).string().not_null())
                    .col(ColumnDef::new(PointsRequest::Response).binary().not_null())
                    .primary_key(
                        Index::create()
                            .col(PointsRequest::CallerId)
                            .col(PointsRequest::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PointsAudit::Table.into_iden(),
            PointsRequest::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
