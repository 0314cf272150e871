//! The `sitevault` binary: a thin layer over the library.

mod cli;

/// mimalloc instead of the system allocator: the minifiers build and drop many small
/// trees, and glibc's malloc/free took about a quarter of a docs-site build's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
