//! The gateway's view of the cluster: the Redis bridge, once it has started. A build without the
//! `cluster` feature has none (and refuses a configured `redis_url` at start).

#[cfg(feature = "cluster")]
use std::sync::{Arc, OnceLock};

#[cfg(feature = "cluster")]
use crate::cluster::{Bridge, ClusterStatus, StatsSnapshot};

/// Shared by the handler (readiness, metrics) and the start-up code (which sets the bridge).
#[derive(Debug, Clone, Default)]
pub(super) struct ClusterLink {
    #[cfg(feature = "cluster")]
    bridge: Arc<OnceLock<Arc<Bridge>>>,
}

impl ClusterLink {
    /// The bridge has started.
    #[cfg(feature = "cluster")]
    pub(super) fn set(&self, bridge: Arc<Bridge>) {
        let _ = self.bridge.set(bridge);
    }

    /// `None` when this node is not clustered; otherwise whether Redis is connected.
    pub(super) fn redis_connected(&self) -> Option<bool> {
        #[cfg(feature = "cluster")]
        return self
            .bridge
            .get()
            .map(|b| b.status() == ClusterStatus::Connected);
        #[cfg(not(feature = "cluster"))]
        None
    }

    /// The bridge's counters, when clustered.
    #[cfg(feature = "cluster")]
    pub(super) fn stats(&self) -> Option<StatsSnapshot> {
        self.bridge.get().map(|b| b.stats().snapshot())
    }
}
