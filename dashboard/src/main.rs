//! Chronicle's dashboard server: serves the time-travel page and a JSON API
//! that reads through the extension's SQL functions only (every query is a
//! call of a `chronicle.*` function with bound parameters; no SQL is built
//! from user input), plus live updates over Server-Sent Events fed by the
//! extension's `NOTIFY chronicle`.
//!
//! ```text
//! chronicle-dashboard --database postgresql://postgres@127.0.0.1:54329/chronicle_demo \
//!                     [--listen 127.0.0.1:8080] [--static dashboard/static] [--pkg target/wasm/web]
//!                     [--vendor dashboard/node_modules]
//! ```
//!
//! `--vendor` holds the third-party browser libraries the page loads from
//! the server itself (never from the network): uPlot, pinned in
//! dashboard/package-lock.json and installed by `./chronicle setup`.
//!
//! ```text
//! ```

mod api;
mod app;
mod live;
mod ops;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use axum::Router;
use tower_http::services::ServeDir;

/// Command-line settings.
struct Args {
    database: String,
    listen: SocketAddr,
    static_dir: PathBuf,
    pkg_dir: PathBuf,
    vendor_dir: PathBuf,
}

const USAGE: &str = "usage: chronicle-dashboard --database URL [--listen 127.0.0.1:8080] \
                     [--static DIR] [--pkg DIR] [--vendor DIR]";

fn args() -> Result<Args, String> {
    let mut database = std::env::var("CHRONICLE_DATABASE_URL").ok();
    let mut listen = "127.0.0.1:8080".to_string();
    let mut static_dir = PathBuf::from("dashboard/static");
    let mut pkg_dir = PathBuf::from("target/wasm/web");
    let mut vendor_dir = PathBuf::from("dashboard/node_modules");
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--database" => database = Some(value()?),
            "--listen" => listen = value()?,
            "--static" => static_dir = value()?.into(),
            "--pkg" => pkg_dir = value()?.into(),
            "--vendor" => vendor_dir = value()?.into(),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(Args {
        database: database.ok_or(format!(
            "--database (or CHRONICLE_DATABASE_URL) is required\n{USAGE}"
        ))?,
        listen: listen
            .parse()
            .map_err(|e| format!("--listen {listen}: {e}"))?,
        static_dir,
        pkg_dir,
        vendor_dir,
    })
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let config = match tokio_postgres::Config::from_str(&args.database) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("--database: {e}");
            std::process::exit(2);
        }
    };
    let manager = deadpool_postgres::Manager::new(config.clone(), tokio_postgres::NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(8)
        .build()
        .expect("a pool without a runtime-specific timeout always builds");
    let live = live::start(config);

    let app = Router::new()
        .nest("/api", api::router(app::App { pool, live }))
        .nest_service("/pkg", ServeDir::new(&args.pkg_dir))
        .nest_service(
            "/vendor/uplot",
            ServeDir::new(args.vendor_dir.join("uplot/dist")),
        )
        .fallback_service(ServeDir::new(&args.static_dir));
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    println!("Chronicle dashboard on http://{}/", args.listen);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .expect("the server runs until shut down");
}
