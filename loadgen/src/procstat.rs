//! CPU time and peak resident memory of a process, read from
//! `/proc/<pid>/stat` (utime + stime) and `/proc/<pid>/status` (VmHWM).
//! Read while the process is alive: after it exits the entries are gone.

use serde::Serialize;

/// `AT_CLKTCK` in the auxiliary vector: the kernel's clock ticks per second.
const AT_CLKTCK: u64 = 17;

/// Resource use of one component process.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentUsage {
    pub name: String,
    pub pid: u32,
    pub cpu_seconds: f64,
    pub peak_rss_bytes: u64,
}

/// Reads the usage of `pid`; `None` when the process is gone or `/proc`
/// is not there.
pub fn usage(name: &str, pid: u32) -> Option<ComponentUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, closed by ')'.
    let after_command = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_command.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line (1-based), i.e. 11
    // and 12 after the state field.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    #[allow(
        clippy::cast_precision_loss,
        reason = "tick counts stay far below 2^52"
    )]
    let cpu_seconds = (utime + stime) as f64 / clock_ticks_per_second() as f64;
    Some(ComponentUsage {
        name: name.to_string(),
        pid,
        cpu_seconds,
        peak_rss_bytes: peak_kib * 1024,
    })
}

/// The kernel's clock ticks per second from `/proc/self/auxv` (100 on
/// Linux unless configured otherwise).
fn clock_ticks_per_second() -> u64 {
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 100;
    };
    auxv.chunks_exact(16)
        .find_map(|entry| {
            let (key, value) = entry.split_at(8);
            let key = u64::from_ne_bytes(key.try_into().ok()?);
            let value = u64::from_ne_bytes(value.try_into().ok()?);
            (key == AT_CLKTCK).then_some(value)
        })
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_usage() {
        // Burn CPU until the kernel has counted a tick of it: on a loaded
        // machine any fixed wall time may get less than one tick.
        let mut x: u64 = 1;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let own = loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            let own = usage("self", std::process::id()).unwrap();
            if own.cpu_seconds > 0.0 || std::time::Instant::now() >= deadline {
                break own;
            }
        };
        assert!(own.cpu_seconds > 0.0, "{own:?}");
        assert!(own.peak_rss_bytes > 1024 * 1024, "{own:?}");
        assert_eq!(clock_ticks_per_second(), 100);
        assert!(usage("gone", u32::MAX).is_none());
    }
}
