//! The Redis TLS CA bundle, checked with rustls: the one place the configuration needs a TLS
//! library.

#[cfg(feature = "cluster")]
use rustls::pki_types::CertificateDer;
#[cfg(feature = "cluster")]
use rustls::pki_types::pem::PemObject;

/// How many certificates a PEM CA bundle holds, read the way the redis crate will use it
/// (rustls-pki-types' PEM reader, then `RootCertStore::add`): every one must be usable as a
/// trust anchor, and there must be at least one.
#[cfg(feature = "cluster")]
pub(super) fn ca_certificates(pem: &[u8]) -> Result<usize, String> {
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
        store.add(cert).map_err(|e| {
            format!(
                "certificate #{} is not usable as a CA: {e}",
                store.len() + 1
            )
        })?;
    }
    if store.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned());
    }
    Ok(store.len())
}

/// Without the `cluster` feature there is no TLS library and no Redis to use a CA with.
#[cfg(not(feature = "cluster"))]
pub(super) fn ca_certificates(_pem: &[u8]) -> Result<usize, String> {
    Err("this build has no clustering (built without the `cluster` feature)".to_owned())
}
