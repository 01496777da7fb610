//! Encrypting and decrypting one sample under `cenc` or `cbcs`.

/// Placeholder: written next.
pub struct SampleCipher;
