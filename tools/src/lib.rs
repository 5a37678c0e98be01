//! Kakehashi's tools, apart from the server library (`kakehashi`): the `kakehashi` command line
//! (serve, migrate, bootstrap, language checks), the demo seed, import and export through the
//! API, and the schema-compatibility check CI runs. They use the server's public API only.

pub mod cli;
pub mod schema_compat;
pub mod seed;
pub mod transfer;
