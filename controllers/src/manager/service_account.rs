//! The ServiceAccount controller's I/O: a namespace is synced when it
//! appears and when its `default` ServiceAccount is deleted.

use api::k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use client::Client;
use runtime::{Action, Change, ObjectKey, Store};

use super::Error;
use crate::service_account::{DEFAULT, wanted};

pub struct ServiceAccounts {
    client: Client,
    namespaces: Store<Namespace>,
    accounts: Store<ServiceAccount>,
}

impl ServiceAccounts {
    pub fn new(
        client: Client,
        namespaces: Store<Namespace>,
        accounts: Store<ServiceAccount>,
    ) -> ServiceAccounts {
        ServiceAccounts {
            client,
            namespaces,
            accounts,
        }
    }

    pub fn namespace_changed(&self, change: &Change<Namespace>) -> Vec<String> {
        match change {
            Change::Added(namespace) => namespace.metadata.name.clone().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    pub fn account_changed(&self, change: &Change<ServiceAccount>) -> Vec<String> {
        let account = change.object();
        match change {
            Change::Deleted(_) if account.metadata.name.as_deref() == Some(DEFAULT) => {
                account.metadata.namespace.clone().into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    async fn sync(&self, name: String) -> Result<Action, Error> {
        let Some(namespace) = self.namespaces.get(&ObjectKey::new("", &name)) else {
            return Ok(Action::Done);
        };
        let has_default = self.accounts.get(&ObjectKey::new(&name, DEFAULT)).is_some();
        let Some(account) = wanted(&namespace, has_default) else {
            return Ok(Action::Done);
        };
        match self.client.create(&name, &account).await {
            Ok(_) => Ok(Action::Done),
            Err(error) if error.is_already_exists() => Ok(Action::Done),
            // Created in a namespace being deleted: nothing to repair.
            Err(client::Error::Forbidden(_)) => Ok(Action::Done),
            Err(error) => Err(error.into()),
        }
    }
}

impl super::Reconciler for ServiceAccounts {
    type Key = String;

    fn reconcile(&self, name: String) -> impl Future<Output = Result<Action, Error>> + Send {
        self.sync(name)
    }
}
