//! The epoll fallback: a kernel without io_uring (or a container that forbids it) gets monoio's
//! epoll driver, and ringcast must serve the same there. `MONOIO_FORCE_LEGACY_DRIVER=1` makes
//! monoio take it on this machine. Two workers, every transport mix, broadcasts and a room
//! broadcast, as `workers` checks on io_uring. (Before this test the epoll driver served nothing:
//! the listeners were blocking, and the worker thread parked inside accept(2).)

use crate::gateway;
use crate::workers::all_transports_on;

#[test]
fn the_epoll_driver_serves_every_transport() {
    let server = gateway()
        .workers(2)
        .launch()
        .env("MONOIO_FORCE_LEGACY_DRIVER", "1")
        .start();
    let log = server.log_text();
    assert!(
        log.contains(r#"driver="epoll""#),
        "the workers must run the epoll driver here:\n{log}"
    );
    all_transports_on(&server);
}
