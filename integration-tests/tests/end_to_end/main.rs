//! The real `medpay` binary and its servers over real sockets, as agencies, vendors and operators
//! reach them: one test binary, so the workspace links the whole server once for all of them.

mod access;
mod ambulatory_screening;
mod api_keys;
mod assessment;
mod backup_drill;
mod citus_plan;
mod deductions;
mod demo;
mod demo_targets;
mod deploy;
mod dip_build;
mod every_mode;
mod faults;
mod group_cli;
mod grpc_web;
mod hainan_year;
mod intake_property;
mod outpatient;
mod partition_by_year;
mod period_report;
mod postgres;
mod production_config;
mod province_processes;
mod serve_postgres;
mod settlement_import;
mod settlement_intake;
mod settlement_runs;
mod tls;
mod trace_context;
mod typed_forms;
mod up;
