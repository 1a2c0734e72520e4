//! API keys end to end: the first admin key made with `medpay admin keys` on the data folder,
//! then keys created, rotated and revoked through `medpay.admin.v1.AdminService` of the real
//! `medpay up`, over a real socket; and no key in the server's debug log.

use std::path::Path;
use std::process::Command;

use integration_tests::{Medpay, medpay_binary};
use medpay_proto::admin::v1 as admin;
use medpay_proto::admin::v1::admin_service_client::AdminServiceClient;
use medpay_proto::grouping::v1 as grouping;
use medpay_proto::grouping::v1::grouping_service_client::GroupingServiceClient;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// No anonymous access: every call needs a key.
const CONFIG: &str = r#"
[telemetry]
log_filter = "warn"

[auth]
allow_anonymous = false
"#;

/// `medpay --config <folder>/medpay.toml admin keys <args…> --data <folder>/data`; its stdout.
fn admin_keys(folder: &Path, config: &str, args: &[&str]) -> anyhow::Result<(String, String)> {
    let config_path = folder.join("medpay.toml");
    std::fs::write(&config_path, config)?;
    let output = Command::new(medpay_binary()?)
        .arg("--config")
        .arg(&config_path)
        .args(["admin", "keys"])
        .args(args)
        .arg("--data")
        .arg(folder.join("data"))
        .current_dir(folder)
        .env("USER", "operator")
        .output()?;
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    anyhow::ensure!(
        output.status.success(),
        "medpay admin keys {args:?} failed: {stderr}"
    );
    Ok((stdout, stderr))
}

fn with_key<T>(message: T, key: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
    );
    request
}

async fn list_schemes(channel: &Channel, key: &str) -> Result<(), tonic::Status> {
    GroupingServiceClient::new(channel.clone())
        .list_schemes(with_key(
            grouping::ListSchemesRequest {
                region_code: "460108".into(),
                ..Default::default()
            },
            key,
        ))
        .await
        .map(drop)
}

fn assert_refused(result: Result<(), tonic::Status>, what: &str) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    assert_eq!(status.message(), "api key is not valid", "{what}");
}

fn create(
    request_id: &str,
    caller_id: &str,
    scope: &str,
    roles: &[&str],
) -> admin::CreateApiKeyRequest {
    admin::CreateApiKeyRequest {
        request_id: request_id.into(),
        caller_id: caller_id.into(),
        scopes: vec![scope.into()],
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ..Default::default()
    }
}

/// The secret part of a key.
fn secret_of(key: &str) -> &str {
    key.rsplit('_').next().expect("secret")
}

#[tokio::test]
async fn keys_are_made_on_the_box_and_over_grpc_and_rotate_and_revoke_at_once() -> anyhow::Result<()>
{
    let folder = tempfile::tempdir()?;
    // The first admin key is made by the operator on the box, before the server runs.
    let (stdout, stderr) = admin_keys(
        folder.path(),
        CONFIG,
        &[
            "create",
            "--caller-id",
            "bureau",
            "--scope",
            "460000",
            "--role",
            "admin",
            "--role",
            "service",
            "--role",
            "read",
        ],
    )?;
    let bureau = stdout.trim().to_owned();
    assert!(bureau.starts_with("mpk_"), "{stdout}");
    assert!(
        !stderr.contains(secret_of(&bureau)),
        "the key is on stdout only"
    );

    let folder_path = folder.path().to_path_buf();
    let medpay = Medpay::up_in(folder, CONFIG)?;
    let channel = medpay.channel().await?;
    let mut admin = AdminServiceClient::new(channel.clone());
    list_schemes(&channel, &bureau).await?;

    // The bureau makes a prefecture admin; the prefecture admin makes a county key.
    let haikou = admin
        .create_api_key(with_key(
            create("p-1", "haikou-admin", "460100", &["admin"]),
            &bureau,
        ))
        .await?
        .into_inner();
    let haikou_key = haikou.api_key.clone();
    let county = admin
        .create_api_key(with_key(
            create("c-1", "meilan-agency", "460108", &["read"]),
            &haikou_key,
        ))
        .await?
        .into_inner();
    let county_key = county.api_key.clone();
    let county_id = county.key.as_ref().expect("record").key_id.clone();
    assert!(county_key.starts_with(&format!("mpk_{county_id}_")));
    list_schemes(&channel, &county_key).await?;

    // A retry answers the first call again, without the key.
    let retried = admin
        .create_api_key(with_key(
            create("c-1", "meilan-agency", "460108", &["read"]),
            &haikou_key,
        ))
        .await?
        .into_inner();
    assert_eq!(retried.key.expect("record").key_id, county_id);
    assert!(retried.api_key.is_empty(), "the key is shown once");

    // A key without the admin role may not administer; a prefecture admin keeps to its
    // prefecture and may not mint a service key.
    let denied = admin
        .list_api_keys(with_key(admin::ListApiKeysRequest::default(), &county_key))
        .await
        .expect_err("not an admin");
    assert_eq!(denied.code(), Code::PermissionDenied);
    for (request, what) in [
        (
            create("x-1", "sanya", "460200", &["read"]),
            "another prefecture",
        ),
        (
            create("x-2", "province", "460000", &["read"]),
            "the province",
        ),
        (
            create("x-3", "peer", "460108", &["service"]),
            "a service key",
        ),
    ] {
        let status = admin
            .create_api_key(with_key(request, &haikou_key))
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
    }

    // The prefecture admin sees its own keys only, page by page; nothing listed holds a secret.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_api_keys(with_key(
                admin::ListApiKeysRequest {
                    page_size: 1,
                    page_token: token.clone(),
                    ..Default::default()
                },
                &haikou_key,
            ))
            .await?
            .into_inner();
        let text = format!("{page:?}");
        for key in [&bureau, &haikou_key, &county_key] {
            assert!(!text.contains(secret_of(key)));
        }
        seen.extend(page.keys.into_iter().map(|k| k.caller_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    seen.sort();
    assert_eq!(
        seen,
        ["haikou-admin", "meilan-agency"],
        "one per page, each once"
    );
    // A page token belongs to the listing that issued it: with another filter it is refused.
    let first = admin
        .list_api_keys(with_key(
            admin::ListApiKeysRequest {
                page_size: 1,
                ..Default::default()
            },
            &haikou_key,
        ))
        .await?
        .into_inner();
    let carried = admin
        .list_api_keys(with_key(
            admin::ListApiKeysRequest {
                page_size: 1,
                include_inactive: true,
                page_token: first.next_page_token,
                ..Default::default()
            },
            &haikou_key,
        ))
        .await
        .expect_err("a token of another filter");
    assert_eq!(carried.code(), Code::InvalidArgument, "{carried:?}");
    let everything = admin
        .list_api_keys(with_key(admin::ListApiKeysRequest::default(), &bureau))
        .await?
        .into_inner();
    assert_eq!(everything.keys.len(), 3);

    // Rotation: the old key stops at once, the new one works.
    let rotated = admin
        .rotate_api_key(with_key(
            admin::RotateApiKeyRequest {
                request_id: "r-1".into(),
                key_id: county_id.clone(),
                ..Default::default()
            },
            &haikou_key,
        ))
        .await?
        .into_inner();
    let new_county_key = rotated.api_key.clone();
    assert_eq!(
        rotated.key.as_ref().expect("record").rotated_from,
        county_id
    );
    assert!(!rotated.replaced.expect("old record").active);
    assert_refused(list_schemes(&channel, &county_key).await, "the rotated key");
    list_schemes(&channel, &new_county_key).await?;

    // Revocation takes effect at once.
    let new_id = rotated.key.expect("record").key_id;
    let revoked = admin
        .revoke_api_key(with_key(
            admin::RevokeApiKeyRequest {
                request_id: "v-1".into(),
                key_id: new_id,
                reason: "agency closed".into(),
            },
            &haikou_key,
        ))
        .await?
        .into_inner();
    assert_eq!(revoked.key.expect("record").revoke_reason, "agency closed");
    assert_refused(
        list_schemes(&channel, &new_county_key).await,
        "the revoked key",
    );

    // Unknown, forged and malformed keys are told nothing more.
    let forged = format!("mpk_{county_id}_{}", "0".repeat(64));
    for (key, what) in [
        (forged.as_str(), "a forged secret"),
        ("mpk_nothing", "a malformed key"),
        ("whatever-key-0000", "an unknown key"),
    ] {
        assert_refused(list_schemes(&channel, key).await, what);
    }
    let anonymous = GroupingServiceClient::new(channel.clone())
        .list_schemes(grouping::ListSchemesRequest {
            region_code: "460108".into(),
            ..Default::default()
        })
        .await
        .expect_err("no key");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    // A key made on the box while the server runs authenticates at once; the operator lists
    // and revokes it there too.
    let (stdout, _) = admin_keys(
        &folder_path,
        CONFIG,
        &[
            "create",
            "--caller-id",
            "vendor",
            "--scope",
            "460100",
            "--role",
            "submit",
            "--role",
            "read",
        ],
    )?;
    let vendor = stdout.trim().to_owned();
    list_schemes(&channel, &vendor).await?;
    let vendor_id = vendor
        .strip_prefix("mpk_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id.to_owned())
        .expect("key id");
    let (listed, _) = admin_keys(&folder_path, CONFIG, &["list"])?;
    assert!(
        listed
            .lines()
            .any(|line| line.starts_with(&vendor_id) && line.contains("created")),
        "{listed}"
    );
    assert!(!listed.contains(secret_of(&vendor)));
    admin_keys(
        &folder_path,
        CONFIG,
        &["revoke", &vendor_id, "--reason", "test over"],
    )?;
    let (all, _) = admin_keys(&folder_path, CONFIG, &["list", "--all"])?;
    assert!(
        all.lines().any(|line| line.starts_with(&vendor_id)
            && line.contains("revoked at")
            && line.contains("os:operator")),
        "{all}"
    );
    assert!(medpay.stop()?.success());
    Ok(())
}

#[tokio::test]
async fn no_key_reaches_the_debug_log() -> anyhow::Result<()> {
    let config = CONFIG.replace("log_filter = \"warn\"", "log_filter = \"debug\"");
    let folder = tempfile::tempdir()?;
    let (stdout, cli_log) = admin_keys(
        folder.path(),
        &config,
        &[
            "create",
            "--caller-id",
            "bureau",
            "--scope",
            "460000",
            "--role",
            "admin",
        ],
    )?;
    let bureau = stdout.trim().to_owned();
    let medpay = Medpay::up_in_logged(folder, &config)?;
    let channel = medpay.channel().await?;
    let mut admin = AdminServiceClient::new(channel.clone());
    let created = admin
        .create_api_key(with_key(
            create("c-1", "vendor", "460100", &["submit", "read"]),
            &bureau,
        ))
        .await?
        .into_inner();
    list_schemes(&channel, &created.api_key).await?;
    let forged = format!(
        "mpk_{}_{}",
        created.key.as_ref().expect("record").key_id,
        "ab".repeat(32)
    );
    assert_refused(list_schemes(&channel, &forged).await, "a forged key");
    let rotated = admin
        .rotate_api_key(with_key(
            admin::RotateApiKeyRequest {
                request_id: "r-1".into(),
                key_id: created.key.expect("record").key_id,
                overlap_seconds: 60,
                ..Default::default()
            },
            &bureau,
        ))
        .await?
        .into_inner();
    list_schemes(&channel, &rotated.api_key).await?;
    admin
        .revoke_api_key(with_key(
            admin::RevokeApiKeyRequest {
                request_id: "v-1".into(),
                key_id: rotated.key.expect("record").key_id,
                reason: "done".into(),
            },
            &bureau,
        ))
        .await?;
    assert_refused(list_schemes(&channel, &rotated.api_key).await, "revoked");
    // Let the log of the last calls be written before reading it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = medpay.log();
    assert!(
        log.contains("api key created"),
        "the debug log is read: {log}"
    );
    assert!(log.contains("DEBUG"), "the log is at debug level");
    for key in [&bureau, &created.api_key, &rotated.api_key, &forged] {
        assert!(!log.contains(secret_of(key)), "a secret is in the log");
        assert!(
            !cli_log.contains(secret_of(key)),
            "a secret is in the command's log"
        );
    }
    assert!(medpay.stop()?.success());
    Ok(())
}
