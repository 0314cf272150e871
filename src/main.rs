//! The `sitevault` binary: a thin layer over the library.

mod cli;

// swc and lightningcss allocate heavily from every rayon thread; mimalloc keeps that
// from serialising on the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
