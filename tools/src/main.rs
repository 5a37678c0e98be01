//! The `kakehashi` binary: see `cli` for the commands.

/// mimalloc instead of the system allocator: with thousands of sockets the server's time goes to
/// small allocations, and glibc's per-thread arenas keep freed memory (argon2's 19 MiB blocks)
/// long after use. Built without transparent huge pages (`no_thp`): with them each touched arena
/// region costs a whole 2 MiB page, and an idle server held 52 MiB instead of 30. Measured in
/// BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kakehashi_tools::cli::main()
}
