//! Keys that let a region-sharded PostgreSQL (Citus, tables distributed by `region_code`) hold a
//! context's tables: Citus refuses to distribute a table whose primary key or any unique index
//! leaves out the distribution column, because it could not check uniqueness inside one shard.
//!
//! The region code goes *last* into such a key. Every lookup that led with the old key (a
//! hospital's list, a run's id) keeps its index, and since a row's region is a function of what
//! the key already names (a hospital's or a run's own region), the wider key allows no row that the
//! narrower one refused. SQLite is one file on one node and is never distributed: there the
//! migration changes nothing. `deploy/postgres/citus.sql` is the distribution these keys serve.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// The distribution column of every region-sharded table.
pub const DISTRIBUTION_COLUMN: &str = "region_code";

/// A table whose primary key (and unique indexes, named) gain [`DISTRIBUTION_COLUMN`] last.
pub struct RegionKeyedTable {
    pub table: &'static str,
    /// The primary key as it was, in order.
    pub primary_key: &'static [&'static str],
    /// Unique indexes by name, with their columns as they were.
    pub unique_indexes: &'static [(&'static str, &'static [&'static str])],
}

/// The migration that appends the region code to the keys of `tables`, on PostgreSQL only.
pub struct RegionInKeys {
    /// The migration's name in the context's migration table.
    pub name: &'static str,
    pub tables: &'static [RegionKeyedTable],
}

impl MigrationName for RegionInKeys {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RegionInKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.rekey(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        self.rekey(manager, false).await
    }
}

impl RegionInKeys {
    async fn rekey(&self, manager: &SchemaManager<'_>, with_region: bool) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let connection = manager.get_connection();
        for table in self.tables {
            for statement in rekey_statements(table, with_region) {
                connection.execute_unprepared(&statement).await?;
            }
        }
        Ok(())
    }
}

/// The PostgreSQL statements that give `table` its keys with the region code last
/// (`with_region`) or as they were. The primary key keeps its default name, `<table>_pkey`.
fn rekey_statements(table: &RegionKeyedTable, with_region: bool) -> Vec<String> {
    let columns = |key: &[&str]| {
        let mut columns: Vec<&str> = key.to_vec();
        if with_region {
            columns.push(DISTRIBUTION_COLUMN);
        }
        columns.join(", ")
    };
    let name = table.table;
    let mut statements = vec![format!(
        "ALTER TABLE {name} DROP CONSTRAINT {name}_pkey, \
         ADD CONSTRAINT {name}_pkey PRIMARY KEY ({})",
        columns(table.primary_key)
    )];
    for (index, key) in table.unique_indexes {
        statements.push(format!("DROP INDEX {index}"));
        statements.push(format!(
            "CREATE UNIQUE INDEX {index} ON {name} ({})",
            columns(key)
        ));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIAL_CASE: RegionKeyedTable = RegionKeyedTable {
        table: "settlement_special_case",
        primary_key: &["application_id"],
        unique_indexes: &[(
            "settlement_special_case_case",
            &["hospital_code", "list_id"],
        )],
    };

    #[test]
    fn the_region_goes_last_into_the_key_and_every_unique_index() {
        assert_eq!(
            rekey_statements(&SPECIAL_CASE, true),
            [
                "ALTER TABLE settlement_special_case DROP CONSTRAINT settlement_special_case_pkey, \
                 ADD CONSTRAINT settlement_special_case_pkey PRIMARY KEY (application_id, region_code)",
                "DROP INDEX settlement_special_case_case",
                "CREATE UNIQUE INDEX settlement_special_case_case ON settlement_special_case \
                 (hospital_code, list_id, region_code)",
            ]
        );
    }

    #[test]
    fn down_restores_the_keys_as_they_were() {
        assert_eq!(
            rekey_statements(&SPECIAL_CASE, false),
            [
                "ALTER TABLE settlement_special_case DROP CONSTRAINT settlement_special_case_pkey, \
                 ADD CONSTRAINT settlement_special_case_pkey PRIMARY KEY (application_id)",
                "DROP INDEX settlement_special_case_case",
                "CREATE UNIQUE INDEX settlement_special_case_case ON settlement_special_case \
                 (hospital_code, list_id)",
            ]
        );
    }
}
