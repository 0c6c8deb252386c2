//! Registration: create every node (batch creates, several in flight, so
//! thousands register in seconds) with its status, adopt nodes that already
//! exist as a restarted kubelet does (put back the labels it owns, keep the
//! pod CIDR, post fresh status), then create or take over the node leases.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, SystemTime};

use api::k8s_openapi::api::coordination::v1::Lease;
use api::k8s_openapi::api::core::v1::{Node, NodeSpec};
use client::Client;
use futures::{StreamExt, TryStreamExt};

use crate::error::Error;
use crate::hollow::HollowConfig;
use crate::hollow::nodes::NodeSet;
use crate::ipam::Ipv4Cidr;
use crate::lease::{self, NODE_LEASE_NAMESPACE};
use crate::node_status::{self, NodeIdentity};

/// Batch calls in flight at once during registration.
const BATCHES_IN_FLIGHT: usize = 4;
/// Adoptions (a get and up to two writes each) in flight at once.
const ADOPTIONS_IN_FLIGHT: usize = 32;
/// Attempts of one call while the apiserver is unavailable.
const ATTEMPTS: u32 = 10;
/// Attempts of a read-modify-write that keeps losing races.
const CONFLICT_ATTEMPTS: u32 = 5;

/// Registers every node of `nodes` and returns them as stored, by index.
/// Adopted nodes keep their pod CIDR, which updates their identity.
pub(super) async fn register_nodes(
    client: &Client,
    config: &HollowConfig,
    nodes: &mut NodeSet,
) -> Result<Vec<Node>, Error> {
    let now = SystemTime::now();
    let chunks: Vec<Vec<usize>> = (0..nodes.len())
        .collect::<Vec<_>>()
        .chunks(config.register_batch_size)
        .map(<[usize]>::to_vec)
        .collect();
    let identities = &nodes.identities;
    let results: Vec<(Vec<usize>, Vec<client::Result<Node>>)> = futures::stream::iter(chunks)
        .map(|chunk| async move {
            let batch: Vec<Node> = chunk
                .iter()
                .map(|&i| node_status::registration_node(&config.template, &identities[i], now))
                .collect();
            let results = retry(|| client.batch_create::<Node>("", &batch))
                .await
                .map_err(|source| Error::Register {
                    node: identities[chunk[0]].name.clone(),
                    source,
                })?;
            Ok::<_, Error>((chunk, results))
        })
        .buffer_unordered(BATCHES_IN_FLIGHT)
        .try_collect()
        .await?;
    let mut registered: Vec<Option<Node>> = vec![None; nodes.len()];
    let mut existing = Vec::new();
    for (chunk, results) in results {
        for (i, result) in chunk.into_iter().zip(results) {
            match result {
                Ok(node) => registered[i] = Some(node),
                Err(error) if error.is_already_exists() => existing.push(i),
                Err(source) => {
                    return Err(Error::Register {
                        node: identities[i].name.clone(),
                        source,
                    });
                }
            }
        }
    }
    if !existing.is_empty() {
        tracing::info!(nodes = existing.len(), "adopting nodes that already exist");
    }
    let adopted: Vec<(usize, Node, NodeIdentity)> = futures::stream::iter(existing)
        .map(|i| {
            let identity = identities[i].clone();
            async move {
                let (node, identity) = adopt(client, config, identity).await?;
                Ok::<_, Error>((i, node, identity))
            }
        })
        .buffer_unordered(ADOPTIONS_IN_FLIGHT)
        .try_collect()
        .await?;
    for (i, node, identity) in adopted {
        registered[i] = Some(node);
        nodes.identities[i] = identity;
    }
    Ok(registered.into_iter().flatten().collect())
}

/// Takes over an existing node: its pod CIDR stays (pods already have IPs
/// from it), the labels the kubelet owns are put back, status is posted.
async fn adopt(
    client: &Client,
    config: &HollowConfig,
    mut identity: NodeIdentity,
) -> Result<(Node, NodeIdentity), Error> {
    let name = identity.name.clone();
    let error = |source| Error::Register {
        node: name.clone(),
        source,
    };
    let mut attempt = 0;
    let node = loop {
        attempt += 1;
        let mut node: Node = retry(|| client.get("", &name)).await.map_err(error)?;
        let mut changed = false;
        let spec = node.spec.get_or_insert_with(NodeSpec::default);
        match spec.pod_cidr.as_deref().map(str::parse::<Ipv4Cidr>) {
            Some(Ok(cidr)) => identity.pod_cidr = cidr,
            _ => {
                spec.pod_cidr = Some(identity.pod_cidr.to_string());
                spec.pod_cidrs = Some(vec![identity.pod_cidr.to_string()]);
                changed = true;
            }
        }
        let labels = node.metadata.labels.get_or_insert_with(BTreeMap::new);
        for (key, value) in node_status::owned_labels(&config.template, &identity) {
            if labels.get(&key) != Some(&value) {
                labels.insert(key, value);
                changed = true;
            }
        }
        if !changed {
            break node;
        }
        match client.update(&node).await {
            Ok(updated) => break updated,
            Err(e) if e.is_conflict() && attempt < CONFLICT_ATTEMPTS => continue,
            Err(e) => return Err(error(e)),
        }
    };
    let mut with_status = node.clone();
    with_status.status = Some(node_status::desired_status(
        &config.template,
        &identity,
        node.status.as_ref(),
        SystemTime::now(),
    ));
    // A status write needs no resourceVersion: it only replaces status.
    with_status.metadata.resource_version = None;
    let node = retry(|| client.update_status(&with_status))
        .await
        .map_err(error)?;
    Ok((node, identity))
}

/// Creates the lease of every node, or takes over an existing one.
pub(super) async fn register_leases(
    client: &Client,
    config: &HollowConfig,
    nodes: &[Node],
) -> Result<Vec<Lease>, Error> {
    let now = SystemTime::now();
    let chunks: Vec<Vec<usize>> = (0..nodes.len())
        .collect::<Vec<_>>()
        .chunks(config.register_batch_size)
        .map(<[usize]>::to_vec)
        .collect();
    let results: Vec<(usize, Lease)> = futures::stream::iter(chunks)
        .map(|chunk| async move {
            let batch: Vec<Lease> = chunk
                .iter()
                .map(|&i| lease::node_lease(&nodes[i], config.lease_duration_seconds, now))
                .collect();
            let name = |i: usize| nodes[i].metadata.name.clone().unwrap_or_default();
            let results = retry(|| client.batch_create::<Lease>(NODE_LEASE_NAMESPACE, &batch))
                .await
                .map_err(|source| Error::Register {
                    node: name(chunk[0]),
                    source,
                })?;
            let mut leases = Vec::with_capacity(chunk.len());
            for (i, result) in chunk.into_iter().zip(results) {
                let lease = match result {
                    Ok(lease) => lease,
                    Err(error) if error.is_already_exists() => {
                        let lease_name = name(i);
                        let current: Lease =
                            retry(|| client.get(NODE_LEASE_NAMESPACE, &lease_name))
                                .await
                                .map_err(|source| Error::Register {
                                    node: name(i),
                                    source,
                                })?;
                        lease::renew(client, &current, &nodes[i], config.lease_duration_seconds)
                            .await
                            .map_err(|source| Error::Register {
                                node: name(i),
                                source,
                            })?
                    }
                    Err(source) => {
                        return Err(Error::Register {
                            node: name(i),
                            source,
                        });
                    }
                };
                leases.push((i, lease));
            }
            Ok::<_, Error>(leases)
        })
        .buffer_unordered(BATCHES_IN_FLIGHT)
        .map_ok(|leases| futures::stream::iter(leases.into_iter().map(Ok)))
        .try_flatten()
        .try_collect()
        .await?;
    let mut leases: Vec<Option<Lease>> = vec![None; nodes.len()];
    for (i, lease) in results {
        leases[i] = Some(lease);
    }
    Ok(leases.into_iter().flatten().collect())
}

/// Runs `call` until it succeeds or fails for a reason other than the
/// apiserver being unreachable or overloaded, backing off between attempts.
pub(super) async fn retry<T, F, Fut>(mut call: F) -> client::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = client::Result<T>>,
{
    let mut pause = Duration::from_millis(100);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if is_transient(&error) && attempt < ATTEMPTS => {
                tracing::debug!(%error, attempt, "apiserver unavailable; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Errors a retry may cure.
pub(super) fn is_transient(error: &client::Error) -> bool {
    matches!(
        error,
        client::Error::Unavailable(_)
            | client::Error::Transport(_)
            | client::Error::ResourceExhausted(_)
    )
}
