//! The garbage collector's decisions, as Kubernetes' `GarbageCollector`:
//!
//! - a dependent (an object with owner references) whose owners are all
//!   gone, or all being deleted in the foreground, is deleted; one with a
//!   live owner only loses its references to the gone ones;
//! - an owner being deleted with the `orphan` finalizer first has its
//!   references removed from every dependent, then loses the finalizer;
//! - an owner being deleted with the `foregroundDeletion` finalizer keeps
//!   it until no dependent that blocks its deletion is left.

use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub const ORPHAN_FINALIZER: &str = "orphan";
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";

/// What an owner reference points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// The owner exists and is not being deleted in the foreground.
    Solid,
    /// No object with the reference's UID exists (checked live).
    Dangling,
    /// The owner is being deleted and waits for its dependents.
    Waiting,
    /// Of a kind the collector does not handle: left alone.
    Unknown,
}

/// How a delete propagates to the deleted object's own dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// What to do with a dependent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dependent {
    Nothing,
    /// Remove the owner references with these UIDs.
    RemoveReferences(Vec<String>),
    Delete(Propagation),
}

fn has_finalizer(meta: &ObjectMeta, finalizer: &str) -> bool {
    meta.finalizers
        .iter()
        .flatten()
        .any(|present| present == finalizer)
}

/// Whether `meta` is being deleted and waits for its dependents.
pub fn waits_for_dependents(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some() && has_finalizer(meta, FOREGROUND_FINALIZER)
}

/// Decides about the dependent `meta`, given the state of each of its
/// owner references (by UID, in order) and whether it has dependents
/// of its own.
pub fn decide_dependent(
    meta: &ObjectMeta,
    owners: &[(String, OwnerState)],
    has_dependents: bool,
) -> Dependent {
    if owners.is_empty()
        || owners
            .iter()
            .any(|(_, state)| *state == OwnerState::Unknown)
    {
        return Dependent::Nothing;
    }
    // Already going (and not because it waits for its own dependents).
    if meta.deletion_timestamp.is_some() && !waits_for_dependents(meta) {
        return Dependent::Nothing;
    }
    let solid = owners.iter().any(|(_, state)| *state == OwnerState::Solid);
    let waiting = owners
        .iter()
        .any(|(_, state)| *state == OwnerState::Waiting);
    if solid {
        let gone: Vec<String> = owners
            .iter()
            .filter(|(_, state)| *state != OwnerState::Solid)
            .map(|(uid, _)| uid.clone())
            .collect();
        return if gone.is_empty() {
            Dependent::Nothing
        } else {
            Dependent::RemoveReferences(gone)
        };
    }
    if meta.deletion_timestamp.is_some() {
        return Dependent::Nothing;
    }
    if waiting && has_dependents {
        return Dependent::Delete(Propagation::Foreground);
    }
    let propagation = if has_finalizer(meta, ORPHAN_FINALIZER) {
        Propagation::Orphan
    } else if has_finalizer(meta, FOREGROUND_FINALIZER) {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    Dependent::Delete(propagation)
}

/// What to do with an owner being deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owner {
    Nothing,
    /// Remove the owner's reference from these dependents (by index into
    /// the slice given), then its `orphan` finalizer.
    Orphan(Vec<usize>),
    /// Look at these dependents again (they are to be deleted).
    DeleteDependents(Vec<usize>),
    /// Drop this finalizer: nothing left to wait for.
    RemoveFinalizer(&'static str),
}

/// Decides about the owner `meta` given its dependents (objects with an
/// owner reference to its UID).
pub fn decide_owner(meta: &ObjectMeta, dependents: &[&ObjectMeta]) -> Owner {
    if meta.deletion_timestamp.is_none() {
        return Owner::Nothing;
    }
    let uid = meta.uid.as_deref().unwrap_or("");
    if has_finalizer(meta, ORPHAN_FINALIZER) {
        return if dependents.is_empty() {
            Owner::RemoveFinalizer(ORPHAN_FINALIZER)
        } else {
            Owner::Orphan((0..dependents.len()).collect())
        };
    }
    if has_finalizer(meta, FOREGROUND_FINALIZER) {
        let blocking: Vec<usize> = dependents
            .iter()
            .enumerate()
            .filter(|(_, dependent)| {
                dependent
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|reference| {
                        reference.uid == uid && reference.block_owner_deletion == Some(true)
                    })
            })
            .map(|(index, _)| index)
            .collect();
        return if blocking.is_empty() {
            Owner::RemoveFinalizer(FOREGROUND_FINALIZER)
        } else {
            Owner::DeleteDependents(blocking)
        };
    }
    Owner::Nothing
}

#[cfg(test)]
mod tests {
    use super::*;
    use api::k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
    use api::k8s_openapi::jiff::Timestamp;

    fn meta(finalizers: &[&str], deleting: bool, owners: &[(&str, bool)]) -> ObjectMeta {
        ObjectMeta {
            uid: Some("self".into()),
            finalizers: (!finalizers.is_empty())
                .then(|| finalizers.iter().map(|f| f.to_string()).collect()),
            deletion_timestamp: deleting.then_some(Time(Timestamp::UNIX_EPOCH)),
            owner_references: Some(
                owners
                    .iter()
                    .map(|(uid, block)| OwnerReference {
                        uid: uid.to_string(),
                        block_owner_deletion: Some(*block),
                        ..OwnerReference::default()
                    })
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    fn owners(states: &[(&str, OwnerState)]) -> Vec<(String, OwnerState)> {
        states
            .iter()
            .map(|(uid, state)| (uid.to_string(), *state))
            .collect()
    }

    #[test]
    fn dependents_go_with_their_last_owner() {
        use OwnerState::*;
        let plain = meta(&[], false, &[]);
        assert_eq!(decide_dependent(&plain, &[], false), Dependent::Nothing);
        assert_eq!(
            decide_dependent(&plain, &owners(&[("a", Dangling)]), false),
            Dependent::Delete(Propagation::Background)
        );
        // A live owner keeps it; the gone one's reference goes.
        assert_eq!(
            decide_dependent(
                &plain,
                &owners(&[("a", Dangling), ("b", Solid), ("c", Waiting)]),
                false
            ),
            Dependent::RemoveReferences(vec!["a".into(), "c".into()])
        );
        assert_eq!(
            decide_dependent(&plain, &owners(&[("b", Solid)]), false),
            Dependent::Nothing
        );
        // An owner of a kind not handled: hands off.
        assert_eq!(
            decide_dependent(&plain, &owners(&[("a", Dangling), ("x", Unknown)]), false),
            Dependent::Nothing
        );
        // Owners waiting in the foreground: the dependent goes the same
        // way when it has dependents of its own.
        assert_eq!(
            decide_dependent(&plain, &owners(&[("a", Waiting)]), true),
            Dependent::Delete(Propagation::Foreground)
        );
        assert_eq!(
            decide_dependent(&plain, &owners(&[("a", Waiting)]), false),
            Dependent::Delete(Propagation::Background)
        );
        // Its own finalizers choose how its delete propagates.
        let orphaning = meta(&[ORPHAN_FINALIZER], false, &[]);
        assert_eq!(
            decide_dependent(&orphaning, &owners(&[("a", Dangling)]), true),
            Dependent::Delete(Propagation::Orphan)
        );
        // Already being deleted: nothing more.
        let going = meta(&[], true, &[]);
        assert_eq!(
            decide_dependent(&going, &owners(&[("a", Dangling)]), false),
            Dependent::Nothing
        );
    }

    #[test]
    fn owners_being_deleted_wait_or_orphan() {
        let alive = meta(&[FOREGROUND_FINALIZER], false, &[]);
        assert_eq!(decide_owner(&alive, &[]), Owner::Nothing);

        let orphaning = meta(&[ORPHAN_FINALIZER], true, &[]);
        let child = meta(&[], false, &[("self", true)]);
        assert_eq!(
            decide_owner(&orphaning, &[&child, &child]),
            Owner::Orphan(vec![0, 1])
        );
        assert_eq!(
            decide_owner(&orphaning, &[]),
            Owner::RemoveFinalizer(ORPHAN_FINALIZER)
        );

        let foreground = meta(&[FOREGROUND_FINALIZER], true, &[]);
        let not_blocking = meta(&[], false, &[("self", false)]);
        assert_eq!(
            decide_owner(&foreground, &[&not_blocking, &child]),
            Owner::DeleteDependents(vec![1])
        );
        assert_eq!(
            decide_owner(&foreground, &[&not_blocking]),
            Owner::RemoveFinalizer(FOREGROUND_FINALIZER)
        );
    }
}
