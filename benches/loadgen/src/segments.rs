//! TCP segments over a broadcast's measured window: how many deliveries the server packs into
//! one segment, and how many pure ACKs the receivers send back.
//!
//! Two sources, sampled at the window's start and end:
//! - `/proc/net/snmp`'s `Tcp: … OutSegs` (what `nstat TcpOutSegs` reads): system-wide, both
//!   directions of loopback and anything else the machine sends. Always there.
//! - `ss -Htin state established '( sport = :PORT )'` (server side) and `'( dport = :PORT )'`
//!   (client side): per-socket `segs_out` / `data_segs_out` (tcp_info), summed. Exact per
//!   direction; a socket that closed within the window loses its counts. The publisher's HTTP
//!   connections go to the same port and are included (about one response segment per publish).

use serde_json::{Value, json};

/// Segment counters summed over one side's sockets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Side {
    pub sockets: u64,
    pub segs_out: u64,
    pub data_segs_out: u64,
}

/// Both sources at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub tcp_out_segs: Option<u64>,
    /// (server side, client side), or why `ss` could not be read.
    pub ss: Result<(Side, Side), String>,
}

/// Samples both sources for the server listening on `port`.
pub fn sample(port: u16) -> Sample {
    let tcp_out_segs = std::fs::read_to_string("/proc/net/snmp")
        .ok()
        .and_then(|t| parse_snmp_out_segs(&t));
    let ss = ss_side(&format!("( sport = :{port} )"))
        .and_then(|server| Ok((server, ss_side(&format!("( dport = :{port} )"))?)));
    Sample { tcp_out_segs, ss }
}

fn ss_side(filter: &str) -> Result<Side, String> {
    let out = std::process::Command::new("ss")
        .args(["-Htin", "state", "established", filter])
        .output()
        .map_err(|e| format!("ss: {e}"))?;
    if !out.status.success() {
        return Err(format!("ss exited with {}", out.status));
    }
    Ok(parse_ss(&String::from_utf8_lossy(&out.stdout)))
}

/// `OutSegs` from the two `Tcp:` lines of `/proc/net/snmp` (names, then values).
pub fn parse_snmp_out_segs(text: &str) -> Option<u64> {
    let mut tcp = text.lines().filter(|l| l.starts_with("Tcp:"));
    let names = tcp.next()?;
    let values = tcp.next()?;
    let at = names
        .split_ascii_whitespace()
        .position(|n| n == "OutSegs")?;
    values.split_ascii_whitespace().nth(at)?.parse().ok()
}

/// Sums `segs_out:N` and `data_segs_out:N` over every socket of `ss -Htin` output; a socket is
/// counted by its `segs_out` (ss omits a counter that is zero).
pub fn parse_ss(text: &str) -> Side {
    let mut side = Side::default();
    for token in text.split_ascii_whitespace() {
        let Some((name, value)) = token.split_once(':') else {
            continue;
        };
        let Ok(n) = value.parse::<u64>() else {
            continue;
        };
        match name {
            "segs_out" => {
                side.segs_out += n;
                side.sockets += 1;
            }
            "data_segs_out" => side.data_segs_out += n,
            _ => {}
        }
    }
    side
}

/// The counters' growth between two samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub tcp_out_segs: Option<u64>,
    pub ss: Result<(Side, Side), String>,
}

impl Window {
    pub fn between(a: &Sample, b: &Sample) -> Window {
        let tcp_out_segs = match (a.tcp_out_segs, b.tcp_out_segs) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        let delta = |a: Side, b: Side| Side {
            sockets: b.sockets,
            segs_out: b.segs_out.saturating_sub(a.segs_out),
            data_segs_out: b.data_segs_out.saturating_sub(a.data_segs_out),
        };
        let ss = match (&a.ss, &b.ss) {
            (Ok((sa, ca)), Ok((sb, cb))) => Ok((delta(*sa, *sb), delta(*ca, *cb))),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        Window { tcp_out_segs, ss }
    }

    /// Adds the segment columns to a run's JSON line, `deliveries` being the window's.
    pub fn add_json(&self, v: &mut Value, deliveries: u64) {
        let per = |segs: u64| (segs > 0).then(|| round2(deliveries as f64 / segs as f64));
        v["tcp_out_segs"] = json!(self.tcp_out_segs);
        match &self.ss {
            Ok((server, client)) => {
                v["server_segments_out"] = json!(server.data_segs_out);
                v["server_acks"] = json!(server.segs_out.saturating_sub(server.data_segs_out));
                v["client_acks"] = json!(client.segs_out.saturating_sub(client.data_segs_out));
                v["client_data_segments"] = json!(client.data_segs_out);
                v["deliveries_per_segment"] = json!(per(server.data_segs_out));
                v["segments_source"] = json!(
                    "ss on the server port: the publisher's HTTP connections included on both sides (~1 response segment per publish)"
                );
            }
            Err(why) => {
                v["deliveries_per_segment"] = json!(self.tcp_out_segs.and_then(per));
                v["segments_source"] = json!(format!(
                    "/proc/net/snmp TcpOutSegs only (system-wide, both directions, client ACKs included): {why}"
                ));
            }
        }
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNMP: &str = "Ip: Forwarding DefaultTTL InReceives\n\
        Ip: 1 64 123\n\
        Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n\
        Tcp: 1 200 120000 -1 49285 47687 1394 12147 0 15856242 15858518 1986 0 13593 0\n\
        Udp: InDatagrams NoPorts\n\
        Udp: 5 6\n";

    #[test]
    fn snmp_out_segs() {
        let cases: &[(&str, Option<u64>)] = &[
            (SNMP, Some(15_858_518)),
            ("Tcp: InSegs OutSegs\nTcp: 1 2\n", Some(2)),
            ("Tcp: InSegs OutSegs\n", None),
            ("Tcp: InSegs\nTcp: 1\n", None),
            ("Tcp: InSegs OutSegs\nTcp: 1 x\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_snmp_out_segs(text), *want, "{text}");
        }
    }

    // Two sockets as `ss -Htin state established` prints them (iproute2 6.1), the second
    // without data_segs_out (ss omits zero counters), then one with `segs_in` only.
    const SS: &str = "1      0      127.0.0.1:54147 127.0.0.1:58324\n\
        \t bbr wscale:10,10 rto:204 rtt:0.035/0.019 ato:40 mss:32768 cwnd:11 bytes_sent:100 bytes_acked:100 bytes_received:1 segs_out:2 segs_in:4 data_segs_out:1 data_segs_in:1 bbr:(bw:23831265624bps,mrtt:0.011) send 82388114286bps lastsnd:12 delivered:2 app_limited\n\
        0      0      127.0.0.1:54147 127.0.0.1:58325\n\
        \t cubic wscale:7,7 rto:204 rtt:0.02/0.01 mss:32768 cwnd:10 segs_out:7 segs_in:3 data_segs_in:2 lastsnd:20\n\
        0      0      127.0.0.1:54147 127.0.0.1:58326\n\
        \t cubic rto:204 segs_in:1\n";

    #[test]
    fn ss_counters() {
        let cases: &[(&str, Side)] = &[
            (
                SS,
                Side {
                    sockets: 2,
                    segs_out: 9,
                    data_segs_out: 1,
                },
            ),
            ("", Side::default()),
            (
                "\t cubic segs_out:x data_segs_out:3\n",
                Side {
                    sockets: 0,
                    segs_out: 0,
                    data_segs_out: 3,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ss(text), *want, "{text}");
        }
    }

    #[test]
    fn window_columns() {
        let side = |segs_out, data_segs_out| Side {
            sockets: 1,
            segs_out,
            data_segs_out,
        };
        let a = Sample {
            tcp_out_segs: Some(1_000),
            ss: Ok((side(10, 5), side(20, 2))),
        };
        let b = Sample {
            tcp_out_segs: Some(1_600),
            ss: Ok((side(410, 405), side(220, 2))),
        };
        let mut v = json!({});
        Window::between(&a, &b).add_json(&mut v, 1_000);
        assert_eq!(v["tcp_out_segs"], json!(600));
        assert_eq!(v["server_segments_out"], json!(400));
        assert_eq!(v["server_acks"], json!(0));
        assert_eq!(v["client_acks"], json!(200));
        assert_eq!(v["deliveries_per_segment"], json!(2.5));

        // Without ss: TcpOutSegs alone, and the line says so.
        let no_ss = Sample {
            ss: Err("ss: not found".into()),
            ..b
        };
        let mut v = json!({});
        Window::between(&a, &no_ss).add_json(&mut v, 1_200);
        assert_eq!(v["deliveries_per_segment"], json!(2.0));
        assert_eq!(v.get("server_segments_out"), None);
        let source = v["segments_source"].as_str().unwrap_or_default();
        assert!(source.contains("TcpOutSegs only") && source.contains("not found"));
    }
}
