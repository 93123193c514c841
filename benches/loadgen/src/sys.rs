//! Process accounting from `/proc` and the few libc calls the generator needs (rlimits, CPU
//! affinity, its own CPU time).

use std::time::Duration;

/// CPU time and resident memory of a process at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcSample {
    /// utime + stime.
    pub cpu: Duration,
    /// VmRSS in KiB.
    pub rss_kib: u64,
}

/// Samples `/proc/<pid>/stat` and `/proc/<pid>/status`.
pub fn sample(pid: u32) -> std::io::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let ticks = parse_stat_cpu_ticks(&stat).ok_or_else(|| bad("unparsable /proc/PID/stat"))?;
    let rss_kib =
        parse_status_rss_kib(&status).ok_or_else(|| bad("no VmRSS in /proc/PID/status"))?;
    Ok(ProcSample {
        cpu: ticks_to_duration(ticks),
        rss_kib,
    })
}

/// Samples every process of `pids`, in order; `None` if there is none or one cannot be read
/// (a process that died is a lost measurement, not a zero).
pub fn sample_all(pids: &[u32]) -> Option<Vec<ProcSample>> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| sample(pid).ok()).collect()
}

/// Resident memory summed over several processes' samples.
pub fn total_rss_kib(samples: &[ProcSample]) -> u64 {
    samples.iter().map(|s| s.rss_kib).sum()
}

/// The generator's own CPU time (all threads), from `getrusage(RUSAGE_SELF)`.
pub fn self_cpu() -> Duration {
    // SAFETY: `rusage` is plain data, so all-zero is a valid value for getrusage to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage; RUSAGE_SELF cannot fail with a valid pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Raises the soft open-files limit to the hard limit; returns the new soft limit.
/// 10 000 clients plus 16 publisher sockets need more than the usual 1 024 soft default.
pub fn raise_nofile_limit() -> u64 {
    // SAFETY: `rlimit` is plain data; all-zero is valid for getrlimit to overwrite.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `lim` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 0;
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit with soft ≤ hard, which any process may set.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return 0;
        }
    }
    lim.rlim_cur
}

/// CPUs this process may run on (its affinity mask, e.g. 1 under `taskset -c 1`).
pub fn allowed_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn ticks_to_duration(ticks: u64) -> Duration {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Duration::from_nanos(ticks.saturating_mul(1_000_000_000) / hz)
}

/// utime + stime in clock ticks: fields 14 and 15 of `/proc/PID/stat` (proc(5)), counted after
/// the `)` that closes `comm`, since a process name may itself contain spaces or parentheses.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After `)` come field 3 (state) onward, so utime (14) is the 12th token.
    let mut fields = after_comm.split_ascii_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS:   123456 kB` → 123456.
fn parse_status_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_cpu_fields_after_a_tricky_comm() {
        let cases: &[(&str, Option<u64>)] = &[
            (
                "42 (node) S 1 42 42 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0",
                Some(300),
            ),
            ("7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0", Some(7)),
            ("7 (x) R 1 2", None),
            ("no paren", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_stat_cpu_ticks(text), *want, "{text}");
        }
    }

    #[test]
    fn status_rss() {
        let text = "Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t   51234 kB\nThreads:\t11\n";
        assert_eq!(parse_status_rss_kib(text), Some(51234));
        assert_eq!(parse_status_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn several_processes_are_sampled_in_order_or_not_at_all() {
        let me = std::process::id();
        let two = sample_all(&[me, me]).expect("own /proc entry twice");
        assert_eq!(two.len(), 2);
        assert_eq!(total_rss_kib(&two), two[0].rss_kib + two[1].rss_kib);
        assert_eq!(sample_all(&[]), None);
        // pid_max is at most 2^22 (proc(5)), so this pid never exists.
        assert_eq!(sample_all(&[me, u32::MAX]), None);
    }

    #[test]
    fn own_process_is_sampled() {
        let s = sample(std::process::id()).expect("own /proc entry");
        assert!(s.rss_kib > 0);
        assert!(raise_nofile_limit() > 0);
    }
}
