//! The success envelope: `{"success": true, "data": …, ["count"], ["message"]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// `{"success": true, "data": data}`.
pub fn ok(data: impl Serialize) -> Response {
    Json(json!({ "success": true, "data": data })).into_response()
}

/// `201 Created` with the envelope.
pub fn created(data: impl Serialize) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({ "success": true, "data": data })),
    )
        .into_response()
}

/// `{"success": true, ...fields}` for the endpoints whose fields sit at the top level.
pub fn top_level(fields: Value) -> Response {
    let mut body = Map::new();
    body.insert("success".to_owned(), Value::Bool(true));
    if let Value::Object(fields) = fields {
        body.extend(fields);
    }
    Json(Value::Object(body)).into_response()
}
