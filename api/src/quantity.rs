//! Kubernetes resource quantities (`100m`, `128Mi`, `1e3`): exact parsing,
//! canonical formatting and the arithmetic the scheduler needs.
