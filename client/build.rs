//! Compiles `proto/skiff.proto` with protox (pure Rust, no system `protoc`)
//! and hands the descriptors to tonic-prost-build for the client and server stubs.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/skiff.proto");
    let descriptors = protox::compile(["proto/skiff.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .bytes(".")
        // Undecodable messages are InvalidArgument, not Internal (`src/codec.rs`).
        .codec_path("crate::codec::ApiCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
