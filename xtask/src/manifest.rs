//! Reading the few facts the tasks need from the root `Cargo.toml` and
//! `Cargo.lock`, so that each is written down once: the wasm-bindgen version
//! (which the CLI must match exactly) and the minimum Rust version.
//!
//! A line-based reader rather than a TOML parser: the values sit on lines of
//! the form `key = "value"` or `key = { version = "value", ... }`, and a
//! missing one is reported, never guessed.

use std::path::Path;

use anyhow::{Context as _, bail};

/// The exact wasm-bindgen version the workspace pins (`wasm-bindgen = "=X"`),
/// or failing a pin, the one `Cargo.lock` resolved.
pub(crate) fn wasm_bindgen_version(root: &Path) -> anyhow::Result<String> {
    let manifest = read(&root.join("Cargo.toml"))?;
    let requirement = value(&manifest, "wasm-bindgen").unwrap_or_default();
    if let Some(pinned) = requirement.strip_prefix('=') {
        return Ok(pinned.trim().to_owned());
    }
    let lock = read(&root.join("Cargo.lock")).unwrap_or_default();
    match locked_version(&lock, "wasm-bindgen") {
        Some(version) => Ok(version),
        None => bail!(
            "cannot tell the wasm-bindgen version: pin it as `wasm-bindgen = \"=X.Y.Z\"` in \
             the root Cargo.toml"
        ),
    }
}

/// The workspace's `rust-version` as (major, minor).
pub(crate) fn rust_version(root: &Path) -> anyhow::Result<(u32, u32)> {
    let manifest = read(&root.join("Cargo.toml"))?;
    value(&manifest, "rust-version")
        .and_then(|version| major_minor(&version))
        .context("the root Cargo.toml has no `rust-version = \"X.Y\"`")
}

/// The (major, minor) of a version such as `1.96.0` or `1.95`.
pub(crate) fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next()?.trim().parse().ok()?;
    Some((major, minor))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The string value of the first `key = "v"` or `key = { version = "v" }`.
fn value(toml: &str, key: &str) -> Option<String> {
    toml.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
        let rest = rest.trim_start();
        let rest = match rest.strip_prefix('{') {
            Some(table) => table.split("version").nth(1)?.trim_start().strip_prefix('=')?,
            None => rest,
        };
        first_quoted(rest)
    })
}

/// The version of package `name` in a `Cargo.lock`.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines().map(str::trim);
    lines.find(|line| *line == wanted)?;
    first_quoted(lines.next()?.strip_prefix("version")?)
}

fn first_quoted(text: &str) -> Option<String> {
    let mut parts = text.split('"');
    parts.next()?;
    parts.next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml: &str, key: &str, expected: Option<&str>) {
        assert_eq!(value(toml, key).as_deref(), expected, "{key} in {toml:?}");
    }

    #[test]
    fn reads_values() {
        check("wasm-bindgen = \"=0.2.130\"\n", "wasm-bindgen", Some("=0.2.130"));
        check("wasm-bindgen = { version = \"=0.2.1\", x = 1 }", "wasm-bindgen", Some("=0.2.1"));
        check("wasm-bindgen-test = \"0.3\"\n", "wasm-bindgen", None);
        check("rust-version = \"1.95\"\n", "rust-version", Some("1.95"));
        check("other = \"1\"\n", "rust-version", None);
    }

    #[test]
    fn reads_locked_versions() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen").as_deref(), Some("0.2.130"));
        assert_eq!(locked_version(lock, "serde"), None);
    }

    #[test]
    fn reads_major_minor() {
        assert_eq!(major_minor("1.96.0"), Some((1, 96)));
        assert_eq!(major_minor("1.95"), Some((1, 95)));
        assert_eq!(major_minor("one"), None);
    }
}
