//! PriorityClasses: at most one may be the global default (the Priority
//! admission plugin), checked on create and update.

use api::k8s_openapi::api::scheduling::v1::PriorityClass;

use crate::admission;
use crate::error::ApiError;
use crate::kinds::Strategy;
use crate::request::Attributes;
use crate::state::ApiState;

impl Strategy for PriorityClass {
    async fn admit_create(
        state: &ApiState,
        _attributes: &Attributes,
        _namespace: &admission::NamespaceFacts,
        class: &mut PriorityClass,
    ) -> Result<(), ApiError> {
        admission::priority::admit_priority_class(state, class).await
    }

    async fn admit_update(
        state: &ApiState,
        _attributes: &Attributes,
        _old: &PriorityClass,
        class: &mut PriorityClass,
    ) -> Result<(), ApiError> {
        admission::priority::admit_priority_class(state, class).await
    }
}
