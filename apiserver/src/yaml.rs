//! YAML request bodies read as JSON values: create and update bodies sent
//! as `application/yaml`, and server-side apply's applied configurations
//! (`application/apply-patch+yaml`), through one parser with one budget.
//!
//! The budget bounds what a small body can make the parser build (alias
//! bombs, millions of nodes), so a hostile YAML body costs no more than a
//! JSON body of the same size.

use serde_json::Value;

/// The most scalar bytes a YAML body may expand to, as the apiserver's
/// request limit (3 MiB).
pub(crate) const MAX_SCALAR_BYTES: usize = 3 * 1024 * 1024;

/// The most aliases a body may use; a manifest needs a few at most, and
/// this stops alias bombs early.
const MAX_ALIASES: usize = 100;

/// The most nodes (mappings, sequences, scalars) a body may hold.
const MAX_NODES: usize = 100_000;

/// Why a body is not one YAML document.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub(crate) struct YamlError {
    /// The parser's description, with the line and column it stopped at.
    pub(crate) reason: String,
}

/// Parses `body` as exactly one YAML document (JSON is a subset) into a
/// JSON value, within the budget.
pub(crate) fn to_json_value(body: &[u8]) -> Result<Value, YamlError> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_aliases = MAX_ALIASES;
    budget.max_documents = 1;
    budget.max_nodes = MAX_NODES;
    budget.max_total_scalar_bytes = MAX_SCALAR_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_slice_with_options(body, options).map_err(|error| YamlError {
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::to_json_value;

    #[test]
    fn yaml_becomes_the_json_value_it_spells() {
        let value = to_json_value(b"a: 1\nb: [x, \"y\"]\nc: {d: null}\n").unwrap();
        assert_eq!(value, json!({"a": 1, "b": ["x", "y"], "c": {"d": null}}));
        let value = to_json_value(br#"{"a": [1, 2.5, true]}"#).unwrap();
        assert_eq!(value, json!({"a": [1, 2.5, true]}));
    }

    #[test]
    fn bad_yaml_and_alias_bombs_are_errors() {
        assert!(to_json_value(b"a: [1, 2\n").is_err());
        assert!(to_json_value(b"a: 1\n---\nb: 2\n").is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 0..12 {
            let previous = if level == 0 {
                "a".to_string()
            } else {
                format!("l{}", level - 1)
            };
            bomb.push_str(&format!(
                "l{level}: &l{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
            ));
        }
        assert!(to_json_value(bomb.as_bytes()).is_err());
    }
}
