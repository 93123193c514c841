//! The gateway's view of the cluster: the Redis bridge, once it has started. A build without the
//! `cluster` feature has none (and refuses a configured `redis_url` at start).

#[cfg(feature = "cluster")]
use std::sync::{Arc, OnceLock};

use super::server_api::revoke::Revocations;
#[cfg(feature = "cluster")]
use crate::cluster::{Bridge, ClusterStatus, StatsSnapshot};

/// Shared by the handler (readiness, metrics) and the start-up code (which sets the bridge).
#[derive(Debug, Clone, Default)]
pub(super) struct ClusterLink {
    #[cfg(feature = "cluster")]
    bridge: Arc<OnceLock<Arc<Bridge>>>,
    /// The token revocations in force (the server API's), which the other nodes spread
    /// through the bridge.
    revocations: std::sync::Arc<Revocations>,
}

impl ClusterLink {
    /// The bridge has started: from now on it also brings the other nodes' revocations.
    #[cfg(feature = "cluster")]
    pub(super) fn set(&self, bridge: Arc<Bridge>) {
        super::server_api::revoke::listen(&bridge, self.revocations.clone());
        let _ = self.bridge.set(bridge);
    }

    /// The revocations in force on this node.
    pub(super) fn revocations(&self) -> &std::sync::Arc<Revocations> {
        &self.revocations
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

    /// The bridge, when clustered (the server API's cluster queries).
    #[cfg(feature = "cluster")]
    pub(super) fn bridge(&self) -> Option<Arc<Bridge>> {
        self.bridge.get().cloned()
    }
}
