//! Body and query extractors whose rejections use the API's error shape.
//!
//! axum's own `Json` answers plain text; these answer `{"detail", "code"}` with the field
//! that was wrong, so a bad request reads the same whichever layer caught it.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::error::FieldError;

/// The largest body a route accepts, put in request extensions by the body-limit layer so
/// that the 413 message can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body. An empty body reads as `{}`, so a route whose fields are all optional
/// accepts a bodiless request (the dashboard sends `Content-Type: application/json` on those).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    mime.eq_ignore_ascii_case("application/json")
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Body(bytes) = Body::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return parse(b"{}").map(Json);
        }
        match content_type.as_deref() {
            Some(ct) if is_json(ct) => parse(&bytes).map(Json),
            _ => Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Expected a JSON body with Content-Type: application/json",
            )),
        }
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::validation(vec![field_error("body", &path, &inner)])
            }
            _ => ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("Malformed JSON body: {inner}"),
            ),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("Malformed JSON body: {e}"),
        )
    })?;
    Ok(value)
}

/// Turns a serde data error into `{loc, msg, type}`, naming the missing or unknown field
/// (serde reports those at the parent's path).
fn field_error(root: &str, path: &str, err: &serde_json::Error) -> FieldError {
    let full = err.to_string();
    // serde_json appends " at line L column C"; the location in the path is what matters.
    let msg = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(m, _)| m)
        .to_owned();
    let mut loc = vec![root.to_owned()];
    loc.extend(
        path.split('.')
            .filter(|s| !s.is_empty() && *s != "?")
            .map(str::to_owned),
    );
    let quoted = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    // serde_path_to_error includes an unknown field in the path but not a missing one.
    let mut name_field = |field: String| {
        if loc.last() != Some(&field) {
            loc.push(field);
        }
    };
    let kind = if let Some(field) = quoted("missing field `") {
        name_field(field);
        "missing"
    } else if let Some(field) = quoted("unknown field `") {
        name_field(field);
        "extra_forbidden"
    } else if msg.starts_with("invalid type") {
        "type_error"
    } else {
        "value_error"
    };
    FieldError {
        loc,
        msg,
        kind: kind.to_owned(),
    }
}

/// Query parameters; a malformed one is a 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let msg = err.into_inner().to_string();
                let mut loc = vec!["query".to_owned()];
                if path != "." {
                    loc.push(path);
                } else if let Some(field) = msg
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                {
                    loc.push(field.to_owned());
                }
                ApiError::validation(vec![FieldError {
                    loc,
                    msg,
                    kind: "value_error".to_owned(),
                }])
            })
    }
}

/// Raw body bytes with the size limit applied and a JSON 413.
#[derive(Debug, Clone)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0);
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::payload_too_large(limit.unwrap_or(0))
                } else {
                    ApiError::bad_request(format!("Could not read the request body: {rejection}"))
                }
            })
    }
}

/// `limit` and `offset` of a list request, checked against the list's cap: each broken rule
/// is pushed to `errors` (so they are reported with the list's other query errors).
pub fn page(limit: i64, offset: i64, max: i64, errors: &mut Vec<FieldError>) -> (u32, u32) {
    if !(1..=max).contains(&limit) {
        errors.push(FieldError::query(
            "limit",
            format!("must be between 1 and {max}"),
        ));
    }
    if offset < 0 {
        errors.push(FieldError::query("offset", "must not be negative"));
    }
    (
        limit.clamp(1, max) as u32,
        offset.clamp(0, i64::from(u32::MAX)) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn detail(err: ApiError) -> serde_json::Value {
        err.body()["detail"].clone()
    }

    #[test]
    fn a_missing_field_is_located_and_typed() {
        let d = detail(parse::<Probe>(b"{}").unwrap_err());
        assert_eq!(d[0]["loc"], serde_json::json!(["body", "name"]));
        assert_eq!(d[0]["type"], "missing");
    }

    #[test]
    fn a_nested_wrong_type_names_its_path() {
        let d = detail(parse::<Probe>(br#"{"name":"x","inner":{"count":"many"}}"#).unwrap_err());
        assert_eq!(d[0]["loc"], serde_json::json!(["body", "inner", "count"]));
        assert_eq!(d[0]["type"], "type_error");
    }

    #[test]
    fn an_unknown_field_is_reported_as_extra() {
        let d = detail(parse::<Probe>(br#"{"name":"x","nmae":"y"}"#).unwrap_err());
        assert_eq!(d[0]["loc"], serde_json::json!(["body", "nmae"]));
        assert_eq!(d[0]["type"], "extra_forbidden");
    }

    #[test]
    fn broken_syntax_is_a_400_not_a_422() {
        let err = parse::<Probe>(br#"{"name": "#).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        let err = parse::<Probe>(br#"{"name":"x"} trailing"#).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
