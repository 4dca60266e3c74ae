//! The id the server gave a request (`x-request-id`), on a success and on an error, so that a
//! failed call can be matched with the server's log lines.

use crate::{Error, ResponseValue};

/// The response header that carries the request's id. A request that sends one (for example
/// through [`reqwest::ClientBuilder::default_headers`]) gets it back when it is 1 to 128 ASCII
/// letters, digits, `-`, `_`, `.` or `:`; otherwise the server makes one up.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The server's id of the request that produced a response.
///
/// ```no_run
/// # async fn example(client: rainbond_client::Client) {
/// use rainbond_client::RequestId;
///
/// match client.list_copy_services().team_id("o19p6wen").region_name("rainbond").app_id("1").send().await {
///     Ok(components) => println!("{} components (request {:?})", components.len(), components.request_id()),
///     Err(error) => eprintln!("failed: {error} (request {:?})", error.request_id()),
/// }
/// # }
/// ```
pub trait RequestId {
    /// The `x-request-id` the server answered with; `None` when no response came (a connection
    /// failure) or it had none.
    fn request_id(&self) -> Option<&str>;
}

fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers.get(REQUEST_ID_HEADER)?.to_str().ok()
}

impl<T> RequestId for ResponseValue<T> {
    fn request_id(&self) -> Option<&str> {
        from_headers(self.headers())
    }
}

impl<E> RequestId for Error<E> {
    fn request_id(&self) -> Option<&str> {
        match self {
            Error::ErrorResponse(response) => response.request_id(),
            Error::UnexpectedResponse(response) => from_headers(response.headers()),
            _ => None,
        }
    }
}
