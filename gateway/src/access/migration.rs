//! The key store's tables (`access_*`), with their own migration table.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateKeysAuditRequests)]
    }

    fn migration_table_name() -> DynIden {
        "access_migrations".into_iden()
    }
}

struct CreateKeysAuditRequests;

impl MigrationName for CreateKeysAuditRequests {
    fn name(&self) -> &str {
        "m0001_create_keys_audit_requests"
    }
}

#[derive(DeriveIden)]
enum AccessApiKey {
    Table,
    KeyId,
    CallerId,
    Scopes,
    Roles,
    Institution,
    SecretHash,
    CreatedAt,
    CreatedBy,
    RotatedFrom,
    RevokedAt,
    RevokedBy,
    RevokeReason,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AccessAudit {
    Table,
    Id,
    AtUnixSeconds,
    Actor,
    Action,
    KeyId,
    Detail,
    RequestId,
}

#[derive(DeriveIden)]
enum AccessRequest {
    Table,
    CallerId,
    RequestId,
    Method,
    Response,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateKeysAuditRequests {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessApiKey::Table)
                    .col(
                        ColumnDef::new(AccessApiKey::KeyId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AccessApiKey::CallerId).string().not_null())
                    .col(ColumnDef::new(AccessApiKey::Scopes).string().not_null())
                    .col(ColumnDef::new(AccessApiKey::Roles).string().not_null())
                    .col(ColumnDef::new(AccessApiKey::Institution).string().null())
                    .col(ColumnDef::new(AccessApiKey::SecretHash).string().not_null())
                    .col(
                        ColumnDef::new(AccessApiKey::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessApiKey::CreatedBy).string().not_null())
                    .col(ColumnDef::new(AccessApiKey::RotatedFrom).string().null())
                    .col(ColumnDef::new(AccessApiKey::RevokedAt).big_integer().null())
                    .col(ColumnDef::new(AccessApiKey::RevokedBy).string().null())
                    .col(ColumnDef::new(AccessApiKey::RevokeReason).text().null())
                    .col(ColumnDef::new(AccessApiKey::ExpiresAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // Listing is newest first.
        manager
            .create_index(
                Index::create()
                    .name("access_api_key_created")
                    .table(AccessApiKey::Table)
                    .col(AccessApiKey::CreatedAt)
                    .col(AccessApiKey::KeyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessAudit::Table)
                    .col(
                        ColumnDef::new(AccessAudit::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AccessAudit::AtUnixSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AccessAudit::Actor).string().not_null())
                    .col(ColumnDef::new(AccessAudit::Action).string().not_null())
                    .col(ColumnDef::new(AccessAudit::KeyId).string().not_null())
                    .col(ColumnDef::new(AccessAudit::Detail).text().not_null())
                    .col(ColumnDef::new(AccessAudit::RequestId).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessRequest::Table)
                    .col(ColumnDef::new(AccessRequest::CallerId).string().not_null())
                    .col(ColumnDef::new(AccessRequest::RequestId).string().not_null())
                    .col(ColumnDef::new(AccessRequest::Method).string().not_null())
                    .col(ColumnDef::new(AccessRequest::Response).binary().not_null())
                    .primary_key(
                        Index::create()
                            .col(AccessRequest::CallerId)
                            .col(AccessRequest::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccessRequest::Table.into_iden(),
            AccessAudit::Table.into_iden(),
            AccessApiKey::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
