//! Replays every input of the REST request fuzz target's corpus
//! (`fuzz/corpus/rest_request/`: hand-written seeds for each decoder and
//! inputs the fuzzer found, crashes among them once fixed) through the
//! same entry point, so a decoder that panics on any of them fails here,
//! on stable and without cargo-fuzz.

use std::path::Path;

#[test]
fn rest_request_corpus_never_panics() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/rest_request");
    let mut inputs: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|error| panic!("reading {}: {error}", corpus.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 20,
        "the corpus has {} inputs; the seeds alone are more",
        inputs.len()
    );
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        let replay = std::panic::catch_unwind(|| apiserver::fuzzing::decode_request(&data));
        assert!(replay.is_ok(), "{} panicked", input.display());
    }
}
