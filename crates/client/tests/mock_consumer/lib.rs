//! A downstream crate's own code on top of rainbond-client, and its tests against the client's
//! generated mock (`rainbond_client::mock`): no Rainbond server anywhere.

use rainbond_client::{Client, Error, types};

/// Copies every complete component of app `app_id` (team `o19p6wen`, region `rainbond`) into
/// app `target_app_id` of the same team and region, and returns the new components' names,
/// sorted; a refusal comes back as the server's `msg_show`.
pub async fn copy_whole_app(client: &Client, app_id: &str, target_app_id: i32) -> Result<Vec<String>, String> {
    let body = types::AppCopyC {
        services: Vec::new(),
        target_team_name: "o19p6wen".to_owned(),
        target_region_name: "rainbond".to_owned(),
        target_app_id,
    };
    let sent = client.copy_app().team_id("o19p6wen").region_name("rainbond").app_id(app_id).body(body).send().await;
    match sent {
        Ok(copied) => {
            let mut names: Vec<String> =
                copied.into_inner().services.into_iter().filter_map(|service| service.service_cname).collect();
            names.sort();
            Ok(names)
        }
        Err(Error::ErrorResponse(refusal)) => Err(refusal.into_inner().msg_show),
        Err(other) => Err(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use rainbond_client::mock::MockServerExt;
    use rainbond_client::mock::httpmock::MockServer;
    use serde_json::json;

    use super::*;

    fn copied(name: &str) -> types::ServiceBaseInfo {
        serde_json::from_value(json!({
            "service_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1", "tenant_id": "t1", "service_key": "application",
            "service_alias": "gr100001", "service_cname": name, "service_region": "rainbond",
            "category": "application", "version": "8.0", "image": "mysql:8.0", "k8s_component_name": name,
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_copy_returns_the_new_components_names() {
        let server = MockServer::start_async().await;
        let expected_body = types::AppCopyC {
            services: Vec::new(),
            target_team_name: "o19p6wen".to_owned(),
            target_region_name: "rainbond".to_owned(),
            target_app_id: 2,
        };
        let copy = server.copy_app(|when, then| {
            when.team_id("o19p6wen").region_name("rainbond").app_id("1").body(&expected_body);
            then.ok(&types::AppCopyCRes { services: vec![copied("web-copy"), copied("db-copy")] });
        });
        let client = Client::new(&server.base_url());
        assert_eq!(copy_whole_app(&client, "1", 2).await, Ok(vec!["db-copy".to_owned(), "web-copy".to_owned()]));
        copy.assert_async().await;
    }

    #[tokio::test]
    async fn a_refusal_returns_the_servers_message() {
        let server = MockServer::start_async().await;
        let refusal = server.copy_app(|when, then| {
            when.app_id("9");
            then.not_found(&types::ErrorBody { code: 4000, msg: "the app is not found".into(), msg_show: "应用不存在".into() });
        });
        let client = Client::new(&server.base_url());
        assert_eq!(copy_whole_app(&client, "9", 2).await, Err("应用不存在".to_owned()));
        refusal.assert_async().await;
    }
}
