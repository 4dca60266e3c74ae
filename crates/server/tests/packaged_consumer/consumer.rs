//! A user's program built against the packaged `rainbond-client` (the `.crate` file, unpacked),
//! not the workspace path: tests/packaged_client.rs writes its manifest, builds it offline and
//! runs it against `rainbond-server serve --demo`.
//!
//! Usage: `consumer <base-url>`. Prints one line per step; exits 1 at the first surprise.

use std::process::ExitCode;

use rainbond_client::types::{AppCopyC, AppCopyModify, ErrorBody};
use rainbond_client::{Client, Error};

const ADMIN_KEY: &str = "rbd-demo-admin";

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: consumer <base-url>");
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), String> {
    // Without a key the server refuses, with the spec's error body.
    let anonymous = Client::new(url);
    match anonymous.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await {
        Err(Error::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            let ErrorBody { code, .. } = response.into_inner();
            println!("without a key: {status} (code {code})");
        }
        other => return Err(format!("expected an error response without a key, got {other:?}")),
    }

    let client = Client::with_access_key(url, ADMIN_KEY).map_err(|e| e.to_string())?;
    let listed = client
        .list_copy_services()
        .team_id("o19p6wen")
        .region_name("rainbond")
        .app_id("1")
        .send()
        .await
        .map_err(|e| format!("list_copy_services: {e}"))?;
    let copyable: Vec<AppCopyModify> = listed
        .iter()
        .filter(|component| component.copyable)
        .map(|component| AppCopyModify { service_id: component.service_id.clone(), change: None })
        .collect();
    println!("listed {} components, {} copyable", listed.len(), copyable.len());

    let body = AppCopyC {
        services: copyable,
        target_team_name: "o19p6wen".into(),
        target_region_name: "rainbond".into(),
        target_app_id: 2,
    };
    let copied = client
        .copy_app()
        .team_id("o19p6wen")
        .region_name("rainbond")
        .app_id("1")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("copy_app: {e}"))?;
    let mut names: Vec<&str> =
        copied.services.iter().map(|service| service.service_cname.as_deref().unwrap_or("(no name)")).collect();
    names.sort_unstable();
    println!("copied into app 2: {}", names.join(", "));
    Ok(())
}
