//! Where the demo pays its year: its own server (the server of `medpay up`) on a fresh SQLite
//! folder or on an empty PostgreSQL database, or a running server (`medpay up`, a province
//! gateway) reached as a county agency reaches it, with an API key. Whichever it is, the demo
//! only ever talks gRPC to it.
//!
//! A bureau's data must never get mixed with a simulated year. The demo's own server therefore
//! runs only on a database that holds nothing yet; a running server is checked before anything
//! is written: it must hold no Hainan case, or exactly the cases of an earlier demo of the same
//! seed and size, whose every write then replays from the server's journal (the request ids
//! derive from the simulation, and the journal keys them by caller and fingerprints their
//! contents, so a run of another seed or size is refused before it stores a case).

use std::path::PathBuf;

use medpay_proto::settlement::v1 as settlement;
use medpay_proto::settlement::v1::settlement_service_client::SettlementServiceClient;
use medpay_simulator::Simulation;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use settlement_domain::case::SettlementList;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;

pub use crate::remote::Channel;

use super::DemoArgs;
use crate::config::Settings;
use crate::remote::{self, Credentials};
use crate::server::{self, ContextName};

/// The longest call of the demo's own server, in seconds.
const DEADLINE: u64 = 3 * 3600;

/// A data folder removed when the demo ends, unless the caller chose it.
struct DataFolder {
    path: PathBuf,
    remove: bool,
}

impl DataFolder {
    fn new(chosen: Option<PathBuf>) -> anyhow::Result<Self> {
        if let Some(path) = chosen {
            if path.join("medpay.db").exists() {
                anyhow::bail!(
                    "{} already holds a database; the demo needs a fresh folder",
                    path.display()
                );
            }
            return Ok(Self {
                path,
                remove: false,
            });
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!("medpay-demo-{}-{nanos}", std::process::id()));
        Ok(Self { path, remove: true })
    }
}

impl Drop for DataFolder {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The demo's own server, stopped by [`Target::stop`].
struct Embedded {
    stop: oneshot::Sender<()>,
    serving: JoinHandle<anyhow::Result<()>>,
    _data: Option<DataFolder>,
}

/// The server the demo acts on and the channel it acts through.
pub struct Target {
    pub channel: Channel,
    /// Where the year goes, for the progress lines.
    pub description: String,
    embedded: Option<Embedded>,
}

impl Target {
    /// Starts the demo's own server (SQLite, or PostgreSQL with `--database-url`), or connects
    /// to `--server`; then checks that the server holds no data the year could mix with.
    pub async fn start(
        settings: Settings,
        args: &DemoArgs,
        simulation: &Simulation,
    ) -> anyhow::Result<Self> {
        let target = match &args.server {
            Some(server) => {
                let url = remote::server_url(&settings, Some(server));
                let credentials = Credentials::new(args.api_key.as_deref())?;
                Self {
                    channel: remote::connect(&url, credentials).await?,
                    description: format!("the server at {url}"),
                    embedded: None,
                }
            }
            None => Self::embedded(settings, args).await?,
        };
        target.check_fresh(simulation).await?;
        Ok(target)
    }

    async fn embedded(mut settings: Settings, args: &DemoArgs) -> anyhow::Result<Self> {
        let (data, description) = match &args.database_url {
            Some(url) => {
                settings.database.url = url.clone();
                (None, format!("its own server on {}", redacted(url)))
            }
            None => {
                let data = DataFolder::new(args.data.clone())?;
                settings.database.data_dir = data.path.clone();
                settings.database.url.clear();
                let description = format!("its own server, data in {}", data.path.display());
                (Some(data), description)
            }
        };
        settings.server.listen = ([127, 0, 0, 1], 0).into();
        settings.server.internal_listen = ([127, 0, 0, 1], 0).into();
        // The year goes up as one streamed upload, which at 200,000 records on a loaded machine
        // outlasts the 15 minutes a production caller gets.
        settings.server.max_deadline_seconds = settings.server.max_deadline_seconds.max(DEADLINE);
        if !settings.server.tls.cert.is_empty() {
            anyhow::bail!("the demo talks plaintext on loopback: run it without server.tls");
        }
        if args.database_url.is_some() {
            let db = server::connect(&settings).await?;
            let tables = tables(&db).await;
            db.close().await?;
            let tables = tables?;
            if !tables.is_empty() {
                anyhow::bail!(
                    "{} already holds tables ({}{}): the demo runs only on an empty database, \
                     which it migrates itself, so a bureau's data never mixes with a simulated \
                     year; create one with `createdb`",
                    redacted(&settings.database.url),
                    tables
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if tables.len() > 3 { ", …" } else { "" }
                );
            }
        }
        let db = server::open_database(&settings, &ContextName::ALL).await?;
        let (bound_tx, bound_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            server::serve(
                &settings,
                &ContextName::ALL,
                db,
                |bound| {
                    let _ = bound_tx.send(bound);
                },
                async {
                    let _ = stop_rx.await;
                },
            )
            .await
        });
        let bound = bound_rx
            .await
            .map_err(|_| anyhow::anyhow!("the server stopped before it listened"))?;
        let url = format!("http://{}", bound.public);
        Ok(Self {
            channel: remote::connect(&url, Credentials::default()).await?,
            description: format!("{description}, listening on {}", bound.public),
            embedded: Some(Embedded {
                stop,
                serving,
                _data: data,
            }),
        })
    }

    /// Stops the demo's own server (nothing to do for a running server).
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(embedded) = self.embedded {
            let _ = embedded.stop.send(());
            embedded.serving.await??;
        }
        Ok(())
    }

    /// Refuses a server that holds Hainan cases other than this demo's (same seed and size).
    async fn check_fresh(&self, simulation: &Simulation) -> anyhow::Result<()> {
        let province = simulation.province().code.to_string();
        let mut client = SettlementServiceClient::new(self.channel.clone());
        let held = client
            .list_cases(settlement::ListCasesRequest {
                region_code: province.clone(),
                page_size: 1,
                ..Default::default()
            })
            .await
            .map_err(|status| refused(&self.description, "ListCases", &status))?
            .into_inner()
            .cases;
        let Some(held) = held.first() else {
            return Ok(());
        };
        let config = simulation.config();
        let (first, last) = first_and_last_stays(simulation);
        for list in [first, last].iter().flatten() {
            if !self.holds(&mut client, &province, list).await? {
                anyhow::bail!(
                    "{} already holds Hainan cases (such as {}/{}) that are not those of a \
                     demo with --seed {} --cases {}: the demo runs on a server without Hainan \
                     cases, or again with the seed, size and API key of its earlier run, which \
                     replays it",
                    self.description,
                    held.hospital_code,
                    held.list_id,
                    config.seed,
                    config.cases_per_year
                );
            }
        }
        eprintln!(
            "medpay demo: {} holds the year of seed {} with {} cases already; every step \
             replays from its journal and nothing is stored twice",
            self.description, config.seed, config.cases_per_year
        );
        Ok(())
    }

    /// Whether the server holds `list` as its only version, with the simulated fund, discharge
    /// date and total cost (another seed gives other stays under the same list ids).
    async fn holds(
        &self,
        client: &mut SettlementServiceClient<Channel>,
        province: &str,
        list: &SettlementList,
    ) -> anyhow::Result<bool> {
        let answer = client
            .get_case(settlement::GetCaseRequest {
                region_code: province.to_owned(),
                hospital_code: list.header.hospital_code.clone(),
                list_id: list.header.list_id.clone(),
            })
            .await;
        let versions = match answer {
            Ok(answer) => answer.into_inner().versions,
            Err(status) if status.code() == Code::NotFound => return Ok(false),
            Err(status) => return Err(refused(&self.description, "GetCase", &status)),
        };
        let [only] = versions.as_slice() else {
            return Ok(false);
        };
        let Some(summary) = &only.summary else {
            return Ok(false);
        };
        let (year, month, day) = list.stay.discharged_at.date().ymd();
        let discharged = summary
            .discharge_date
            .as_ref()
            .is_some_and(|d| (d.year, d.month, d.day) == (year, month as i32, day as i32));
        let total = summary
            .total_cost
            .as_ref()
            .and_then(|m| m.yuan.parse::<kernel::Money>().ok());
        Ok(discharged
            && total == Some(list.payment.total)
            && summary.fund_type == i32::from(list.header.insurance_type))
    }
}

/// The first and the last inpatient list of the paid year. On DIP the simulation starts two
/// years earlier, but only the paid year is always submitted (the first history year never is).
fn first_and_last_stays(
    simulation: &Simulation,
) -> (Option<SettlementList>, Option<SettlementList>) {
    let mut first = None;
    let mut last = None;
    let paid_year = simulation
        .cases()
        .skip_while(|case| case.truth.year < super::YEAR)
        .take_while(|case| case.truth.year == super::YEAR);
    for case in paid_year {
        if let Some(list) = case.list() {
            if first.is_none() {
                first = Some(list.clone());
            }
            last = Some(list.clone());
        }
    }
    (first, last)
}

fn refused(target: &str, method: &str, status: &tonic::Status) -> anyhow::Error {
    let hint = match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => {
            ": the demo needs an API key (--api-key) with the roles configure, submit, run and \
             read for 460000"
        }
        _ => "",
    };
    anyhow::anyhow!(
        "{target} refused {method}: {:?}: {}{hint}",
        status.code(),
        status.message()
    )
}

/// The tables of the database's current schema, by name.
async fn tables(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let backend = db.get_database_backend();
    let (sql, column) = match backend {
        DbBackend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
            "name",
        ),
        _ => (
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
            "name",
        ),
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the database's tables: {e}"))?
        .iter()
        .map(|row| {
            row.try_get::<String>("", column)
                .map_err(|e| anyhow::anyhow!("a table name: {e}"))
        })
        .collect()
}

/// A database URL without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_never_reaches_a_message() {
        assert_eq!(
            redacted("postgres://medpay:s3cret@db:5432/demo"),
            "postgres://medpay:***@db:5432/demo"
        );
        assert_eq!(
            redacted("postgres://postgres@127.0.0.1/demo"),
            "postgres://postgres@127.0.0.1/demo"
        );
        assert_eq!(redacted("sqlite::memory:"), "sqlite::memory:");
    }
}
