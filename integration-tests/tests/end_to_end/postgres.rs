//! What the end-to-end tests on PostgreSQL (`TEST_DATABASE_URL`) share: the client programs, run
//! and checked, and a database of a test's own beside the test database.

use std::process::Command;

/// Runs a PostgreSQL client program, failing with its stderr when it fails; returns its stdout.
pub(super) fn pg(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program).args(args).output()?;
    anyhow::ensure!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// psql on `url` with `arguments` after it (`-c <sql>`, `-f <file>`), stopping at the first
/// error; returns its unaligned, tuples-only output.
pub(super) fn psql(url: &str, arguments: &[&str]) -> anyhow::Result<String> {
    let mut args = vec![url, "-v", "ON_ERROR_STOP=1", "-q", "-At"];
    args.extend_from_slice(arguments);
    pg("psql", &args)
}

/// A database of a test's own beside the test database, named with `suffix`: its URL and its
/// name (to create and drop it from the test database).
pub(super) fn database_beside(test_url: &str, suffix: &str) -> anyhow::Result<(String, String)> {
    let (server, database) = test_url
        .split('?')
        .next()
        .and_then(|url| url.rsplit_once('/'))
        .ok_or_else(|| anyhow::anyhow!("TEST_DATABASE_URL has no database name: {test_url}"))?;
    Ok((
        format!("{server}/{database}_{suffix}"),
        format!("{database}_{suffix}"),
    ))
}

/// The database beside the test database named with `suffix`, dropped if a run before left it
/// and created empty: its URL and name, as [`database_beside`].
pub(super) fn fresh_database(test_url: &str, suffix: &str) -> anyhow::Result<(String, String)> {
    let (url, name) = database_beside(test_url, suffix)?;
    drop_database(test_url, suffix)?;
    psql(test_url, &["-c", &format!("CREATE DATABASE {name}")])?;
    Ok((url, name))
}

/// Drops the database beside the test database named with `suffix`, if it is there.
pub(super) fn drop_database(test_url: &str, suffix: &str) -> anyhow::Result<()> {
    let (_, name) = database_beside(test_url, suffix)?;
    psql(
        test_url,
        &[
            "-c",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        ],
    )?;
    Ok(())
}
