//! Calls `copy_app` through rainbond-client's public API only, as a user's crate does.
//!
//! Usage: `rainbond-client-downstream <base-url>`. The server must answer the copy of app `1`
//! with 200 and the copy of app `404` with a documented error.

use std::process::ExitCode;

use rainbond_client::types::{AppCopyC, AppCopyCRes, AppCopyModify, ErrorBody};
use rainbond_client::{Client, Error, ResponseValue};

fn body() -> AppCopyC {
    AppCopyC {
        services: vec![AppCopyModify { service_id: "0c1f5b2a9e7d4c3b8a6f1e2d3c3a9c1d".into(), change: None }],
        target_team_name: "o19p6wen".into(),
        target_region_name: "rainbond".into(),
        target_app_id: 2,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: rainbond-client-downstream <base-url>");
        return ExitCode::from(2);
    };

    let client = rainbond_client::Client::new(&url);
    let copied: Result<ResponseValue<AppCopyCRes>, Error<ErrorBody>> =
        client.copy_app().team_id("t").region_name("r").app_id("1").body(body()).send().await;
    match copied {
        Ok(copied) => {
            for component in &copied.services {
                println!("copied {} {}", component.service_alias, component.k8s_component_name);
            }
        }
        Err(e) => {
            eprintln!("copy of app 1 failed: {e}");
            return ExitCode::FAILURE;
        }
    }

    let client = match Client::with_access_key(&url, "downstream-key") {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match client.copy_app().team_id("t").region_name("r").app_id("404").body(body()).send().await {
        Err(Error::ErrorResponse(response)) => {
            let status = response.status().as_u16();
            let ErrorBody { code, msg, msg_show } = response.into_inner();
            println!("error {status} {code} {msg} {msg_show}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("expected Error::ErrorResponse for app 404, got {other:?}");
            ExitCode::FAILURE
        }
    }
}
