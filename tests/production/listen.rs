//! `--listen` as an operator types it: `IP:PORT`, `HOST:PORT` (every address the name resolves
//! to), `:PORT` and a bare `PORT` start a server (the last two on every IPv4 interface); anything
//! else stops it with exit code 2 and one line naming `listen` and showing the accepted forms.

use ringcast_test_support::{API_KEY, Launch, SECRET, cli};

use crate::ringcast;

/// `--listen <form>` with port 0 (the kernel picks): the server starts and answers `/healthz`
/// on loopback.
macro_rules! listen_starts {
    ($($name:ident: $form:literal;)*) => {$(
        #[test]
        fn $name() {
            let server = Launch::new(ringcast())
                .args(["--listen", $form, "--workers", "1", "--jwt-secret", SECRET, "--api-key", API_KEY])
                .name(format!("ringcast --listen {}", $form))
                .start();
            let health = server.get("/healthz");
            assert_eq!(health.status, 200, "--listen {}: {health:?}", $form);
        }
    )*};
}

listen_starts! {
    listen_ip_port: "127.0.0.1:0";
    listen_colon_port: ":0";
    listen_bare_port: "0";
    listen_host_name: "localhost:0";
}

/// `--listen <form>` refused: exit 2, one line naming `listen` with the accepted forms.
macro_rules! listen_refused {
    ($($name:ident: $form:literal;)*) => {$(
        #[test]
        fn $name() {
            let out = cli::run(ringcast(), &["--listen", $form, "--jwt-secret", SECRET]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
            assert!(
                stderr.contains("listen: ") && stderr.contains("accepted forms: IP:PORT"),
                "{stderr:?}"
            );
        }
    )*};
}

listen_refused! {
    listen_host_without_port: "localhost";
    listen_word: "anywhere";
    listen_port_out_of_range: ":65536";
}
