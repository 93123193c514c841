//! The human-readable summary of a scenario run (the JSON line is [`Outcome::to_json`]).

use serde_json::json;

use crate::clients::Transport;
use crate::scenario::{Kind, Outcome, Topology};
use crate::sys;

impl Outcome {
    /// The human-readable summary.
    pub fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let fmt_us =
            |ns: Option<u64>| ns.map_or("-".into(), |v| format!("{:.0}", v as f64 / 1000.0));
        let lat = self.latency();
        let _ = writeln!(
            s,
            "== {} against {} ({} clients, {}, {} reader) ==",
            self.scenario.name,
            self.target,
            self.scenario.clients,
            match self.scenario.transport {
                Transport::WebSocket => "websocket",
                Transport::Polling => "polling",
            },
            self.reader.name(),
        );
        let _ = writeln!(
            s,
            "  connected {} / failed {} / dropped {} in {:.2} s (connect p50 {} µs, p99 {} µs)",
            self.connected,
            self.failed,
            self.dropped,
            self.connect_wall.as_secs_f64(),
            fmt_us(self.stats.connect_ns.quantile(0.5)),
            fmt_us(self.stats.connect_ns.quantile(0.99)),
        );
        if let Some(p) = &self.publish {
            let expected = match self.scenario.topology {
                Topology::OneNode => "server reported",
                Topology::TwoNodes => "expected (publishes × receivers)",
            };
            let _ = writeln!(
                s,
                "  published {} ({} failed, {} late, {} reconnects), {expected} {} deliveries, received {}",
                p.published,
                p.failures,
                p.late,
                p.reconnects,
                self.expected.unwrap_or(p.delivered_sum),
                self.stats.deliveries
            );
        }
        let rate = self.rate().map_or("-".into(), |r| format!("{r:.0}"));
        let per_cpu = self
            .work_cpu()
            .filter(|c| !c.is_zero())
            .map_or("-".into(), |c| {
                format!("{:.0}", self.work() as f64 / c.as_secs_f64())
            });
        let each = if self.server_cpu_each.len() > 1 && self.scenario.kind != Kind::ConnectStorm {
            let parts: Vec<String> = self
                .server_cpu_each
                .iter()
                .map(|c| format!("{:.2} s", c.as_secs_f64()))
                .collect();
            format!(" = {}", parts.join(" + "))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "  {} {}: {rate}/s, {per_cpu} per server CPU-second (server CPU {}{each})",
            self.work(),
            self.unit(),
            self.work_cpu()
                .map_or("-".into(), |c| format!("{:.2} s", c.as_secs_f64())),
        );
        let _ = writeln!(
            s,
            "  latency p50 {} µs, p99 {} µs, p99.9 {} µs, max {} µs",
            fmt_us(lat.quantile(0.5)),
            fmt_us(lat.quantile(0.99)),
            fmt_us(lat.quantile(0.999)),
            fmt_us(lat.max()),
        );
        if let Some(w) = &self.segments {
            let mut v = json!({});
            w.add_json(&mut v, self.stats.deliveries);
            let _ = writeln!(
                s,
                "  segments: {} deliveries per server data segment, server data segments {}, client ACKs {}, TcpOutSegs {}",
                v["deliveries_per_segment"],
                v["server_segments_out"],
                v["client_acks"],
                v["tcp_out_segs"],
            );
        }
        if let (Some(b), Some(a)) = (self.rss_before_kib, self.rss_after_kib) {
            let per = if self.connected > 0 {
                format!("{:.2}", (a as f64 - b as f64) / self.connected as f64)
            } else {
                "-".into()
            };
            let _ = writeln!(
                s,
                "  server RSS {b} KiB → {a} KiB: {per} KiB per connection"
            );
        }
        let wall = self.connect_wall + self.wall;
        let _ = writeln!(
            s,
            "  generator: {} threads, {:.2} s CPU over {:.2} s ({:.0} % of {} core(s))",
            self.threads,
            self.gen_cpu.as_secs_f64(),
            wall.as_secs_f64(),
            100.0 * self.gen_cpu.as_secs_f64() / wall.as_secs_f64() / sys::allowed_cpus() as f64,
            sys::allowed_cpus(),
        );
        for e in self
            .stats
            .errors
            .iter()
            .chain(self.publish.iter().flat_map(|p| p.errors.iter()))
        {
            let _ = writeln!(s, "  error: {e}");
        }
        s
    }
}
