//! Websocket operations (`x-dropshot-websocket`): a request the router cannot upgrade is refused
//! with 426 Upgrade Required before the handler runs.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Rejection, RejectionKind};

/// The websocket version the router upgrades to (RFC 6455).
const WEBSOCKET_VERSION: &str = "13";

/// A request to a websocket operation that is not a websocket upgrade (no `Connection: upgrade`,
/// no `Upgrade: websocket`, no `Sec-WebSocket-Key`, another `Sec-WebSocket-Version` than 13, or a
/// connection that cannot be upgraded), as a [`Rejection`] with status 426 Upgrade Required.
pub fn not_an_upgrade(rejection: &WebSocketUpgradeRejection) -> Rejection {
    Rejection {
        status: StatusCode::UPGRADE_REQUIRED,
        kind: RejectionKind::NotAnUpgrade,
        message: format!("this operation is a websocket upgrade: {}", rejection.body_text()),
    }
}

/// `response`, the answer to a request [`not_an_upgrade`] refused, with the headers that say which
/// upgrade the operation takes: `Upgrade: websocket` (RFC 9110 asks it of every 426) and
/// `Sec-WebSocket-Version: 13`.
pub fn upgrade_required(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static(WEBSOCKET_VERSION));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::FromRequestParts;
    use axum::extract::ws::WebSocketUpgrade;
    use axum::http::Request;

    use super::*;

    async fn refused(request: Request<Body>) -> Rejection {
        let (mut parts, _) = request.into_parts();
        let rejection = WebSocketUpgrade::from_request_parts(&mut parts, &()).await.expect_err("not an upgrade");
        not_an_upgrade(&rejection)
    }

    #[tokio::test]
    async fn a_plain_get_is_refused_with_426_saying_what_is_missing() {
        let rejection = refused(Request::get("/echo").body(Body::empty()).unwrap()).await;
        assert_eq!((rejection.status, rejection.kind), (StatusCode::UPGRADE_REQUIRED, RejectionKind::NotAnUpgrade));
        assert!(rejection.message.starts_with("this operation is a websocket upgrade: "), "{}", rejection.message);
        assert!(rejection.message.contains("Connection"), "names the header: {}", rejection.message);
    }

    #[tokio::test]
    async fn an_upgrade_to_another_websocket_version_is_refused_too() {
        let request = Request::get("/echo")
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "8")
            .body(Body::empty())
            .unwrap();
        let rejection = refused(request).await;
        assert_eq!(rejection.status, StatusCode::UPGRADE_REQUIRED);
        assert!(rejection.message.contains("Sec-WebSocket-Version"), "{}", rejection.message);
    }

    #[test]
    fn the_refusal_names_the_upgrade_the_operation_takes() {
        let response = upgrade_required(Response::new(Body::empty()));
        assert_eq!(response.headers()[header::UPGRADE], "websocket");
        assert_eq!(response.headers()[header::SEC_WEBSOCKET_VERSION], "13");
    }
}
