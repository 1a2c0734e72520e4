//! The tables of a context's journal, in its migrations.

use sea_orm_migration::prelude::*;

/// Creates `<context>_request` and `<context>_audit` as they were first released (without
/// fingerprint and region); [`add_fingerprint_and_region`] brings them up to date. A new
/// context calls [`create_tables`] and then [`add_fingerprint_and_region`] in one migration.
pub async fn create_tables(manager: &SchemaManager<'_>, context: &str) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(format!("{context}_request"))
                .col(ColumnDef::new("caller_id").string().not_null())
                .col(ColumnDef::new("request_id").string().not_null())
                .col(ColumnDef::new("method").string().not_null())
                .col(ColumnDef::new("response").binary().not_null())
                .primary_key(Index::create().col("caller_id").col("request_id"))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(format!("{context}_audit"))
                .col(
                    ColumnDef::new("id")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new("at_unix_seconds").big_integer().not_null())
                .col(ColumnDef::new("caller_id").string().not_null())
                .col(ColumnDef::new("action").string().not_null())
                .col(ColumnDef::new("detail").text().not_null())
                .col(ColumnDef::new("request_id").string().not_null())
                .to_owned(),
        )
        .await
}

/// Adds the request fingerprint (existing rows get an empty one, which matches no request
/// but still replays for the same method) and the audit entry's region (existing entries
/// have none).
pub async fn add_fingerprint_and_region(
    manager: &SchemaManager<'_>,
    context: &str,
) -> Result<(), DbErr> {
    alter(manager, format!("{context}_request"), |table| {
        table.add_column(
            ColumnDef::new("fingerprint")
                .string()
                .not_null()
                .default(""),
        )
    })
    .await?;
    alter(manager, format!("{context}_audit"), |table| {
        table.add_column(ColumnDef::new("region_code").integer().null())
    })
    .await
}

/// Drops what [`add_fingerprint_and_region`] added.
pub async fn drop_fingerprint_and_region(
    manager: &SchemaManager<'_>,
    context: &str,
) -> Result<(), DbErr> {
    alter(manager, format!("{context}_audit"), |table| {
        table.drop_column("region_code")
    })
    .await?;
    alter(manager, format!("{context}_request"), |table| {
        table.drop_column("fingerprint")
    })
    .await
}

/// Alters `table` by one `change`: one column per statement, as SQLite alters one at a time.
async fn alter(
    manager: &SchemaManager<'_>,
    table: String,
    change: impl FnOnce(&mut TableAlterStatement) -> &mut TableAlterStatement,
) -> Result<(), DbErr> {
    let mut statement = Table::alter();
    statement.table(table);
    change(&mut statement);
    manager.alter_table(statement).await
}

/// The migration that runs [`add_fingerprint_and_region`] for a context whose journal tables
/// were created before fingerprints were kept.
pub struct AddFingerprintAndRegion {
    pub context: &'static str,
    /// The migration's name in the context's migration table.
    pub name: &'static str,
}

impl MigrationName for AddFingerprintAndRegion {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddFingerprintAndRegion {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_fingerprint_and_region(manager, self.context).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_fingerprint_and_region(manager, self.context).await
    }
}

/// Drops both tables.
pub async fn drop_tables(manager: &SchemaManager<'_>, context: &str) -> Result<(), DbErr> {
    manager
        .drop_table(Table::drop().table(format!("{context}_audit")).to_owned())
        .await?;
    manager
        .drop_table(Table::drop().table(format!("{context}_request")).to_owned())
        .await
}
