//! Fingerprints of uploads, so that a request id names one body only.
//!
//! An upload is stored chunk by chunk while it arrives (see [`crate::intake`]). Each stored chunk
//! leaves the fingerprint of its records ([`settlement_domain::admission::fingerprint`]) under
//! (caller, request id, chunk index), written in the transaction that stores the chunk's cases; a completed upload leaves the SHA-256 of its
//! chunks' fingerprints beside its journal entry. A retry is compared with them: chunks that
//! match were stored and are decided again (unchanged), chunks never stored are stored, and a
//! chunk or a completed upload that differs refuses the retry before anything of it is stored.
//!
//! Chunk boundaries are intake's chunk size, so a retry is compared chunk for chunk only by a
//! server with the same chunk size (the default of its database: [`crate::intake::DEFAULT_CHUNK`]
//! on PostgreSQL, [`crate::intake::SQLITE_CHUNK`] on SQLite).

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};

use super::ledger::StoreError;

pub mod upload_chunk {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_upload_chunk")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub chunk_index: i64,
        pub records: i64,
        pub fingerprint: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod upload {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "settlement_upload")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        pub chunks: i64,
        pub records: i64,
        pub fingerprint: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One chunk of one upload, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkMark {
    pub caller_id: String,
    pub request_id: String,
    /// 0 for the first chunk of the upload.
    pub chunk_index: i64,
    pub records: i64,
    /// [`settlement_domain::admission::fingerprint`] of the chunk's records.
    pub fingerprint: String,
}

/// The fingerprint stored for a chunk of an upload, if that chunk was stored.
pub async fn stored_chunk<C: ConnectionTrait>(
    conn: &C,
    caller_id: &str,
    request_id: &str,
    chunk_index: i64,
) -> Result<Option<String>, StoreError> {
    Ok(
        upload_chunk::Entity::find_by_id((
            caller_id.to_owned(),
            request_id.to_owned(),
            chunk_index,
        ))
        .one(conn)
        .await?
        .map(|row| row.fingerprint),
    )
}

/// Records a stored chunk; fails on a chunk already recorded (a concurrent upload under the
/// same request id got there first).
pub async fn insert_chunk<C: ConnectionTrait>(conn: &C, mark: &ChunkMark) -> Result<(), DbErr> {
    upload_chunk::ActiveModel {
        caller_id: Set(mark.caller_id.clone()),
        request_id: Set(mark.request_id.clone()),
        chunk_index: Set(mark.chunk_index),
        records: Set(mark.records),
        fingerprint: Set(mark.fingerprint.clone()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The stored (chunks, fingerprint) of a completed upload.
pub async fn stored_upload<C: ConnectionTrait>(
    conn: &C,
    caller_id: &str,
    request_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(
        upload::Entity::find_by_id((caller_id.to_owned(), request_id.to_owned()))
            .one(conn)
            .await?
            .map(|row| (row.chunks, row.fingerprint)),
    )
}

/// Records a completed upload (once: a second completion of the same request keeps the first).
pub async fn insert_upload<C: ConnectionTrait>(
    conn: &C,
    caller_id: &str,
    request_id: &str,
    chunks: &[String],
    records: u64,
) -> Result<(), StoreError> {
    upload::Entity::insert(upload::ActiveModel {
        caller_id: Set(caller_id.to_owned()),
        request_id: Set(request_id.to_owned()),
        chunks: Set(i64::try_from(chunks.len()).unwrap_or(i64::MAX)),
        records: Set(i64::try_from(records).unwrap_or(i64::MAX)),
        fingerprint: Set(settlement_domain::admission::upload_fingerprint(chunks)),
    })
    .on_conflict_do_nothing_on([upload::Column::CallerId, upload::Column::RequestId])
    .exec(conn)
    .await?;
    Ok(())
}
