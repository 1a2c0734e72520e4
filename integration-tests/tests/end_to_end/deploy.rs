//! What the Kubernetes manifests of deploy/k8s rely on, with the real binary: a service that does
//! not migrate at start refuses to serve until `medpay migrate` (the migration Job) has run, its
//! init container's `medpay migrate --check --wait-seconds` waits for that Job, `medpay health`
//! (the image's HEALTHCHECK) answers from the plaintext health listener the kubelet probes, and
//! the dev overlay's configuration serves every context.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use integration_tests::{Medpay, medpay_binary};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

fn overlay_config(overlay: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../deploy/k8s/overlays/{overlay}/medpay.toml"))
}

/// A loopback port nobody listens on now.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn medpay(config: &Path, env: &[(String, String)], args: &[&str]) -> anyhow::Result<Command> {
    let mut command = Command::new(medpay_binary()?);
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env_remove("MEDPAY__SERVER__LISTEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

/// Waits for `child` to exit, killing it after 60 s so that a server started by mistake cannot
/// hang the test.
fn finish(mut child: Child) -> anyhow::Result<Output> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill()?;
            anyhow::bail!("still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(child.wait_with_output()?)
}

fn run(config: &Path, env: &[(String, String)], args: &[&str]) -> anyhow::Result<Output> {
    finish(medpay(config, env, args)?.spawn()?)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn strings(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn a_service_that_does_not_migrate_waits_for_the_migration_job() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("medpay.toml");
    std::fs::write(
        &config,
        "[database]\nmigrate = false\n[telemetry]\nlog_filter = \"warn\"\n",
    )?;
    let health = format!("127.0.0.1:{}", free_port()?);
    let env = strings(&[
        (
            "MEDPAY__DATABASE__URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("medpay.db").display()
            ),
        ),
        ("MEDPAY__SERVER__INTERNAL_LISTEN", "127.0.0.1:0".into()),
        ("MEDPAY__SERVER__HEALTH_LISTEN", health.clone()),
    ]);
    let serve = ["serve", "grouping", "--listen", "127.0.0.1:0"];

    // Before the Job: the service refuses to start and says what to run.
    let refused = run(&config, &env, &serve)?;
    assert!(!refused.status.success());
    let said = stderr(&refused);
    assert!(
        said.contains("run `medpay migrate grouping`")
            && said.contains("run `medpay migrate keys`"),
        "{said}"
    );
    let checked = run(&config, &env, &["migrate", "grouping", "keys", "--check"])?;
    assert!(!checked.status.success(), "{}", stderr(&checked));
    assert!(
        stderr(&checked).contains("pending grouping"),
        "{}",
        stderr(&checked)
    );

    // The init container waits while the Job migrates, then lets the service start.
    let waiting = medpay(
        &config,
        &env,
        &[
            "migrate",
            "grouping",
            "keys",
            "--check",
            "--wait-seconds",
            "120",
        ],
    )?
    .spawn()?;
    let job = run(&config, &env, &["migrate", "grouping", "keys"])?;
    assert!(job.status.success(), "{}", stderr(&job));
    let waited = finish(waiting)?;
    assert!(waited.status.success(), "{}", stderr(&waited));
    let again = run(&config, &env, &["migrate", "grouping", "keys"])?;
    assert!(
        again.status.success(),
        "migrating twice is a no-op: {}",
        stderr(&again)
    );

    let args: Vec<String> = ["--config", &config.display().to_string()]
        .into_iter()
        .chain(serve)
        .map(str::to_owned)
        .collect();
    let server = Medpay::start_with_env(&args, &env, tempfile::tempdir()?)?;

    // The health listener answers `medpay health` (the image's HEALTHCHECK) for the server and
    // its context, and not for a context it does not serve.
    let whole = run(&config, &env, &["health"])?;
    assert!(whole.status.success(), "{}", stderr(&whole));
    let grouping = run(
        &config,
        &env,
        &["health", "--service", "medpay.grouping.v1.GroupingService"],
    )?;
    assert!(grouping.status.success(), "{}", stderr(&grouping));
    let points = run(
        &config,
        &env,
        &[
            "health",
            "--address",
            &health,
            "--service",
            "medpay.points.v1.PointsService",
        ],
    )?;
    assert!(!points.status.success());
    assert!(
        stderr(&points).contains("not registered"),
        "{}",
        stderr(&points)
    );

    assert!(server.stop()?.success());
    let stopped = run(&config, &env, &["health", "--address", &health])?;
    assert!(!stopped.status.success());
    assert!(
        stderr(&stopped).contains("cannot connect"),
        "{}",
        stderr(&stopped)
    );
    Ok(())
}

#[tokio::test]
async fn the_dev_overlay_config_serves_every_context_in_one_pod() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let config = overlay_config("dev");
    let health = format!("127.0.0.1:{}", free_port()?);
    // Only what a pod has and a test cannot: its own ports and data folder.
    let env = strings(&[
        ("MEDPAY__SERVER__INTERNAL_LISTEN", "127.0.0.1:0".into()),
        ("MEDPAY__SERVER__HEALTH_LISTEN", health.clone()),
        ("MEDPAY__TELEMETRY__METRICS_LISTEN", String::new()),
        ("MEDPAY__TELEMETRY__LOG_FILTER", "warn".into()),
        (
            "MEDPAY__DATABASE__DATA_DIR",
            data.path().join("data").display().to_string(),
        ),
    ]);
    let args: Vec<String> = [
        "--config",
        &config.display().to_string(),
        "up",
        "--listen",
        "127.0.0.1:0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let server = Medpay::start_with_env(&args, &env, data)?;
    let probe = tonic::transport::Channel::from_shared(format!("http://{health}"))?
        .connect()
        .await?;
    for service in medpay_proto::PUBLIC_SERVICES {
        let status = HealthClient::new(probe.clone())
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
    let healthy = run(&config, &env, &["health"])?;
    assert!(healthy.status.success(), "{}", stderr(&healthy));
    assert!(server.stop()?.success());
    Ok(())
}
