//! Configuration: compiled defaults, then `medpay.toml` (or `--config FILE`), then the environment
//! (`MEDPAY__SECTION__KEY`, e.g. `MEDPAY__SERVER__LISTEN=0.0.0.0:50051`). Unknown keys are an
//! error that names the key, so a typo never silently falls back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use kernel::{Principal, RegionCode, Role};
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub limits: LimitSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub telemetry: TelemetrySettings,
    pub demo: DemoSettings,
    pub peers: PeersSettings,
}

/// Where a context finds the internal services of the contexts it calls (settlement calls
/// grouping and points to value cases at intake, budget to share at the year end and
/// supervision for the violation deductions it clears; supervision reads settlement's cases).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeersSettings {
    /// URL of the server hosting the grouping context (`http://grouping:50051`); empty for this
    /// same server, as in `medpay up`.
    pub grouping: String,
    /// URL of the server hosting the points context; empty for this same server.
    pub points: String,
    /// URL of the server hosting the budget context; empty for this same server.
    pub budget: String,
    /// URL of the server hosting the settlement context (supervision screens its cases); empty
    /// for this same server.
    pub settlement: String,
    /// URL of the server hosting the supervision context, whose confirmed findings are each
    /// hospital's violation deductions at clearing (typed-in deductions are then refused); empty
    /// for this same server; `none` for no supervision peer, where clearing deducts what
    /// PutHospitalYearInputs typed in.
    pub supervision: String,
    /// Key sent as `authorization: Bearer <key>` on calls to peers, a key with the `service`
    /// role; empty sends none. Peers reached over mutual TLS need none: the client certificate
    /// below is the identity.
    pub api_key: String,
    /// PEM file of the CA that signed the peers' server certificates; set it to call peers over
    /// TLS (`https://` URLs).
    pub tls_ca: String,
    /// PEM files of this service's client certificate and key, presented to peers (mutual TLS).
    pub tls_cert: String,
    pub tls_key: String,
    /// The name the peers' certificates are issued for, when it differs from the URL's host.
    pub tls_domain: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Activate the shipped demo grouping scheme for `regions` when they have no scheme yet, so a
    /// fresh `medpay up` groups cases at once. Production turns it off.
    pub activate_demo_scheme: bool,
    pub regions: Vec<RegionCode>,
    /// First discharge date (`yyyymmdd`) the demo scheme applies to.
    pub effective_from: i32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address of the public gRPC server (the edge callers reach); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address of the internal listener, which serves the `medpay.<context>.internal.v1`
    /// contracts to other medpay services only (a caller key cannot reach them at `listen`).
    /// Port 0 picks a free port; keep it off the public network.
    pub internal_listen: SocketAddr,
    /// Address of a plaintext listener serving grpc.health only, for Kubernetes' gRPC probes,
    /// which speak no TLS; empty for none. Keep it off the public network.
    pub health_listen: String,
    /// Seconds in-flight requests get to finish after a shutdown signal.
    pub shutdown_grace_seconds: u64,
    /// The longest a call may run: a caller's `grpc-timeout` above it, or none, is clamped to it.
    pub max_deadline_seconds: u64,
    pub tls: TlsSettings,
    pub grpc_web: GrpcWebSettings,
}

/// gRPC-Web on the public listener, for browser pages that call medpay directly.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrpcWebSettings {
    /// Origins (`scheme://host[:port]`, as a browser sends them in `Origin`) whose pages may
    /// call the public listener with gRPC-Web, cross-origin; every other origin gets no CORS
    /// headers, so its browser withholds the answer. Empty turns gRPC-Web off (a proxy in front,
    /// as the deploy's Envoy, translates it instead). Callers still authenticate as over gRPC.
    pub allowed_origins: Vec<String>,
}

/// TLS of both listeners. Empty `cert` serves plaintext (development only).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file of the server certificate chain.
    pub cert: String,
    /// PEM file of its private key.
    pub key: String,
    /// PEM file of the CA that issues client certificates. When set, a client certificate is
    /// verified against it: optional on the public listener (agencies may use keys), required
    /// on the internal listener (the certificate is the service's identity).
    pub client_ca: String,
}

/// Per-caller limits at the edge; a call over them is RESOURCE_EXHAUSTED with a retry delay.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Sustained calls per second per caller; 0 turns the rate limit off.
    pub requests_per_second: u32,
    /// Calls a caller may make at once above the sustained rate.
    pub burst: u32,
    /// Calls of one caller in flight at once; 0 turns the limit off.
    pub concurrent_per_caller: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Folder of the embedded SQLite database (`medpay.db`), created when missing.
    pub data_dir: PathBuf,
    /// A database URL (`postgres://…` or `sqlite://…`); empty for the embedded SQLite file.
    pub url: String,
    /// Whether `up` and `serve` migrate the database at start. A deployment of many replicas
    /// sets it to false and runs `medpay migrate` once per release instead; the servers then
    /// refuse to start while a migration is pending.
    pub migrate: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Whether requests without credentials act as `dev_principal`. Meant for development and
    /// demos; production sets it to false so that every caller must present a key.
    pub allow_anonymous: bool,
    /// The principal of requests without credentials when `allow_anonymous` is on.
    pub dev_principal: Option<PrincipalSettings>,
    /// API keys of vendors and agencies, in plain text: for development and tests. Production
    /// keys are created with `medpay admin keys` and stored hashed.
    pub api_keys: Vec<ApiKeySettings>,
    /// Client certificates (mutual TLS) and the principal each acts as, by the certificate's
    /// subject common name: county agencies, and other medpay services (role `service`).
    pub certificates: Vec<CertificateSettings>,
    /// Regions the in-process service identity acts for: the contexts of one `medpay up` call
    /// each other's internal contracts with it.
    pub internal_scopes: Vec<RegionCode>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSettings {
    /// The subject common name (CN) of the client certificate.
    pub subject: String,
    pub caller_id: String,
    pub scopes: Vec<RegionCode>,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub institution: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSettings {
    pub caller_id: String,
    pub scopes: Vec<RegionCode>,
    pub roles: Vec<Role>,
    /// The institution a hospital's principal acts for.
    #[serde(default)]
    pub institution: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySettings {
    /// The key presented as `authorization: Bearer <key>`.
    pub key: String,
    pub caller_id: String,
    pub scopes: Vec<RegionCode>,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The institution a hospital's key acts for (required with the `hospital` role).
    #[serde(default)]
    pub institution: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `tracing` filter, e.g. `info,medpay=debug`.
    pub log_filter: String,
    /// OTLP gRPC endpoint (e.g. `http://otel-collector:4317`); empty disables export.
    pub otlp_endpoint: String,
    /// Address of the Prometheus metrics endpoint; empty disables it.
    pub metrics_listen: String,
}

impl PrincipalSettings {
    pub fn to_principal(&self) -> Principal {
        Principal {
            caller_id: self.caller_id.clone(),
            scopes: self.scopes.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            institution: self.institution.clone(),
        }
    }
}

impl CertificateSettings {
    pub fn to_principal(&self) -> Principal {
        Principal {
            caller_id: self.caller_id.clone(),
            scopes: self.scopes.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            institution: self.institution.clone(),
        }
    }
}

impl ApiKeySettings {
    pub fn to_principal(&self) -> Principal {
        Principal {
            caller_id: self.caller_id.clone(),
            scopes: self.scopes.clone(),
            roles: self.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            institution: self.institution.clone(),
        }
    }
}

/// The compiled defaults: a development server on localhost for the whole of Hainan.
pub const DEFAULTS: &str = r#"
[server]
listen = "127.0.0.1:50051"
internal_listen = "127.0.0.1:0"
health_listen = ""
shutdown_grace_seconds = 10
max_deadline_seconds = 900

[server.tls]
cert = ""
key = ""
client_ca = ""

[server.grpc_web]
allowed_origins = []

[limits]
requests_per_second = 2000
burst = 4000
concurrent_per_caller = 256

[database]
data_dir = "./data"
url = ""
migrate = true

[auth]
allow_anonymous = true
api_keys = []
certificates = []
internal_scopes = ["460000"]

[auth.dev_principal]
caller_id = "dev"
scopes = ["460000"]
roles = ["submit", "read", "review", "configure", "run", "admin"]

[telemetry]
log_filter = "info"
otlp_endpoint = ""
metrics_listen = ""

[peers]
grouping = ""
points = ""
budget = ""
settlement = ""
supervision = ""
api_key = ""
tls_ca = ""
tls_cert = ""
tls_key = ""
tls_domain = ""

[demo]
activate_demo_scheme = true
regions = ["460000"]
effective_from = 20200101
"#;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} does not exist")]
    MissingFile { path: PathBuf },
    #[error("configuration is invalid: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("configuration is invalid: {0}")]
    Rule(String),
}

/// Loads the settings. `file` is an explicit `--config`; without it `medpay.toml` in the working
/// directory is read when present.
pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    load_from(file, std::env::vars())
}

/// [`load`] with the environment given, so tests need not touch the process environment.
pub fn load_from(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut builder = config::Config::builder()
        .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
    match file {
        Some(path) if !path.exists() => {
            return Err(ConfigError::MissingFile {
                path: path.to_path_buf(),
            });
        }
        Some(path) => builder = builder.add_source(config::File::from(path)),
        None => {
            builder = builder.add_source(config::File::with_name("medpay.toml").required(false));
        }
    }
    let env: std::collections::HashMap<String, String> = env
        .into_iter()
        .filter(|(key, _)| key.starts_with("MEDPAY__"))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix("MEDPAY")
            .prefix_separator("__")
            .separator("__")
            .source(Some(env)),
    );
    let settings: Settings = builder.build()?.try_deserialize()?;
    validate(&settings)?;
    Ok(settings)
}

fn validate(settings: &Settings) -> Result<(), ConfigError> {
    let tls = &settings.server.tls;
    if tls.cert.is_empty() != tls.key.is_empty() {
        return Err(ConfigError::Rule(
            "server.tls.cert and server.tls.key are set together".into(),
        ));
    }
    if !tls.client_ca.is_empty() && tls.cert.is_empty() {
        return Err(ConfigError::Rule(
            "server.tls.client_ca needs server.tls.cert and server.tls.key".into(),
        ));
    }
    if settings.peers.tls_cert.is_empty() != settings.peers.tls_key.is_empty() {
        return Err(ConfigError::Rule(
            "peers.tls_cert and peers.tls_key are set together".into(),
        ));
    }
    if settings.server.max_deadline_seconds == 0 {
        return Err(ConfigError::Rule(
            "server.max_deadline_seconds must be positive".into(),
        ));
    }
    for origin in &settings.server.grpc_web.allowed_origins {
        if let Err(reason) = crate::web::check_origin(origin) {
            return Err(ConfigError::Rule(format!(
                "server.grpc_web.allowed_origins: {origin:?} {reason}"
            )));
        }
    }
    if settings.limits.requests_per_second > 0 && settings.limits.burst == 0 {
        return Err(ConfigError::Rule(
            "limits.burst must be positive when limits.requests_per_second is set".into(),
        ));
    }
    for (index, certificate) in settings.auth.certificates.iter().enumerate() {
        if certificate.subject.trim().is_empty() || certificate.scopes.is_empty() {
            return Err(ConfigError::Rule(format!(
                "auth.certificates[{index}] needs a subject and at least one scope"
            )));
        }
    }
    for (index, key) in settings.auth.api_keys.iter().enumerate() {
        if key.key.len() < 16 {
            return Err(ConfigError::Rule(format!(
                "auth.api_keys[{index}].key must be at least 16 characters"
            )));
        }
        if key.scopes.is_empty() {
            return Err(ConfigError::Rule(format!(
                "auth.api_keys[{index}].scopes must name at least one region"
            )));
        }
        if key.roles.contains(&Role::Hospital) != key.institution.is_some() {
            return Err(ConfigError::Rule(format!(
                "auth.api_keys[{index}]: a key has an institution exactly when it has the hospital role"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("medpay.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"127.0.0.1:7000\"\n[telemetry]\nlog_filter = \"debug\"\n",
        )
        .expect("write");
        let settings = load_from(
            Some(&path),
            env(&[("MEDPAY__SERVER__LISTEN", "0.0.0.0:7001"), ("OTHER", "x")]),
        )
        .expect("valid");
        assert_eq!(settings.server.listen.port(), 7001, "environment wins");
        assert_eq!(
            settings.telemetry.log_filter, "debug",
            "file beats defaults"
        );
        assert_eq!(
            settings.server.shutdown_grace_seconds, 10,
            "defaults fill the rest"
        );
        let dev = settings.auth.dev_principal.expect("default dev principal");
        assert_eq!(
            dev.scopes,
            vec!["460000".parse::<RegionCode>().expect("code")]
        );
    }

    #[test]
    fn peers_default_to_this_server_and_shipped_configs_name_services() {
        let settings = load_from(None, env(&[("MEDPAY__PEERS__API_KEY", "k")])).expect("valid");
        assert!(settings.peers.grouping.is_empty() && settings.peers.points.is_empty());
        assert_eq!(settings.peers.api_key, "k");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/k8s/overlays/province/medpay.toml");
        let production = load_from(Some(&shipped), env(&[])).expect("production config loads");
        assert_eq!(production.peers.points, "https://medpay-points:50052");
        assert!(!production.auth.allow_anonymous);
        assert!(
            !production.server.tls.client_ca.is_empty() && !production.peers.tls_cert.is_empty(),
            "production calls peers over mutual TLS"
        );
        let settlement = production
            .auth
            .certificates
            .iter()
            .find(|c| c.subject == "medpay-settlement")
            .expect("settlement's certificate is a service identity");
        assert_eq!(settlement.roles, vec![Role::Service]);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("medpay.toml");
        std::fs::write(&path, "[server]\nlisten_addr = \"127.0.0.1:7000\"\n").expect("write");
        let error = load_from(Some(&path), env(&[])).expect_err("unknown key");
        assert!(error.to_string().contains("listen_addr"), "{error}");

        let error = load_from(None, env(&[("MEDPAY__SERVR__LISTEN", "127.0.0.1:1")]))
            .expect_err("unknown section");
        assert!(error.to_string().contains("servr"), "{error}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let error = load_from(None, env(&[("MEDPAY__SERVER__LISTEN", "not an address")]))
            .expect_err("bad address");
        assert!(error.to_string().contains("listen"), "{error}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("medpay.toml");
        std::fs::write(
            &path,
            "[[auth.api_keys]]\nkey = \"short\"\ncaller_id = \"v\"\nscopes = [\"460100\"]\n",
        )
        .expect("write");
        let error = load_from(Some(&path), env(&[])).expect_err("short key");
        assert!(
            error.to_string().contains("auth.api_keys[0].key"),
            "{error}"
        );
        assert!(matches!(
            load_from(Some(&dir.path().join("absent.toml")), env(&[])),
            Err(ConfigError::MissingFile { .. })
        ));
    }
}
