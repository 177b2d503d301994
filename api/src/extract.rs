//! Extractors whose rejections are [`ApiError`]s.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON object body. An empty body reads as `{}`, so routes whose fields are
/// all optional accept none; anything else must be `application/json`.
///
/// A number with a zero fraction (`60.0`, `6e1`) is an integer, as JSON
/// Schema says, so integer fields accept it.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(BODY_LIMIT)
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else if json_type == Some(true) {
            &bytes
        } else {
            return Err(ApiError::UnsupportedMediaType);
        };
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        let mut value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
        integral_floats(&mut value);
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// Reads a `u64` in JSON Schema's `int64` range (at most `i64::MAX`), as
/// the OpenAPI document describes such fields.
///
/// # Errors
/// When the value is not an integer in that range.
pub fn int64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = <u64 as serde::Deserialize>::deserialize(d)?;
    if i64::try_from(v).is_err() {
        return Err(serde::de::Error::custom(format!(
            "{v} is over {}",
            i64::MAX
        )));
    }
    Ok(v)
}

/// [`int64`] for an optional field (use with `#[serde(default)]`).
///
/// # Errors
/// When the value is neither `null` nor an integer in that range.
pub fn int64_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Int64(#[serde(deserialize_with = "int64")] u64);
    let v = <Option<Int64> as serde::Deserialize>::deserialize(d)?;
    Ok(v.map(|Int64(n)| n))
}

/// Rewrites every number with a zero fraction that fits a 64-bit integer
/// as that integer.
fn integral_floats(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^64 and -2^63: the ends of u64 and i64, exactly.
            const U64_END: f64 = 18_446_744_073_709_551_616.0;
            const I64_START: f64 = -9_223_372_036_854_775_808.0;
            if f.fract() == 0.0 {
                if (0.0..U64_END).contains(&f) {
                    *v = Value::from(f as u64);
                } else if (I64_START..0.0).contains(&f) {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_with_a_zero_fraction_are_integers() {
        let mut v = json!({"a": 60.0, "b": [1.5, -3.0, 1e3], "c": "2.0", "d": 1e30});
        integral_floats(&mut v);
        assert_eq!(
            v,
            json!({"a": 60, "b": [1.5, -3, 1000], "c": "2.0", "d": 1e30})
        );
        assert!(v["a"].is_u64() && v["b"][1].is_i64());
    }
}
