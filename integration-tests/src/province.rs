//! The province deployment on loopback: one `medpay serve <context>` process per context, as
//! `deploy/k8s/overlays/province` runs them (its `medpay.toml` as shipped, with what a
//! deployment sets through the environment: TLS on both listeners, no anonymous access, the
//! settlement and supervision services calling their peers' internal listeners with their client
//! certificates, migrations applied once by `medpay migrate` before the servers start with
//! `database.migrate = false`), on one PostgreSQL database, and
//! the gateway's routing in front as a process of its own (`province-gateway`, over
//! [`crate::router`]). Every port is fixed when the province
//! starts, so a context killed with SIGKILL is restarted on the same ports and its peers and
//! the gateway reach it again.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::pki::{Pair, Pki};
use crate::router::{Tls, Upstreams};
use crate::{Medpay, medpay_binary};

/// The county agency's API key: it registers its hospitals, puts its tables, uploads its lists
/// and runs its prepayment.
pub const AGENCY_KEY: &str = "province-test-agency-key-0001";

/// The contexts, one process each.
pub const CONTEXTS: [&str; 5] = ["grouping", "points", "budget", "settlement", "supervision"];

/// A caller's channel through the gateway, with the agency's key on every call.
pub type AgencyChannel =
    InterceptedService<Channel, fn(Request<()>) -> Result<Request<()>, Status>>;

fn with_agency_key(mut request: Request<()>) -> Result<Request<()>, Status> {
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::from_static("Bearer province-test-agency-key-0001"),
    );
    Ok(request)
}

/// A fresh PostgreSQL database beside the one of a server URL, dropped with its value.
pub struct Database {
    server: String,
    pub name: String,
}

impl Database {
    /// Creates `name` (made unique with the process id) on the server of `url`
    /// (`postgres://user@host:port/any`).
    pub fn create(url: &str, name: &str) -> anyhow::Result<Database> {
        let server = match url.rsplit_once('/') {
            Some((server, _)) if server.contains("://") && !server.ends_with('/') => server,
            _ => url.trim_end_matches('/'),
        };
        let database = Database {
            server: server.to_owned(),
            name: format!("{name}_{}", std::process::id()),
        };
        database.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            database.name
        ))?;
        database.psql(&format!("CREATE DATABASE {}", database.name))?;
        Ok(database)
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Runs one statement as `psql` on this database and returns its unaligned output.
    pub fn query(&self, sql: &str) -> anyhow::Result<String> {
        let output = Command::new("psql")
            .args([&self.url(), "-XAtqc", sql])
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "psql failed: {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?.trim().to_owned())
    }

    fn psql(&self, sql: &str) -> anyhow::Result<()> {
        let output = Command::new("psql")
            .args([&format!("{}/postgres", self.server), "-Xqc", sql])
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "psql failed: {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// The `province-gateway` process (`src/bin/province-gateway.rs`), killed on drop.
pub struct Gateway {
    child: Child,
    pub address: SocketAddr,
}

impl Gateway {
    fn start(tls: &Tls, upstreams: &Upstreams) -> anyhow::Result<Gateway> {
        // Cargo builds a package's binaries next to the folder of its test executables.
        let exe = std::env::current_exe()?;
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| anyhow::anyhow!("the test executable has no target folder"))?
            .join(format!("province-gateway{}", std::env::consts::EXE_SUFFIX));
        let mut child = Command::new(&binary)
            .arg(&tls.ca)
            .arg(&tls.cert)
            .arg(&tls.key)
            .args(
                [
                    upstreams.grouping,
                    upstreams.points,
                    upstreams.budget,
                    upstreams.settlement,
                    upstreams.supervision,
                ]
                .map(|a| a.to_string()),
            )
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", binary.display()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let address = match line.trim().strip_prefix("gateway listening on ") {
            Some(address) => address.parse()?,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the gateway did not start: {line:?}");
            }
        };
        Ok(Gateway { child, address })
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (released at once; the process that binds it next is ours).
fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The ports of one context: its public and internal listeners.
#[derive(Clone, Copy, Debug)]
struct Ports {
    public: SocketAddr,
    internal: SocketAddr,
}

/// The province's processes, their folder (certificates and configuration file) and the
/// gateway in front of them.
pub struct Province {
    pki: Pki,
    config: PathBuf,
    _dir: tempfile::TempDir,
    ports: BTreeMap<&'static str, Ports>,
    environments: BTreeMap<&'static str, Vec<(String, String)>>,
    processes: BTreeMap<&'static str, Medpay>,
    pub gateway: Gateway,
    /// Dropped last: after the processes that hold connections to it.
    _database: Database,
}

impl Province {
    /// Migrates `database` with `medpay migrate`, starts every context on it and the gateway;
    /// the agency's key is scoped to `county`.
    pub async fn start(database: Database, county: &str) -> anyhow::Result<Province> {
        let dir = tempfile::tempdir()?;
        let pki = Pki::generate(dir.path())?;
        let settlement_client = pki.issue("medpay-settlement", &[])?;
        let supervision_client = pki.issue("medpay-supervision", &[])?;
        let mut ports = BTreeMap::new();
        for context in CONTEXTS {
            ports.insert(
                context,
                Ports {
                    public: free_port()?,
                    internal: free_port()?,
                },
            );
        }
        let config = dir.path().join("medpay.toml");
        std::fs::write(&config, shipped_config(county)?)?;
        let mut environments = BTreeMap::new();
        for context in CONTEXTS {
            // Supervision calls settlement with its own certificate; every other caller of a
            // peer is settlement.
            let client = if context == "supervision" {
                &supervision_client
            } else {
                &settlement_client
            };
            let env = environment(
                &pki,
                client,
                &ports,
                ports[context].internal,
                &database.url(),
            );
            environments.insert(context, env);
        }
        // The migration Jobs, all at once: every context's tables and the key store.
        let status = Command::new(medpay_binary()?)
            .arg("--config")
            .arg(&config)
            .arg("migrate")
            .envs(environments["settlement"].iter().map(|(k, v)| (k, v)))
            .status()?;
        anyhow::ensure!(status.success(), "medpay migrate failed: {status}");

        let mut province = Province {
            gateway: Gateway::start(
                &Tls {
                    ca: pki.ca.clone(),
                    cert: pki.server.cert.clone(),
                    key: pki.server.key.clone(),
                },
                &Upstreams {
                    grouping: ports["grouping"].public,
                    points: ports["points"].public,
                    budget: ports["budget"].public,
                    settlement: ports["settlement"].public,
                    supervision: ports["supervision"].public,
                },
            )?,
            pki,
            config,
            _dir: dir,
            ports,
            environments,
            processes: BTreeMap::new(),
            _database: database,
        };
        for context in CONTEXTS {
            province.start_context(context)?;
        }
        Ok(province)
    }

    /// Starts `medpay serve <context>` on the context's ports and waits until it listens.
    pub fn start_context(&mut self, context: &'static str) -> anyhow::Result<()> {
        let ports = self.ports[context];
        let args: Vec<String> = vec![
            "--config".into(),
            self.config.display().to_string(),
            "serve".into(),
            context.into(),
            "--listen".into(),
            ports.public.to_string(),
        ];
        let medpay =
            Medpay::start_with_env(&args, &self.environments[context], tempfile::tempdir()?)?;
        self.processes.insert(context, medpay);
        Ok(())
    }

    /// Kills the context's process with SIGKILL: no chance to finish what it was doing.
    pub fn kill(&mut self, context: &'static str) -> anyhow::Result<()> {
        let medpay = self
            .processes
            .remove(context)
            .ok_or_else(|| anyhow::anyhow!("{context} is not running"))?;
        medpay.kill()?;
        Ok(())
    }

    /// The operating system's process id of the context's server.
    pub fn pid(&self, context: &str) -> Option<u32> {
        self.processes.get(context).and_then(Medpay::pid)
    }

    /// A TLS channel to the gateway, verified against the test CA, that sends the agency's key.
    pub async fn agency_channel(&self) -> anyhow::Result<AgencyChannel> {
        let channel = self
            .pki
            .channel(&self.gateway.address.to_string(), None)
            .await?;
        Ok(InterceptedService::new(
            channel,
            with_agency_key as fn(Request<()>) -> Result<Request<()>, Status>,
        ))
    }
}

/// The province overlay's `medpay.toml` as shipped, with the agency's key appended (the
/// province stores its keys in the database; a key in the file authenticates the same way).
fn shipped_config(county: &str) -> anyhow::Result<String> {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/k8s/overlays/province/medpay.toml");
    let mut config = std::fs::read_to_string(shipped)?;
    config.push_str(&format!(
        "\n[[auth.api_keys]]\nkey = \"{AGENCY_KEY}\"\ncaller_id = \"county-agency\"\n\
         scopes = [\"{county}\"]\nroles = [\"configure\", \"submit\", \"read\", \"run\"]\n"
    ));
    Ok(config)
}

/// What a deployment sets for one context besides the shipped file: its internal port, the
/// certificates' paths, the database, the peers' addresses, no telemetry export; and the demo
/// grouping scheme active, so cases group without a scheme upload.
fn environment(
    pki: &Pki,
    client: &Pair,
    peers: &BTreeMap<&'static str, Ports>,
    internal: SocketAddr,
    url: &str,
) -> Vec<(String, String)> {
    let path = |p: &std::path::Path| p.display().to_string();
    let mut env = vec![
        ("MEDPAY__SERVER__INTERNAL_LISTEN", internal.to_string()),
        ("MEDPAY__SERVER__HEALTH_LISTEN", "127.0.0.1:0".to_owned()),
        ("MEDPAY__SERVER__TLS__CERT", path(&pki.server.cert)),
        ("MEDPAY__SERVER__TLS__KEY", path(&pki.server.key)),
        ("MEDPAY__SERVER__TLS__CLIENT_CA", path(&pki.ca)),
        ("MEDPAY__PEERS__TLS_CA", path(&pki.ca)),
        ("MEDPAY__PEERS__TLS_CERT", path(&client.cert)),
        ("MEDPAY__PEERS__TLS_KEY", path(&client.key)),
        ("MEDPAY__DATABASE__URL", url.to_owned()),
        ("MEDPAY__TELEMETRY__OTLP_ENDPOINT", String::new()),
        ("MEDPAY__TELEMETRY__METRICS_LISTEN", String::new()),
        ("MEDPAY__TELEMETRY__LOG_FILTER", "error".to_owned()),
        ("MEDPAY__DEMO__ACTIVATE_DEMO_SCHEME", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect::<Vec<_>>();
    for (context, ports) in peers {
        env.push((
            format!("MEDPAY__PEERS__{}", context.to_ascii_uppercase()),
            format!("https://localhost:{}", ports.internal.port()),
        ));
    }
    env
}
