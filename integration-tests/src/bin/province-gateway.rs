//! The province gateway's routing as its own process, for tests that run the province as
//! separate processes (`integration_tests::province`): TLS with the given certificate on a free
//! loopback port, each public call passed to its context's public listener over TLS verified
//! against the CA. Prints `gateway listening on <address>` once it listens, then serves until
//! killed.
//!
//! `province-gateway <ca> <cert> <key> <grouping> <points> <budget> <settlement> <supervision>`
//! (the five are `host:port`).

use std::io::Write;

use integration_tests::router::{Router, Tls, Upstreams};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [
        ca,
        cert,
        key,
        grouping,
        points,
        budget,
        settlement,
        supervision,
    ] = args.as_slice()
    else {
        anyhow::bail!(
            "usage: province-gateway <ca> <cert> <key> <grouping> <points> <budget> <settlement> <supervision>"
        );
    };
    let tls = Tls {
        ca: ca.into(),
        cert: cert.into(),
        key: key.into(),
    };
    let upstreams = Upstreams {
        grouping: grouping.parse()?,
        points: points.parse()?,
        budget: budget.parse()?,
        settlement: settlement.parse()?,
        supervision: supervision.parse()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let router = Router::start(&tls, &upstreams).await?;
        println!("gateway listening on {}", router.address);
        std::io::stdout().flush()?;
        router.serve().await
    })
}
