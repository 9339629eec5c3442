//! A validator for the part of JSON Schema that `openapi.json` uses, in OpenAPI 3.0's dialect:
//! `$ref` into the document, `type` (with `nullable`), `enum`, `oneOf`, `pattern`, `format`
//! (`tabchain-address`), `minimum`/`maximum`, `minLength`/`maxLength`, `minItems`/`maxItems`,
//! `items`, `properties`, `required` and `additionalProperties`. A keyword it does not know is a
//! violation, so the document cannot grow a rule that this check would silently skip.

use regex::Regex;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use tabchain_core::{Network, decode_address};

/// Keywords that only describe, and constrain nothing.
const ANNOTATIONS: [&str; 3] = ["description", "default", "example"];

/// Where a value breaks its schema, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// A JSON pointer into the value (`/history/0/txid`; empty for the value itself).
    pub at: String,
    pub reason: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {:?}: {}", self.at, self.reason)
    }
}

/// Validates values against the schemas of one OpenAPI document.
pub struct Validator<'a> {
    spec: &'a Value,
    /// Each pattern compiled once.
    patterns: RefCell<BTreeMap<String, Regex>>,
}

impl<'a> Validator<'a> {
    pub fn new(spec: &'a Value) -> Self {
        Self { spec, patterns: RefCell::new(BTreeMap::new()) }
    }

    /// `schema` with its `$ref`s followed into the document.
    pub fn resolve<'s>(&self, mut schema: &'s Value) -> &'s Value
    where
        'a: 's,
    {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("a reference outside: {reference}"));
            schema = self.spec.pointer(pointer).unwrap_or_else(|| panic!("no schema at {reference}"));
        }
        schema
    }

    pub fn validate(&self, schema: &Value, value: &Value) -> Result<(), Violation> {
        self.check(schema, value, "")
    }

    fn check(&self, schema: &Value, value: &Value, at: &str) -> Result<(), Violation> {
        let schema = self.resolve(schema);
        let violation = |reason: String| Violation { at: at.to_owned(), reason };
        let keywords = schema.as_object().ok_or_else(|| violation(format!("{schema} is not a schema")))?;
        if value.is_null() {
            let nullable = keywords.get("nullable") == Some(&Value::Bool(true));
            return if nullable { Ok(()) } else { Err(violation("null where the schema is not nullable".into())) };
        }
        for (keyword, rule) in keywords {
            match keyword.as_str() {
                "nullable" | "required" => {}
                "properties" => self.check_object(keywords, value, at)?,
                "additionalProperties" if !keywords.contains_key("properties") => {
                    self.check_object(keywords, value, at)?;
                }
                "additionalProperties" => {}
                "items" => self.check_items(rule, value, at)?,
                "oneOf" => {
                    let options = rule.as_array().ok_or_else(|| violation("oneOf is not a list".into()))?;
                    let matching = options.iter().filter(|o| self.check(o, value, at).is_ok()).count();
                    if matching != 1 {
                        return Err(violation(format!("{value} matches {matching} of oneOf's options, not one")));
                    }
                }
                "type" => check_type(rule, value).map_err(violation)?,
                "enum" => {
                    let options = rule.as_array().ok_or_else(|| violation("enum is not a list".into()))?;
                    if !options.contains(value) {
                        return Err(violation(format!("{value} is not one of {rule}")));
                    }
                }
                "pattern" => self.check_pattern(rule, value).map_err(violation)?,
                "format" => check_format(rule, value).map_err(violation)?,
                "minimum" | "maximum" | "minLength" | "maxLength" | "minItems" | "maxItems" => {
                    check_bound(keyword, rule, value).map_err(violation)?;
                }
                other if ANNOTATIONS.contains(&other) => {}
                other => return Err(violation(format!("the validator does not know the keyword {other}"))),
            }
        }
        if let (Some(required), Some(object)) = (keywords.get("required"), value.as_object()) {
            for name in required.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !object.contains_key(name) {
                    return Err(violation(format!("the required property {name} is missing")));
                }
            }
        }
        Ok(())
    }

    /// `properties` and `additionalProperties` (`false`, or absent for any).
    fn check_object(
        &self,
        keywords: &serde_json::Map<String, Value>,
        value: &Value,
        at: &str,
    ) -> Result<(), Violation> {
        let Some(object) = value.as_object() else { return Ok(()) };
        let properties = keywords.get("properties").and_then(Value::as_object);
        let closed = keywords.get("additionalProperties") == Some(&Value::Bool(false));
        for (name, item) in object {
            let here = format!("{at}/{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(schema) => self.check(schema, item, &here)?,
                None if closed => {
                    return Err(Violation { at: here, reason: "a property the schema does not list".into() });
                }
                None => {}
            }
        }
        Ok(())
    }

    fn check_items(&self, schema: &Value, value: &Value, at: &str) -> Result<(), Violation> {
        let Some(items) = value.as_array() else { return Ok(()) };
        items.iter().enumerate().try_for_each(|(i, item)| self.check(schema, item, &format!("{at}/{i}")))
    }

    fn check_pattern(&self, rule: &Value, value: &Value) -> Result<(), String> {
        let (Some(pattern), Some(text)) = (rule.as_str(), value.as_str()) else { return Ok(()) };
        let mut patterns = self.patterns.borrow_mut();
        if !patterns.contains_key(pattern) {
            let compiled = Regex::new(pattern).map_err(|e| format!("pattern {pattern}: {e}"))?;
            patterns.insert(pattern.to_owned(), compiled);
        }
        if patterns[pattern].is_match(text) { Ok(()) } else { Err(format!("{text:?} does not match {pattern}")) }
    }
}

fn check_type(rule: &Value, value: &Value) -> Result<(), String> {
    let fits = match rule.as_str() {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        _ => return Err(format!("an unknown type {rule}")),
    };
    if fits { Ok(()) } else { Err(format!("{value} is not of type {rule}")) }
}

/// `tabchain-address`: an address of a network a node runs, its checksum right.
fn check_format(rule: &Value, value: &Value) -> Result<(), String> {
    let Some(text) = value.as_str() else { return Ok(()) };
    match rule.as_str() {
        Some("tabchain-address") => {
            let valid = Network::RUNNABLE.iter().any(|n| decode_address(n.params().address_hrp, text).is_ok());
            if valid { Ok(()) } else { Err(format!("{text:?} is not a tabchain address")) }
        }
        _ => Err(format!("an unknown format {rule}")),
    }
}

fn check_bound(keyword: &str, rule: &Value, value: &Value) -> Result<(), String> {
    let bound = rule.as_f64().ok_or_else(|| format!("{keyword} {rule} is not a number"))?;
    let measured = match keyword {
        "minimum" | "maximum" => value.as_f64(),
        "minLength" | "maxLength" => value.as_str().map(|s| s.chars().count() as f64),
        _ => value.as_array().map(|a| a.len() as f64),
    };
    let Some(measured) = measured else { return Ok(()) };
    let within = if keyword.starts_with("min") { measured >= bound } else { measured <= bound };
    if within { Ok(()) } else { Err(format!("{value} breaks {keyword} {bound}")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, value: Value, expected: Result<(), (&str, &str)>) {
        let spec = json!({ "components": { "schemas": { "Hash": { "type": "string", "pattern": "^[0-9a-f]{4}$" } } } });
        let found = Validator::new(&spec).validate(&schema, &value);
        let expected = expected.map_err(|(at, reason)| Violation { at: at.into(), reason: reason.into() });
        assert_eq!(found, expected, "{value} under {schema}");
    }

    #[test]
    fn each_keyword_holds_and_says_where_it_broke() {
        let hash = json!({ "$ref": "#/components/schemas/Hash" });
        check(hash.clone(), json!("beef"), Ok(()));
        check(hash.clone(), json!("BEEF"), Err(("", "\"BEEF\" does not match ^[0-9a-f]{4}$")));
        check(hash, json!(null), Err(("", "null where the schema is not nullable")));
        check(json!({ "type": "integer", "nullable": true }), json!(null), Ok(()));
        check(json!({ "type": "integer" }), json!(1.5), Err(("", "1.5 is not of type \"integer\"")));
        check(json!({ "type": "integer", "minimum": 1 }), json!(0), Err(("", "0 breaks minimum 1")));
        check(json!({ "enum": ["a", "b"] }), json!("c"), Err(("", "\"c\" is not one of [\"a\",\"b\"]")));
        let object = json!({
            "type": "object", "additionalProperties": false, "required": ["id"],
            "properties": { "id": { "type": "integer" }, "tags": { "type": "array", "maxItems": 2, "items": { "type": "string" } } },
        });
        check(object.clone(), json!({ "id": 1, "tags": ["x"] }), Ok(()));
        check(object.clone(), json!({ "tags": [] }), Err(("", "the required property id is missing")));
        check(object.clone(), json!({ "id": 1, "x": 0 }), Err(("/x", "a property the schema does not list")));
        check(object.clone(), json!({ "id": 1, "tags": ["x", 2] }), Err(("/tags/1", "2 is not of type \"string\"")));
        check(
            object,
            json!({ "id": 1, "tags": ["x", "y", "z"] }),
            Err(("/tags", "[\"x\",\"y\",\"z\"] breaks maxItems 2")),
        );
        let id = json!({ "oneOf": [{ "type": "integer" }, { "type": "number" }] });
        check(id, json!(7), Err(("", "7 matches 2 of oneOf's options, not one")));
        check(
            json!({ "type": "string", "if": {} }),
            json!("a"),
            Err(("", "the validator does not know the keyword if")),
        );
    }

    #[test]
    fn addresses_need_a_right_checksum() {
        let address = tabchain_core::encode_address("tabrt", &tabchain_core::PublicKey([3; 32]));
        let mut broken = address.clone();
        broken.replace_range(10..11, if &address[10..11] == "q" { "p" } else { "q" });
        let schema = json!({ "type": "string", "format": "tabchain-address" });
        check(schema.clone(), json!(address), Ok(()));
        check(schema, json!(broken), Err(("", &format!("{broken:?} is not a tabchain address"))));
    }
}
