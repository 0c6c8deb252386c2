//! The apiserver's security building blocks: the cluster PKI (CA, serving
//! certificate, client certificates), the authenticators (client
//! certificates, the static token file, ServiceAccount JWTs), the RBAC
//! authorizer with Kubernetes' bootstrap policy (kubeconfig documents are the
//! client crate's, `client::kubeconfig`).
//!
//! Everything here is pure or touches only its own files: nothing reads the
//! store, and time is passed in wherever a decision depends on it. The REST
//! faces wire these into their request chains (authenticate, then authorize).

pub(crate) mod authenticator;
pub(crate) mod error;
pub mod identities;
pub(crate) mod pem_files;
pub(crate) mod pki;
pub(crate) mod rbac;
pub(crate) mod service_account;
pub(crate) mod tokens;

pub(crate) use error::AuthError;

#[cfg(test)]
mod tests {
    fn assert_shareable_across_tasks<T: Send + Sync + 'static>() {}

    #[test]
    fn building_blocks_can_be_shared_across_tasks() {
        assert_shareable_across_tasks::<super::pki::Pki>();
        assert_shareable_across_tasks::<super::authenticator::Authenticator>();
        assert_shareable_across_tasks::<super::rbac::authorizer::RbacPolicy>();
    }
}
