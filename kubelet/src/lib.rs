//! Node agent; hollow mode simulates thousands of nodes over the apiserver's gRPC API.
