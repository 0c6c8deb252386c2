//! Arbitrary bytes through every decoder the apiserver's REST face runs
//! on untrusted input: `<path>\n<query>\n<body>`, the body as JSON, YAML,
//! Kubernetes protobuf and each patch format (see
//! `apiserver::fuzzing::decode_request`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    apiserver::fuzzing::decode_request(data);
});
