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
        // Not `init_logger`: besides recording every level, it starts a thread that wakes 100
        // times a second to move events into the widget's buffer, which kept the idle dashboard
        // busy (a fifth of a core on a slow 2-core machine). The event loop moves them instead,
        // before each frame (`collect`). The filter below decides what is recorded.
        tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
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

/// Moves the log events recorded since the last frame into the logs panel's buffer. Called by
/// the event loop before it draws; idle, nothing wakes up to do it.
pub fn collect() {
    tui_logger::move_events();
}
