//! What io_uring features monoio 0.2 does not expose would save on ringcast's hot paths,
//! measured before deciding to carry a patch (issue #12: "decide, by measurement, between a
//! small patch carried in-tree ... and driving `io-uring` directly").
//!
//! One thread drives a ring (SINGLE_ISSUER + DEFER_TASKRUN when the kernel has them, as
//! ringcast's workers do) over N loopback TCP connections and times its own CPU
//! (`CLOCK_THREAD_CPUTIME_ID`: on loopback the receiver's TCP work runs in the sender's thread,
//! so this is what a worker pays). Each probe alternates its two variants round by round (this
//! machine is shared; alternating keeps both under the same noise) and prints the medians.
//!
//! - **send**: a 256-byte frame to each of 1 000 sockets in one submission, the fan-out
//!   pattern, with the socket as a plain fd (`fget`/`fput` per op) against a registered file
//!   (`IOSQE_FIXED_FILE`). A reader thread drains the peers so buffers never fill.
//! - **recv re-arm**: a receive armed on each of 100 idle sockets, what a worker does after
//!   reading a heartbeat, as `RECVMSG` (the kernel first tries to receive, finds nothing, then
//!   arms a poll) against `RECVMSG` with `IORING_RECVSEND_POLL_FIRST` (the poll is armed at
//!   once). Then one 20-byte message per socket completes them.
//!
//! `cargo bench --bench uring_probe` (Linux with io_uring; ~20 s). Prints ns of thread CPU per
//! operation for each variant and their ratio.

#[cfg(target_os = "linux")]
fn main() {
    if let Err(e) = probe::run() {
        eprintln!("uring_probe: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("uring_probe: io_uring is Linux only");
}

#[cfg(target_os = "linux")]
mod probe {
    use std::io::{self, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    use io_uring::{IoUring, opcode, squeue, types};

    const SEND_SOCKETS: usize = 1_000;
    const FRAME: usize = 256;
    const RECV_SOCKETS: usize = 100;
    const ROUNDS: usize = 15;
    const SEND_BATCHES_PER_ROUND: usize = 40;
    const RECV_BATCHES_PER_ROUND: usize = 200;
    /// `IORING_RECVSEND_POLL_FIRST` (include/uapi/linux/io_uring.h, Linux 5.19): "If set,
    /// instead of first attempting to send or receive and arm poll if that yields an -EAGAIN
    /// result, arm poll upfront and skip the initial transfer attempt."
    const RECVSEND_POLL_FIRST: u16 = 1;

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    pub fn run() -> Result<()> {
        let (mut ring, flags) = ring(4_096)?;
        println!("ring: {flags}");
        send_probe(&mut ring)?;
        recv_probe(&mut ring)?;
        Ok(())
    }

    /// A ring as ringcast's workers build one, best flags first.
    fn ring(entries: u32) -> Result<(IoUring, &'static str)> {
        if let Ok(r) = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(entries)
        {
            return Ok((r, "SINGLE_ISSUER + DEFER_TASKRUN"));
        }
        Ok((IoUring::new(entries)?, "plain"))
    }

    fn thread_cpu_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
    }

    /// `n` connected loopback pairs: (server side, client side).
    fn pairs(n: usize) -> Result<Vec<(TcpStream, TcpStream)>> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let client = TcpStream::connect(addr)?;
            let (server, _) = listener.accept()?;
            server.set_nodelay(true)?;
            out.push((server, client));
        }
        Ok(out)
    }

    /// Submits what is queued and reaps `n` completions, failing on any negative result.
    fn complete(ring: &mut IoUring, n: usize) -> Result<()> {
        let mut left = n;
        while left > 0 {
            ring.submit_and_wait(1)?;
            for cqe in ring.completion() {
                if cqe.result() < 0 {
                    return Err(io::Error::from_raw_os_error(-cqe.result()).into());
                }
                left -= 1;
            }
        }
        Ok(())
    }

    fn push(ring: &mut IoUring, sqe: &squeue::Entry) -> Result<()> {
        // SAFETY: every buffer an entry points to (the frame, the msghdrs and their iovecs)
        // outlives its completion: `complete` reaps every entry before they are dropped.
        unsafe { ring.submission().push(sqe) }.map_err(|_| "submission queue full".into())
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn report(what: &str, a: &str, mut av: Vec<f64>, b: &str, mut bv: Vec<f64>) {
        let (am, bm) = (median(&mut av), median(&mut bv));
        println!(
            "{what}: {a} {am:.0} ns/op, {b} {bm:.0} ns/op (median of {ROUNDS} rounds): \
             {b} costs {:.3}× of {a}, {:.0} ns/op less",
            bm / am,
            am - bm
        );
    }

    fn send_probe(ring: &mut IoUring) -> Result<()> {
        let pairs = pairs(SEND_SOCKETS)?;
        let fds: Vec<i32> = pairs.iter().map(|(s, _)| s.as_raw_fd()).collect();
        ring.submitter().register_files(&fds)?;
        // The readers: one thread draining every client socket, so no send ever waits.
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients: Vec<TcpStream> = Vec::new();
        for (_, c) in &pairs {
            let c = c.try_clone()?;
            c.set_nonblocking(true)?;
            clients.push(c);
        }
        let drain_stop = Arc::clone(&stop);
        let drain = thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while !drain_stop.load(Ordering::Relaxed) {
                for c in &mut clients {
                    while let Ok(n) = c.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                    }
                }
            }
        });
        let frame = [0x81u8; FRAME];
        let mut plain = Vec::new();
        let mut fixed = Vec::new();
        for _ in 0..ROUNDS {
            for registered in [false, true] {
                let t0 = thread_cpu_ns();
                for _ in 0..SEND_BATCHES_PER_ROUND {
                    for (i, &fd) in fds.iter().enumerate() {
                        let sqe = if registered {
                            opcode::Send::new(types::Fixed(i as u32), frame.as_ptr(), FRAME as u32)
                                .build()
                        } else {
                            opcode::Send::new(types::Fd(fd), frame.as_ptr(), FRAME as u32).build()
                        };
                        push(ring, &sqe)?;
                    }
                    complete(ring, fds.len())?;
                }
                let ns =
                    (thread_cpu_ns() - t0) as f64 / (SEND_BATCHES_PER_ROUND * SEND_SOCKETS) as f64;
                if registered { &mut fixed } else { &mut plain }.push(ns);
            }
        }
        stop.store(true, Ordering::Relaxed);
        drain.join().map_err(|_| "drain thread panicked")?;
        ring.submitter().unregister_files()?;
        report(
            "send 256 B to 1 000 sockets",
            "fd",
            plain,
            "registered file",
            fixed,
        );
        Ok(())
    }

    fn recv_probe(ring: &mut IoUring) -> Result<()> {
        let mut pairs = pairs(RECV_SOCKETS)?;
        let mut bufs = vec![[0u8; 512]; RECV_SOCKETS];
        let mut iovs: Vec<libc::iovec> = bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: msghdr is plain data; all-zero is its empty value.
        let mut msgs: Vec<libc::msghdr> = vec![unsafe { std::mem::zeroed() }; RECV_SOCKETS];
        for (m, iov) in msgs.iter_mut().zip(iovs.iter_mut()) {
            m.msg_iov = iov;
            m.msg_iovlen = 1;
        }
        let message = [0x81u8; 20];
        let mut eager = Vec::new();
        let mut poll_first = Vec::new();
        for _ in 0..ROUNDS {
            for first in [false, true] {
                let mut arm_ns = 0u64;
                for _ in 0..RECV_BATCHES_PER_ROUND {
                    for (i, (server, _)) in pairs.iter().enumerate() {
                        let ioprio = if first { RECVSEND_POLL_FIRST } else { 0 };
                        let sqe = opcode::RecvMsg::new(types::Fd(server.as_raw_fd()), &mut msgs[i])
                            .ioprio(ioprio)
                            .build();
                        push(ring, &sqe)?;
                    }
                    // The arm: what this probe compares (the sockets are empty).
                    let t0 = thread_cpu_ns();
                    ring.submit()?;
                    arm_ns += thread_cpu_ns() - t0;
                    for (_, client) in &mut pairs {
                        client.write_all(&message)?;
                    }
                    complete(ring, RECV_SOCKETS)?;
                }
                let ns = arm_ns as f64 / (RECV_BATCHES_PER_ROUND * RECV_SOCKETS) as f64;
                if first { &mut poll_first } else { &mut eager }.push(ns);
            }
        }
        report(
            "arm a receive on an idle socket",
            "recvmsg",
            eager,
            "recvmsg + POLL_FIRST",
            poll_first,
        );
        Ok(())
    }
}
