//! The API's document as the test relays (on regtest) serve it, its operations, and the one check
//! that an answer is one its operation documents: the status among the operation's responses,
//! and where the response has JSON content, a JSON body sent as such and valid under its schema.

use crate::json_schema::Validator;
use crate::support::Response;
use serde_json::Value;
use tabchain_core::Params;

/// The document a regtest relay serves at `/api/openapi.json`.
pub fn document() -> Value {
    serde_json::from_str(&tabchain_relay::openapi::document(&Params::regtest())).expect("openapi.json is JSON")
}

/// One operation of the document: a method on a path.
pub struct Operation<'a> {
    /// Lowercase, as the document writes it (`get`, `post`).
    pub method: &'a str,
    /// The path as the document writes it, under `/api` (`/blocks/{id}`).
    pub template: &'a str,
    pub spec: &'a Value,
}

impl Operation<'_> {
    /// Its parameters (path and query), references followed.
    pub fn parameters<'v>(&'v self, validator: &'v Validator) -> Vec<&'v Value> {
        self.spec["parameters"].as_array().into_iter().flatten().map(|p| validator.resolve(p)).collect()
    }

    /// Whether any of its answers is `status`.
    pub fn documents(&self, status: u16) -> bool {
        self.spec["responses"].get(status.to_string()).is_some()
    }
}

/// Every operation of `spec`, in the document's order.
pub fn operations(spec: &Value) -> Vec<Operation<'_>> {
    let paths = spec["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(template, item)| {
            let methods = item.as_object().expect("a path item").iter();
            methods.map(move |(method, spec)| Operation { method, template, spec })
        })
        .collect()
}

/// Whether `response` is an answer `method template` documents, and why not.
pub fn check_answer(
    validator: &Validator,
    spec: &Value,
    method: &str,
    template: &str,
    response: &Response,
) -> Result<(), String> {
    let status = response.status.to_string();
    let documented = spec["paths"][template][method]["responses"]
        .get(&status)
        .ok_or_else(|| format!("{method} {template} does not document {status}"))?;
    let documented = validator.resolve(documented);
    let Some(schema) = documented["content"].get("application/json").map(|c| &c["schema"]) else {
        return Ok(());
    };
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!("{method} {template} {status} is documented as JSON, sent as {content_type:?}"));
    }
    let body: Value = serde_json::from_slice(&response.body).map_err(|e| format!("{status} not JSON ({e})"))?;
    validator.validate(schema, &body).map_err(|v| format!("{method} {template} {status}: {v}; the body: {body}"))
}

/// Asserts that `openapi.json` documents `response` for `method template`.
pub fn assert_documented(method: &str, template: &str, response: &Response) {
    let spec = document();
    if let Err(why) = check_answer(&Validator::new(&spec), &spec, method, template, response) {
        panic!("{why}");
    }
}
