//! The `caravan` binary.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    caravan::cli::main().await
}
