//! Link flags for the `courier` binary.

fn main() {
    // Pack the binary's relative relocations (DT_RELR, glibc 2.36 and later): 66,000 of them
    // took 1.6 MB that every start read and kept resident; packed they take 20 KB
    // (docs/performance.md, "Idle memory"). An ELF option: Linux targets only.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
