//! Compiles every contract under `medpay/` with protox (pure Rust, no system protoc) and writes the
//! descriptor set that server reflection serves.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    proto_files(&root.join("medpay"), &mut files)?;
    files.sort();
    // tonic-prost-build's own rerun hints do nothing when fed a descriptor set, so list every file.
    println!("cargo:rerun-if-changed=medpay");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let relative: Vec<PathBuf> = files
        .iter()
        .map(|f| f.strip_prefix(&root).map(Path::to_path_buf))
        .collect::<Result<_, _>>()?;
    let descriptors = protox::compile(&relative, [&root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("medpay_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    // Reflection on the public edge describes the public contracts only: internal services are
    // never exposed by the gateway, so a vendor should not discover them either.
    let public: Vec<PathBuf> = relative
        .iter()
        .filter(|path| !path.components().any(|c| c.as_os_str() == "internal"))
        .cloned()
        .collect();
    let public_descriptors = protox::compile(&public, [&root])?;
    std::fs::write(
        out_dir.join("medpay_public_descriptor.bin"),
        prost::Message::encode_to_vec(&public_descriptors),
    )?;
    tonic_prost_build::configure()
        // The points documents' maps encode in key order, so the same typed request always has the
        // same bytes (a retry under its request_id is recognised as the same request).
        .btree_map(".medpay.points.v1")
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
