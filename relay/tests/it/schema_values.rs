//! Values drawn from the schemas of the API's document, for the fuzzer: strings from their
//! `pattern` (proptest's regular-expression strategies), addresses of the `tabchain-address`
//! format with a right checksum, integers within `minimum` and `maximum` (their ends drawn
//! often), `enum` and `oneOf` members, objects with their required properties and some of the
//! others, and near misses of valid text for requests the schema refuses. Values known to name
//! something (the test's own, and those its answers held) are drawn too, wherever the schema
//! admits them, so that lookups hit. Draws come from one seeded generator, so a run repeats
//! exactly; every value drawn is checked against its schema, so a draw that strays fails here
//! rather than being blamed on the server.

use crate::json_schema::Validator;
use proptest::prelude::RngExt as _;
use proptest::strategy::{Strategy as _, ValueTree as _};
use proptest::string::{RegexGeneratorStrategy, string_regex};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tabchain_core::{Network, PublicKey, encode_address};

/// Draws of one value before a schema that admits almost nothing is blamed.
const DRAW_TRIES_MAX: usize = 100;
/// Items of an array, and characters of a string without a pattern, drawn at the most.
const DRAWN_LENGTH_MAX: u64 = 12;
/// How often a nullable value is drawn as null, an optional property is left out, and an
/// integer is drawn at an end of its range.
const NULL_ODDS: f64 = 0.1;
const OPTIONAL_ODDS: f64 = 0.5;
const EDGE_ODDS: f64 = 0.3;
/// The span of an integer whose schema states no end.
const INTEGER_SPAN_DEFAULT: i64 = 1_000;
/// How often a string or integer is one the test put in (`plant`), and one an answer held
/// (`learn`), where the schema admits any.
const PLANTED_ODDS: f64 = 0.25;
const LEARNT_ODDS: f64 = 0.35;
/// Known values tried for a schema before drawing a new one instead.
const KNOWN_TRIES_MAX: usize = 24;
/// Values learnt from answers, kept at the most (the oldest are let go).
const LEARNT_MAX: usize = 2_048;

/// Values known to name something on the relay.
#[derive(Default)]
struct Known {
    /// Put in by the test: few, each chosen to reach a handler's success.
    planted: Vec<Value>,
    /// Strings and integers found in answers, oldest first, and the same as JSON text, to
    /// learn each once.
    learnt: std::collections::VecDeque<Value>,
    learnt_text: std::collections::BTreeSet<String>,
}

/// A seeded source of values for the schemas of one document.
pub struct ValueSource<'a> {
    validator: &'a Validator<'a>,
    runner: TestRunner,
    /// Each pattern's strategy, built once.
    patterns: BTreeMap<String, RegexGeneratorStrategy<String>>,
    known: Known,
}

impl<'a> ValueSource<'a> {
    pub fn new(validator: &'a Validator<'a>, seed: u64) -> Self {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let runner = TestRunner::new_with_rng(Config::default(), rng);
        Self { validator, runner, patterns: BTreeMap::new(), known: Known::default() }
    }

    /// Puts in a value that names something, for every schema that admits it.
    pub fn plant(&mut self, value: Value) {
        self.known.planted.push(value);
    }

    /// Learns the strings and integers of an answer, each once.
    pub fn learn(&mut self, answer: &Value) {
        let mut pending = vec![answer];
        while let Some(value) = pending.pop() {
            match value {
                Value::Array(items) => pending.extend(items),
                Value::Object(fields) => pending.extend(fields.values()),
                Value::String(_) | Value::Number(_) if self.known.learnt_text.insert(value.to_string()) => {
                    if self.known.learnt.len() == LEARNT_MAX
                        && let Some(oldest) = self.known.learnt.pop_front()
                    {
                        self.known.learnt_text.remove(&oldest.to_string());
                    }
                    self.known.learnt.push_back(value.clone());
                }
                _ => {}
            }
        }
    }

    /// A known value `schema` admits, if one is found in a few tries.
    fn known_value(&mut self, schema: &Value, planted: bool) -> Option<Value> {
        let n = if planted { self.known.planted.len() } else { self.known.learnt.len() };
        for _ in 0..KNOWN_TRIES_MAX.min(n) {
            let i = self.rng().random_range(0..n);
            let value = if planted { &self.known.planted[i] } else { &self.known.learnt[i] };
            if self.validator.validate(schema, value).is_ok() {
                return Some(value.clone());
            }
        }
        None
    }

    pub fn rng(&mut self) -> &mut TestRng {
        self.runner.rng()
    }

    /// Whether to take a branch that has `odds` of being taken.
    pub fn chance(&mut self, odds: f64) -> bool {
        self.rng().random_bool(odds)
    }

    /// A number below `n`, which must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        self.rng().random_range(0..n)
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'i, T>(&mut self, items: &'i [T]) -> &'i T {
        &items[self.below(items.len())]
    }

    /// A value `schema` admits.
    pub fn draw(&mut self, schema: &Value) -> Value {
        for _ in 0..DRAW_TRIES_MAX {
            let value = self.draw_once(schema);
            if self.validator.validate(schema, &value).is_ok() {
                return value;
            }
        }
        panic!("no value drawn in {DRAW_TRIES_MAX} tries fits {schema}");
    }

    fn draw_once(&mut self, schema: &Value) -> Value {
        let schema = self.validator.resolve(schema);
        if schema["nullable"] == json!(true) && self.chance(NULL_ODDS) {
            return Value::Null;
        }
        if let Some(options) = schema["enum"].as_array() {
            return self.pick(options).clone();
        }
        if let Some(options) = schema["oneOf"].as_array() {
            let option = self.pick(options).clone();
            return self.draw_once(&option);
        }
        if matches!(schema["type"].as_str(), Some("string" | "integer")) {
            let odds = self.rng().random_range(0.0..1.0);
            let known = match odds {
                o if o < PLANTED_ODDS => self.known_value(schema, true),
                o if o < PLANTED_ODDS + LEARNT_ODDS => self.known_value(schema, false),
                _ => None,
            };
            if let Some(value) = known {
                return value;
            }
        }
        match schema["type"].as_str() {
            Some("string") => Value::String(self.draw_string(schema)),
            Some("integer") => json!(self.draw_integer(schema)),
            Some("number") => json!(self.rng().random_range(0.0..1e6)),
            Some("boolean") => json!(self.chance(0.5)),
            Some("array") => {
                let min = schema["minItems"].as_u64().unwrap_or(0);
                let max = schema["maxItems"].as_u64().unwrap_or(DRAWN_LENGTH_MAX).min(min + DRAWN_LENGTH_MAX);
                let n = self.rng().random_range(min..=max);
                Value::Array((0..n).map(|_| self.draw(&schema["items"])).collect())
            }
            Some("object") => self.draw_object(schema),
            other => panic!("cannot draw a value of type {other:?}: {schema}"),
        }
    }

    fn draw_string(&mut self, schema: &Value) -> String {
        if schema["format"] == "tabchain-address" {
            // A key of random bytes, as the address of whichever network the pattern admits.
            let key = PublicKey(self.rng().random());
            let addresses = Network::RUNNABLE.map(|n| Value::String(encode_address(n.params().address_hrp, &key)));
            let fits = addresses.iter().find(|a| self.validator.validate(schema, a).is_ok());
            return fits.and_then(Value::as_str).expect("the pattern admits some network's addresses").to_owned();
        }
        match schema["pattern"].as_str() {
            Some(pattern) => self.draw_from_pattern(pattern),
            None => {
                let n = self.rng().random_range(schema["minLength"].as_u64().unwrap_or(0)..=DRAWN_LENGTH_MAX);
                (0..n).map(|_| *self.pick(b"abcdefghijklmnopqrstuvwxyz0123456789") as char).collect()
            }
        }
    }

    /// Text matching `pattern`, whose anchors proptest's strategies do not take: every pattern of
    /// the document is anchored at both ends, and the result is validated with them.
    fn draw_from_pattern(&mut self, pattern: &str) -> String {
        if !self.patterns.contains_key(pattern) {
            let inner = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')).unwrap_or(pattern);
            let strategy = string_regex(inner).unwrap_or_else(|e| panic!("cannot draw from {pattern}: {e}"));
            self.patterns.insert(pattern.to_owned(), strategy);
        }
        let tree = self.patterns[pattern].new_tree(&mut self.runner).expect("a regular expression's strategy draws");
        tree.current()
    }

    fn draw_integer(&mut self, schema: &Value) -> i64 {
        let min = schema["minimum"].as_i64().unwrap_or(0);
        let max = schema["maximum"].as_i64().unwrap_or(min + INTEGER_SPAN_DEFAULT);
        if self.chance(EDGE_ODDS) {
            let edges = [min, max, min.saturating_add(1).min(max), max.saturating_sub(1).max(min)];
            return *self.pick(&edges);
        }
        self.rng().random_range(min..=max)
    }

    /// The required properties, some of the others, and, where the schema allows more, a
    /// property it does not list.
    fn draw_object(&mut self, schema: &Value) -> Value {
        let required: Vec<&str> =
            schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut object = serde_json::Map::new();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if required.contains(&name.as_str()) || self.chance(OPTIONAL_ODDS) {
                object.insert(name.clone(), self.draw(property));
            }
        }
        if schema["additionalProperties"] != json!(false) && self.chance(OPTIONAL_ODDS) {
            object.insert("unlisted".into(), json!("a property the schema does not list"));
        }
        Value::Object(object)
    }

    /// A near miss of `text`: one change of the kinds a client gets wrong (a character more or
    /// less, the case, a sign or leading zero, a space, a character from outside). It may still
    /// fit the schema; the caller checks. Never empty, which would name another path.
    pub fn near_miss(&mut self, text: &str) -> String {
        let mut miss = match self.rng().random_range(0..7) {
            0 => format!("{text}0"),
            1 => text.chars().skip(1).collect(),
            2 => text.to_uppercase(),
            3 => format!("0{text}"),
            4 => format!("-{text}"),
            5 => format!("{text} "),
            _ => {
                let mut chars: Vec<char> = text.chars().collect();
                let at = self.rng().random_range(0..=chars.len());
                chars.insert(at, *self.pick(&['/', '?', '%', 'é', 'x', ':', '.']));
                chars.into_iter().collect()
            }
        };
        if miss.is_empty() {
            miss.push('x');
        }
        miss
    }
}
