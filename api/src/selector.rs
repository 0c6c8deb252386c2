//! Label selectors (compiled from `LabelSelector` or parsed from the
//! `?labelSelector=` string form), node selector terms as node affinity uses
//! them, and field selectors (`?fieldSelector=spec.nodeName=n1`).
//!
//! Matching allocates nothing: requirement values are kept sorted and looked
//! up by binary search, so the scheduler can call [`Selector::matches`] and
//! [`NodeSelectorMatcher::matches`] per node.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::validation::{validate_label_value, validate_qualified_name};

/// A selector that cannot be compiled or parsed; each variant names the
/// offending key, value or text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {detail} at position {position} in {input:?}")]
    Parse {
        input: String,
        position: usize,
        detail: String,
    },
    #[error("invalid label key {key:?}: {detail}")]
    InvalidKey { key: String, detail: String },
    #[error("invalid label value: {value:?}: {detail}")]
    InvalidValue { value: String, detail: String },
    #[error("{operator:?} is not a valid selector operator for key {key:?}")]
    InvalidOperator { key: String, operator: String },
    #[error("invalid values for key {key:?} with operator {operator}: {detail}")]
    InvalidValues {
        key: String,
        operator: Operator,
        detail: String,
    },
    #[error(
        "unsupported field {field:?} in a node selector term: only \"metadata.name\" is supported"
    )]
    UnsupportedField { field: String },
    #[error("invalid field selector {input:?}: {detail}")]
    Field { input: String, detail: String },
}

/// A label selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `a=b` or `a==b`; one value.
    Equals,
    /// `a!=b`; one value.
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// Node affinity only: the label is an integer greater than the value.
    Gt,
    /// Node affinity only: the label is an integer less than the value.
    Lt,
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::Gt => "gt",
            Operator::Lt => "lt",
        })
    }
}

/// One compiled requirement on one label key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    /// Sorted and deduplicated, for binary search.
    values: Vec<String>,
    /// The parsed integer for `Gt`/`Lt`.
    bound: i64,
}

impl Requirement {
    /// Builds a requirement, checking the key, the values and their number
    /// against the operator as Kubernetes' `labels.NewRequirement` does.
    pub fn new(
        key: &str,
        operator: Operator,
        values: &[String],
    ) -> Result<Requirement, SelectorError> {
        let problems = validate_qualified_name(key);
        if let Some(detail) = problems.into_iter().next() {
            return Err(SelectorError::InvalidKey {
                key: key.to_string(),
                detail,
            });
        }
        let invalid_values = |detail: &str| SelectorError::InvalidValues {
            key: key.to_string(),
            operator,
            detail: detail.to_string(),
        };
        let mut bound = 0;
        match operator {
            Operator::Equals | Operator::NotEquals if values.len() != 1 => {
                return Err(invalid_values(
                    "exact-match compatibility requires one single value",
                ));
            }
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(invalid_values(
                    "for 'in', 'notin' operators, values set can't be empty",
                ));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(invalid_values(
                    "values set must be empty for exists and does not exist",
                ));
            }
            Operator::Gt | Operator::Lt => {
                let [value] = values else {
                    return Err(invalid_values(
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                };
                bound = value.parse::<i64>().map_err(|_| {
                    invalid_values("for 'Gt', 'Lt' operators, the value must be an integer")
                })?;
            }
            _ => {}
        }
        if !matches!(operator, Operator::Gt | Operator::Lt) {
            for value in values {
                if let Some(detail) = validate_label_value(value).into_iter().next() {
                    return Err(SelectorError::InvalidValue {
                        value: value.clone(),
                        detail,
                    });
                }
            }
        }
        let mut values = values.to_vec();
        values.sort();
        values.dedup();
        Ok(Requirement {
            key: key.to_string(),
            operator,
            values,
            bound,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values
            .binary_search_by(|v| v.as_str().cmp(value))
            .is_ok()
    }

    /// Whether a label value (or its absence) satisfies this requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match (self.operator, value) {
            (Operator::Equals | Operator::In, Some(value)) => self.has_value(value),
            (Operator::Equals | Operator::In, None) => false,
            (Operator::NotEquals | Operator::NotIn, Some(value)) => !self.has_value(value),
            (Operator::NotEquals | Operator::NotIn, None) => true,
            (Operator::Exists, value) => value.is_some(),
            (Operator::DoesNotExist, value) => value.is_none(),
            (Operator::Gt, Some(value)) => value.parse::<i64>().is_ok_and(|v| v > self.bound),
            (Operator::Lt, Some(value)) => value.parse::<i64>().is_ok_and(|v| v < self.bound),
            (Operator::Gt | Operator::Lt, None) => false,
        }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.key).map(String::as_str))
    }
}

impl fmt::Display for Requirement {
    /// The string form `labels.Parse` reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operator {
            Operator::Exists => f.write_str(&self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Equals => write!(f, "{}={}", self.key, self.values.join(",")),
            Operator::NotEquals => write!(f, "{}!={}", self.key, self.values.join(",")),
            Operator::In => write!(f, "{} in ({})", self.key, self.values.join(",")),
            Operator::NotIn => write!(f, "{} notin ({})", self.key, self.values.join(",")),
            Operator::Gt => write!(f, "{}>{}", self.key, self.bound),
            Operator::Lt => write!(f, "{}<{}", self.key, self.bound),
        }
    }
}

/// A compiled label selector: requirements ANDed. An empty selector matches
/// everything; [`Selector::nothing`] matches nothing (a nil `LabelSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    matches_nothing: bool,
}

impl Selector {
    /// Matches every object.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Matches no object.
    pub fn nothing() -> Selector {
        Selector {
            requirements: Vec::new(),
            matches_nothing: true,
        }
    }

    /// Compiles `matchLabels` and `matchExpressions`; an empty selector
    /// matches everything.
    pub fn from_label_selector(selector: &LabelSelector) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::new(
                key,
                Operator::Equals,
                std::slice::from_ref(value),
            )?);
        }
        for expression in selector.match_expressions.iter().flatten() {
            let operator = match expression.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::InvalidOperator {
                        key: expression.key.clone(),
                        operator: other.to_string(),
                    });
                }
            };
            let values = expression.values.as_deref().unwrap_or(&[]);
            requirements.push(Requirement::new(&expression.key, operator, values)?);
        }
        Ok(Selector::from_requirements(requirements))
    }

    /// Compiles an optional selector the way Kubernetes treats a nil one:
    /// it matches nothing.
    pub fn from_optional(selector: Option<&LabelSelector>) -> Result<Selector, SelectorError> {
        selector.map_or_else(|| Ok(Selector::nothing()), Selector::from_label_selector)
    }

    /// A selector requiring exactly these labels (`spec.selector` of a
    /// Service or ReplicationController).
    pub fn from_map(labels: &BTreeMap<String, String>) -> Result<Selector, SelectorError> {
        let requirements = labels
            .iter()
            .map(|(key, value)| {
                Requirement::new(key, Operator::Equals, std::slice::from_ref(value))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector::from_requirements(requirements))
    }

    fn from_requirements(mut requirements: Vec<Requirement>) -> Selector {
        requirements.sort_by(|a, b| a.key.cmp(&b.key).then(a.operator.cmp(&b.operator)));
        Selector {
            requirements,
            matches_nothing: false,
        }
    }

    /// Parses the string form of `?labelSelector=`: `a=b`, `a==b`, `a!=b`,
    /// `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
    pub fn parse(input: &str) -> Result<Selector, SelectorError> {
        Parser {
            input,
            bytes: input.as_bytes(),
            pos: 0,
        }
        .parse_selector()
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn is_everything(&self) -> bool {
        !self.matches_nothing && self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.matches_nothing && self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

/// A recursive-descent parser over the label selector string form.
struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

fn is_special(b: u8) -> bool {
    matches!(b, b',' | b'=' | b'!' | b'(' | b')' | b'<' | b'>') || b.is_ascii_whitespace()
}

impl<'a> Parser<'a> {
    fn error(&self, detail: &str) -> SelectorError {
        SelectorError::Parse {
            input: self.input.to_string(),
            position: self.pos,
            detail: detail.to_string(),
        }
    }

    fn skip_space(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, text: &str) -> bool {
        self.skip_space();
        if self.input[self.pos..].starts_with(text) {
            self.pos += text.len();
            true
        } else {
            false
        }
    }

    fn identifier(&mut self) -> &'a str {
        self.skip_space();
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(|&b| !is_special(b)) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    fn parse_selector(&mut self) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        if self.peek().is_none() {
            return Ok(Selector::everything());
        }
        loop {
            requirements.push(self.parse_requirement()?);
            match self.peek() {
                None => break,
                Some(b',') => self.pos += 1,
                Some(_) => return Err(self.error("expected ','")),
            }
        }
        Ok(Selector::from_requirements(requirements))
    }

    fn parse_requirement(&mut self) -> Result<Requirement, SelectorError> {
        if self.eat("!") {
            let key = self.identifier();
            if key.is_empty() {
                return Err(self.error("expected a key after '!'"));
            }
            return Requirement::new(key, Operator::DoesNotExist, &[]);
        }
        let key = self.identifier();
        if key.is_empty() {
            return Err(self.error("expected a key"));
        }
        let operator = match self.peek() {
            None | Some(b',') => return Requirement::new(key, Operator::Exists, &[]),
            Some(_) if self.eat("==") || self.eat("=") => Operator::Equals,
            Some(_) if self.eat("!=") => Operator::NotEquals,
            Some(_) if self.eat(">") => Operator::Gt,
            Some(_) if self.eat("<") => Operator::Lt,
            Some(_) => match self.identifier() {
                "in" => Operator::In,
                "notin" => Operator::NotIn,
                _ => return Err(self.error("expected one of '=', '==', '!=', 'in', 'notin'")),
            },
        };
        let values = if matches!(operator, Operator::In | Operator::NotIn) {
            if !self.eat("(") {
                return Err(self.error("expected '('"));
            }
            let mut values = Vec::new();
            if !self.eat(")") {
                loop {
                    values.push(self.identifier().to_string());
                    if self.eat(")") {
                        break;
                    }
                    if !self.eat(",") {
                        return Err(self.error("expected ',' or ')'"));
                    }
                }
            }
            values
        } else {
            vec![self.identifier().to_string()]
        };
        Requirement::new(key, operator, &values)
    }
}

/// One compiled `NodeSelectorTerm`: expressions on labels and on the node
/// name, ANDed. A term with neither matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorTermMatcher {
    label_requirements: Vec<Requirement>,
    /// Requirements on `metadata.name`, checked like label requirements.
    name_requirements: Vec<Requirement>,
}

impl NodeSelectorTermMatcher {
    pub fn new(term: &NodeSelectorTerm) -> Result<NodeSelectorTermMatcher, SelectorError> {
        let label_requirements = term
            .match_expressions
            .iter()
            .flatten()
            .map(compile_node_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        let mut name_requirements = Vec::new();
        for field in term.match_fields.iter().flatten() {
            if field.key != "metadata.name" {
                return Err(SelectorError::UnsupportedField {
                    field: field.key.clone(),
                });
            }
            let operator = match field.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                other => {
                    return Err(SelectorError::InvalidOperator {
                        key: field.key.clone(),
                        operator: other.to_string(),
                    });
                }
            };
            let values = field.values.as_deref().unwrap_or(&[]);
            if values.len() != 1 {
                return Err(SelectorError::InvalidValues {
                    key: field.key.clone(),
                    operator,
                    detail: "must have one element".to_string(),
                });
            }
            let mut values = values.to_vec();
            values.sort();
            name_requirements.push(Requirement {
                key: field.key.clone(),
                operator,
                values,
                bound: 0,
            });
        }
        Ok(NodeSelectorTermMatcher {
            label_requirements,
            name_requirements,
        })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        if self.label_requirements.is_empty() && self.name_requirements.is_empty() {
            return false;
        }
        self.label_requirements.iter().all(|r| r.matches(labels))
            && self
                .name_requirements
                .iter()
                .all(|r| r.matches_value(Some(node_name)))
    }
}

fn compile_node_requirement(
    requirement: &NodeSelectorRequirement,
) -> Result<Requirement, SelectorError> {
    let operator = match requirement.operator.as_str() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::Gt,
        "Lt" => Operator::Lt,
        other => {
            return Err(SelectorError::InvalidOperator {
                key: requirement.key.clone(),
                operator: other.to_string(),
            });
        }
    };
    Requirement::new(
        &requirement.key,
        operator,
        requirement.values.as_deref().unwrap_or(&[]),
    )
}

/// A compiled `NodeSelector`: terms ORed. No terms matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorMatcher {
    terms: Vec<NodeSelectorTermMatcher>,
}

impl NodeSelectorMatcher {
    pub fn new(selector: &NodeSelector) -> Result<NodeSelectorMatcher, SelectorError> {
        let terms = selector
            .node_selector_terms
            .iter()
            .map(NodeSelectorTermMatcher::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NodeSelectorMatcher { terms })
    }

    pub fn terms(&self) -> &[NodeSelectorTermMatcher] {
        &self.terms
    }

    /// Whether a node with these labels and this name satisfies any term.
    pub fn matches(&self, labels: &BTreeMap<String, String>, node_name: &str) -> bool {
        self.terms
            .iter()
            .any(|term| term.matches(labels, node_name))
    }
}

/// A field selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOperator {
    Equals,
    NotEquals,
}

/// One `field=value` or `field!=value` requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    pub value: String,
}

/// A parsed field selector: requirements ANDed; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    pub requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses `spec.nodeName=n1,metadata.name!=a,status.phase==Running`.
    /// Values may be empty (`metadata.namespace=`); `\,` `\=` `\\` escape.
    pub fn parse(input: &str) -> Result<FieldSelector, SelectorError> {
        let error = |detail: &str| SelectorError::Field {
            input: input.to_string(),
            detail: detail.to_string(),
        };
        let mut requirements = Vec::new();
        if input.trim().is_empty() {
            return Ok(FieldSelector::default());
        }
        for part in split_unescaped(input, ',') {
            let (field, operator, value) = if let Some(at) = find_unescaped(&part, "!=") {
                (&part[..at], FieldOperator::NotEquals, &part[at + 2..])
            } else if let Some(at) = find_unescaped(&part, "==") {
                (&part[..at], FieldOperator::Equals, &part[at + 2..])
            } else if let Some(at) = find_unescaped(&part, "=") {
                (&part[..at], FieldOperator::Equals, &part[at + 1..])
            } else {
                return Err(error(&format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if field.is_empty() {
                return Err(error("field name must not be empty"));
            }
            requirements.push(FieldRequirement {
                field: field.to_string(),
                operator,
                value: unescape(value),
            });
        }
        Ok(FieldSelector { requirements })
    }

    /// The value of `field` in this selector's equality requirements, e.g.
    /// `spec.nodeName` for a kubelet's watch.
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Whether an object matches, given a lookup of its field values; an
    /// unset field counts as the empty string, as in Kubernetes.
    pub fn matches<'a>(&self, field_value: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| {
            let value = field_value(&r.field).unwrap_or("");
            match r.operator {
                FieldOperator::Equals => value == r.value,
                FieldOperator::NotEquals => value != r.value,
            }
        })
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let operator = match r.operator {
                FieldOperator::Equals => "=",
                FieldOperator::NotEquals => "!=",
            };
            let value = r
                .value
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('=', "\\=");
            write!(f, "{}{operator}{value}", r.field)?;
        }
        Ok(())
    }
}

fn split_unescaped(input: &str, separator: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in input.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// The byte offset of the first `needle` (ASCII) not escaped by a
/// backslash. It compares bytes, never slicing `text` where `i` may fall
/// inside a multi-byte character; an ASCII needle can only match at a
/// character boundary, so the offset is one.
fn find_unescaped(text: &str, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i..].starts_with(needle.as_bytes()) {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut escaped = false;
    for c in text.chars() {
        if escaped || c != '\\' {
            out.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    out
}

#[cfg(test)]
mod tests;
