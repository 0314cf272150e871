//! Links the `sitevault` executable at a fixed address on Linux (`-no-pie`).
//!
//! As a position-independent executable it started in 14–19 ms, 2 ms without: its
//! 10 MB of relocated read-only data (vtables and tables of pointers from swc,
//! lightningcss, oxc…) took 68,758 relocations at every start, each page written
//! being a copy-on-write fault (2,700 page faults for `sitevault --version`, 170
//! without). Every command paid it, a one-file publish (~0.15 s) and a 3 a.m.
//! rollback included. The Go tools users compare us with (minify, esbuild, rclone)
//! are linked the same way by default. Libraries and the heap, stack and mmap areas
//! are still placed at random addresses; only the executable's own image is not.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
