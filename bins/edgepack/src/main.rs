//! `edgepack`: the daemon (`serve`, the default) and its tools (`package`, `inspect`,
//! `token`).

mod control;
mod demo;
mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use edge::config::MediaRoot;
use edge::origin::{Origins, SourceRef};
use edge::{AppState, Config, Daemon, Server};
use packager::presentation::PackagingOptions;

/// mimalloc instead of the system allocator: fewer cycles per request on the segment and
/// playlist paths (docs/decisions/0011-mimalloc-global-allocator.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "edgepack",
    version,
    about = "Just-in-time HLS and DASH packaging at the edge"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HLS and DASH from a media root (the default command).
    Serve(ServeArgs),
    /// Write everything the daemon would serve for one asset as files under
    /// `OUT/vod/{asset}/`, byte-identical to the daemon's responses.
    Package {
        /// An MP4 file (asset `name.mp4`) or a title directory (asset `name`).
        source: PathBuf,
        /// Output directory; a static file server rooted here answers the daemon's URLs.
        #[arg(long)]
        out: PathBuf,
        /// Target segment duration in milliseconds.
        #[arg(long, default_value_t = 4000)]
        target_segment_ms: u32,
    },
    /// Describe an MP4 file: tracks, codecs, durations, keyframes, and what would stop it
    /// from packaging.
    Inspect {
        /// The MP4 files to describe: paths, or http(s):// URLs read with range requests.
        #[arg(required = true)]
        files: Vec<String>,
        /// Target segment duration to judge keyframe spacing against.
        #[arg(long, default_value_t = 4000)]
        target_segment_ms: u32,
    },
    /// Mint or inspect playback access tokens (Common Access Tokens).
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Serve the control plane (catalog, entitlement, billing) from the `[control]` table of
    /// a configuration file (see deploy/config/edgepack-control.toml).
    Control {
        #[arg(long, env = "EDGEPACK_CONFIG")]
        config: PathBuf,
        /// Address to listen on (overrides control.listen).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Run a contract's conformance suite against any implementation of it.
    Conformance {
        /// catalog, entitlement or billing.
        #[arg(long)]
        contract: String,
        /// The implementation's base URL (the contract's /v1 paths follow it).
        #[arg(long)]
        url: String,
        /// An API key with every scope of the contract.
        #[arg(long, env = "EDGEPACK_API_KEY")]
        api_key: String,
        /// entitlement, billing: a product in the catalog the service uses.
        #[arg(long)]
        product: Option<String>,
        /// entitlement: an asset in that product.
        #[arg(long)]
        asset: Option<String>,
        /// billing: the webhook signing secret the service holds.
        #[arg(long, env = "EDGEPACK_WEBHOOK_SECRET")]
        webhook_secret: Option<String>,
    },
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// TOML configuration file (see deploy/config/edgepack.toml).
    #[arg(long, env = "EDGEPACK_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the config).
    #[arg(long, env = "EDGEPACK_LISTEN")]
    listen: Option<std::net::SocketAddr>,
    /// Directory of MP4 files and title directories, or the base URL of an HTTP origin
    /// (overrides the config).
    #[arg(long, env = "EDGEPACK_MEDIA_ROOT")]
    media_root: Option<String>,
    /// Target segment duration in milliseconds (overrides the config).
    #[arg(long)]
    target_segment_ms: Option<u32>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(args),
        Command::Inspect {
            files,
            target_segment_ms,
        } => inspect(&files, target_segment_ms),
        Command::Package {
            source,
            out,
            target_segment_ms,
        } => package(&source, &out, target_segment_ms),
        Command::Token(command) => token::run(command),
        Command::Control { config, listen } => control::run(&config, listen),
        Command::Conformance {
            contract,
            url,
            api_key,
            product,
            asset,
            webhook_secret,
        } => control::conformance(
            &contract,
            &url,
            conformance::Options {
                api_key,
                product,
                asset,
                webhook_secret,
            },
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("edgepack: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    let demo = args.config.is_none();
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(root) = &args.media_root {
        config.media_root = MediaRoot::parse(root).map_err(anyhow::Error::msg)?;
    }
    if let Some(ms) = args.target_segment_ms {
        config.packaging.target_segment_ms = ms;
    }
    if demo {
        demo::add_control(&mut config);
    }
    config.validate()?;
    Ok(config)
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`).
fn init_logs() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs();
    let config = load_config(&args)?;
    if let MediaRoot::Local(dir) = &config.media_root {
        if !dir.is_dir() {
            anyhow::bail!(
                "media root {} is not a directory (set --media-root or media_root in the config)",
                dir.display()
            );
        }
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Registered before anything is served: SIGHUP's default action ends the process.
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot listen for SIGHUP")?;
        let root = config.media_root.clone();
        let scheme = if config.tls.enabled() {
            "https"
        } else {
            "http"
        };
        let control = config.control.clone();
        let demo = args.config.is_none();
        let daemon = Daemon::new(config).context("cannot set up the daemon")?;
        let listen = daemon.current().config.listen;
        let server = Server::bind(daemon.clone())
            .await
            .with_context(|| format!("cannot start the listener on {listen}"))?;
        let addr = server.local_addr()?;
        println!("edgepack listening on {scheme}://{addr}");
        if let Some(h3) = server.http3_addr() {
            println!("HTTP/3 on udp://{h3} (advertised with Alt-Svc)");
        }
        if daemon.current().config.tls.self_signed && daemon.current().config.tls.cert.is_none() {
            tracing::warn!(
                "serving a self-signed certificate made at start-up: for demos and tests only"
            );
        }
        println!("media root: {root}");
        if let MediaRoot::Local(dir) = &root {
            print_urls(dir, scheme, addr);
        }
        if let Some(c) = &control {
            start_control(daemon.clone(), c, demo).await?;
        }
        tokio::spawn(reload_on_sighup(daemon, args, hangups));
        server.run(shutdown_signal()).await;
        println!("edgepack stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Starts the embedded control plane (`[control]`); the demo's is seeded, moves to a free port
/// when its own is taken, and never stops the node.
async fn start_control(
    daemon: std::sync::Arc<Daemon>,
    config: &control_plane::ControlConfig,
    demo: bool,
) -> anyhow::Result<()> {
    if !demo {
        let embedded = edge::control::start(daemon, config, std::future::pending())
            .await
            .map_err(|e| anyhow::anyhow!("control plane: {e}"))?;
        println!("control plane listening on http://{}", embedded.addr);
        return Ok(());
    }
    // The demo's plane is an extra: when its port is taken it moves to a free one, and
    // whatever else goes wrong, the node serves on without it.
    let mut started = edge::control::start(daemon.clone(), config, std::future::pending()).await;
    if started.is_err() {
        let mut c = config.clone();
        c.listen.set_port(0);
        started = edge::control::start(daemon, &c, std::future::pending()).await;
    }
    match started {
        Ok(embedded) => match demo::seed(&embedded.plane).await {
            Ok(()) => demo::print(embedded.addr),
            Err(e) => tracing::warn!(error = %e, "the demo control plane could not be seeded"),
        },
        Err(e) => {
            tracing::warn!(error = %e, "the demo control plane did not start; serving without it")
        }
    }
    Ok(())
}

/// Reloads the configuration on every SIGHUP. A configuration that does not load or
/// validate is rejected with its error and the one in force stays.
async fn reload_on_sighup(
    daemon: std::sync::Arc<Daemon>,
    args: ServeArgs,
    mut hangups: tokio::signal::unix::Signal,
) {
    while hangups.recv().await.is_some() {
        let metrics = daemon.current().metrics.clone();
        let result = load_config(&args).and_then(|c| daemon.reload(c).map_err(Into::into));
        match result {
            Ok(()) => {
                metrics.config_reloads.with_label_values(&["ok"]).inc();
                tracing::info!("configuration reloaded");
            }
            Err(e) => {
                metrics.config_reloads.with_label_values(&["error"]).inc();
                tracing::error!(error = %format!("{e:#}"), "configuration rejected; the previous one stays in force");
            }
        }
    }
}

/// Prints the playlist URLs of every asset in the media root.
fn print_urls(root: &std::path::Path, scheme: &str, addr: std::net::SocketAddr) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && (e.path().is_dir() || name.ends_with(".mp4"))
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        println!("  {name}:");
        println!("    HLS (CMAF): {scheme}://{addr}/vod/{name}/master.m3u8");
        println!("    HLS (TS):   {scheme}://{addr}/vod/{name}/ts/master.m3u8");
        println!("    DASH:       {scheme}://{addr}/vod/{name}/manifest.mpd");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    println!("edgepack: shutting down, letting in-flight requests finish");
}

fn package(
    source: &std::path::Path,
    out: &std::path::Path,
    target_segment_ms: u32,
) -> anyhow::Result<ExitCode> {
    let asset = source
        .file_name()
        .and_then(|n| n.to_str())
        .context("SOURCE must name a file or directory")?
        .to_owned();
    let root = match source.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut config = Config {
        media_root: root.into(),
        ..Config::default()
    };
    config.packaging.target_segment_ms = target_segment_ms;
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let state = AppState::new(config).context("cannot register metrics")?;
        let report = edge::offline::package(&state, &asset, out)
            .await
            .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
        println!(
            "wrote {} files, {} bytes, under {}",
            report.files,
            report.bytes,
            out.join("vod").join(&asset).display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

fn inspect(files: &[String], target_segment_ms: u32) -> anyhow::Result<ExitCode> {
    let options = PackagingOptions { target_segment_ms };
    let metrics = std::sync::Arc::new(edge::ops::metrics::Metrics::new()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let origins = Origins::new(&Default::default(), metrics).map_err(anyhow::Error::msg)?;
    let mut failed = false;
    for file in files {
        let source = match MediaRoot::parse(file).map_err(anyhow::Error::msg)? {
            MediaRoot::Local(path) => SourceRef::File(path),
            MediaRoot::Http(mut url) => {
                // MediaRoot adds a slash for base URLs; a source URL names one object.
                let path = url.path().trim_end_matches('/').to_owned();
                url.set_path(&path);
                SourceRef::Url(url)
            }
        };
        let movie = runtime.block_on(async {
            let id = origins.identify(&source).await?;
            origins.load_movie(&source, &id).await
        });
        match movie {
            Ok(movie) => print!("{}", packager::inspect::report(file, &movie, options)),
            Err(e) => {
                failed = true;
                println!("{file}: cannot be packaged: {e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
