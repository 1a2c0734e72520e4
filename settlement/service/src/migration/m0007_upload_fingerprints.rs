//! Fingerprints of uploads (`SubmitCases`, `SubmitCaseBatch`), so that a request id reused with
//! another body is refused instead of answered with the first upload's outcome: one row per
//! stored chunk (written in the chunk's transaction) and one per completed upload (written with
//! its journal entry).

use sea_orm_migration::prelude::*;

pub struct UploadFingerprints;

impl MigrationName for UploadFingerprints {
    fn name(&self) -> &str {
        "m0007_upload_fingerprints"
    }
}

#[derive(DeriveIden)]
enum SettlementUploadChunk {
    Table,
    CallerId,
    RequestId,
    ChunkIndex,
    Records,
    Fingerprint,
}

#[derive(DeriveIden)]
enum SettlementUpload {
    Table,
    CallerId,
    RequestId,
    Chunks,
    Records,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for UploadFingerprints {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettlementUploadChunk::Table)
                    .col(
                        ColumnDef::new(SettlementUploadChunk::CallerId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUploadChunk::RequestId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUploadChunk::ChunkIndex)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUploadChunk::Records)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUploadChunk::Fingerprint)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementUploadChunk::CallerId)
                            .col(SettlementUploadChunk::RequestId)
                            .col(SettlementUploadChunk::ChunkIndex),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SettlementUpload::Table)
                    .col(
                        ColumnDef::new(SettlementUpload::CallerId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUpload::RequestId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUpload::Chunks)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUpload::Records)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SettlementUpload::Fingerprint)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SettlementUpload::CallerId)
                            .col(SettlementUpload::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SettlementUpload::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SettlementUploadChunk::Table).to_owned())
            .await
    }
}
