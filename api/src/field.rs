//! Field paths and field errors, formatted the way Kubernetes prints them:
//! `spec.containers[0].resources.requests.cpu: Invalid value: "-1": must be greater than or equal to 0`.

use std::fmt;

/// A path into an object, e.g. `spec.containers[0].image`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(String);

impl FieldPath {
    pub fn root(name: &str) -> Self {
        FieldPath(name.to_string())
    }

    /// `self.name`
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            return FieldPath(name.to_string());
        }
        FieldPath(format!("{}.{}", self.0, name))
    }

    /// `self[index]`
    pub fn index(&self, index: usize) -> Self {
        FieldPath(format!("{}[{}]", self.0, index))
    }

    /// `self[key]`, for map entries such as labels.
    pub fn key(&self, key: &str) -> Self {
        FieldPath(format!("{}[{}]", self.0, key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Kubernetes field error types (`k8s.io/apimachinery/pkg/util/validation/field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorType {
    Required,
    Invalid,
    NotSupported,
    Duplicate,
    NotFound,
    Forbidden,
    TooLong,
    TooMany,
}

impl FieldErrorType {
    /// The machine-readable reason used in a Kubernetes `Status` cause.
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorType::Required => "FieldValueRequired",
            FieldErrorType::Invalid => "FieldValueInvalid",
            FieldErrorType::NotSupported => "FieldValueNotSupported",
            FieldErrorType::Duplicate => "FieldValueDuplicate",
            FieldErrorType::NotFound => "FieldValueNotFound",
            FieldErrorType::Forbidden => "FieldValueForbidden",
            FieldErrorType::TooLong => "FieldValueTooLong",
            FieldErrorType::TooMany => "FieldValueTooMany",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FieldErrorType::Required => "Required value",
            FieldErrorType::Invalid => "Invalid value",
            FieldErrorType::NotSupported => "Unsupported value",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::NotFound => "Not found",
            FieldErrorType::Forbidden => "Forbidden",
            FieldErrorType::TooLong => "Too long",
            FieldErrorType::TooMany => "Too many",
        }
    }
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    pub kind: FieldErrorType,
    pub path: FieldPath,
    /// The offending value as Kubernetes prints it (already quoted if a string), if any.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn required(path: FieldPath, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Required,
            path,
            value: None,
            detail: detail.into(),
        }
    }

    /// An invalid string value; it is printed quoted.
    pub fn invalid(path: FieldPath, value: &str, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Invalid,
            path,
            value: Some(format!("{value:?}")),
            detail: detail.into(),
        }
    }

    /// An invalid non-string value (number, bool); printed as is.
    pub fn invalid_raw(
        path: FieldPath,
        value: impl fmt::Display,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind: FieldErrorType::Invalid,
            path,
            value: Some(value.to_string()),
            detail: detail.into(),
        }
    }

    pub fn not_supported(path: FieldPath, value: &str, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        FieldError {
            kind: FieldErrorType::NotSupported,
            path,
            value: Some(format!("{value:?}")),
            detail: format!("supported values: {}", list.join(", ")),
        }
    }

    pub fn duplicate(path: FieldPath, value: &str) -> Self {
        FieldError {
            kind: FieldErrorType::Duplicate,
            path,
            value: Some(format!("{value:?}")),
            detail: String::new(),
        }
    }

    /// A reference to something that does not exist.
    pub fn not_found(path: FieldPath, value: &str) -> Self {
        FieldError {
            kind: FieldErrorType::NotFound,
            path,
            value: Some(format!("{value:?}")),
            detail: String::new(),
        }
    }

    pub fn forbidden(path: FieldPath, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Forbidden,
            path,
            value: None,
            detail: detail.into(),
        }
    }

    pub fn too_long(path: FieldPath, max: usize) -> Self {
        FieldError {
            kind: FieldErrorType::TooLong,
            path,
            value: None,
            detail: format!("may not be more than {max} bytes"),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind.label())?;
        if let Some(value) = &self.value {
            write!(f, ": {value}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// All problems found in one object. Empty means valid.
#[derive(Clone, Debug, Default, PartialEq, Eq, thiserror::Error)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` if empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), FieldErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    /// Kubernetes joins field errors as `[a, b]` when there are several.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        if parts.len() == 1 {
            f.write_str(&parts[0])
        } else {
            write!(f, "[{}]", parts.join(", "))
        }
    }
}
