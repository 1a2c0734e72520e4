//! `medpay demo` on the other targets of issue 17: on a separately started `medpay up` reached
//! with an API key, as a county agency reaches it (`--server`), and on PostgreSQL
//! (`--database-url`, when `TEST_DATABASE_URL` is set). Each pays the same year as the embedded
//! SQLite run of the same seed, to the fen; a second run on the same server replays without
//! storing anything twice, and a server or database holding other data is refused untouched.

use std::path::Path;
use std::process::{Command, Output};

use integration_tests::province::Database;
use integration_tests::{Medpay, medpay_binary};
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::metadata::MetadataValue;

const CASES: &str = "600";
const SEED: &str = "5";

/// No anonymous caller: the demo must carry its key.
const CONFIG: &str = r#"
[telemetry]
log_filter = "warn"

[auth]
allow_anonymous = false
"#;

/// `medpay demo --cases CASES --out <work>/<out> <extra…>` in `work` (no configuration file).
fn demo(work: &Path, out: &str, seed: &str, extra: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(medpay_binary()?)
        .args(["demo", "--cases", CASES, "--seed", seed, "--out"])
        .arg(work.join(out))
        .args(extra)
        .current_dir(work)
        .output()?)
}

fn succeeded(output: &Output) -> anyhow::Result<String> {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    Ok(stderr)
}

/// The lines of a CSV the demo wrote without its `run_id` column (run ids are the server's own).
fn without_run_ids(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| anyhow::anyhow!("{} is empty", path.display()))?;
    let run_id = header
        .split(',')
        .position(|name| name == "run_id")
        .ok_or_else(|| anyhow::anyhow!("{} has no run_id: {header}", path.display()))?;
    Ok(std::iter::once(header)
        .chain(lines)
        .map(|line| {
            line.split(',')
                .enumerate()
                .filter(|(i, _)| *i != run_id)
                .map(|(_, cell)| cell)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect())
}

/// Every figure the two runs wrote is the same, statement by statement and mode by mode.
fn assert_same_year(work: &Path, expected: &str, actual: &str) -> anyhow::Result<()> {
    for file in ["summary.csv", "hospitals.csv", "modes.csv", "regions.csv"] {
        let expected_lines = without_run_ids(&work.join(expected).join(file))?;
        let actual_lines = without_run_ids(&work.join(actual).join(file))?;
        assert!(expected_lines.len() > 1, "{expected}/{file} holds no line");
        assert_eq!(expected_lines, actual_lines, "{actual}/{file}");
    }
    Ok(())
}

/// `medpay admin keys create` on the data folder of the server to come; the key.
fn create_key(folder: &Path, caller: &str, roles: &[&str]) -> anyhow::Result<String> {
    let config = folder.join("medpay.toml");
    std::fs::write(&config, CONFIG)?;
    let mut command = Command::new(medpay_binary()?);
    command
        .arg("--config")
        .arg(&config)
        .args(["admin", "keys", "create", "--caller-id", caller])
        .args(["--scope", "460000"]);
    for role in roles {
        command.args(["--role", role]);
    }
    let output = command
        .arg("--data")
        .arg(folder.join("data"))
        .current_dir(folder)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// The Hainan cases the server holds, counted through ListCases' pages.
async fn cases_held(medpay: &Medpay, key: &str) -> anyhow::Result<usize> {
    let mut client = SettlementServiceClient::new(medpay.channel().await?);
    let mut held = 0;
    let mut page_token = String::new();
    loop {
        let mut request = tonic::Request::new(settlement::ListCasesRequest {
            region_code: "460000".into(),
            page_size: 500,
            page_token: page_token.clone(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {key}"))?,
        );
        let page = client.list_cases(request).await?.into_inner();
        held += page.cases.len();
        if page.next_page_token.is_empty() {
            return Ok(held);
        }
        page_token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_demo_on_a_running_server_pays_the_embedded_year_and_runs_again_without_doubling()
-> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    succeeded(&demo(work.path(), "embedded", SEED, &[])?)?;

    let folder = tempfile::tempdir()?;
    let key = create_key(
        folder.path(),
        "demo-bureau",
        &["configure", "submit", "run", "read"],
    )?;
    let reader = create_key(folder.path(), "auditor", &["read"])?;
    let medpay = Medpay::up_in(folder, CONFIG)?;
    let server = format!("http://{}", medpay.address);

    // Without a key the server refuses the first call, and the demo says what it needs.
    let anonymous = demo(work.path(), "anonymous", SEED, &["--server", &server])?;
    assert!(!anonymous.status.success());
    let stderr = String::from_utf8_lossy(&anonymous.stderr);
    assert!(stderr.contains("Unauthenticated"), "{stderr}");
    assert!(stderr.contains("--api-key"), "{stderr}");
    assert_eq!(cases_held(&medpay, &reader).await?, 0);

    let remote = ["--server", server.as_str(), "--api-key", key.as_str()];
    let stderr = succeeded(&demo(work.path(), "remote", SEED, &remote)?)?;
    assert!(
        stderr.contains(&format!("the server at {server}")),
        "{stderr}"
    );
    assert_same_year(work.path(), "embedded", "remote")?;
    let held = cases_held(&medpay, &reader).await?;
    assert!(held > 0);

    // Again: every write replays from the journal; the same year, nothing stored twice.
    let stderr = succeeded(&demo(work.path(), "again", SEED, &remote)?)?;
    assert!(stderr.contains("every step replays"), "{stderr}");
    assert_same_year(work.path(), "remote", "again")?;
    assert_same_year(work.path(), "embedded", "again")?;
    assert_eq!(cases_held(&medpay, &reader).await?, held);

    // Another seed would mix two years: refused before anything is written.
    let other = demo(work.path(), "other", "6", &remote)?;
    assert!(!other.status.success());
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(stderr.contains("already holds Hainan cases"), "{stderr}");
    assert!(stderr.contains("--seed 6 --cases 600"), "{stderr}");
    assert_eq!(cases_held(&medpay, &reader).await?, held);
    assert!(medpay.stop()?.success());
    Ok(())
}

#[test]
fn a_demo_on_postgresql_pays_the_sqlite_year_and_refuses_a_database_in_use() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return Ok(());
    };
    let database = Database::create(&url, "medpay_demo_target")?;
    let work = tempfile::tempdir()?;
    succeeded(&demo(work.path(), "sqlite", SEED, &[])?)?;
    let on_postgres = ["--database-url", &database.url()];
    succeeded(&demo(work.path(), "postgres", SEED, &on_postgres)?)?;
    assert_same_year(work.path(), "sqlite", "postgres")?;
    let stored = database.query("SELECT count(*) FROM settlement_case")?;
    assert_ne!(stored, "0");

    // The database now holds a year: a second demo leaves it as it is.
    let again = demo(work.path(), "again", SEED, &on_postgres)?;
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds tables"), "{stderr}");
    assert!(stderr.contains("empty database"), "{stderr}");
    assert_eq!(
        database.query("SELECT count(*) FROM settlement_case")?,
        stored
    );
    Ok(())
}
