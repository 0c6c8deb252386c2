//! Query parameters of REST requests: parsed once into a map, then read
//! as typed options by the verb that serves the request. A parameter no
//! verb knows, or a value that does not parse, is a 400 naming it.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::ApiError;

/// Parameters every request may carry (client-go adds `timeout` to all).
const COMMON: &[&str] = &["pretty", "timeout"];

/// Parameters each verb reads.
pub(crate) const LIST: &[&str] = &[
    "labelSelector",
    "fieldSelector",
    "limit",
    "continue",
    "resourceVersion",
    "resourceVersionMatch",
    "watch",
    "allowWatchBookmarks",
    "sendInitialEvents",
    "timeoutSeconds",
    "includeObject",
];
pub(crate) const GET: &[&str] = &["resourceVersion", "includeObject"];
pub(crate) const WRITE: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];
pub(crate) const PATCH: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "force"];
pub(crate) const DELETE: &[&str] = &[
    "dryRun",
    "gracePeriodSeconds",
    "propagationPolicy",
    "orphanDependents",
];

/// The decoded query of one request.
#[derive(Debug, Default)]
pub(crate) struct Query {
    values: HashMap<String, String>,
}

impl Query {
    pub(crate) fn parse(query: Option<&str>) -> Result<Query, ApiError> {
        let mut values = HashMap::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if values.insert(key.to_string(), value.to_string()).is_some() {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {key:?} is given more than once"
                )));
            }
        }
        Ok(Query { values })
    }

    /// Rejects any parameter outside `allowed` (and the common ones).
    pub(crate) fn only(&self, allowed: &[&[&str]]) -> Result<(), ApiError> {
        for key in self.values.keys() {
            let known = COMMON.contains(&key.as_str())
                || allowed.iter().any(|list| list.contains(&key.as_str()));
            if !known {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter {key:?}"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn text(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    /// A boolean flag: absent is false; otherwise the spellings Go's
    /// `strconv.ParseBool` accepts, as Kubernetes does (clients send `1`,
    /// `true` or, like the Python client before version 32, `True`).
    pub(crate) fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.text(key) {
            "" | "0" | "f" | "F" | "false" | "False" | "FALSE" => Ok(false),
            "1" | "t" | "T" | "true" | "True" | "TRUE" => Ok(true),
            other => Err(ApiError::BadRequest(format!(
                "invalid value {other:?} for query parameter {key}: must be true or false"
            ))),
        }
    }

    /// An integer parameter, if given.
    pub(crate) fn integer(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.text(key) {
            "" => Ok(None),
            text => text.parse().map(Some).map_err(|_| {
                ApiError::BadRequest(format!(
                    "invalid value {text:?} for query parameter {key}: must be an integer"
                ))
            }),
        }
    }

    /// `dryRun`: absent, or `All` (the only value Kubernetes defines).
    pub(crate) fn dry_run(&self) -> Result<bool, ApiError> {
        match self.text("dryRun") {
            "" => Ok(false),
            "All" => Ok(true),
            other => Err(ApiError::BadRequest(format!(
                "invalid dryRun {other:?}: the only supported value is All"
            ))),
        }
    }

    /// `timeoutSeconds` of a watch, if given (must not be negative).
    pub(crate) fn timeout_seconds(&self) -> Result<Option<Duration>, ApiError> {
        match self.integer("timeoutSeconds")? {
            None => Ok(None),
            Some(seconds) => u64::try_from(seconds)
                .map(|seconds| Some(Duration::from_secs(seconds)))
                .map_err(|_| {
                    ApiError::BadRequest("timeoutSeconds must not be negative".to_string())
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let query =
            Query::parse(Some("labelSelector=app%3Dweb&limit=5&watch=1&timeout=32s")).unwrap();
        assert_eq!(query.text("labelSelector"), "app=web");
        assert_eq!(query.integer("limit").unwrap(), Some(5));
        assert!(query.flag("watch").unwrap());
        for (text, value) in [("True", true), ("t", true), ("False", false), ("F", false)] {
            let query = Query::parse(Some(&format!("watch={text}"))).unwrap();
            assert_eq!(query.flag("watch").unwrap(), value, "{text}");
        }
        assert!(query.only(&[LIST]).is_ok());
        assert!(query.only(&[WRITE]).is_err());
        assert!(Query::parse(Some("limit=1&limit=2")).is_err());
        let bad = Query::parse(Some("limit=x&watch=maybe&dryRun=Some")).unwrap();
        assert!(bad.integer("limit").is_err());
        assert!(bad.flag("watch").is_err());
        assert!(bad.dry_run().is_err());
        let error = Query::parse(Some("bogus=1"))
            .unwrap()
            .only(&[LIST])
            .unwrap_err();
        assert!(error.to_string().contains("bogus"), "{error}");
    }
}
