//! Generated protobuf messages and tonic stubs for `skiff.v1` (see `proto/skiff.proto`).

#![allow(unreachable_pub, clippy::all, missing_docs)]
// Reason: generated code; lints apply to the hand-written crate only.

tonic::include_proto!("skiff.v1");
