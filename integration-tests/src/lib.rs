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

pub mod browser;
pub mod faults;
pub mod pg_faults;
pub mod pki;
pub mod province;
pub mod quarter;
pub mod raw;
pub mod router;

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
    /// The public listener (`host:port`).
    pub address: String,
    /// The internal listener, which serves internal contracts to medpay services only.
    pub internal_address: String,
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
        Self::launch(args, &[], data, keep_log)
    }

    /// Starts `medpay <args…>` in `data` with extra environment variables (configuration
    /// overrides `MEDPAY__SECTION__KEY`), and waits until both listeners are bound.
    pub fn start_with_env(
        args: &[String],
        env: &[(String, String)],
        data: tempfile::TempDir,
    ) -> anyhow::Result<Medpay> {
        Self::launch(args, env, data, false)
    }

    /// Starts the process; with `keep_log`, its stderr is kept for [`Medpay::log`].
    fn launch(
        args: &[String],
        env: &[(String, String)],
        data: tempfile::TempDir,
        keep_log: bool,
    ) -> anyhow::Result<Medpay> {
        let mut child = Command::new(medpay_binary()?)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
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
                    let _ = tx.send((true, address.to_owned()));
                } else if let Some(address) = line.strip_prefix("medpay internal listener on ") {
                    let _ = tx.send((false, address.to_owned()));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut public, mut internal) = (None, None);
        let (address, internal_address) = loop {
            if let Ok((is_public, address)) = rx.recv_timeout(Duration::from_millis(100)) {
                if is_public {
                    public = Some(address);
                } else {
                    internal = Some(address);
                }
            }
            if let (Some(public), Some(internal)) = (&public, &internal) {
                break (public.clone(), internal.clone());
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
            internal_address,
            _data: data,
            log,
        })
    }

    /// The operating system's id of the server process while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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
            document: None,
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

/// A valid one-day appendicitis stay discharged on `day` (`yyyy-mm-dd`).
pub fn list_json(hospital: &str, list_id: &str, day: &str, case_number: &str) -> String {
    stay_json(hospital, list_id, day, case_number, &["K35.800"], "47.0100")
}

/// A valid one-day stay of 12,000 yuan discharged on `day` with these diagnoses (the first is
/// the principal one) and procedure.
pub fn stay_json(
    hospital: &str,
    list_id: &str,
    day: &str,
    case_number: &str,
    diagnoses: &[&str],
    procedure: &str,
) -> String {
    let stay = Stay {
        admitted_at: &format!("{day} 08:30"),
        discharged_at: &format!("{day} 17:00"),
        diagnoses,
        procedure,
    };
    stay.list_json(hospital, list_id, case_number)
}

/// A stay of 12,000 yuan (fund 9,000; personal account 1,000 and cash 2,000) between two
/// `yyyy-mm-dd hh:mm` times, with these diagnoses (the first is the principal one) and
/// procedure, done on the day of admission.
pub struct Stay<'a> {
    pub admitted_at: &'a str,
    pub discharged_at: &'a str,
    pub diagnoses: &'a [&'a str],
    pub procedure: &'a str,
}

impl Stay<'_> {
    /// The stay as a valid settlement list of `hospital` in Meilan district (460108).
    pub fn list_json(&self, hospital: &str, list_id: &str, case_number: &str) -> String {
        let Stay {
            admitted_at,
            discharged_at,
            diagnoses,
            procedure,
        } = self;
        let diagnoses = diagnoses
            .iter()
            .map(|code| {
                format!(r#"{{"code":"{code}","name":"diagnosis","admission_condition":1}}"#)
            })
            .collect::<Vec<_>>()
            .join(",");
        let admission_day = admitted_at.get(..10).unwrap_or(admitted_at);
        let discharge_day = discharged_at.get(..10).unwrap_or(discharged_at);
        format!(
            r#"{{"header":{{"setl_id":"{list_id}","fixmedins_code":"{hospital}","hospital_level":"3A","insutype":310,"psn_no":"P1","case_number":"{case_number}","declared_at":"{discharge_day} 18:00:00","pooling_region":"460108"}},"patient":{{"sex":2,"birth_date":"1990-03-01","age_years":35}},"stay":{{"med_type":"21","admission_route":"2","admitted_at":"{admitted_at}","admission_department":"general_surgery","discharged_at":"{discharged_at}","discharge_department":"general_surgery","discharge_type":1}},"diagnoses":[{diagnoses}],"procedures":[{{"code":"{procedure}","name":"procedure","date":"{admission_day}"}}],"charges":[{{"category":"surgery","amount":"12000.00"}}],"payment":{{"medfee_sumamt":"12000.00","hifp_pay":"9000.00","acct_pay":"1000.00","psn_cash_pay":"2000.00"}}}}"#
        )
    }
}

/// The 2025 employee valuation table of Meilan district (460108): DRG main method, all-DRG mean
/// cost 10,000; GD15 (appendectomy) mean 12,000 and 100 base points, GD13 (appendectomy with a
/// complication) mean 15,000 and 150; H46010801's coefficient 1.05 for every group.
pub fn table_document() -> String {
    serde_json::json!({
        "policy": {"region": "460108", "year": 2025, "fund_type": "310", "main_method": "drg"},
        "tables": {
            "region": "460108",
            "year": 2025,
            "fund_type": "310",
            "drg": {
                "all_case_mean_cost": "10000",
                "groups": {
                    "GD15": {"mean_cost": "12000", "base_points": "100"},
                    "GD13": {"mean_cost": "15000", "base_points": "150"},
                },
            },
            "coefficients": {
                "drg_by_hospital": {
                    "H46010801": {
                        "all_groups": [{"coefficient": "1.05", "effective_from": "2025-01-01"}],
                    },
                },
            },
        },
    })
    .to_string()
}
