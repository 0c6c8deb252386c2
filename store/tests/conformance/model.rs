//! Property test: random operation sequences against the memory backend and
//! a naive model that keeps a full copy of the key space per revision.
//! Respects `PROPTEST_CASES`.

use std::collections::BTreeMap;

use proptest::prelude::*;
use store::{Backend, Compare, CompareTarget, Op, RangeRequest, StoreError, StoreExt, Txn};

use crate::suite::val;
use crate::test_config;

#[derive(Clone, Debug)]
enum ModelOp {
    Put(u8, u8),
    Delete(u8),
    Create(u8, u8),
    /// Update guarded by the key's current mod revision, offset by the flag.
    Update(u8, u8, bool),
    DeletePrefix(u8),
    /// Two puts in one transaction.
    PutPair(u8, u8),
    /// Read a prefix at `revision - back` with a limit.
    Read(u8, u8, u8),
    Compact(u8),
}

/// (value, create_revision, mod_revision, version) per key.
type Snapshot = BTreeMap<String, (Vec<u8>, i64, i64, i64)>;

fn key(k: u8) -> String {
    format!("/{}/{}", k % 3, k % 8)
}

fn op_strategy() -> impl Strategy<Value = ModelOp> {
    prop_oneof![
        (any::<u8>(), any::<u8>()).prop_map(|(k, v)| ModelOp::Put(k, v)),
        any::<u8>().prop_map(ModelOp::Delete),
        (any::<u8>(), any::<u8>()).prop_map(|(k, v)| ModelOp::Create(k, v)),
        (any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(k, v, stale)| ModelOp::Update(k, v, stale)),
        any::<u8>().prop_map(ModelOp::DeletePrefix),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| ModelOp::PutPair(a, b)),
        (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(p, back, limit)| ModelOp::Read(p, back, limit)),
        any::<u8>().prop_map(ModelOp::Compact),
    ]
}

struct Model {
    /// `history[r]` is the key space at revision r.
    history: Vec<Snapshot>,
    compacted: i64,
}

impl Model {
    fn current(&self) -> &Snapshot {
        &self.history[self.history.len() - 1]
    }

    fn revision(&self) -> i64 {
        self.history.len() as i64 - 1
    }

    /// Apply writes at one new revision; `None` value = delete.
    fn write(&mut self, writes: &[(String, Option<Vec<u8>>)]) {
        let rev = self.revision() + 1;
        let mut next = self.current().clone();
        let mut changed = false;
        for (k, v) in writes {
            match v {
                Some(v) => {
                    let (create, version) = next.get(k).map_or((rev, 1), |e| (e.1, e.3 + 1));
                    next.insert(k.clone(), (v.clone(), create, rev, version));
                    changed = true;
                }
                None => changed |= next.remove(k).is_some(),
            }
        }
        if changed {
            self.history.push(next);
        }
    }
}

async fn run(ops: Vec<ModelOp>) {
    let store = store::open(&Backend::Memory, test_config()).unwrap();
    let mut model = Model {
        history: vec![Snapshot::new()],
        compacted: 0,
    };
    for op in ops {
        match op {
            ModelOp::Put(k, v) => {
                let txn = Txn {
                    success: vec![Op::Put {
                        key: key(k),
                        value: val(&v.to_string()),
                        lease: 0,
                    }],
                    ..Txn::default()
                };
                store.txn(txn).await.unwrap();
                model.write(&[(key(k), Some(v.to_string().into_bytes()))]);
            }
            ModelOp::Delete(k) => {
                store.delete(&key(k), None).await.unwrap();
                model.write(&[(key(k), None)]);
            }
            ModelOp::Create(k, v) => {
                let created = store.create(&key(k), val(&v.to_string()), 0).await.unwrap();
                let absent = !model.current().contains_key(&key(k));
                assert_eq!(created.is_some(), absent);
                if absent {
                    model.write(&[(key(k), Some(v.to_string().into_bytes()))]);
                }
            }
            ModelOp::Update(k, v, stale) => {
                let Some(&(_, _, mod_rev, _)) = model.current().get(&key(k)) else {
                    continue;
                };
                let expected = if stale { mod_rev - 1 } else { mod_rev };
                let updated = store
                    .update(&key(k), expected, val(&v.to_string()), 0)
                    .await
                    .unwrap();
                assert_eq!(updated.is_some(), !stale);
                if !stale {
                    model.write(&[(key(k), Some(v.to_string().into_bytes()))]);
                }
            }
            ModelOp::DeletePrefix(p) => {
                let prefix = format!("/{}/", p % 3);
                let txn = Txn {
                    success: vec![Op::DeletePrefix {
                        prefix: prefix.clone(),
                    }],
                    ..Txn::default()
                };
                store.txn(txn).await.unwrap();
                let doomed: Vec<_> = model
                    .current()
                    .keys()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect();
                let writes: Vec<_> = doomed.into_iter().map(|k| (k, None)).collect();
                model.write(&writes);
            }
            ModelOp::PutPair(a, b) => {
                if key(a) == key(b) {
                    continue;
                }
                let txn = Txn {
                    compares: vec![Compare {
                        key: key(a),
                        target: CompareTarget::Version(0),
                    }],
                    success: vec![
                        Op::Put {
                            key: key(a),
                            value: val("pa"),
                            lease: 0,
                        },
                        Op::Put {
                            key: key(b),
                            value: val("pb"),
                            lease: 0,
                        },
                    ],
                    failure: vec![Op::Delete { key: key(b) }],
                };
                let resp = store.txn(txn).await.unwrap();
                let absent = !model.current().contains_key(&key(a));
                assert_eq!(resp.succeeded, absent);
                if absent {
                    model.write(&[
                        (key(a), Some(b"pa".to_vec())),
                        (key(b), Some(b"pb".to_vec())),
                    ]);
                } else {
                    model.write(&[(key(b), None)]);
                }
            }
            ModelOp::Read(p, back, limit) => {
                let rev = (model.revision() - i64::from(back % 8)).max(0);
                let prefix = if p % 4 == 3 {
                    "/".to_string()
                } else {
                    format!("/{}/", p % 3)
                };
                let limit = usize::from(limit % 4);
                let req = RangeRequest {
                    prefix: prefix.clone(),
                    limit,
                    revision: Some(rev),
                    ..Default::default()
                };
                let result = store.range(req).await;
                if rev != 0 && rev < model.compacted {
                    assert!(matches!(result, Err(StoreError::Compacted { .. })));
                    continue;
                }
                let resp = result.unwrap();
                let snapshot = &model.history[usize::try_from(rev).unwrap()];
                let snapshot = if rev == 0 { model.current() } else { snapshot };
                let expected: Vec<_> = snapshot
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .collect();
                assert_eq!(resp.count, expected.len());
                let take = if limit == 0 {
                    expected.len()
                } else {
                    limit.min(expected.len())
                };
                assert_eq!(resp.kvs.len(), take);
                assert_eq!(resp.more, take < expected.len());
                for (kv, (k, (v, create, mod_rev, version))) in resp.kvs.iter().zip(expected) {
                    assert_eq!(&kv.key, k);
                    assert_eq!(&*kv.value, v.as_slice());
                    assert_eq!(
                        (kv.create_revision, kv.mod_revision, kv.version),
                        (*create, *mod_rev, *version)
                    );
                }
            }
            ModelOp::Compact(back) => {
                let target = (model.revision() - i64::from(back % 8)).max(model.compacted);
                store.compact(target).await.unwrap();
                model.compacted = target;
            }
        }
        assert_eq!(store.current_revision(), model.revision());
    }
}

proptest! {
    #[test]
    fn memory_backend_matches_model(ops in proptest::collection::vec(op_strategy(), 1..80)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
