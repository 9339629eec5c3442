//! The `tabchain` binary: parses the command line, sets up logging and hands
//! over to the library ([`tabchain_relay::serve`]). Kept short on purpose.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "tabchain",
    version,
    about = "tabchain relay: serves the page to browser nodes",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `serve`'s options, so that `tabchain --listen ADDR` serves too.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app (the default when no subcommand is given).
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TABCHAIN_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder holding the web app (index.html and the wasm bundle in pkg/).
    #[arg(long, env = "TABCHAIN_WWW", default_value = "www")]
    www: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=debug".into()),
        )
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    serve(args).await
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("listener has no address")?;
    if !args.www.join("pkg").is_dir() {
        tracing::warn!("{} has no pkg/ folder: build the wasm bundle with `cargo xtask run`", args.www.display());
    }
    println!("tabchain: serving {} at http://{addr}/", args.www.display());
    let shutdown = async {
        // If the signal handler cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tabchain_relay::serve::run(listener, args.www, shutdown).await.context("server stopped")
}
