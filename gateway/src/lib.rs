//! The `medpay` binary's library: configuration, telemetry, the edge layer, the API key store
//! and the server that composes every context. The binary in `main.rs` only parses the command line.

pub mod access;
pub mod commands;
pub mod config;
pub mod demo;
pub mod edge;
pub mod import_cmd;
pub mod limits;
pub mod migrate;
pub mod probe;
pub mod red;
pub mod remote;
pub mod server;
pub mod telemetry;
pub mod tls;
pub mod web;
