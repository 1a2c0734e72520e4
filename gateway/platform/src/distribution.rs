//! Keys that let a sharded PostgreSQL (Citus) hold a context's tables: Citus refuses to distribute
//! a table whose primary key or any unique index leaves out the distribution column, because it
//! could not check uniqueness inside one shard. A region's tables are distributed by
//! `region_code`, the journals and audit logs by `caller_id` (`deploy/postgres/citus.sql`).
//!
//! The distribution column goes *last* into such a key. Every lookup that led with the old key (a
//! hospital's list, a run's id, an audit entry's id) keeps its index, and since the column is a
//! function of what the key already names (a hospital's or a run's own region, the entry's caller),
//! the wider key allows no row that the narrower one refused. SQLite is one file on one node and is
//! never distributed: there the migration changes nothing.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

/// The distribution column of a region's tables.
pub const REGION: &str = "region_code";
/// The distribution column of the journals and audit logs.
pub const CALLER: &str = "caller_id";

/// A table whose primary key (and unique indexes, named) gain its distribution column last.
pub struct KeyedTable {
    pub table: &'static str,
    pub distribution_column: &'static str,
    /// The primary key as it was, in order.
    pub primary_key: &'static [&'static str],
    /// Unique indexes by name, with their columns as they were.
    pub unique_indexes: &'static [(&'static str, &'static [&'static str])],
}

impl KeyedTable {
    /// A context's audit log (`<context>_audit`, keyed by `id`), written in the same transaction
    /// as its caller's journal entry and distributed with it.
    pub const fn audit_log(table: &'static str) -> Self {
        Self {
            table,
            distribution_column: CALLER,
            primary_key: &["id"],
            unique_indexes: &[],
        }
    }
}

/// The migration that appends each table's distribution column to its keys, on PostgreSQL only.
pub struct DistributionInKeys {
    /// The migration's name in the context's migration table.
    pub name: &'static str,
    pub tables: &'static [KeyedTable],
}

impl MigrationName for DistributionInKeys {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DistributionInKeys {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, self.tables, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, self.tables, false).await
    }
}

/// Gives `tables` their keys with their distribution columns last (`distributed`) or as they
/// were; on PostgreSQL only.
async fn rekey(
    manager: &SchemaManager<'_>,
    tables: &[KeyedTable],
    distributed: bool,
) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let connection = manager.get_connection();
    for table in tables {
        for statement in rekey_statements(table, distributed) {
            connection.execute_unprepared(&statement).await?;
        }
    }
    Ok(())
}

/// The migration that gives a table the region of the row each of its rows belongs to (a
/// statement its run's, a lead's link its lead's), so that it can be distributed with that row:
/// the column, NOT NULL (0 only while the rows already there are filled), filled from the owner,
/// and on PostgreSQL the region last in the table's key. Every row written afterwards names its
/// region itself.
pub struct RegionFromOwner {
    /// The migration's name in the context's migration table.
    pub name: &'static str,
    pub table: &'static str,
    /// The table's primary key as it was, in order.
    pub primary_key: &'static [&'static str],
    /// The table the rows belong to, which has the region.
    pub owner: &'static str,
    /// The column of both tables that names the owner.
    pub owner_key: &'static str,
}

impl MigrationName for RegionFromOwner {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for RegionFromOwner {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_region_column(manager, self.table).await?;
        manager
            .get_connection()
            .execute_unprepared(&self.fill_statement())
            .await?;
        rekey(manager, &[self.keyed()], true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, &[self.keyed()], false).await?;
        drop_region_column(manager, self.table).await
    }
}

/// Adds the region column to `table`, NOT NULL with 0 for the rows already there until a fill
/// gives them their owner's region.
pub async fn add_region_column(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(
                    ColumnDef::new(Alias::new(REGION))
                        .integer()
                        .not_null()
                        .default(0),
                )
                .to_owned(),
        )
        .await
}

/// Drops what [`add_region_column`] added.
pub async fn drop_region_column(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(REGION))
                .to_owned(),
        )
        .await
}

impl RegionFromOwner {
    fn fill_statement(&self) -> String {
        let (table, owner, key) = (self.table, self.owner, self.owner_key);
        format!(
            "UPDATE {table} SET {REGION} = \
             (SELECT owner.{REGION} FROM {owner} owner WHERE owner.{key} = {table}.{key})"
        )
    }

    fn keyed(&self) -> KeyedTable {
        KeyedTable {
            table: self.table,
            distribution_column: REGION,
            primary_key: self.primary_key,
            unique_indexes: &[],
        }
    }
}

/// The PostgreSQL statements that give `table` its keys with its distribution column last
/// (`distributed`) or as they were. The primary key keeps its default name, `<table>_pkey`.
fn rekey_statements(table: &KeyedTable, distributed: bool) -> Vec<String> {
    let columns = |key: &[&str]| {
        let mut columns: Vec<&str> = key.to_vec();
        if distributed {
            columns.push(table.distribution_column);
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

    const SPECIAL_CASE: KeyedTable = KeyedTable {
        table: "settlement_special_case",
        distribution_column: REGION,
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
    fn an_audit_log_is_keyed_by_its_caller() {
        assert_eq!(
            rekey_statements(&KeyedTable::audit_log("budget_audit"), true),
            [
                "ALTER TABLE budget_audit DROP CONSTRAINT budget_audit_pkey, \
              ADD CONSTRAINT budget_audit_pkey PRIMARY KEY (id, caller_id)"
            ]
        );
    }

    #[test]
    fn a_table_takes_its_region_from_the_row_it_belongs_to() {
        let statements = RegionFromOwner {
            name: "m0020_statement_region",
            table: "settlement_statement",
            primary_key: &["run_id", "hospital_code"],
            owner: "settlement_run",
            owner_key: "run_id",
        };
        assert_eq!(
            statements.fill_statement(),
            "UPDATE settlement_statement SET region_code = (SELECT owner.region_code FROM \
             settlement_run owner WHERE owner.run_id = settlement_statement.run_id)"
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
