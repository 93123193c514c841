//! A real `redis-server` on a free loopback port (killed on drop), plain or TLS with
//! certificates generated at test time ([`TestPki`]).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{free_port, wait_until};

/// A `redis-server` child on 127.0.0.1:`port`, no persistence; with [`RedisServer::start_tls`]
/// its only port speaks TLS.
#[derive(Debug)]
pub struct RedisServer {
    /// The port it listens on (plain, or TLS for a TLS server).
    pub port: u16,
    child: Option<Child>,
    /// The certificates of a TLS server (`--port 0 --tls-port port`).
    tls: Option<ServerTls>,
}

/// The files a TLS redis-server is started with.
#[derive(Debug, Clone)]
struct ServerTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl RedisServer {
    /// A plain server on a free port.
    pub fn start() -> RedisServer {
        Self::start_on(free_port())
    }

    /// A plain server on `port` (say, one a node was told about before Redis came up).
    pub fn start_on(port: u16) -> RedisServer {
        let mut server = RedisServer {
            port,
            child: None,
            tls: None,
        };
        server.spawn();
        server
    }

    /// A server that accepts only TLS (no plain port), presenting `pki`'s server certificate
    /// (valid for 127.0.0.1) and not asking clients for one (`--tls-auth-clients no`).
    pub fn start_tls(pki: &TestPki) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            tls: Some(ServerTls {
                ca: pki.ca.clone(),
                cert: pki.cert.clone(),
                key: pki.key.clone(),
            }),
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:port/`, or `rediss://…` for a TLS server.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to the clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): its connections stay open and nothing answers, as with
    /// a wedged host. [`RedisServer::thaw`] resumes it.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: i32) {
        let Some(child) = &self.child else {
            panic!("redis-server is not running");
        };
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill(2) has no memory effects; `pid` is our own child, not yet reaped (only
        // `kill`, which takes `&mut self`, waits for it), so it names no unrelated process.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {signal}): {}",
            std::io::Error::last_os_error()
        );
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// A plain (non-pubsub) connection for publishing test messages (over TLS, trusting the
    /// test CA, for a TLS server).
    pub fn connection(&self) -> ::redis::Connection {
        self.client()
            .get_connection()
            .expect("connect to the test redis")
    }

    fn client(&self) -> ::redis::Client {
        match &self.tls {
            None => ::redis::Client::open(self.url()).expect("a redis:// URL we built"),
            Some(tls) => {
                let certificates = ::redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(&tls.ca).expect("read the test CA")),
                };
                ::redis::Client::build_with_tls(self.url(), certificates).expect("TLS client")
            }
        }
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let mut args: Vec<String> = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            .map(String::from)
            .to_vec();
        match &self.tls {
            None => args.extend(["--port".into(), port.clone()]),
            Some(tls) => {
                let path = |p: &PathBuf| p.display().to_string();
                args.extend([
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port.clone(),
                    "--tls-cert-file".into(),
                    path(&tls.cert),
                    "--tls-key-file".into(),
                    path(&tls.key),
                    "--tls-ca-cert-file".into(),
                    path(&tls.ca),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ]);
            }
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/install-test-deps installs it)");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{port}");
        wait_until(
            "redis-server to accept connections",
            || match self.tls {
                None => TcpStream::connect(&addr)
                    .and_then(|mut s| {
                        s.write_all(b"PING\r\n")?;
                        let mut line = String::new();
                        BufReader::new(s).read_line(&mut line)?;
                        Ok(line.starts_with("+PONG"))
                    })
                    .unwrap_or(false),
                // A PING through a full TLS handshake: the port is up and the certificate fits.
                Some(_) => self
                    .client()
                    .get_connection()
                    .and_then(|mut c| ::redis::cmd("PING").query::<String>(&mut c))
                    .is_ok_and(|pong| pong == "PONG"),
            },
            || format!("port {port} {args:?}"),
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A CA and a server certificate it signed for 127.0.0.1 and localhost, generated with rcgen
/// and written as PEM files to a fresh directory (removed on drop).
#[derive(Debug)]
pub struct TestPki {
    dir: PathBuf,
    /// The CA certificate: what clients must trust.
    pub ca: PathBuf,
    /// The server's certificate.
    pub cert: PathBuf,
    /// The server certificate's private key.
    pub key: PathBuf,
}

impl TestPki {
    /// `name` goes into the CA's common name and the directory name.
    pub fn generate(name: &str) -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

        let mut ca_params = CertificateParams::new(Vec::new()).expect("no names");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("ringcast test CA {name}"));
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
        let issuer = Issuer::new(ca_params, ca_key);

        // rcgen turns a name that parses as an IP address into an IP SAN, which is what rustls
        // checks for rediss://127.0.0.1.
        let mut params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("server names");
        params
            .distinguished_name
            .push(DnType::CommonName, "redis-server");
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");

        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ringcast-pki-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create the PKI directory");
        let write = |file: &str, pem: String| {
            let path = dir.join(file);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };
        TestPki {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", cert.pem()),
            key: write("server.key", key.serialize_pem()),
            dir,
        }
    }
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
