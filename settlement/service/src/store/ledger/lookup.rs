//! Intake's lookup of the stored versions of a chunk's cases.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::{CaseStore, StoreError};

/// The pairs as one JSON parameter joined on the primary key: one index probe per pair, where
/// `hospital IN (…) AND list IN (…)` probes every combination of a chunk's hospitals and lists.
const POSTGRES: &str = "SELECT c.hospital_code, c.list_id, c.version, c.content_hash \
     FROM json_array_elements($1::json) AS k(pair) \
     JOIN settlement_case c ON c.hospital_code = k.pair->>0 AND c.list_id = k.pair->>1 \
     WHERE c.is_current";

/// The same on SQLite. CROSS JOIN keeps the pairs the outer loop (SQLite orders the tables of a
/// CROSS JOIN as written): a plan led by the ledger would walk every stored case per chunk.
pub(crate) const SQLITE: &str = "SELECT c.hospital_code, c.list_id, c.version, c.content_hash \
     FROM json_each(?) AS k CROSS JOIN settlement_case c \
     WHERE c.hospital_code = k.value ->> 0 AND c.list_id = k.value ->> 1 AND c.is_current";

impl CaseStore {
    /// (hospital, list id, version, content hash) of the current version of each of `keys`
    /// that is stored, in one query of one primary-key probe per key, however large the ledger.
    pub async fn current_hashes<C: ConnectionTrait>(
        conn: &C,
        keys: &[(&str, &str)],
    ) -> Result<Vec<(String, String, i32, String)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs: Vec<[&str; 2]> = keys.iter().map(|&(h, l)| [h, l]).collect();
        let json = serde_json::to_string(&pairs)
            .map_err(|e| StoreError::Database(DbErr::Custom(e.to_string())))?;
        let backend = conn.get_database_backend();
        let sql = if backend == DbBackend::Postgres {
            POSTGRES
        } else {
            SQLITE
        };
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [json.into()]))
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    row.try_get_by_index(0)?,
                    row.try_get_by_index(1)?,
                    row.try_get_by_index(2)?,
                    row.try_get_by_index(3)?,
                ))
            })
            .collect::<Result<_, DbErr>>()
            .map_err(StoreError::Database)
    }
}
