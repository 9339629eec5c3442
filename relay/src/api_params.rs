//! The API's path parameters, checked against `openapi.json` before any handler runs: each must
//! match its documented schema (a string `pattern`, an integer within `minimum` and `maximum`
//! written in its plain decimal form, or `oneOf` those), or the request gets 400. So the schema
//! states exactly the forms the API takes, and the handlers, which parse more leniently (hex in
//! either case, a sign before a height), only ever see documented ones.

use crate::api::ApiError;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the API is mounted: `MatchedPath` includes it, the schema's paths do not.
const API_PREFIX: &str = "/api";

/// One parameter's schema, compiled.
#[derive(Debug)]
pub enum Check {
    Pattern(Regex),
    Integer { min: u64, max: u64 },
    OneOf(Vec<Check>),
}

impl Check {
    fn from_schema(schema: &Value) -> Result<Self, String> {
        if let Some(options) = schema["oneOf"].as_array() {
            return options.iter().map(Self::from_schema).collect::<Result<_, _>>().map(Self::OneOf);
        }
        match schema["type"].as_str() {
            Some("integer") => Ok(Self::Integer {
                min: schema["minimum"].as_u64().unwrap_or(0),
                max: schema["maximum"].as_u64().ok_or("an integer parameter without maximum")?,
            }),
            Some("string") => {
                let pattern = schema["pattern"].as_str().ok_or("a string parameter without pattern")?;
                Regex::new(pattern).map(Self::Pattern).map_err(|e| format!("pattern {pattern}: {e}"))
            }
            other => Err(format!("a parameter of type {other:?}")),
        }
    }

    /// Whether `text` is in a form the schema documents.
    pub fn accepts(&self, text: &str) -> bool {
        match self {
            Self::Pattern(regex) => regex.is_match(text),
            Self::Integer { min, max } => {
                let plain = text == "0" || (!text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit()));
                plain && text.parse::<u64>().is_ok_and(|n| (*min..=*max).contains(&n))
            }
            Self::OneOf(options) => options.iter().any(|check| check.accepts(text)),
        }
    }
}

/// The checks of every path's parameters, by path as the schema writes it (`/blocks/{id}`).
#[derive(Debug)]
pub struct ParamChecks(BTreeMap<String, BTreeMap<String, Check>>);

impl ParamChecks {
    /// Compiles the path parameters of every GET in `openapi`.
    pub fn from_openapi(openapi: &str) -> Result<Self, String> {
        let spec: Value = serde_json::from_str(openapi).map_err(|e| format!("openapi.json: {e}"))?;
        let paths = spec["paths"].as_object().ok_or("openapi.json has no paths")?;
        let mut checks = BTreeMap::new();
        for (path, item) in paths {
            let mut by_name = BTreeMap::new();
            for parameter in item["get"]["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().ok_or("a parameter without name")?;
                let check = Check::from_schema(&parameter["schema"]).map_err(|e| format!("{path} {name}: {e}"))?;
                by_name.insert(name.to_owned(), check);
            }
            checks.insert(path.clone(), by_name);
        }
        Ok(Self(checks))
    }

    /// The check of parameter `name` on `path` (as the schema writes it), if documented.
    pub fn get(&self, path: &str, name: &str) -> Option<&Check> {
        self.0.get(path)?.get(name)
    }
}

/// Middleware (a route layer, so the route is known): 400 for a parameter out of its schema.
pub async fn check(
    State(checks): State<Arc<ParamChecks>>,
    matched: MatchedPath,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    let path = matched.as_str().strip_prefix(API_PREFIX).unwrap_or(matched.as_str());
    for (name, value) in &params {
        let documented = checks.get(path, name).is_some_and(|check| check.accepts(value));
        if !documented {
            let reason = format!("{name} is not in the form openapi.json gives for {path}");
            return ApiError::new(StatusCode::BAD_REQUEST, reason).into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: Value, text: &str, expected: bool) {
        let compiled = Check::from_schema(&schema).expect("a valid schema");
        assert_eq!(compiled.accepts(text), expected, "{text:?} under {schema}");
    }

    #[test]
    fn integers_take_their_plain_decimal_form_within_range() {
        let height = serde_json::json!({ "type": "integer", "minimum": 0, "maximum": 4_294_967_295u64 });
        for (text, expected) in
            [("0", true), ("7", true), ("4294967295", true), ("4294967296", false), ("007", false), ("+7", false)]
        {
            check(height.clone(), text, expected);
        }
        for text in ["-1", "", " 7", "7 ", "1e3", "0x10"] {
            check(height.clone(), text, false);
        }
    }

    #[test]
    fn one_of_takes_any_and_patterns_are_anchored_as_written() {
        let id = serde_json::json!({ "oneOf": [
            { "type": "integer", "minimum": 0, "maximum": 10 },
            { "type": "string", "pattern": "^[0-9a-f]{4}$" },
        ]});
        for (text, expected) in [("10", true), ("11", false), ("beef", true), ("BEEF", false), ("beefy", false)] {
            check(id.clone(), text, expected);
        }
    }

    #[test]
    fn the_served_schema_compiles() {
        let checks = ParamChecks::from_openapi(include_str!("openapi.json")).expect("compiles");
        assert!(checks.get("/blocks/{id}", "id").is_some());
        assert!(checks.get("/tx/{txid}", "txid").is_some());
        assert!(checks.get("/address/{address}", "address").is_some());
    }
}
