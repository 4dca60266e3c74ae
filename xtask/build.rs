//! Bakes the digest of the sources this xtask is built from into the binary (`own_build.rs`).

#[path = "src/sources.rs"]
mod sources;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for source in sources::SOURCES {
        println!("cargo:rerun-if-changed={}", root.join(source).display());
    }
    let digest = sources::sources_digest(&root).expect("the xtask sources are readable");
    println!("cargo:rustc-env=XTASK_SOURCES_DIGEST={digest:016x}");
}
