//! Tables of `metrics.k8s.io` objects as metrics-server prints them
//! (`kubectl get nodes.metrics.k8s.io`): the name, one column per
//! resource of the usage (`cpu`, `memory`; a pod's summed over its
//! containers) and the window.

use api::quantity::Quantity;
use serde_json::{Value, json};

use super::{Column, TableRequest, assemble};

const COLUMNS: &[Column] = &[
    Column {
        name: "Name",
        type_name: "string",
        format: "name",
        description: "Name of the resource",
        priority: 0,
    },
    Column {
        name: "cpu",
        type_name: "string",
        format: "quantity",
        description: "",
        priority: 0,
    },
    Column {
        name: "memory",
        type_name: "string",
        format: "quantity",
        description: "",
        priority: 0,
    },
    Column {
        name: "Window",
        type_name: "string",
        format: "duration",
        description: "",
        priority: 0,
    },
];

/// A Table of NodeMetrics or PodMetrics objects (as served, JSON).
pub(crate) fn build_metrics_table(request: &TableRequest<'_>, objects: &[Value]) -> Value {
    let columns = COLUMNS.iter().copied().map(Column::to_json).collect();
    assemble(request, columns, objects, |object| (cells(object), None))
}

fn cells(object: &Value) -> Vec<Value> {
    let usage = |resource: &str| match object.get("containers").and_then(Value::as_array) {
        Some(containers) => containers
            .iter()
            .filter_map(|container| container["usage"][resource].as_str())
            .filter_map(|text| Quantity::parse(text).ok())
            .fold(Quantity::ZERO, Quantity::saturating_add)
            .to_string(),
        None => object["usage"][resource]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    vec![
        object["metadata"]["name"].clone(),
        json!(usage("cpu")),
        json!(usage("memory")),
        object["window"].clone(),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::build_metrics_table;
    use crate::rest::table::{IncludeObject, TableRequest};

    #[test]
    fn pods_sum_their_containers_and_nodes_print_their_usage() {
        let request = TableRequest {
            plural: "pods",
            resource_version: "",
            continue_token: "",
            include_object: IncludeObject::None,
        };
        let pod = json!({"metadata": {"name": "web", "namespace": "default"}, "window": "15s",
            "containers": [
                {"name": "a", "usage": {"cpu": "50m", "memory": "64Mi"}},
                {"name": "b", "usage": {"cpu": "1m", "memory": "8Mi"}}]});
        let node = json!({"metadata": {"name": "n-0"}, "window": "20.5s",
            "usage": {"cpu": "123456789n", "memory": "1536Mi"}});
        let table = build_metrics_table(&request, &[pod, node]);
        let names: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|column| column["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Name", "cpu", "memory", "Window"]);
        assert_eq!(
            table["rows"][0]["cells"],
            json!(["web", "51m", "72Mi", "15s"])
        );
        assert_eq!(
            table["rows"][1]["cells"],
            json!(["n-0", "123456789n", "1536Mi", "20.5s"])
        );
    }
}
