//! Response bodies: JSON objects as the core returns them (stored bytes),
//! lists spliced from those bytes without decoding them, plain text, and
//! errors as Kubernetes `Status` bodies (`status`).

use std::convert::Infallible;

use http::{StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use prost::bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;
use crate::rest::status::status_of;
use crate::verbs::ListPage;

/// Every response body: whole, or streamed (watches).
pub(crate) type Body = BoxBody<Bytes, Infallible>;

pub(crate) const JSON: &str = "application/json";

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn response(code: StatusCode, content_type: &str, body: Body) -> http::Response<Body> {
    let mut response = http::Response::new(body);
    *response.status_mut() = code;
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

pub(crate) fn json_bytes(code: StatusCode, bytes: Bytes) -> http::Response<Body> {
    response(code, JSON, full(bytes))
}

pub(crate) fn json_value(code: StatusCode, value: &Value) -> http::Response<Body> {
    json_bytes(code, Bytes::from(value.to_string()))
}

/// A serializable value as JSON.
pub(crate) fn json_serialized<T: serde::Serialize>(
    code: StatusCode,
    value: &T,
) -> http::Response<Body> {
    typed(code, JSON, value)
}

/// A serializable value as JSON with its own content type (a Table, a
/// discovery document).
pub(crate) fn typed<T: serde::Serialize>(
    code: StatusCode,
    content_type: &str,
    value: &T,
) -> http::Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => response(code, content_type, full(bytes)),
        Err(error) => self::error(&ApiError::internal(error)),
    }
}

pub(crate) fn text(code: StatusCode, text: &'static str) -> http::Response<Body> {
    response(code, "text/plain; charset=utf-8", full(text))
}

/// A streamed JSON body (a watch).
pub(crate) fn json_stream(body: Body) -> http::Response<Body> {
    response(StatusCode::OK, JSON, body)
}

/// The `Status` response of an error.
pub(crate) fn error(error: &ApiError) -> http::Response<Body> {
    let (code, status) = status_of(error);
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_value(code, &status)
}

/// A `<Kind>List` of the page's objects, spliced from their stored bytes.
pub(crate) fn list(info: &api::KindInfo, page: &ListPage) -> http::Response<Body> {
    let items_len: usize = page.items.iter().map(|item| item.wire.len() + 1).sum();
    let mut out = Vec::with_capacity(items_len + 160);
    out.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{}\"",
            info.kind,
            info.api_version(),
            page.revision
        )
        .as_bytes(),
    );
    if !page.continue_token.is_empty() {
        out.extend_from_slice(b",\"continue\":");
        out.extend_from_slice(
            Value::String(page.continue_token.clone())
                .to_string()
                .as_bytes(),
        );
    }
    out.extend_from_slice(b"},\"items\":[");
    for (index, item) in page.items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&item.wire);
    }
    out.extend_from_slice(b"]}");
    json_bytes(StatusCode::OK, Bytes::from(out))
}
