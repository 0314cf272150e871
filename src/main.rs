//! The `sitevault` binary: a thin layer over the library.

mod cli;

/// mimalloc instead of the system allocator: the minifiers build and drop many small
/// trees, and glibc's malloc/free took about a quarter of a docs-site build's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    no_huge_pages();
    std::process::exit(cli::run());
}

/// Transparent huge pages off for this process. mimalloc asks for them on its arena
/// (`MADV_HUGEPAGE`), so every thread's first allocation faults in and zeroes a
/// whole 2 MB page: measured on a one-file publish of a 14,909-file dist (file
/// store), a fifth of the CPU time was the kernel clearing pages, and the command
/// took 126–165 ms instead of 161–225 ms; builds of the three bench corpora took
/// the same time either way. Checked at each page fault, so setting it here covers
/// the arena mimalloc reserved before `main`.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
