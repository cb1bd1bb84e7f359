//! The process's TLS crypto provider. Every TLS user in Caravan (PostgreSQL, object storage,
//! SMTP, HTTP clients) runs on rustls with aws-lc-rs; rustls needs it installed once as the
//! process default before an HTTP client without a built-in provider can be created.

/// Installs aws-lc-rs as the default provider; a no-op when one is already installed.
pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is the state we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
