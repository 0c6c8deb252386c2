//! Warnings a request's processing raises past the REST face's own checks
//! (PodSecurity's `warn` level, say), answered as `Warning` headers.
//!
//! The REST face runs each request inside [`collect`]; code anywhere under
//! it calls [`add`], which does nothing outside such a scope (the gRPC
//! face has no warnings to carry).

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static WARNINGS: RefCell<Vec<String>>;
}

/// Runs `future`, returning its output and the warnings added while it ran.
pub(crate) async fn collect<F: Future>(future: F) -> (F::Output, Vec<String>) {
    WARNINGS
        .scope(RefCell::new(Vec::new()), async move {
            let output = future.await;
            let warnings = WARNINGS.with(|warnings| warnings.take());
            (output, warnings)
        })
        .await
}

/// Adds a warning to the current request's, if it collects any.
pub(crate) fn add(warning: String) {
    let _ = WARNINGS.try_with(|warnings| warnings.borrow_mut().push(warning));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn warnings_are_collected_inside_a_scope_only() {
        add("dropped".to_string());
        let ((), warnings) = collect(async {
            add("first".to_string());
            tokio::task::yield_now().await;
            add("second".to_string());
        })
        .await;
        assert_eq!(warnings, ["first", "second"]);
    }
}
