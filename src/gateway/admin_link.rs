//! The admin UI's way to the cluster ([`AdminCluster`]): the server API's [`Job`] (its
//! fetch-sockets query and its commands) and the bridge's relay of `/admin` broadcasts.

use super::cluster_link::ClusterLink;
use super::server_api::Job;
use crate::admin::{AdminCluster, ClusterFailure, Pending};
use crate::engine::adapter::{RemoteCommand, Selector, SocketInfo};
use crate::engine::{BroadcastOp, Cores};

impl AdminCluster for ClusterLink {
    fn relays(&self) -> bool {
        #[cfg(feature = "cluster")]
        return self.bridge().is_some_and(|b| b.sends_requests());
        #[cfg(not(feature = "cluster"))]
        false
    }

    fn relay(&self, op: BroadcastOp) {
        #[cfg(feature = "cluster")]
        if let Some(bridge) = self.bridge() {
            // Sent to the bridge thread here; the answer (Redis took it) is not awaited.
            drop(bridge.relay(op));
        }
        #[cfg(not(feature = "cluster"))]
        drop(op);
    }

    fn fetch_sockets(&self, cores: Cores, selector: Selector) -> Pending<Vec<SocketInfo>> {
        let fetch = Job::new(cores, self).fetch_selected(selector);
        Pending(Box::pin(async move {
            let found = fetch.await.map_err(|e| ClusterFailure(e.message))?;
            Ok(found.sockets)
        }))
    }

    fn command(&self, cores: Cores, command: RemoteCommand) -> Pending<()> {
        let job = Job::new(cores, self);
        Pending(Box::pin(async move {
            // `false`: an empty selector is the UI's "every socket", not "nothing".
            job.apply(command, false)
                .await
                .map_err(|e| ClusterFailure(e.message))
        }))
    }
}
