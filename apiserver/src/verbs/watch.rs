//! Watch, face-neutral: registers a cursor in the resource's watch cache;
//! a watch without a resourceVersion first lists every current object
//! (sent as ADDED) and watches from the list's revision.

use crate::error::ApiError;
use crate::filter::Filter;
use crate::object;
use crate::state::ApiState;
use crate::verbs::{ListItem, ListOptions};
use crate::watch_cache::WatchHandle;

/// What a watch asks for.
#[derive(Clone, Debug, Default)]
pub(crate) struct WatchOptions {
    pub(crate) namespace: String,
    pub(crate) label_selector: String,
    pub(crate) field_selector: String,
    /// "" (or "0"): every current object first, then changes; otherwise
    /// only changes after this revision.
    pub(crate) resource_version: String,
    pub(crate) allow_bookmarks: bool,
}

/// A started watch: the objects to send as ADDED first, then the cursor.
pub(crate) struct WatchStart {
    pub(crate) initial: Vec<ListItem>,
    pub(crate) handle: WatchHandle,
}

/// How often a watch ahead of the store looks again.
const FUTURE_REVISION_POLL: std::time::Duration = std::time::Duration::from_millis(20);

impl ApiState {
    /// Waits (up to `Config::future_revision_wait`) until the store has
    /// reached `revision`, as Kubernetes' watch cache waits for a
    /// resourceVersion it has not seen yet.
    async fn wait_for_revision(&self, revision: store::Revision) -> Result<(), ApiError> {
        let deadline = tokio::time::Instant::now() + self.config.future_revision_wait;
        loop {
            let current = self.store.current_revision();
            if revision <= current {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::TooLargeResourceVersion {
                    requested: revision,
                    current,
                });
            }
            tokio::time::sleep(FUTURE_REVISION_POLL).await;
        }
    }

    pub(crate) async fn watch(
        &self,
        plural: &str,
        options: &WatchOptions,
    ) -> Result<WatchStart, ApiError> {
        let info = self.kinds.get(plural)?.info();
        let namespace = if info.namespaced {
            options.namespace.as_str()
        } else {
            ""
        };
        let filter = Filter::parse(
            info.resource_key,
            namespace,
            &options.label_selector,
            &options.field_selector,
        )?;
        let from = object::parse_revision(&options.resource_version)?.unwrap_or(0);
        self.wait_for_revision(from).await?;
        if from > 0 {
            let handle =
                self.watch
                    .watch(info.resource_key, filter, from, options.allow_bookmarks)?;
            return Ok(WatchStart {
                initial: Vec::new(),
                handle,
            });
        }
        let list_options = ListOptions {
            namespace: namespace.to_string(),
            label_selector: options.label_selector.clone(),
            field_selector: options.field_selector.clone(),
            ..Default::default()
        };
        let page = self.list(info.resource_key, &list_options).await?;
        let handle = self.watch.watch(
            info.resource_key,
            filter,
            page.revision,
            options.allow_bookmarks,
        )?;
        Ok(WatchStart {
            initial: page.items,
            handle,
        })
    }
}
