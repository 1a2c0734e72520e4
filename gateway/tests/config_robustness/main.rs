//! The configuration loader under damaged files and environments: every generated `medpay.toml`
//! and `MEDPAY__*` variable gives settings or a configuration error that says what is wrong,
//! never a crash, each in time. Seeds are the compiled defaults and the deploy configurations.
//! `PROPTEST_CASES` sets the cases (256 by default; README "Robustness under generated input").

use kernel::mutation;

use std::path::Path;

use gateway::config::{ConfigError, DEFAULTS, Settings, load_from};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::mutation::{MAX_INPUT, answered_in_time, apply, mutations};

const DEPLOYED: [&str; 3] = [
    include_str!("../../../deploy/k8s/overlays/province/medpay.toml"),
    include_str!("../../../deploy/k8s/overlays/staging/medpay.toml"),
    include_str!("../../../deploy/k8s/overlays/dev/medpay.toml"),
];

fn seeds() -> Vec<&'static str> {
    let mut seeds = vec![DEFAULTS];
    seeds.extend(DEPLOYED);
    seeds
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

/// Loads `bytes` as the `--config` file, from a folder of its own.
fn load_file(bytes: &[u8], env: Vec<(String, String)>) -> Result<Settings, ConfigError> {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("medpay.toml");
    std::fs::write(&path, bytes).expect("write configuration");
    load(&path, env)
}

fn load(path: &Path, env: Vec<(String, String)>) -> Result<Settings, ConfigError> {
    answered_in_time("config::load_from", || load_from(Some(path), env))
}

fn assert_says_what_is_wrong(answer: &Result<Settings, ConfigError>) {
    if let Err(error) = answer {
        let message = error.to_string();
        assert!(
            message.len() > "configuration is invalid: ".len(),
            "{message}"
        );
    }
}

#[test]
fn the_seeds_load() {
    for seed in seeds() {
        load_file(seed.as_bytes(), no_env()).expect("a shipped configuration loads");
    }
}

/// Keys and values an operator might mistype into the environment.
fn env_entry() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        Just("MEDPAY__SERVER__LISTEN".to_owned()),
        Just("MEDPAY__LIMITS__BURST".to_owned()),
        Just("MEDPAY__DEMO__REGIONS".to_owned()),
        Just("MEDPAY__DEMO__EFFECTIVE_FROM".to_owned()),
        Just("MEDPAY__AUTH__ALLOW_ANONYMOUS".to_owned()),
        Just("MEDPAY__SERVER__TLS__CERT".to_owned()),
        Just("MEDPAY__".to_owned()),
        Just("MEDPAY____".to_owned()),
        "MEDPAY__[A-Z_]{0,30}",
    ];
    let value = prop_oneof![
        Just(String::new()),
        Just("-1".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("[\"460000\"".to_owned()),
        Just("0.0.0.0:99999".to_owned()),
        "\\PC{0,40}",
    ];
    (key, value)
}

proptest! {
    #[test]
    fn a_damaged_configuration_file_loads_or_is_refused(
        which in any::<Index>(),
        damage in mutations(),
    ) {
        let seeds = seeds();
        let bytes = apply(which.get(&seeds).as_bytes(), &damage);
        assert_says_what_is_wrong(&load_file(&bytes, no_env()));
    }

    #[test]
    fn a_mistyped_environment_loads_or_is_refused(
        which in any::<Index>(),
        env in proptest::collection::vec(env_entry(), 0..6),
    ) {
        let seeds = seeds();
        assert_says_what_is_wrong(&load_file(which.get(&seeds).as_bytes(), env));
    }
}

#[test]
fn extreme_configuration_files_are_answered() {
    for extreme in [
        format!("[server]\nlisten = \"{}\"\n", "9".repeat(MAX_INPUT)),
        format!("x = {}", "[".repeat(MAX_INPUT / 2)),
        format!("x = {}", "{a = ".repeat(MAX_INPUT / 6)),
        format!("{}= 1", "a.".repeat(MAX_INPUT / 2)),
        format!("\u{feff}{DEFAULTS}"),
        DEFAULTS.replace('\n', "\r\n"),
    ] {
        assert_says_what_is_wrong(&load_file(extreme.as_bytes(), no_env()));
    }
    let error = load_file(&[0xff, 0xfe, b'[', 0x80], no_env()).expect_err("not UTF-8");
    assert_says_what_is_wrong(&Err(error));
}
