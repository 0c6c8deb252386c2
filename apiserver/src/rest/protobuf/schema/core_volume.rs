//! Protobuf field tables for volumes and their sources, PersistentVolume and
//! PersistentVolumeClaim. Field numbers and wire types follow
//! `staging/src/k8s.io/api/core/v1/generated.proto` of Kubernetes 1.34; JSON
//! names, `omitempty` and pointers follow the JSON tags and Go types of the
//! `types.go` beside it.

use super::{FieldShape as S, Message, ValueType as T, field};

pub(crate) static VOLUME: Message = Message {
    name: "Volume",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "", T::Message(&VOLUME_SOURCE), S::Inline),
    ],
};

pub(crate) static VOLUME_SOURCE: Message = Message {
    name: "VolumeSource",
    fields: &[
        field(1, "hostPath", T::Message(&HOST_PATH_VOLUME_SOURCE), S::Pointer),
        field(2, "emptyDir", T::Message(&EMPTY_DIR_VOLUME_SOURCE), S::Pointer),
        field(3, "gcePersistentDisk", T::Message(&GCE_PERSISTENT_DISK_VOLUME_SOURCE), S::Pointer),
        field(4, "awsElasticBlockStore", T::Message(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE), S::Pointer),
        field(5, "gitRepo", T::Message(&GIT_REPO_VOLUME_SOURCE), S::Pointer),
        field(6, "secret", T::Message(&SECRET_VOLUME_SOURCE), S::Pointer),
        field(7, "nfs", T::Message(&NFS_VOLUME_SOURCE), S::Pointer),
        field(8, "iscsi", T::Message(&ISCSI_VOLUME_SOURCE), S::Pointer),
        field(9, "glusterfs", T::Message(&GLUSTERFS_VOLUME_SOURCE), S::Pointer),
        field(10, "persistentVolumeClaim", T::Message(&PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE), S::Pointer),
        field(11, "rbd", T::Message(&RBD_VOLUME_SOURCE), S::Pointer),
        field(12, "flexVolume", T::Message(&FLEX_VOLUME_SOURCE), S::Pointer),
        field(13, "cinder", T::Message(&CINDER_VOLUME_SOURCE), S::Pointer),
        field(14, "cephfs", T::Message(&CEPH_FS_VOLUME_SOURCE), S::Pointer),
        field(15, "flocker", T::Message(&FLOCKER_VOLUME_SOURCE), S::Pointer),
        field(16, "downwardAPI", T::Message(&DOWNWARD_API_VOLUME_SOURCE), S::Pointer),
        field(17, "fc", T::Message(&FC_VOLUME_SOURCE), S::Pointer),
        field(18, "azureFile", T::Message(&AZURE_FILE_VOLUME_SOURCE), S::Pointer),
        field(19, "configMap", T::Message(&CONFIG_MAP_VOLUME_SOURCE), S::Pointer),
        field(20, "vsphereVolume", T::Message(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE), S::Pointer),
        field(21, "quobyte", T::Message(&QUOBYTE_VOLUME_SOURCE), S::Pointer),
        field(22, "azureDisk", T::Message(&AZURE_DISK_VOLUME_SOURCE), S::Pointer),
        field(23, "photonPersistentDisk", T::Message(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE), S::Pointer),
        field(26, "projected", T::Message(&PROJECTED_VOLUME_SOURCE), S::Pointer),
        field(24, "portworxVolume", T::Message(&PORTWORX_VOLUME_SOURCE), S::Pointer),
        field(25, "scaleIO", T::Message(&SCALE_IO_VOLUME_SOURCE), S::Pointer),
        field(27, "storageos", T::Message(&STORAGE_OS_VOLUME_SOURCE), S::Pointer),
        field(28, "csi", T::Message(&CSI_VOLUME_SOURCE), S::Pointer),
        field(29, "ephemeral", T::Message(&EPHEMERAL_VOLUME_SOURCE), S::Pointer),
        field(30, "image", T::Message(&IMAGE_VOLUME_SOURCE), S::Pointer),
    ],
};

pub(crate) static HOST_PATH_VOLUME_SOURCE: Message = Message {
    name: "HostPathVolumeSource",
    fields: &[
        field(1, "path", T::String, S::Always),
        field(2, "type", T::String, S::Pointer),
    ],
};

pub(crate) static EMPTY_DIR_VOLUME_SOURCE: Message = Message {
    name: "EmptyDirVolumeSource",
    fields: &[
        field(1, "medium", T::String, S::OmitEmpty),
        field(2, "sizeLimit", T::Quantity, S::Pointer),
    ],
};

pub(crate) static GCE_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    name: "GCEPersistentDiskVolumeSource",
    fields: &[
        field(1, "pdName", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "partition", T::Int32, S::OmitEmpty),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Message = Message {
    name: "AWSElasticBlockStoreVolumeSource",
    fields: &[
        field(1, "volumeID", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "partition", T::Int32, S::OmitEmpty),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static GIT_REPO_VOLUME_SOURCE: Message = Message {
    name: "GitRepoVolumeSource",
    fields: &[
        field(1, "repository", T::String, S::Always),
        field(2, "revision", T::String, S::OmitEmpty),
        field(3, "directory", T::String, S::OmitEmpty),
    ],
};

pub(crate) static SECRET_VOLUME_SOURCE: Message = Message {
    name: "SecretVolumeSource",
    fields: &[
        field(1, "secretName", T::String, S::OmitEmpty),
        field(2, "items", T::Message(&KEY_TO_PATH), S::Repeated),
        field(3, "defaultMode", T::Int32, S::Pointer),
        field(4, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static KEY_TO_PATH: Message = Message {
    name: "KeyToPath",
    fields: &[
        field(1, "key", T::String, S::Always),
        field(2, "path", T::String, S::Always),
        field(3, "mode", T::Int32, S::Pointer),
    ],
};

pub(crate) static NFS_VOLUME_SOURCE: Message = Message {
    name: "NFSVolumeSource",
    fields: &[
        field(1, "server", T::String, S::Always),
        field(2, "path", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static ISCSI_VOLUME_SOURCE: Message = Message {
    name: "ISCSIVolumeSource",
    fields: &[
        field(1, "targetPortal", T::String, S::Always),
        field(2, "iqn", T::String, S::Always),
        field(3, "lun", T::Int32, S::Always),
        field(4, "iscsiInterface", T::String, S::OmitEmpty),
        field(5, "fsType", T::String, S::OmitEmpty),
        field(6, "readOnly", T::Bool, S::OmitEmpty),
        field(7, "portals", T::String, S::Repeated),
        field(8, "chapAuthDiscovery", T::Bool, S::OmitEmpty),
        field(11, "chapAuthSession", T::Bool, S::OmitEmpty),
        field(10, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(12, "initiatorName", T::String, S::Pointer),
    ],
};

pub(crate) static GLUSTERFS_VOLUME_SOURCE: Message = Message {
    name: "GlusterfsVolumeSource",
    fields: &[
        field(1, "endpoints", T::String, S::Always),
        field(2, "path", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message = Message {
    name: "PersistentVolumeClaimVolumeSource",
    fields: &[
        field(1, "claimName", T::String, S::Always),
        field(2, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static RBD_VOLUME_SOURCE: Message = Message {
    name: "RBDVolumeSource",
    fields: &[
        field(1, "monitors", T::String, S::Repeated),
        field(2, "image", T::String, S::Always),
        field(3, "fsType", T::String, S::OmitEmpty),
        field(4, "pool", T::String, S::OmitEmpty),
        field(5, "user", T::String, S::OmitEmpty),
        field(6, "keyring", T::String, S::OmitEmpty),
        field(7, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(8, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static FLEX_VOLUME_SOURCE: Message = Message {
    name: "FlexVolumeSource",
    fields: &[
        field(1, "driver", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
        field(5, "options", T::String, S::Map),
    ],
};

pub(crate) static CINDER_VOLUME_SOURCE: Message = Message {
    name: "CinderVolumeSource",
    fields: &[
        field(1, "volumeID", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static CEPH_FS_VOLUME_SOURCE: Message = Message {
    name: "CephFSVolumeSource",
    fields: &[
        field(1, "monitors", T::String, S::Repeated),
        field(2, "path", T::String, S::OmitEmpty),
        field(3, "user", T::String, S::OmitEmpty),
        field(4, "secretFile", T::String, S::OmitEmpty),
        field(5, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(6, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static FLOCKER_VOLUME_SOURCE: Message = Message {
    name: "FlockerVolumeSource",
    fields: &[
        field(1, "datasetName", T::String, S::OmitEmpty),
        field(2, "datasetUUID", T::String, S::OmitEmpty),
    ],
};

pub(crate) static DOWNWARD_API_VOLUME_SOURCE: Message = Message {
    name: "DownwardAPIVolumeSource",
    fields: &[
        field(1, "items", T::Message(&DOWNWARD_API_VOLUME_FILE), S::Repeated),
        field(2, "defaultMode", T::Int32, S::Pointer),
    ],
};

pub(crate) static DOWNWARD_API_VOLUME_FILE: Message = Message {
    name: "DownwardAPIVolumeFile",
    fields: &[
        field(1, "path", T::String, S::Always),
        field(2, "fieldRef", T::Message(&super::core_pod::OBJECT_FIELD_SELECTOR), S::Pointer),
        field(3, "resourceFieldRef", T::Message(&super::core_pod::RESOURCE_FIELD_SELECTOR), S::Pointer),
        field(4, "mode", T::Int32, S::Pointer),
    ],
};

pub(crate) static FC_VOLUME_SOURCE: Message = Message {
    name: "FCVolumeSource",
    fields: &[
        field(1, "targetWWNs", T::String, S::Repeated),
        field(2, "lun", T::Int32, S::Pointer),
        field(3, "fsType", T::String, S::OmitEmpty),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
        field(5, "wwids", T::String, S::Repeated),
    ],
};

pub(crate) static AZURE_FILE_VOLUME_SOURCE: Message = Message {
    name: "AzureFileVolumeSource",
    fields: &[
        field(1, "secretName", T::String, S::Always),
        field(2, "shareName", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static CONFIG_MAP_VOLUME_SOURCE: Message = Message {
    name: "ConfigMapVolumeSource",
    fields: &[
        field(1, "", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "items", T::Message(&KEY_TO_PATH), S::Repeated),
        field(3, "defaultMode", T::Int32, S::Pointer),
        field(4, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Message = Message {
    name: "VsphereVirtualDiskVolumeSource",
    fields: &[
        field(1, "volumePath", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "storagePolicyName", T::String, S::OmitEmpty),
        field(4, "storagePolicyID", T::String, S::OmitEmpty),
    ],
};

pub(crate) static QUOBYTE_VOLUME_SOURCE: Message = Message {
    name: "QuobyteVolumeSource",
    fields: &[
        field(1, "registry", T::String, S::Always),
        field(2, "volume", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "user", T::String, S::OmitEmpty),
        field(5, "group", T::String, S::OmitEmpty),
        field(6, "tenant", T::String, S::OmitEmpty),
    ],
};

pub(crate) static AZURE_DISK_VOLUME_SOURCE: Message = Message {
    name: "AzureDiskVolumeSource",
    fields: &[
        field(1, "diskName", T::String, S::Always),
        field(2, "diskURI", T::String, S::Always),
        field(3, "cachingMode", T::String, S::Pointer),
        field(4, "fsType", T::String, S::Pointer),
        field(5, "readOnly", T::Bool, S::Pointer),
        field(6, "kind", T::String, S::Pointer),
    ],
};

pub(crate) static PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Message = Message {
    name: "PhotonPersistentDiskVolumeSource",
    fields: &[
        field(1, "pdID", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
    ],
};

pub(crate) static PROJECTED_VOLUME_SOURCE: Message = Message {
    name: "ProjectedVolumeSource",
    fields: &[
        field(1, "sources", T::Message(&VOLUME_PROJECTION), S::Repeated),
        field(2, "defaultMode", T::Int32, S::Pointer),
    ],
};

pub(crate) static VOLUME_PROJECTION: Message = Message {
    name: "VolumeProjection",
    fields: &[
        field(1, "secret", T::Message(&SECRET_PROJECTION), S::Pointer),
        field(2, "downwardAPI", T::Message(&DOWNWARD_API_PROJECTION), S::Pointer),
        field(3, "configMap", T::Message(&CONFIG_MAP_PROJECTION), S::Pointer),
        field(4, "serviceAccountToken", T::Message(&SERVICE_ACCOUNT_TOKEN_PROJECTION), S::Pointer),
        field(5, "clusterTrustBundle", T::Message(&CLUSTER_TRUST_BUNDLE_PROJECTION), S::Pointer),
        field(6, "podCertificate", T::Message(&POD_CERTIFICATE_PROJECTION), S::Pointer),
    ],
};

pub(crate) static SECRET_PROJECTION: Message = Message {
    name: "SecretProjection",
    fields: &[
        field(1, "", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "items", T::Message(&KEY_TO_PATH), S::Repeated),
        field(4, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static DOWNWARD_API_PROJECTION: Message = Message {
    name: "DownwardAPIProjection",
    fields: &[
        field(1, "items", T::Message(&DOWNWARD_API_VOLUME_FILE), S::Repeated),
    ],
};

pub(crate) static CONFIG_MAP_PROJECTION: Message = Message {
    name: "ConfigMapProjection",
    fields: &[
        field(1, "", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Inline),
        field(2, "items", T::Message(&KEY_TO_PATH), S::Repeated),
        field(4, "optional", T::Bool, S::Pointer),
    ],
};

pub(crate) static SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = Message {
    name: "ServiceAccountTokenProjection",
    fields: &[
        field(1, "audience", T::String, S::OmitEmpty),
        field(2, "expirationSeconds", T::Int64, S::Pointer),
        field(3, "path", T::String, S::Always),
    ],
};

pub(crate) static CLUSTER_TRUST_BUNDLE_PROJECTION: Message = Message {
    name: "ClusterTrustBundleProjection",
    fields: &[
        field(1, "name", T::String, S::Pointer),
        field(2, "signerName", T::String, S::Pointer),
        field(3, "labelSelector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(5, "optional", T::Bool, S::Pointer),
        field(4, "path", T::String, S::Always),
    ],
};

pub(crate) static POD_CERTIFICATE_PROJECTION: Message = Message {
    name: "PodCertificateProjection",
    fields: &[
        field(1, "signerName", T::String, S::OmitEmpty),
        field(2, "keyType", T::String, S::OmitEmpty),
        field(3, "maxExpirationSeconds", T::Int32, S::Pointer),
        field(4, "credentialBundlePath", T::String, S::OmitEmpty),
        field(5, "keyPath", T::String, S::OmitEmpty),
        field(6, "certificateChainPath", T::String, S::OmitEmpty),
    ],
};

pub(crate) static PORTWORX_VOLUME_SOURCE: Message = Message {
    name: "PortworxVolumeSource",
    fields: &[
        field(1, "volumeID", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static SCALE_IO_VOLUME_SOURCE: Message = Message {
    name: "ScaleIOVolumeSource",
    fields: &[
        field(1, "gateway", T::String, S::Always),
        field(2, "system", T::String, S::Always),
        field(3, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(4, "sslEnabled", T::Bool, S::OmitEmpty),
        field(5, "protectionDomain", T::String, S::OmitEmpty),
        field(6, "storagePool", T::String, S::OmitEmpty),
        field(7, "storageMode", T::String, S::OmitEmpty),
        field(8, "volumeName", T::String, S::OmitEmpty),
        field(9, "fsType", T::String, S::OmitEmpty),
        field(10, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static STORAGE_OS_VOLUME_SOURCE: Message = Message {
    name: "StorageOSVolumeSource",
    fields: &[
        field(1, "volumeName", T::String, S::OmitEmpty),
        field(2, "volumeNamespace", T::String, S::OmitEmpty),
        field(3, "fsType", T::String, S::OmitEmpty),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
        field(5, "secretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static CSI_VOLUME_SOURCE: Message = Message {
    name: "CSIVolumeSource",
    fields: &[
        field(1, "driver", T::String, S::Always),
        field(2, "readOnly", T::Bool, S::Pointer),
        field(3, "fsType", T::String, S::Pointer),
        field(4, "volumeAttributes", T::String, S::Map),
        field(5, "nodePublishSecretRef", T::Message(&super::core_pod::LOCAL_OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static EPHEMERAL_VOLUME_SOURCE: Message = Message {
    name: "EphemeralVolumeSource",
    fields: &[
        field(1, "volumeClaimTemplate", T::Message(&PERSISTENT_VOLUME_CLAIM_TEMPLATE), S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = Message {
    name: "PersistentVolumeClaimTemplate",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&PERSISTENT_VOLUME_CLAIM_SPEC), S::Always),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM_SPEC: Message = Message {
    name: "PersistentVolumeClaimSpec",
    fields: &[
        field(1, "accessModes", T::String, S::Repeated),
        field(4, "selector", T::Message(&super::meta::LABEL_SELECTOR), S::Pointer),
        field(2, "resources", T::Message(&VOLUME_RESOURCE_REQUIREMENTS), S::Always),
        field(3, "volumeName", T::String, S::OmitEmpty),
        field(5, "storageClassName", T::String, S::Pointer),
        field(6, "volumeMode", T::String, S::Pointer),
        field(7, "dataSource", T::Message(&TYPED_LOCAL_OBJECT_REFERENCE), S::Pointer),
        field(8, "dataSourceRef", T::Message(&TYPED_OBJECT_REFERENCE), S::Pointer),
        field(9, "volumeAttributesClassName", T::String, S::Pointer),
    ],
};

pub(crate) static VOLUME_RESOURCE_REQUIREMENTS: Message = Message {
    name: "VolumeResourceRequirements",
    fields: &[
        field(1, "limits", T::Quantity, S::Map),
        field(2, "requests", T::Quantity, S::Map),
    ],
};

pub(crate) static TYPED_LOCAL_OBJECT_REFERENCE: Message = Message {
    name: "TypedLocalObjectReference",
    fields: &[
        field(1, "apiGroup", T::String, S::Pointer),
        field(2, "kind", T::String, S::Always),
        field(3, "name", T::String, S::Always),
    ],
};

pub(crate) static TYPED_OBJECT_REFERENCE: Message = Message {
    name: "TypedObjectReference",
    fields: &[
        field(1, "apiGroup", T::String, S::Pointer),
        field(2, "kind", T::String, S::Always),
        field(3, "name", T::String, S::Always),
        field(4, "namespace", T::String, S::Pointer),
    ],
};

pub(crate) static IMAGE_VOLUME_SOURCE: Message = Message {
    name: "ImageVolumeSource",
    fields: &[
        field(1, "reference", T::String, S::OmitEmpty),
        field(2, "pullPolicy", T::String, S::OmitEmpty),
    ],
};

pub(crate) static VOLUME_MOUNT_STATUS: Message = Message {
    name: "VolumeMountStatus",
    fields: &[
        field(1, "name", T::String, S::Always),
        field(2, "mountPath", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "recursiveReadOnly", T::String, S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME: Message = Message {
    name: "PersistentVolume",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&PERSISTENT_VOLUME_SPEC), S::Always),
        field(3, "status", T::Message(&PERSISTENT_VOLUME_STATUS), S::Always),
    ],
};

pub(crate) static PERSISTENT_VOLUME_SPEC: Message = Message {
    name: "PersistentVolumeSpec",
    fields: &[
        field(1, "capacity", T::Quantity, S::Map),
        field(2, "", T::Message(&PERSISTENT_VOLUME_SOURCE), S::Inline),
        field(3, "accessModes", T::String, S::Repeated),
        field(4, "claimRef", T::Message(&super::core_objects::OBJECT_REFERENCE), S::Pointer),
        field(5, "persistentVolumeReclaimPolicy", T::String, S::OmitEmpty),
        field(6, "storageClassName", T::String, S::OmitEmpty),
        field(7, "mountOptions", T::String, S::Repeated),
        field(8, "volumeMode", T::String, S::Pointer),
        field(9, "nodeAffinity", T::Message(&VOLUME_NODE_AFFINITY), S::Pointer),
        field(10, "volumeAttributesClassName", T::String, S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "PersistentVolumeSource",
    fields: &[
        field(1, "gcePersistentDisk", T::Message(&GCE_PERSISTENT_DISK_VOLUME_SOURCE), S::Pointer),
        field(2, "awsElasticBlockStore", T::Message(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE), S::Pointer),
        field(3, "hostPath", T::Message(&HOST_PATH_VOLUME_SOURCE), S::Pointer),
        field(4, "glusterfs", T::Message(&GLUSTERFS_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(5, "nfs", T::Message(&NFS_VOLUME_SOURCE), S::Pointer),
        field(6, "rbd", T::Message(&RBD_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(7, "iscsi", T::Message(&ISCSI_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(8, "cinder", T::Message(&CINDER_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(9, "cephfs", T::Message(&CEPH_FS_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(10, "fc", T::Message(&FC_VOLUME_SOURCE), S::Pointer),
        field(11, "flocker", T::Message(&FLOCKER_VOLUME_SOURCE), S::Pointer),
        field(12, "flexVolume", T::Message(&FLEX_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(13, "azureFile", T::Message(&AZURE_FILE_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(14, "vsphereVolume", T::Message(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE), S::Pointer),
        field(15, "quobyte", T::Message(&QUOBYTE_VOLUME_SOURCE), S::Pointer),
        field(16, "azureDisk", T::Message(&AZURE_DISK_VOLUME_SOURCE), S::Pointer),
        field(17, "photonPersistentDisk", T::Message(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE), S::Pointer),
        field(18, "portworxVolume", T::Message(&PORTWORX_VOLUME_SOURCE), S::Pointer),
        field(19, "scaleIO", T::Message(&SCALE_IO_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(20, "local", T::Message(&LOCAL_VOLUME_SOURCE), S::Pointer),
        field(21, "storageos", T::Message(&STORAGE_OS_PERSISTENT_VOLUME_SOURCE), S::Pointer),
        field(22, "csi", T::Message(&CSI_PERSISTENT_VOLUME_SOURCE), S::Pointer),
    ],
};

pub(crate) static GLUSTERFS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "GlusterfsPersistentVolumeSource",
    fields: &[
        field(1, "endpoints", T::String, S::Always),
        field(2, "path", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "endpointsNamespace", T::String, S::Pointer),
    ],
};

pub(crate) static RBD_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "RBDPersistentVolumeSource",
    fields: &[
        field(1, "monitors", T::String, S::Repeated),
        field(2, "image", T::String, S::Always),
        field(3, "fsType", T::String, S::OmitEmpty),
        field(4, "pool", T::String, S::OmitEmpty),
        field(5, "user", T::String, S::OmitEmpty),
        field(6, "keyring", T::String, S::OmitEmpty),
        field(7, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(8, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static SECRET_REFERENCE: Message = Message {
    name: "SecretReference",
    fields: &[
        field(1, "name", T::String, S::OmitEmpty),
        field(2, "namespace", T::String, S::OmitEmpty),
    ],
};

pub(crate) static ISCSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "ISCSIPersistentVolumeSource",
    fields: &[
        field(1, "targetPortal", T::String, S::Always),
        field(2, "iqn", T::String, S::Always),
        field(3, "lun", T::Int32, S::Always),
        field(4, "iscsiInterface", T::String, S::OmitEmpty),
        field(5, "fsType", T::String, S::OmitEmpty),
        field(6, "readOnly", T::Bool, S::OmitEmpty),
        field(7, "portals", T::String, S::Repeated),
        field(8, "chapAuthDiscovery", T::Bool, S::OmitEmpty),
        field(11, "chapAuthSession", T::Bool, S::OmitEmpty),
        field(10, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(12, "initiatorName", T::String, S::Pointer),
    ],
};

pub(crate) static CINDER_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "CinderPersistentVolumeSource",
    fields: &[
        field(1, "volumeID", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
    ],
};

pub(crate) static CEPH_FS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "CephFSPersistentVolumeSource",
    fields: &[
        field(1, "monitors", T::String, S::Repeated),
        field(2, "path", T::String, S::OmitEmpty),
        field(3, "user", T::String, S::OmitEmpty),
        field(4, "secretFile", T::String, S::OmitEmpty),
        field(5, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(6, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static FLEX_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "FlexPersistentVolumeSource",
    fields: &[
        field(1, "driver", T::String, S::Always),
        field(2, "fsType", T::String, S::OmitEmpty),
        field(3, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
        field(5, "options", T::String, S::Map),
    ],
};

pub(crate) static AZURE_FILE_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "AzureFilePersistentVolumeSource",
    fields: &[
        field(1, "secretName", T::String, S::Always),
        field(2, "shareName", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "secretNamespace", T::String, S::Pointer),
    ],
};

pub(crate) static SCALE_IO_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "ScaleIOPersistentVolumeSource",
    fields: &[
        field(1, "gateway", T::String, S::Always),
        field(2, "system", T::String, S::Always),
        field(3, "secretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(4, "sslEnabled", T::Bool, S::OmitEmpty),
        field(5, "protectionDomain", T::String, S::OmitEmpty),
        field(6, "storagePool", T::String, S::OmitEmpty),
        field(7, "storageMode", T::String, S::OmitEmpty),
        field(8, "volumeName", T::String, S::OmitEmpty),
        field(9, "fsType", T::String, S::OmitEmpty),
        field(10, "readOnly", T::Bool, S::OmitEmpty),
    ],
};

pub(crate) static LOCAL_VOLUME_SOURCE: Message = Message {
    name: "LocalVolumeSource",
    fields: &[
        field(1, "path", T::String, S::Always),
        field(2, "fsType", T::String, S::Pointer),
    ],
};

pub(crate) static STORAGE_OS_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "StorageOSPersistentVolumeSource",
    fields: &[
        field(1, "volumeName", T::String, S::OmitEmpty),
        field(2, "volumeNamespace", T::String, S::OmitEmpty),
        field(3, "fsType", T::String, S::OmitEmpty),
        field(4, "readOnly", T::Bool, S::OmitEmpty),
        field(5, "secretRef", T::Message(&super::core_objects::OBJECT_REFERENCE), S::Pointer),
    ],
};

pub(crate) static CSI_PERSISTENT_VOLUME_SOURCE: Message = Message {
    name: "CSIPersistentVolumeSource",
    fields: &[
        field(1, "driver", T::String, S::Always),
        field(2, "volumeHandle", T::String, S::Always),
        field(3, "readOnly", T::Bool, S::OmitEmpty),
        field(4, "fsType", T::String, S::OmitEmpty),
        field(5, "volumeAttributes", T::String, S::Map),
        field(6, "controllerPublishSecretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(7, "nodeStageSecretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(8, "nodePublishSecretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(9, "controllerExpandSecretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
        field(10, "nodeExpandSecretRef", T::Message(&SECRET_REFERENCE), S::Pointer),
    ],
};

pub(crate) static VOLUME_NODE_AFFINITY: Message = Message {
    name: "VolumeNodeAffinity",
    fields: &[
        field(1, "required", T::Message(&super::core_node::NODE_SELECTOR), S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME_STATUS: Message = Message {
    name: "PersistentVolumeStatus",
    fields: &[
        field(1, "phase", T::String, S::OmitEmpty),
        field(2, "message", T::String, S::OmitEmpty),
        field(3, "reason", T::String, S::OmitEmpty),
        field(4, "lastPhaseTransitionTime", T::Time, S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM: Message = Message {
    name: "PersistentVolumeClaim",
    fields: &[
        field(1, "metadata", T::Message(&super::meta::OBJECT_META), S::Always),
        field(2, "spec", T::Message(&PERSISTENT_VOLUME_CLAIM_SPEC), S::Always),
        field(3, "status", T::Message(&PERSISTENT_VOLUME_CLAIM_STATUS), S::Always),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM_STATUS: Message = Message {
    name: "PersistentVolumeClaimStatus",
    fields: &[
        field(1, "phase", T::String, S::OmitEmpty),
        field(2, "accessModes", T::String, S::Repeated),
        field(3, "capacity", T::Quantity, S::Map),
        field(4, "conditions", T::Message(&PERSISTENT_VOLUME_CLAIM_CONDITION), S::Repeated),
        field(5, "allocatedResources", T::Quantity, S::Map),
        field(7, "allocatedResourceStatuses", T::String, S::Map),
        field(8, "currentVolumeAttributesClassName", T::String, S::Pointer),
        field(9, "modifyVolumeStatus", T::Message(&MODIFY_VOLUME_STATUS), S::Pointer),
    ],
};

pub(crate) static PERSISTENT_VOLUME_CLAIM_CONDITION: Message = Message {
    name: "PersistentVolumeClaimCondition",
    fields: &[
        field(1, "type", T::String, S::Always),
        field(2, "status", T::String, S::Always),
        field(3, "lastProbeTime", T::Time, S::OmitEmpty),
        field(4, "lastTransitionTime", T::Time, S::OmitEmpty),
        field(5, "reason", T::String, S::OmitEmpty),
        field(6, "message", T::String, S::OmitEmpty),
    ],
};

pub(crate) static MODIFY_VOLUME_STATUS: Message = Message {
    name: "ModifyVolumeStatus",
    fields: &[
        field(1, "targetVolumeAttributesClassName", T::String, S::OmitEmpty),
        field(2, "status", T::String, S::Always),
    ],
};
