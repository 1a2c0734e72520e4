//! Starts the real `medpay` binary for end-to-end tests: port 0, a temporary data folder or the
//! PostgreSQL database of `TEST_DATABASE_URL`, a configuration file of the test's choosing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use medpay_proto::common::v1::{Date, FundType};
use medpay_proto::points::v1 as points;
use medpay_proto::points::v1::points_service_client::PointsServiceClient;
use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use tonic::transport::Channel;

/// The `medpay` binary next to the test executable, built on demand when missing.
pub fn medpay_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("MEDPAY_BIN") {
        return Ok(PathBuf::from(path));
    }
    // Test executables live in target/<profile>/deps; the binary in target/<profile>.
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow::anyhow!("test executable has no target folder"))?;
    let binary = profile_dir.join(format!("medpay{}", std::env::consts::EXE_SUFFIX));
    // A binary left over from an earlier build would test old code: bring it up to date once per
    // test process (a no-op when it is current).
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command.args(["build", "--quiet", "-p", "gateway", "--bin", "medpay"]);
            // A benchmark runs from the release folder and measures the release binary.
            if profile_dir
                .file_name()
                .is_some_and(|name| name == "release")
            {
                command.arg("--release");
            }
            if let Some(target_dir) = profile_dir.parent() {
                command.env("CARGO_TARGET_DIR", target_dir);
            }
            match command.status() {
                Ok(status) if status.success() => Ok(()),
                Ok(status) => Err(format!("building the medpay binary failed: {status}")),
                Err(error) => Err(format!("cannot run cargo: {error}")),
            }
        })
        .clone()
        .map_err(anyhow::Error::msg)?;
    Ok(binary)
}

/// A running `medpay` process, killed on drop if the test did not stop it.
pub struct Medpay {
    child: Option<Child>,
    pub address: String,
    _data: tempfile::TempDir,
    /// What the process wrote to stderr, when started with [`Medpay::up_in_logged`].
    log: Option<std::sync::Arc<std::sync::Mutex<String>>>,
}

impl Medpay {
    /// `medpay up --listen 127.0.0.1:0` with a fresh SQLite folder and `config_toml` as its
    /// configuration file.
    pub fn up(config_toml: &str) -> anyhow::Result<Medpay> {
        Self::up_in(tempfile::tempdir()?, config_toml)
    }

    /// `medpay up` on the folder `data` (its SQLite database is `data/data/medpay.db`), so a
    /// test can prepare the database or restart on it after [`Medpay::kill`].
    pub fn up_in(data: tempfile::TempDir, config_toml: &str) -> anyhow::Result<Medpay> {
        let config = data.path().join("medpay.toml");
        std::fs::write(&config, config_toml)?;
        let data_dir = data.path().join("data");
        let args: Vec<String> = vec![
            "--config".into(),
            config.display().to_string(),
            "up".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data".into(),
            data_dir.display().to_string(),
        ];
        Self::start(&args, data, false)
    }

    /// [`Medpay::up_in`], keeping what the process writes to stderr (its log) for
    /// [`Medpay::log`] instead of passing it through.
    pub fn up_in_logged(data: tempfile::TempDir, config_toml: &str) -> anyhow::Result<Medpay> {
        let config = data.path().join("medpay.toml");
        std::fs::write(&config, config_toml)?;
        let data_dir = data.path().join("data");
        let args: Vec<String> = vec![
            "--config".into(),
            config.display().to_string(),
            "up".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data".into(),
            data_dir.display().to_string(),
        ];
        Self::start(&args, data, true)
    }

    /// The log kept by [`Medpay::up_in_logged`] so far.
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|log| log.lock().ok().map(|text| text.clone()))
            .unwrap_or_default()
    }

    /// `medpay up` (every context in one process) on the database URL given, with
    /// `config_toml`.
    pub fn up_on(database_url: &str, config_toml: &str) -> anyhow::Result<Medpay> {
        Self::on_database(&["up"], database_url, config_toml)
    }

    /// `medpay serve <context>` on the database URL given, with `config_toml`.
    pub fn serve(context: &str, database_url: &str, config_toml: &str) -> anyhow::Result<Medpay> {
        Self::on_database(&["serve", context], database_url, config_toml)
    }

    /// `medpay <command…> --listen 127.0.0.1:0` with `config_toml` and the database URL given.
    fn on_database(
        command: &[&str],
        database_url: &str,
        config_toml: &str,
    ) -> anyhow::Result<Medpay> {
        let data = tempfile::tempdir()?;
        let config = data.path().join("medpay.toml");
        std::fs::write(
            &config,
            format!("{config_toml}\n[database]\nurl = \"{database_url}\"\n"),
        )?;
        let mut args: Vec<String> = vec!["--config".into(), config.display().to_string()];
        args.extend(command.iter().map(|word| (*word).to_owned()));
        args.extend(["--listen".into(), "127.0.0.1:0".into()]);
        Self::start(&args, data, false)
    }

    fn start(args: &[String], data: tempfile::TempDir, keep_log: bool) -> anyhow::Result<Medpay> {
        let mut child = Command::new(medpay_binary()?)
            .args(args)
            .current_dir(data.path())
            .env_remove("MEDPAY__SERVER__LISTEN")
            .stdout(Stdio::piped())
            .stderr(if keep_log {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()?;
        let log = match child.stderr.take() {
            Some(stderr) => {
                let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
                let sink = log.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        if let Ok(mut text) = sink.lock() {
                            text.push_str(&line);
                            text.push('\n');
                        }
                    }
                });
                Some(log)
            }
            None => None,
        };
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("medpay listening on ") {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let address = loop {
            if let Ok(address) = rx.recv_timeout(Duration::from_millis(100)) {
                break address;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("medpay exited with {status} before serving (its stderr is above)");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!("medpay did not print its address within 60 s");
            }
        };
        Ok(Medpay {
            child: Some(child),
            address,
            _data: data,
            log,
        })
    }

    /// A channel to the server.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.address))?
            .connect()
            .await?)
    }

    /// Kills the process (SIGKILL, no chance to clean up) and hands back its folder.
    pub fn kill(mut self) -> anyhow::Result<tempfile::TempDir> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        let data = std::mem::replace(&mut self._data, tempfile::tempdir()?);
        Ok(data)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| anyhow::anyhow!("already stopped"))?;
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                anyhow::bail!("medpay did not exit within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Medpay {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A configuration with the development principal and one county agency key.
pub const COUNTY_KEY: &str = "meilan-agency-key-0001";

pub fn config_with_county_key() -> String {
    format!(
        r#"
[telemetry]
log_filter = "warn"

[[auth.api_keys]]
key = "{COUNTY_KEY}"
caller_id = "meilan-agency"
scopes = ["460108"]
roles = ["submit", "read"]
"#
    )
}

fn date(year: i32, month: i32, day: i32) -> Option<Date> {
    Some(Date { year, month, day })
}

/// Registers `code`, a general hospital of `level` in `county` since 2020, with an active service
/// agreement over 2025 (agreement id `2025`).
pub async fn register_institution(
    client: &mut SettlementServiceClient<Channel>,
    code: &str,
    county: &str,
    level: &str,
) -> anyhow::Result<()> {
    client
        .put_institution(settlement::PutInstitutionRequest {
            request_id: format!("institution-{code}"),
            institution: Some(settlement::Institution {
                code: code.into(),
                name: format!("Hospital {code}"),
                region_code: county.into(),
                level: level.into(),
                institution_type: "general".into(),
                alliance_code: String::new(),
            }),
            effective_from: date(2020, 1, 1),
            reason: String::new(),
        })
        .await?;
    client
        .put_agreement(settlement::PutAgreementRequest {
            request_id: format!("agreement-{code}-2025"),
            region_code: county.into(),
            institution_code: code.into(),
            agreement: Some(settlement::Agreement {
                agreement_id: "2025".into(),
                valid_from: date(2025, 1, 1),
                valid_to: date(2025, 12, 31),
                status: "active".into(),
            }),
            reason: "annual agreement".into(),
        })
        .await?;
    Ok(())
}

/// Puts `document_json` as the 2025 employee points table of `region` and activates it from
/// 1 January 2025; returns its version.
pub async fn put_and_activate_table(
    channel: Channel,
    region: &str,
    document_json: String,
) -> anyhow::Result<i32> {
    let mut client = PointsServiceClient::new(channel);
    let put = client
        .put_table(points::PutTableRequest {
            request_id: format!("table-{region}"),
            region_code: region.into(),
            year: 2025,
            fund_type: FundType::Employee as i32,
            document_json,
        })
        .await?
        .into_inner()
        .table
        .ok_or_else(|| anyhow::anyhow!("no table"))?;
    client
        .activate_table(points::ActivateTableRequest {
            request_id: format!("table-{region}-active"),
            region_code: region.into(),
            year: 2025,
            fund_type: FundType::Employee as i32,
            version: put.version,
            effective_from: date(2025, 1, 1),
        })
        .await?;
    Ok(put.version)
}
