//! Kakehashi's tools, apart from the server library (`kakehashi`): the `kakehashi` command line
//! (serve, migrate, bootstrap, language checks), the demo seed, import and export through the
//! API, and the schema-compatibility check CI runs. They use the server's public API only.
//!
//! Public API: `cli` (the binary's `main` and `run_args`, which tests call in-process), `seed`
//! (the demo world tests start from), `transfer` and `schema_compat`.

pub mod cli;
pub mod schema_compat;
pub mod seed;
pub mod transfer;
