//! The `kakehashi` binary: see `cli` for the commands.

fn main() -> std::process::ExitCode {
    kakehashi::cli::main()
}
