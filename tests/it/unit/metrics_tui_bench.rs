//! Unit tests of `editscope::metrics::tui_bench`: the process's own memory and CPU time.

use editscope::metrics::tui_bench::{proc_status_kib, process_cpu_time};

#[test]
fn reads_its_own_resident_memory_and_cpu_time_on_linux() {
    if cfg!(target_os = "linux") {
        assert!(proc_status_kib("VmRSS").is_some_and(|kib| kib > 0));
        assert!(process_cpu_time().is_some());
    }
    assert_eq!(proc_status_kib("NoSuchField"), None);
}
