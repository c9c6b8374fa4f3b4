//! Every signature and cipher of the platform, in one pure crate (no IO).
//!
//! - [`msg_crypt`]: WXBizMsgCrypt, the encryption of callbacks (wecom-api §10.2): the
//!   EncodingAESKey, AES-256-CBC with 32-byte PKCS#7 blocks, `msg_signature`, URL verification
//!   and the XML envelopes, from the platform's side and from an app's side.
//! - [`jsapi`]: the JS-SDK `wx.config` / `wx.agentConfig` signature (wecom-api §12.2).
//! - [`pay`]: the enterprise payment `sign` and `workwx_sign` (thirdparty-pay B.1).
//!
//! Failures are [`CryptError`] values carrying the official library codes (-40001 …); nothing
//! here panics on any input.

mod envelope;
mod error;
pub mod jsapi;
pub mod msg_crypt;
pub mod pay;

pub use error::CryptError;
pub use msg_crypt::{Echo, MsgCrypt, Push};

/// Hex digits of a digest, as the platform writes them (lowercase for SHA-1, uppercase for pay MD5).
fn hex(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    bytes.iter().flat_map(|b| [digits[usize::from(b >> 4)], digits[usize::from(b & 15)]]).map(char::from).collect()
}
