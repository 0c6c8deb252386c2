//! Write-ahead log framing and recovery on byte-level damage: torn tails are
//! dropped, earlier records survive, damage before the tail is an error,
//! failed appends leave nothing behind.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::*;
use crate::mvcc::LogEntry;
use crate::{Bytes, Event, EventKind, KeyValue};

fn put(revision: i64, key: &str) -> Vec<Change> {
    vec![Change::Write(LogEntry {
        revision,
        events: Arc::from(vec![Event {
            kind: EventKind::Put,
            kv: KeyValue {
                key: key.to_string(),
                value: Bytes::from(&b"value"[..]),
                create_revision: revision,
                mod_revision: revision,
                version: 1,
                lease: 0,
            },
            prev: None,
        }]),
    })]
}

/// Sequence numbers of the records read back from `dir`.
fn seqs(dir: &Path) -> Vec<u64> {
    read_all(dir).unwrap().iter().map(|r| r.seq).collect()
}

fn create(dir: &Path, segment_bytes: u64) -> Wal {
    Wal::create(dir, 1, segment_bytes, Arc::new(AtomicBool::new(false))).unwrap()
}

fn write_three(dir: &Path) -> PathBuf {
    let mut wal = create(dir, 1 << 20);
    for revision in 1..=3 {
        assert_eq!(
            wal.append(&put(revision, "k"), None).unwrap(),
            revision as u64
        );
    }
    wal.path.clone()
}

#[test]
fn records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    write_three(dir.path());
    let records = read_all(dir.path()).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        format!("{:?}", records[1].changes),
        format!("{:?}", put(2, "k"))
    );
}

#[test]
fn truncated_tail_is_dropped_and_earlier_records_survive() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_three(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    for cut in [1, 5, 9, 20] {
        let copy = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let target = copy.path().join(path.file_name().unwrap());
        std::fs::write(&target, &bytes[..(len - cut) as usize]).unwrap();
        assert_eq!(seqs(copy.path()), vec![1, 2], "cut {cut} bytes");
    }
}

#[test]
fn garbage_or_zeroes_after_the_last_record_are_dropped() {
    for tail in [
        vec![0u8; 4096],
        vec![0xab; 3],
        vec![7, 0, 0, 0, 1, 2, 3, 4, 9],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = write_three(dir.path());
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&tail)
            .unwrap();
        assert_eq!(seqs(dir.path()), vec![1, 2, 3]);
    }
}

#[test]
fn flipped_byte_in_last_record_drops_only_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_three(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(seqs(dir.path()), vec![1, 2]);
}

#[test]
fn damage_before_the_last_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // One record per segment.
    let mut wal = create(dir.path(), 1);
    for revision in 1..=3 {
        wal.append(&put(revision, "k"), None).unwrap();
    }
    let first = &segments(dir.path()).unwrap()[0];
    let mut bytes = std::fs::read(&first.path).unwrap();
    let at = bytes.len() - 1;
    bytes[at] ^= 1;
    std::fs::write(&first.path, &bytes).unwrap();
    assert!(matches!(read_all(dir.path()), Err(StoreError::Io(_))));
}

#[test]
fn failed_fsync_leaves_nothing_and_the_log_continues() {
    let dir = tempfile::tempdir().unwrap();
    let fault = FaultInjection::default();
    let mut wal = create(dir.path(), 1 << 20);
    wal.append(&put(1, "a"), Some(&fault)).unwrap();
    fault.set_fail_commits(true);
    assert!(matches!(
        wal.append(&put(2, "b"), Some(&fault)),
        Err(StoreError::Io(_))
    ));
    assert_eq!(seqs(dir.path()), vec![1]);
    fault.set_fail_commits(false);
    assert_eq!(wal.append(&put(2, "c"), Some(&fault)).unwrap(), 2);
    let records = read_all(dir.path()).unwrap();
    assert_eq!(
        format!("{:?}", records[1].changes),
        format!("{:?}", put(2, "c"))
    );
}

#[test]
fn failed_fsync_in_a_preallocated_segment_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fault = FaultInjection::default();
    let mut wal = create(dir.path(), 1 << 20);
    wal.append(&put(1, "a"), Some(&fault)).unwrap();
    prepare_spare(dir.path(), None, 8192).unwrap();
    wal.append(&put(2, "b"), Some(&fault)).unwrap();
    assert!(!spare_exists(dir.path()), "moved to the preallocated spare");
    fault.set_fail_commits(true);
    assert!(wal.append(&put(3, "c"), Some(&fault)).is_err());
    assert_eq!(seqs(dir.path()), vec![1, 2]);
    fault.set_fail_commits(false);
    assert_eq!(wal.append(&put(3, "d"), Some(&fault)).unwrap(), 3);
    let records = read_all(dir.path()).unwrap();
    assert_eq!(
        format!("{:?}", records[2].changes),
        format!("{:?}", put(3, "d"))
    );
    let sizes: Vec<u64> = segments(dir.path())
        .unwrap()
        .iter()
        .map(|s| std::fs::metadata(&s.path).unwrap().len())
        .collect();
    assert_eq!(sizes.last(), Some(&8192), "preallocation kept");
}

#[test]
fn segments_rotate_and_covered_ones_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = create(dir.path(), 200);
    for revision in 1..=10 {
        wal.append(&put(revision, "key"), None).unwrap();
    }
    let before = segments(dir.path()).unwrap();
    assert!(before.len() > 2, "{before:?}");
    assert_eq!(seqs(dir.path()), (1..=10).collect::<Vec<_>>());
    remove_covered(dir.path(), 4, None).unwrap();
    let after = segments(dir.path()).unwrap();
    assert!(after.len() < before.len());
    // Everything past the applied point is still there.
    let kept = seqs(dir.path());
    assert!(kept.first().is_some_and(|&s| s <= 5), "{kept:?}");
    assert_eq!(kept.last(), Some(&10));
    remove_covered(dir.path(), 10, None).unwrap();
    assert_eq!(
        segments(dir.path()).unwrap().len(),
        1,
        "the active segment stays"
    );
}

#[test]
fn recycled_segments_hide_their_stale_records() {
    let dir = tempfile::tempdir().unwrap();
    let spare_wanted = Arc::new(AtomicBool::new(false));
    let mut wal = Wal::create(dir.path(), 1, 400, spare_wanted.clone()).unwrap();
    let mut written = 0;
    for round in 0..6 {
        for _ in 0..12 {
            written += 1;
            wal.append(&put(written, "a-longer-key-for-bigger-records"), None)
                .unwrap();
        }
        assert!(spare_wanted.load(Ordering::Acquire));
        // Checkpoint everything but the last record, recycling a segment.
        let kept = remove_covered(dir.path(), written as u64 - 1, Some(400)).unwrap();
        assert!(kept.is_some() || round > 0 || spare_exists(dir.path()));
        prepare_spare(dir.path(), kept.as_deref(), 400).unwrap();
        assert!(spare_exists(dir.path()));
        let seqs = seqs(dir.path());
        assert_eq!(seqs.last(), Some(&(written as u64)), "round {round}");
        assert!(seqs.windows(2).all(|w| w[0] + 1 == w[1]), "{seqs:?}");
    }
}

#[test]
fn zero_filled_spare_becomes_the_next_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut wal = create(dir.path(), 1 << 20);
    wal.append(&put(1, "k"), None).unwrap();
    // A plain segment moves to a spare as soon as one is ready.
    prepare_spare(dir.path(), None, 4096).unwrap();
    for revision in 2..=8 {
        wal.append(&put(revision, "k"), None).unwrap();
    }
    assert!(!spare_exists(dir.path()), "rotation took the spare");
    assert_eq!(segments(dir.path()).unwrap().len(), 2);
    let sizes: Vec<u64> = segments(dir.path())
        .unwrap()
        .iter()
        .map(|s| std::fs::metadata(&s.path).unwrap().len())
        .collect();
    assert!(sizes.contains(&4096), "{sizes:?}");
    assert_eq!(seqs(dir.path()), (1..=8).collect::<Vec<_>>());
}
