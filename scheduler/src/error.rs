//! Typed errors of the scheduling core. A filter rejecting a node is not an
//! error (see `status`); these are failures to read input.

/// Failure to convert a Kubernetes object into a scheduling view.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    #[error("missing field {field}")]
    MissingField { field: String },
    #[error("invalid value {value:?} for {field}")]
    InvalidValue { field: String, value: String },
    #[error("invalid quantity {quantity:?}")]
    InvalidQuantity {
        quantity: String,
        #[source]
        source: api::quantity::QuantityError,
    },
}
