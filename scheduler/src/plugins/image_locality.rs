//! ImageLocality: favours nodes that already hold the pod's images, scaled
//! by how widely each image is spread, clamped to [23 MiB, 1000 MiB × containers].

use crate::model::PodInfo;
use crate::table::intern::StrId;
use crate::table::snapshot::{NodeRecord, Snapshot};

const MIB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MIB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MIB;

/// The pod's images present on some node (with repetition), and the
/// container count; empty = every node scores 0.
#[derive(Clone, Debug, Default)]
pub struct ImageState {
    pub images: Vec<(StrId, u32)>,
    pub container_count: i64,
}

pub fn prepare(snapshot: &Snapshot, pod: &PodInfo) -> ImageState {
    let images = pod
        .images
        .iter()
        .filter_map(|image| snapshot.strings().get(image))
        .map(|id| (id, snapshot.image_node_count(id)))
        .filter(|(_, count)| *count > 0)
        .collect();
    ImageState {
        images,
        container_count: pod.container_count as i64,
    }
}

#[inline]
pub fn score(state: &ImageState, record: &NodeRecord, total_nodes: usize) -> i64 {
    if state.images.is_empty() || total_nodes == 0 {
        return 0;
    }
    let mut sum = 0i64;
    for (image, node_count) in &state.images {
        if let Ok(pos) = record.images.binary_search_by(|(id, _)| id.cmp(image)) {
            let spread = f64::from(*node_count) / total_nodes as f64;
            sum += (record.images[pos].1 as f64 * spread) as i64;
        }
    }
    let max_threshold = MAX_CONTAINER_THRESHOLD * state.container_count;
    let clamped = sum.clamp(MIN_THRESHOLD, max_threshold.max(MIN_THRESHOLD));
    if max_threshold <= MIN_THRESHOLD {
        return 0;
    }
    100 * (clamped - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}
