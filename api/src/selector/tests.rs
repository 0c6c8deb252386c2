//! Tests of label, node and field selectors.

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Parses `input`, checks its canonical string and which label sets match.
fn check(
    input: &str,
    canonical: &str,
    matching: &[&[(&str, &str)]],
    not_matching: &[&[(&str, &str)]],
) {
    let selector = Selector::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    assert_eq!(selector.to_string(), canonical, "{input}");
    assert_eq!(
        Selector::parse(canonical).as_ref(),
        Ok(&selector),
        "reparse of {canonical}"
    );
    for set in matching {
        assert!(
            selector.matches(&labels(set)),
            "{input} should match {set:?}"
        );
    }
    for set in not_matching {
        assert!(
            !selector.matches(&labels(set)),
            "{input} should not match {set:?}"
        );
    }
}

fn check_err(input: &str, expected: &str) {
    let error = Selector::parse(input).map(|s| s.to_string()).unwrap_err();
    assert_eq!(error.to_string(), expected, "{input}");
}

#[test]
fn parses_equality_forms() {
    check(
        "a=b",
        "a=b",
        &[&[("a", "b")], &[("a", "b"), ("c", "d")]],
        &[&[], &[("a", "c")]],
    );
    check("a==b", "a=b", &[&[("a", "b")]], &[&[("a", "c")]]);
    check("a!=b", "a!=b", &[&[], &[("a", "c")]], &[&[("a", "b")]]);
    check("a=", "a=", &[&[("a", "")]], &[&[]]);
    check("", "", &[&[], &[("a", "b")]], &[]);
}

#[test]
fn parses_set_forms() {
    check(
        "a in (x, y)",
        "a in (x,y)",
        &[&[("a", "x")], &[("a", "y")]],
        &[&[], &[("a", "z")]],
    );
    check(
        "a notin (x)",
        "a notin (x)",
        &[&[], &[("a", "y")]],
        &[&[("a", "x")]],
    );
    check("a", "a", &[&[("a", "")]], &[&[("b", "")]]);
    check("!a", "!a", &[&[("b", "")]], &[&[("a", "x")]]);
    check(
        "tier in (web),env!=prod, example.com/app",
        "env!=prod,example.com/app,tier in (web)",
        &[&[("tier", "web"), ("example.com/app", "x")]],
        &[
            &[("tier", "web")],
            &[("tier", "web"), ("example.com/app", "x"), ("env", "prod")],
        ],
    );
}

#[test]
fn rejects_malformed() {
    check_err(
        "a in ()",
        "invalid values for key \"a\" with operator in: for 'in', 'notin' operators, values set can't be empty",
    );
    check_err(
        "a in (x",
        "unable to parse requirement: expected ',' or ')' at position 7 in \"a in (x\"",
    );
    check_err(
        "a b",
        "unable to parse requirement: expected one of '=', '==', '!=', 'in', 'notin' at position 3 in \"a b\"",
    );
    check_err(
        "=b",
        "unable to parse requirement: expected a key at position 0 in \"=b\"",
    );
    check_err(
        "a=b c",
        "unable to parse requirement: expected ',' at position 4 in \"a=b c\"",
    );
    check_err(
        "a/b/c=x",
        "invalid label key \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
}

#[test]
fn compiles_label_selectors() {
    let selector = LabelSelector {
        match_labels: Some(labels(&[("app", "web")])),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "tier".into(),
            operator: "NotIn".into(),
            values: Some(vec!["db".into()]),
        }]),
    };
    let compiled = Selector::from_label_selector(&selector).unwrap();
    assert_eq!(compiled.to_string(), "app=web,tier notin (db)");
    assert!(compiled.matches(&labels(&[("app", "web")])));
    assert!(!compiled.matches(&labels(&[("app", "web"), ("tier", "db")])));
    assert!(
        Selector::from_label_selector(&LabelSelector::default())
            .unwrap()
            .matches(&labels(&[]))
    );
    assert!(!Selector::from_optional(None).unwrap().matches(&labels(&[])));

    let bad = LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "tier".into(),
            operator: "Gt".into(),
            values: Some(vec!["1".into()]),
        }]),
        ..LabelSelector::default()
    };
    assert_eq!(
        Selector::from_label_selector(&bad).map(|s| s.to_string()),
        Err(SelectorError::InvalidOperator {
            key: "tier".into(),
            operator: "Gt".into()
        })
    );
}

fn requirement(key: &str, operator: &str, values: &[&str]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: key.into(),
        operator: operator.into(),
        values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
    }
}

fn node_check(terms: Vec<NodeSelectorTerm>, node: &[(&str, &str)], name: &str, expected: bool) {
    let matcher = NodeSelectorMatcher::new(&NodeSelector {
        node_selector_terms: terms,
    })
    .unwrap();
    assert_eq!(matcher.matches(&labels(node), name), expected);
}

#[test]
fn node_selector_terms_or_requirements_and() {
    let zone_a = NodeSelectorTerm {
        match_expressions: Some(vec![
            requirement("zone", "In", &["a"]),
            requirement("cores", "Gt", &["4"]),
        ]),
        match_fields: None,
    };
    let named = NodeSelectorTerm {
        match_expressions: None,
        match_fields: Some(vec![requirement("metadata.name", "In", &["n9"])]),
    };
    let terms = vec![zone_a, named];
    node_check(terms.clone(), &[("zone", "a"), ("cores", "8")], "n1", true);
    node_check(terms.clone(), &[("zone", "a"), ("cores", "4")], "n1", false);
    node_check(terms.clone(), &[("zone", "a"), ("cores", "x")], "n1", false);
    node_check(terms.clone(), &[], "n9", true);
    node_check(vec![NodeSelectorTerm::default()], &[], "n1", false);
    node_check(vec![], &[], "n1", false);
    let lt = NodeSelectorTerm {
        match_expressions: Some(vec![requirement("cores", "Lt", &["4"])]),
        match_fields: None,
    };
    node_check(vec![lt], &[("cores", "2")], "n1", true);
}

#[test]
fn node_selector_errors_name_the_problem() {
    let check_err = |term: NodeSelectorTerm, expected: &str| {
        let error = NodeSelectorTermMatcher::new(&term).map(|_| ()).unwrap_err();
        assert_eq!(error.to_string(), expected);
    };
    check_err(
        NodeSelectorTerm {
            match_expressions: Some(vec![requirement("cores", "Gt", &["x"])]),
            match_fields: None,
        },
        "invalid values for key \"cores\" with operator gt: for 'Gt', 'Lt' operators, the value must be an integer",
    );
    check_err(
        NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![requirement("spec.x", "In", &["a"])]),
        },
        "unsupported field \"spec.x\" in a node selector term: only \"metadata.name\" is supported",
    );
}

fn field_check(input: &str, canonical: &str, fields: &[(&str, &str)], expected: bool) {
    let selector = FieldSelector::parse(input).unwrap();
    assert_eq!(selector.to_string(), canonical);
    let lookup = |field: &str| fields.iter().find(|(f, _)| *f == field).map(|(_, v)| *v);
    assert_eq!(
        selector.matches(lookup),
        expected,
        "{input} against {fields:?}"
    );
}

#[test]
fn field_selectors() {
    field_check(
        "spec.nodeName=n1",
        "spec.nodeName=n1",
        &[("spec.nodeName", "n1")],
        true,
    );
    field_check(
        "spec.nodeName==n1",
        "spec.nodeName=n1",
        &[("spec.nodeName", "n2")],
        false,
    );
    field_check(
        "metadata.name!=y,status.phase=Running",
        "metadata.name!=y,status.phase=Running",
        &[("metadata.name", "x"), ("status.phase", "Running")],
        true,
    );
    field_check("spec.nodeName=", "spec.nodeName=", &[], true);
    field_check(
        "metadata.namespace=",
        "metadata.namespace=",
        &[("metadata.namespace", "default")],
        false,
    );
    field_check("", "", &[], true);
    let selector = FieldSelector::parse("spec.nodeName=n1,status.phase!=Failed").unwrap();
    assert_eq!(selector.required_value("spec.nodeName"), Some("n1"));
    assert_eq!(selector.required_value("status.phase"), None);
    assert_eq!(
        FieldSelector::parse("spec.nodeName").map(|s| s.to_string()),
        Err(SelectorError::Field {
            input: "spec.nodeName".into(),
            detail: "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'".into()
        })
    );
}

/// Found by the REST request fuzz target: a multi-byte character before
/// the operator (or after an escaping backslash) made the operator search
/// slice inside it and panic.
#[test]
fn field_selectors_with_multi_byte_characters() {
    assert!(FieldSelector::parse("status.phase!}\u{fffd}unning").is_err());
    assert!(FieldSelector::parse("\u{e9}\u{e9}").is_err());
    field_check(
        "metadata.name=caf\u{e9},metadata.namespace!=\u{1f600}",
        "metadata.name=caf\u{e9},metadata.namespace!=\u{1f600}",
        &[
            ("metadata.name", "caf\u{e9}"),
            ("metadata.namespace", "default"),
        ],
        true,
    );
    // The escape skips two bytes, landing inside the escaped character.
    field_check("a\\\u{e9}b=c", "a\\\u{e9}b=c", &[("a\\\u{e9}b", "c")], true);
}
