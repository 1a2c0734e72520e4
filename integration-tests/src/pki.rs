//! Certificates made in the test: a CA, a server certificate for loopback and the peers' service
//! names, and client certificates whose subject common names are caller identities.

use std::path::{Path, PathBuf};

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// PEM files of one certificate and its key.
#[derive(Clone, Debug)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A test CA and the certificates it issued, written as PEM files into a folder.
pub struct Pki {
    pub ca: PathBuf,
    pub server: Pair,
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

impl Pki {
    /// A CA and a server certificate valid for `localhost`, `127.0.0.1` and the names of the
    /// context services of the shipped configuration.
    pub fn generate(dir: &Path) -> anyhow::Result<Pki> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "medpay test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let ca = write(dir, "ca.crt", &issuer.pem())?;
        let mut pki = Pki {
            ca,
            server: Pair {
                cert: PathBuf::new(),
                key: PathBuf::new(),
            },
            issuer,
            dir: dir.to_path_buf(),
        };
        pki.server = pki.issue(
            "medpay-server",
            &[
                "localhost",
                "127.0.0.1",
                "medpay-grouping",
                "medpay-points",
                "medpay-budget",
                "medpay-settlement",
            ],
        )?;
        Ok(pki)
    }

    /// A certificate with subject common name `subject` (and the given alternative names),
    /// signed by the CA.
    pub fn issue(&self, subject: &str, names: &[&str]) -> anyhow::Result<Pair> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
        params.distinguished_name.push(DnType::CommonName, subject);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Pair {
            cert: write(&self.dir, &format!("{subject}.crt"), &cert.pem())?,
            key: write(&self.dir, &format!("{subject}.key"), &key.serialize_pem())?,
        })
    }

    /// A TLS channel to `address` that trusts this CA, presenting `client`'s certificate when
    /// given (the server certificate is issued for `localhost`).
    pub async fn channel(&self, address: &str, client: Option<&Pair>) -> anyhow::Result<Channel> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(std::fs::read(&self.ca)?))
            .domain_name("localhost");
        if let Some(pair) = client {
            tls = tls.identity(Identity::from_pem(
                std::fs::read(&pair.cert)?,
                std::fs::read(&pair.key)?,
            ));
        }
        Ok(Channel::from_shared(format!("https://{address}"))?
            .tls_config(tls)?
            .connect()
            .await?)
    }
}
