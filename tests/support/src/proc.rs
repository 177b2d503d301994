//! Memory figures of a running process, read from `/proc/<pid>/status`
//! (Linux only), for benchmarks and leak checks.

/// The process's current resident set size (`VmRSS`) in KiB, or `None` if
/// the process is gone or `/proc` is unavailable.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS")
}

/// The process's peak resident set size so far (`VmHWM`, the "high water
/// mark") in KiB, or `None` if the process is gone or `/proc` is
/// unavailable.
pub fn rss_peak_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmHWM")
}

fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_kib(&status, field)
}

/// Finds a `Field:   1234 kB` line and returns the number.
fn parse_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tx\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(parse_kib(status, "VmHWM"), Some(2048));
        assert_eq!(parse_kib(status, "VmRSS"), Some(1024));
        assert_eq!(parse_kib(status, "VmSwap"), None);
    }

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        let rss = rss_kib(pid).expect("own VmRSS");
        let peak = rss_peak_kib(pid).expect("own VmHWM");
        assert!(rss > 0);
        // VmHWM is updated lazily by the kernel, so it may trail VmRSS
        // for a moment in a growing process; both must be read.
        assert!(peak > 0);
    }
}
