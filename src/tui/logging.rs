//! The dashboard's logger: `tracing` events go to tui-logger's buffer, which the logs panel
//! shows. The state of tui-logger is process-global, so this runs once per process.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static INIT: OnceLock<()> = OnceLock::new();

/// Installs the logger (idempotent). `EDITSCOPE_LOG` filters what is recorded (default `info`);
/// the panel's `+`/`-` choose what is shown of that.
pub fn init() {
    INIT.get_or_init(|| {
        // With `tracing-support`, init_logger starts tui-logger's collector thread and records
        // every level; the filter below decides what reaches it.
        let _ = tui_logger::init_logger(tui_logger::LevelFilter::Trace);
        let filter =
            EnvFilter::try_from_env("EDITSCOPE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
        // Fails only when another subscriber is installed (a test harness): then that one
        // keeps receiving events, and the panel shows what it forwards.
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(tui_logger::TuiTracingSubscriberLayer)
            .try_init();
    });
}
