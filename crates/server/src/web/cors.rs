//! CORS for the public API: anyone may read it from any origin, without
//! credentials, with `GET` or `HEAD`.
//!
//! That policy needs no per-request decision: it is one fixed header on
//! every API response, set by the API's handlers and its error type, and a
//! fixed answer to preflights. No layer is involved on purpose: a layer on
//! the API's routes (`tower-http`'s, or even a minimal one) wraps every
//! route in one more boxed service cloned on each request, which cost
//! 5 to 10 % of the locate endpoint's throughput (see `bench/README.md`).
//! `tests/api/locate.rs` checks that every kind of API response carries
//! the header.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// How long browsers may keep a preflight answer: a day.
const PREFLIGHT_MAX_AGE: &str = "86400";

/// Marks a response of the public API as readable from any origin.
pub fn open(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// A preflight is an `OPTIONS` request naming the method it prepares.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// `204` allowing `GET` and `HEAD` from anywhere, with the request headers
/// the browser asked about (no credentials are ever allowed, so echoing
/// them grants nothing).
pub fn preflight(headers: &HeaderMap) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD"),
    );
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    open(resp)
}
