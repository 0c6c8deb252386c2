//! The write-ahead log of the redb backend: the ack path of every durable
//! write.
//!
//! Each commit batch becomes one record, appended with one `write` and made
//! durable with one `fdatasync` before any writer of the batch is answered.
//! The redb file is brought up to date later by the checkpointer
//! (`checkpoint.rs`), which then deletes the segments it has covered.
//!
//! On disk: a directory of segment files named after the sequence number of
//! their first record (`00000000000000000042.wal`), each a run of records:
//!
//! ```text
//! record:  len:u32 crc32c:u32 payload[len]      (little-endian)
//! payload: a batch of changes (codec::encode_batch), starting with its seq
//! ```
//!
//! Segments are preallocated: the commit thread overwrites an existing file
//! instead of growing one, so `fdatasync` flushes only data and never waits
//! for a filesystem journal commit (shared with every other writer of the
//! disk). The checkpointer keeps one spare segment ready (`wal/spare`), made
//! from a checkpointed segment it would otherwise delete, or zero-filled.
//! A fresh store starts on a plain growing file; once it has seen about a
//! mebibyte of writes it asks for a spare and moves to it when ready, so
//! small stores (tests) never pay for zero-filling.
//!
//! A segment's records end at the first one whose length, checksum or
//! sequence number does not hold (zeroes, a torn append, or stale records
//! of a recycled file). Sequence numbers are consecutive across segments, so
//! a segment that ends early while a later one exists is corruption and
//! fails the open; a torn tail of the last segment is dropped.
//!
//! If a write or fsync fails, the record is cut out again (zeroed within
//! the preallocation, truncated beyond it) and synced, so a batch reported
//! as failed cannot reappear after a restart. If even that fails the log
//! refuses further appends.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::codec;
use crate::crc::crc32c;
use crate::mvcc::Change;
use crate::{FaultInjection, StoreError};

const SEGMENT_SUFFIX: &str = ".wal";
/// A preallocated segment waiting to become the next one.
const SPARE: &str = "spare";
/// A plain (growing) segment asks for a spare once it holds this much.
const SPARE_AFTER_PLAIN_BYTES: u64 = 1 << 20;
/// A spare being zero-filled; renamed to [`SPARE`] when complete.
const SPARE_TMP: &str = "spare.tmp";
const HEADER_BYTES: usize = 8;

fn io_error(context: &str, path: &Path, error: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{context} {}: {error}", path.display()))
}

/// The segment being appended to, owned by the commit thread.
pub(crate) struct Wal {
    dir: PathBuf,
    file: File,
    path: PathBuf,
    /// Bytes of valid records in `file`.
    len: u64,
    /// Size of `file` when it was opened: appends below it overwrite
    /// preallocated space. 0 for a plain growing file.
    prealloc_bytes: u64,
    /// Start a new segment once the current one holds this many bytes.
    segment_bytes: u64,
    /// Sequence number of the next record.
    next_seq: u64,
    /// Reused encoding buffer.
    buf: Vec<u8>,
    /// Set when a failed append could not be rolled back.
    broken: bool,
    /// Shared with the checkpointer: set here when the next rotation will
    /// want a spare segment, cleared there once one is ready.
    spare_wanted: Arc<AtomicBool>,
}

/// One record read back at recovery.
pub(crate) struct WalRecord {
    pub(crate) seq: u64,
    pub(crate) changes: Vec<Change>,
}

/// A segment file and the sequence number of its first record.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) first_seq: u64,
    pub(crate) path: PathBuf,
}

impl Wal {
    /// Start a fresh segment whose first record will be `next_seq`, and make
    /// its directory entry durable.
    pub(crate) fn create(
        dir: &Path,
        next_seq: u64,
        segment_bytes: u64,
        spare_wanted: Arc<AtomicBool>,
    ) -> Result<Wal, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, &e))?;
        let (file, path, prealloc_bytes) = next_segment(dir, next_seq)?;
        Ok(Wal {
            dir: dir.to_path_buf(),
            file,
            path,
            len: 0,
            prealloc_bytes,
            segment_bytes: segment_bytes.max(1),
            next_seq,
            buf: Vec::new(),
            broken: false,
            spare_wanted,
        })
    }

    /// Append one batch as one record and fsync it. Returns the record's
    /// sequence number. On `Err` nothing of the batch is in the log.
    pub(crate) fn append(
        &mut self,
        changes: &[Change],
        fault: Option<&FaultInjection>,
    ) -> Result<u64, StoreError> {
        if self.broken {
            return Err(StoreError::Io(
                "write-ahead log unusable after a failed rollback".to_string(),
            ));
        }
        let past_prealloc = self.len > 0 && self.len >= self.prealloc_bytes;
        if self.len >= self.segment_bytes || (past_prealloc && spare_exists(&self.dir)) {
            let (file, path, prealloc_bytes) = next_segment(&self.dir, self.next_seq)?;
            self.file = file;
            self.path = path;
            self.len = 0;
            self.prealloc_bytes = prealloc_bytes;
        }
        let seq = self.next_seq;
        self.buf.clear();
        self.buf.extend_from_slice(&[0; HEADER_BYTES]);
        codec::encode_batch(seq, changes, &mut self.buf);
        let payload_len = u32::try_from(self.buf.len() - HEADER_BYTES)
            .map_err(|_| StoreError::Io("commit batch larger than 4 GiB".to_string()))?;
        let crc = crc32c(&self.buf[HEADER_BYTES..]);
        self.buf[..4].copy_from_slice(&payload_len.to_le_bytes());
        self.buf[4..HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());

        let written = self
            .file
            .write_all(&self.buf)
            .and_then(|()| {
                if fault.is_some_and(FaultInjection::fail_commits) {
                    Err(std::io::Error::other("injected fsync failure"))
                } else {
                    self.file.sync_data()
                }
            })
            .map_err(|e| io_error("appending to", &self.path, &e));
        if let Err(error) = written {
            self.roll_back();
            return Err(error);
        }
        self.len += self.buf.len() as u64;
        let want_spare_at = if self.prealloc_bytes > 0 {
            self.prealloc_bytes / 2
        } else {
            SPARE_AFTER_PLAIN_BYTES.min(self.segment_bytes / 2)
        };
        if self.len >= want_spare_at {
            self.spare_wanted.store(true, Ordering::Release);
        }
        self.next_seq += 1;
        Ok(seq)
    }

    /// Cut the segment back to its last complete record after a failed
    /// append.
    fn roll_back(&mut self) {
        let restored = self.cut_back();
        if let Err(error) = restored {
            tracing::error!(%error, path = %self.path.display(), "cannot roll back the write-ahead log");
            self.broken = true;
        }
    }

    /// Remove the failed record: zero it where the file is preallocated
    /// (keeping the preallocation), truncate where it grew the file.
    fn cut_back(&mut self) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        let failed_end = self.len + self.buf.len() as u64;
        if self.prealloc_bytes > self.len {
            let zeroed = failed_end.min(self.prealloc_bytes) - self.len;
            self.file.seek(SeekFrom::Start(self.len))?;
            self.file
                .write_all(&vec![0u8; usize::try_from(zeroed).unwrap_or(usize::MAX)])?;
        }
        if failed_end > self.prealloc_bytes {
            self.file.set_len(self.len.max(self.prealloc_bytes))?;
        }
        self.file.sync_all()?;
        self.file.seek(SeekFrom::Start(self.len)).map(|_| ())
    }
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}{SEGMENT_SUFFIX}"))
}

/// Open the segment starting at `first_seq`: the spare if there is one,
/// else a new empty file. Its directory entry is durable on return.
/// Returns the file, its path and its preallocated size.
fn next_segment(dir: &Path, first_seq: u64) -> Result<(File, PathBuf, u64), StoreError> {
    let path = segment_path(dir, first_seq);
    let (file, prealloc_bytes) = match std::fs::rename(dir.join(SPARE), &path) {
        Ok(()) => {
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| io_error("opening", &path, &e))?;
            let size = file
                .metadata()
                .map_err(|e| io_error("reading size of", &path, &e))?
                .len();
            (file, size)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .open(&path)
                .map_err(|e| io_error("creating", &path, &e))?;
            (file, 0)
        }
        Err(e) => return Err(io_error("renaming spare to", &path, &e)),
    };
    sync_dir(dir)?;
    Ok((file, path, prealloc_bytes))
}

/// Whether a spare segment is ready.
pub(crate) fn spare_exists(dir: &Path) -> bool {
    dir.join(SPARE).exists()
}

/// Make sure a spare segment of at least `segment_bytes` is ready: recycle
/// a checkpointed segment if one is long enough, else zero-fill a new file.
/// Called by the checkpointer only, after covered segments are known.
pub(crate) fn prepare_spare(
    dir: &Path,
    recyclable: Option<&Path>,
    segment_bytes: u64,
) -> Result<(), StoreError> {
    let spare = dir.join(SPARE);
    if spare.exists() {
        return Ok(());
    }
    if let Some(old) = recyclable {
        return std::fs::rename(old, &spare).map_err(|e| io_error("recycling", old, &e));
    }
    let tmp = dir.join(SPARE_TMP);
    let mut file = File::create(&tmp).map_err(|e| io_error("creating", &tmp, &e))?;
    let zeroes = vec![0u8; 1 << 20];
    let mut written = 0;
    while written < segment_bytes {
        let n = zeroes
            .len()
            .min(usize::try_from(segment_bytes - written).unwrap_or(usize::MAX));
        file.write_all(&zeroes[..n])
            .map_err(|e| io_error("zero-filling", &tmp, &e))?;
        written += n as u64;
    }
    file.sync_all().map_err(|e| io_error("syncing", &tmp, &e))?;
    std::fs::rename(&tmp, &spare).map_err(|e| io_error("renaming", &tmp, &e))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("syncing directory", dir, &e))
}

/// The segments in `dir`, in sequence order. A missing directory has none.
pub(crate) fn segments(dir: &Path) -> Result<Vec<Segment>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("listing", dir, &e)),
    };
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("listing", dir, &e))?;
        let name = entry.file_name();
        let Some(first_seq) = name
            .to_str()
            .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        segments.push(Segment {
            first_seq,
            path: entry.path(),
        });
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// Read every valid record in `dir`, in order, dropping a torn tail of the
/// last segment.
pub(crate) fn read_all(dir: &Path) -> Result<Vec<WalRecord>, StoreError> {
    let segments = segments(dir)?;
    let mut records: Vec<WalRecord> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if let Some(last) = records.last()
            && last.seq + 1 != segment.first_seq
        {
            return Err(corrupt(
                &segments[i - 1].path,
                "ends before the next segment begins",
            ));
        }
        let bytes =
            std::fs::read(&segment.path).map_err(|e| io_error("reading", &segment.path, &e))?;
        let mut expected_seq = segment.first_seq;
        let mut offset = 0;
        while let Some(payload) = frame_at(&bytes, offset) {
            let (seq, changes) = codec::decode_batch(payload)?;
            if seq != expected_seq {
                // A stale record of a recycled segment.
                break;
            }
            records.push(WalRecord { seq, changes });
            expected_seq += 1;
            offset += HEADER_BYTES + payload.len();
        }
        let is_last = i + 1 == segments.len();
        if expected_seq == segment.first_seq && !is_last {
            return Err(corrupt(&segment.path, "no valid record"));
        }
        if is_last && bytes[offset..].iter().any(|&b| b != 0) {
            tracing::info!(
                path = %segment.path.display(),
                offset,
                "ignoring bytes past the last valid write-ahead log record"
            );
        }
    }
    Ok(records)
}

fn corrupt(path: &Path, what: &str) -> StoreError {
    StoreError::Io(format!(
        "corrupt write-ahead log segment {}: {what}",
        path.display()
    ))
}

/// The payload of the record at `offset` if it is complete and its checksum
/// holds.
fn frame_at(bytes: &[u8], offset: usize) -> Option<&[u8]> {
    let header = bytes.get(offset..offset + HEADER_BYTES)?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let start = offset + HEADER_BYTES;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    (len > 0 && crc32c(payload) == crc).then_some(payload)
}

/// Delete every segment whose records all have sequence numbers at most
/// `applied_seq` (the next segment starts at or below `applied_seq + 1`).
/// The last segment is never deleted: the commit thread may be appending.
/// If `keep_one_of_bytes` is set, the first covered segment at least that
/// long is kept and its path returned, to be recycled as a spare.
pub(crate) fn remove_covered(
    dir: &Path,
    applied_seq: u64,
    keep_one_of_bytes: Option<u64>,
) -> Result<Option<PathBuf>, StoreError> {
    let segments = segments(dir)?;
    let mut kept = None;
    for pair in segments.windows(2) {
        if pair[1].first_seq > applied_seq.saturating_add(1) {
            break;
        }
        let path = &pair[0].path;
        if kept.is_none()
            && let Some(min_bytes) = keep_one_of_bytes
            && std::fs::metadata(path).is_ok_and(|m| m.len() >= min_bytes)
        {
            kept = Some(path.clone());
            continue;
        }
        std::fs::remove_file(path).map_err(|e| io_error("removing", path, &e))?;
    }
    Ok(kept)
}

#[cfg(test)]
mod tests;
