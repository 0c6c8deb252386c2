//! Parsing YAML and JSON manifests into typed objects of any served kind.
