//! Get and list: reads straight from the store, filtered by namespace,
//! label and field selectors, paged by limit + continue token.
//!
//! The continue token is `<revision>:<last key>`, so every page of one list
//! reads the same revision.

use store::{RangeRequest, Revision};

use crate::error::ApiError;
use crate::filter::Filter;
use crate::keys;
use crate::object;
use crate::state::ApiState;
use crate::view::ObjectView;
use crate::wire;

/// What a list asks for.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListOptions {
    pub(crate) namespace: String,
    pub(crate) label_selector: String,
    pub(crate) field_selector: String,
    pub(crate) limit: i64,
    pub(crate) continue_token: String,
    pub(crate) resource_version: String,
}

/// One object of a list, as sent to clients.
pub(crate) struct ListItem {
    /// The object's JSON with its resourceVersion.
    pub(crate) wire: prost::bytes::Bytes,
    /// Its resourceVersion (the key's mod revision).
    pub(crate) revision: Revision,
}

/// One page of a list.
pub(crate) struct ListPage {
    pub(crate) items: Vec<ListItem>,
    pub(crate) revision: Revision,
    /// "" when nothing remains.
    pub(crate) continue_token: String,
}

impl ApiState {
    pub(crate) async fn get(
        &self,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> Result<prost::bytes::Bytes, ApiError> {
        let info = self.kinds.get(plural)?.info();
        let key = keys::object_key(info, if info.namespaced { namespace } else { "" }, name);
        match self.get_kv(&key).await? {
            Some(kv) => wire::stored_to_wire(&kv),
            None => Err(ApiError::not_found(plural, name)),
        }
    }

    pub(crate) async fn list(
        &self,
        plural: &str,
        options: &ListOptions,
    ) -> Result<ListPage, ApiError> {
        let info = self.kinds.get(plural)?.info();
        let namespace = if info.namespaced {
            options.namespace.as_str()
        } else {
            ""
        };
        let filter = Filter::parse(
            plural,
            namespace,
            &options.label_selector,
            &options.field_selector,
        )?;
        let limit = usize::try_from(options.limit.max(0)).unwrap_or(usize::MAX);
        let (mut revision, mut start_after) = parse_continue(&options.continue_token)?;
        if revision.is_none() {
            revision = object::parse_revision(&options.resource_version)?.filter(|rv| *rv > 0);
        }
        let prefix = keys::list_prefix(info, namespace);
        let mut items = Vec::new();
        loop {
            let want = if limit == 0 {
                0
            } else {
                (limit - items.len()).max(64)
            };
            let request = RangeRequest {
                prefix: prefix.clone(),
                start_after: start_after.clone(),
                limit: want,
                revision,
                ..Default::default()
            };
            let page = self.store.range(request).await?;
            // The store reports its current revision, not the one it read
            // at: every page of one list reads the revision of its first.
            let read_at = *revision.get_or_insert(page.revision);
            let mut last_key = None;
            for kv in &page.kvs {
                last_key = Some(kv.key.clone());
                let view = ObjectView::from_json(&kv.value)
                    .ok_or_else(|| ApiError::Internal(format!("corrupt object at {}", kv.key)))?;
                if filter.matches(&view) {
                    items.push(ListItem {
                        wire: wire::stored_to_wire(kv)?,
                        revision: kv.mod_revision,
                    });
                    if limit != 0 && items.len() == limit {
                        break;
                    }
                }
            }
            let exhausted = !page.more && last_key.as_ref() == page.kvs.last().map(|kv| &kv.key);
            let revision = read_at;
            if exhausted || last_key.is_none() {
                return Ok(ListPage {
                    items,
                    revision,
                    continue_token: String::new(),
                });
            }
            if limit != 0 && items.len() == limit {
                let token = last_key
                    .map(|key| format!("{revision}:{key}"))
                    .unwrap_or_default();
                return Ok(ListPage {
                    items,
                    revision,
                    continue_token: token,
                });
            }
            start_after = last_key;
        }
    }
}

/// A list's `continue` token (`<revision>:<last key>`, as this server
/// writes them) → the revision to read at and the key to start after.
pub(crate) fn parse_continue(token: &str) -> Result<(Option<Revision>, Option<String>), ApiError> {
    if token.is_empty() {
        return Ok((None, None));
    }
    let bad = || ApiError::BadRequest(format!("invalid continue token {token:?}"));
    let (revision, key) = token.split_once(':').ok_or_else(bad)?;
    let revision: Revision = revision.parse().map_err(|_| bad())?;
    Ok((Some(revision), Some(key.to_string())))
}
