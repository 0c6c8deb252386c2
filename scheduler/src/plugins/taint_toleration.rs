//! TaintToleration: NoSchedule/NoExecute taints must be tolerated (filter);
//! untolerated PreferNoSchedule taints lower the score (reversed normalize).

use crate::model::{PodInfo, TaintEffect};
use crate::status::RejectReason;
use crate::table::snapshot::{NodeRecord, Snapshot};

/// Per interned taint: whether the pod leaves it untolerated.
#[derive(Clone, Debug, Default)]
pub struct TaintState {
    pub untolerated_filtering: Vec<bool>,
    pub untolerated_prefer: Vec<bool>,
}

pub fn prepare(snapshot: &Snapshot, pod: &PodInfo) -> TaintState {
    let taints = snapshot.taint_table().all();
    let mut state = TaintState {
        untolerated_filtering: vec![false; taints.len()],
        untolerated_prefer: vec![false; taints.len()],
    };
    for (index, taint) in taints.iter().enumerate() {
        if taint.effect.is_filtering() {
            state.untolerated_filtering[index] = !pod
                .tolerations
                .iter()
                .any(|toleration| toleration.tolerates(taint));
        } else {
            state.untolerated_prefer[index] = !pod
                .tolerations
                .iter()
                .filter(|toleration| {
                    toleration.effect.is_none()
                        || toleration.effect == Some(TaintEffect::PreferNoSchedule)
                })
                .any(|toleration| toleration.tolerates(taint));
        }
    }
    state
}

#[inline]
pub fn filter(state: &TaintState, record: &NodeRecord) -> Result<(), RejectReason> {
    for taint in &record.filtering_taints {
        if state.untolerated_filtering[taint.0 as usize] {
            return Err(RejectReason::UntoleratedTaint(*taint));
        }
    }
    Ok(())
}

/// Raw score: untolerated PreferNoSchedule taints on the node.
#[inline]
pub fn score(state: &TaintState, record: &NodeRecord) -> i64 {
    record
        .prefer_no_schedule_taints
        .iter()
        .filter(|taint| state.untolerated_prefer[taint.0 as usize])
        .count() as i64
}
