//! Connection admission: a node-wide cap and a per-client-IP cap, checked once per accepted
//! TCP connection (never per message), released when the connection's task ends.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const SHARDS: usize = 16;

/// Counts open connections in total and per IP.
#[derive(Debug)]
pub struct Admission {
    max_total: usize,
    max_per_ip: usize,
    total: AtomicUsize,
    per_ip: Vec<Mutex<HashMap<IpAddr, usize>>>,
    hasher: std::collections::hash_map::RandomState,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The node is at `max_connections`.
    NodeFull,
    /// This IP is at `max_connections_per_ip`.
    IpFull,
}

/// One admitted connection; dropping it releases the slot.
#[derive(Debug)]
pub struct Permit {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    /// Caps of `max_total` connections on the node and `max_per_ip` per client IP.
    pub fn new(max_total: usize, max_per_ip: usize) -> Self {
        Admission {
            max_total,
            max_per_ip,
            total: AtomicUsize::new(0),
            per_ip: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: Default::default(),
        }
    }

    fn shard(&self, ip: &IpAddr) -> &Mutex<HashMap<IpAddr, usize>> {
        &self.per_ip[(self.hasher.hash_one(ip) as usize) % SHARDS]
    }

    /// Admits a connection from `ip`, or says why not.
    pub fn try_admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::NodeFull);
        }
        let Ok(mut map) = self.shard(&ip).lock() else {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::NodeFull);
        };
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            drop(map);
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::IpFull);
        }
        *n += 1;
        Ok(Permit {
            admission: self.clone(),
            ip,
        })
    }

    /// Admits without checking the caps (a connection handed over between cores was already
    /// admitted once).
    pub fn admit_again(self: &Arc<Self>, ip: IpAddr) -> Permit {
        self.total.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = self.shard(&ip).lock() {
            *map.entry(ip).or_insert(0) += 1;
        }
        Permit {
            admission: self.clone(),
            ip,
        }
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let a = &self.admission;
        a.total.fetch_sub(1, Ordering::AcqRel);
        if let Ok(mut map) = a.shard(&self.ip).lock()
            && let Some(n) = map.get_mut(&self.ip)
        {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_total_and_per_ip_and_releases_on_drop() {
        let a = Arc::new(Admission::new(3, 2));
        let ip1: IpAddr = [127, 0, 0, 1].into();
        let ip2: IpAddr = [127, 0, 0, 2].into();
        let p1 = a.try_admit(ip1).expect("first");
        let p2 = a.try_admit(ip1).expect("second");
        assert_eq!(a.try_admit(ip1).err(), Some(Refusal::IpFull));
        let p3 = a.try_admit(ip2).expect("other ip");
        assert_eq!(a.try_admit(ip2).err(), Some(Refusal::NodeFull));
        drop(p1);
        let _p4 = a.try_admit(ip1).expect("released");
        assert_eq!(a.open(), 3);
        drop((p2, p3));
        assert_eq!(a.open(), 1);
    }
}
