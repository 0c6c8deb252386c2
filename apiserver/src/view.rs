//! [`ObjectView`]: the few fields of an object that list and watch filters
//! read (namespace, name, labels and the selectable fields), extracted from
//! the stored JSON without decoding the rest of the object.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::object;

/// What a [`crate::filter::Filter`] reads of an object. Absent fields and
/// fields that are not scalars read as "".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectView {
    pub(crate) name: String,
    pub(crate) namespace: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) node_name: String,
    pub(crate) scheduler_name: String,
    pub(crate) phase: String,
    pub(crate) involved_name: String,
    pub(crate) involved_kind: String,
    pub(crate) reason: String,
}

impl ObjectView {
    /// The view of a stored object's JSON; `None` if it is not valid JSON.
    pub(crate) fn from_json(json: &[u8]) -> Option<ObjectView> {
        match serde_json::from_slice::<Doc>(json) {
            Ok(doc) => Some(doc.into_view()),
            // An unexpected shape (say, labels that are not strings): read
            // the same fields from the generic form.
            Err(_) => serde_json::from_slice::<Value>(json)
                .ok()
                .map(|value| ObjectView::from_value(&value)),
        }
    }

    /// The view of an object in its generic JSON form.
    pub(crate) fn from_value(value: &Value) -> ObjectView {
        let labels = value
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        ObjectView {
            name: object::field_string(value, "/metadata/name"),
            namespace: object::field_string(value, "/metadata/namespace"),
            labels,
            node_name: object::field_string(value, "/spec/nodeName"),
            scheduler_name: object::field_string(value, "/spec/schedulerName"),
            phase: object::field_string(value, "/status/phase"),
            involved_name: object::field_string(value, "/involvedObject/name"),
            involved_kind: object::field_string(value, "/involvedObject/kind"),
            reason: object::field_string(value, "/reason"),
        }
    }
}

/// The parts of an object the view reads; serde skips everything else
/// without building it.
#[derive(Deserialize)]
struct Doc {
    metadata: Option<Meta>,
    spec: Option<Spec>,
    status: Option<Status>,
    #[serde(rename = "involvedObject")]
    involved_object: Option<Involved>,
    reason: Option<Scalar>,
}

#[derive(Deserialize)]
struct Meta {
    name: Option<Scalar>,
    namespace: Option<Scalar>,
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(rename = "nodeName")]
    node_name: Option<Scalar>,
    #[serde(rename = "schedulerName")]
    scheduler_name: Option<Scalar>,
}

#[derive(Deserialize)]
struct Status {
    phase: Option<Scalar>,
}

#[derive(Deserialize)]
struct Involved {
    name: Option<Scalar>,
    kind: Option<Scalar>,
}

impl Doc {
    fn into_view(self) -> ObjectView {
        let text = |scalar: Option<Scalar>| scalar.map(|s| s.0).unwrap_or_default();
        let (name, namespace, labels) = match self.metadata {
            Some(meta) => (
                text(meta.name),
                text(meta.namespace),
                meta.labels.unwrap_or_default(),
            ),
            None => Default::default(),
        };
        let (node_name, scheduler_name) = match self.spec {
            Some(spec) => (text(spec.node_name), text(spec.scheduler_name)),
            None => Default::default(),
        };
        let (involved_name, involved_kind) = match self.involved_object {
            Some(involved) => (text(involved.name), text(involved.kind)),
            None => Default::default(),
        };
        ObjectView {
            name,
            namespace,
            labels,
            node_name,
            scheduler_name,
            phase: self
                .status
                .and_then(|status| status.phase)
                .map(|s| s.0)
                .unwrap_or_default(),
            involved_name,
            involved_kind,
            reason: text(self.reason),
        }
    }
}

/// A field read as `object::field_string` reads it: strings as they are,
/// booleans and numbers as text, anything else as "".
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
        Ok(Scalar(text.to_string()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Scalar, E> {
        Ok(Scalar(text))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Scalar, E> {
        Ok(Scalar(flag.to_string()))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Scalar, E> {
        Ok(Scalar(number.to_string()))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Scalar, E> {
        Ok(Scalar(number.to_string()))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Scalar, E> {
        Ok(Scalar(
            serde_json::Number::from_f64(number)
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar(String::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar(String::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(value: Value) -> ObjectView {
        let from_value = ObjectView::from_value(&value);
        let from_json = ObjectView::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
        assert_eq!(from_json, from_value, "{value}");
        from_json
    }

    #[test]
    fn reads_the_same_fields_as_the_generic_form() {
        let view = both(json!({
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "web"}, "annotations": {"x": "y"}},
            "spec": {"nodeName": "n1", "schedulerName": "s", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": []}
        }));
        assert_eq!(view.name, "p");
        assert_eq!(view.namespace, "a");
        assert_eq!(view.labels.get("app").map(String::as_str), Some("web"));
        assert_eq!(view.node_name, "n1");
        assert_eq!(view.scheduler_name, "s");
        assert_eq!(view.phase, "Running");
        let event = both(
            json!({"metadata": {"name": "e"}, "involvedObject": {"name": "p", "kind": "Pod"},
                                "reason": "Scheduled"}),
        );
        assert_eq!(
            (
                event.involved_name.as_str(),
                event.involved_kind.as_str(),
                event.reason.as_str()
            ),
            ("p", "Pod", "Scheduled")
        );
        both(json!({}));
        both(json!({"metadata": null, "spec": {"nodeName": null}, "status": {"phase": 3}}));
        both(json!({"spec": {"nodeName": true, "schedulerName": 1.5}, "reason": {"a": [1]}}));
        // Non-string labels fall back to the generic form (which skips them).
        both(json!({"metadata": {"labels": {"a": "1", "b": 2}}}));
    }
}
