//! The API's path and query parameters, checked against `openapi.json` before any handler runs:
//! each must match its documented schema (a string `pattern`, an integer within `minimum` and
//! `maximum` written in its plain decimal form, or `oneOf` those, each given in place or by a
//! `$ref` to the document's components), or the request gets 400 with
//! the parameter's documented form as the reason. So the schema states exactly the forms the
//! API takes, and the handlers, which parse more leniently (hex in either case, a sign before a
//! height), only ever see documented ones. Query parameters a path does not document are
//! ignored, as HTTP caches and proxies may add their own.

use crate::api::ApiError;
use axum::extract::{MatchedPath, Query, RawPathParams, Request, State};
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
    /// Compiles `schema`, whose references point into `spec`.
    fn from_schema(schema: &Value, spec: &Value) -> Result<Self, String> {
        if let Some(reference) = schema["$ref"].as_str() {
            let target = reference.strip_prefix('#').and_then(|pointer| spec.pointer(pointer));
            return Self::from_schema(target.ok_or(format!("no schema at {reference}"))?, spec);
        }
        if let Some(options) = schema["oneOf"].as_array() {
            return options.iter().map(|o| Self::from_schema(o, spec)).collect::<Result<_, _>>().map(Self::OneOf);
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

/// Where a parameter is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    Path,
    Query,
}

/// A documented parameter: its check, and its description for the reason of a 400.
#[derive(Debug)]
pub struct Param {
    pub check: Check,
    pub description: String,
}

/// The parameters of every path, by path as the schema writes it (`/blocks/{id}`), then by
/// where and name.
#[derive(Debug)]
pub struct ParamChecks(BTreeMap<String, BTreeMap<(Location, String), Param>>);

impl ParamChecks {
    /// Compiles the path and query parameters of every GET in `openapi`.
    pub fn from_openapi(openapi: &str) -> Result<Self, String> {
        let spec: Value = serde_json::from_str(openapi).map_err(|e| format!("openapi.json: {e}"))?;
        let paths = spec["paths"].as_object().ok_or("openapi.json has no paths")?;
        let mut checks = BTreeMap::new();
        for (path, item) in paths {
            let mut by_name = BTreeMap::new();
            for parameter in item["get"]["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().ok_or("a parameter without name")?;
                let location = match parameter["in"].as_str() {
                    Some("path") => Location::Path,
                    Some("query") => Location::Query,
                    other => return Err(format!("{path} {name}: a parameter in {other:?}")),
                };
                let check =
                    Check::from_schema(&parameter["schema"], &spec).map_err(|e| format!("{path} {name}: {e}"))?;
                let description = parameter["description"].as_str().unwrap_or_default().to_owned();
                by_name.insert((location, name.to_owned()), Param { check, description });
            }
            checks.insert(path.clone(), by_name);
        }
        Ok(Self(checks))
    }

    /// Parameter `name` given at `location` on `path` (as the schema writes it), if documented.
    pub fn get(&self, path: &str, location: Location, name: &str) -> Option<&Param> {
        self.0.get(path)?.get(&(location, name.to_owned()))
    }

    /// Why `value` for parameter `name` is refused, if it is: undocumented path parameters are
    /// refused, undocumented query parameters ignored.
    fn refusal(&self, path: &str, location: Location, name: &str, value: &str) -> Option<String> {
        match self.get(path, location, name) {
            None if location == Location::Query => None,
            Some(param) if param.check.accepts(value) => None,
            param => {
                let form = param.map(|p| format!(": {}", p.description)).unwrap_or_default();
                Some(format!("{name} is not in the form openapi.json gives for {path}{form}"))
            }
        }
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
    let refuse = |reason: String| ApiError::new(StatusCode::BAD_REQUEST, reason).into_response();
    for (name, value) in &params {
        if let Some(reason) = checks.refusal(path, Location::Path, name, value) {
            return refuse(reason);
        }
    }
    let query = match Query::<Vec<(String, String)>>::try_from_uri(request.uri()) {
        Ok(Query(pairs)) => pairs,
        Err(rejection) => return refuse(rejection.body_text()),
    };
    for (name, value) in &query {
        if let Some(reason) = checks.refusal(path, Location::Query, name, value) {
            return refuse(reason);
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(schema: Value, text: &str, expected: bool) {
        let compiled = Check::from_schema(&schema, &Value::Null).expect("a valid schema");
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
    fn references_are_followed_into_the_document() {
        let spec =
            serde_json::json!({ "components": { "schemas": { "Id": { "type": "string", "pattern": "^a+$" } } } });
        let compiled = Check::from_schema(&serde_json::json!({ "$ref": "#/components/schemas/Id" }), &spec);
        assert!(compiled.as_ref().is_ok_and(|c| c.accepts("aa") && !c.accepts("ab")), "{compiled:?}");
        let missing = Check::from_schema(&serde_json::json!({ "$ref": "#/components/schemas/Nope" }), &spec);
        assert_eq!(missing.err(), Some("no schema at #/components/schemas/Nope".into()));
    }

    #[test]
    fn the_served_schema_compiles() {
        let checks = ParamChecks::from_openapi(include_str!("openapi.json")).expect("compiles");
        assert!(checks.get("/blocks/{id}", Location::Path, "id").is_some());
        assert!(checks.get("/tx/{txid}", Location::Path, "txid").is_some());
        assert!(checks.get("/address/{address}", Location::Path, "address").is_some());
    }

    #[test]
    fn the_history_page_parameters_are_documented_with_the_api_s_limits() {
        let checks = ParamChecks::from_openapi(include_str!("openapi.json")).expect("compiles");
        let param = |name| checks.get("/address/{address}", Location::Query, name).expect("documented");
        let max = crate::api::ADDRESS_HISTORY_PAGE_MAX.to_string();
        let over = (crate::api::ADDRESS_HISTORY_PAGE_MAX + 1).to_string();
        for (text, expected) in [("1", true), (max.as_str(), true), ("0", false), (over.as_str(), false), ("x", false)]
        {
            assert_eq!(param("limit").check.accepts(text), expected, "limit={text}");
        }
        // Heights and positions are u32s, in plain decimal: the cursor's parser takes every one.
        let cursors = [
            ("12:0", true),
            ("0:0", true),
            ("4294967295:4294967295", true),
            ("4294967296:0", false),
            ("0:9999999999", false),
            ("012:0", false),
            ("12", false),
            ("12:", false),
            ("a:b", false),
        ];
        for (text, expected) in cursors {
            assert_eq!(param("before").check.accepts(text), expected, "before={text}");
            let parsed = text.parse::<crate::chain_index::HistoryCursor>();
            assert!(!expected || parsed.is_ok(), "the schema admits {text}, so the API must take it: {parsed:?}");
        }
    }
}
