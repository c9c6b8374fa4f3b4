//! The JS-SDK signature for `wx.config` and `wx.agentConfig` (wecom-api §12.2); the corp ticket
//! and the agent_config ticket sign the same way.

use sha1::{Digest, Sha1};

/// hex(SHA-1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…")): fixed key order, raw (not
/// URL-encoded) values, and the page URL without `#` and what follows it.
pub fn signature(ticket: &str, noncestr: &str, timestamp: &str, url: &str) -> String {
    let url = url.split('#').next().unwrap_or_default();
    let string1 = format!("jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}");
    crate::hex(&Sha1::digest(string1), false)
}

#[cfg(test)]
mod tests {
    use super::signature;

    // wecom-api §12.2 and Appendix B.3.
    const TICKET: &str = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg";

    #[test]
    fn vectors_b3() {
        let sign = |url| signature(TICKET, "Wm3WZYTPz0wzccnW", "1414587457", url);
        assert_eq!(sign("http://mp.weixin.qq.com?params=value"), "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
        assert_eq!(sign("http://mp.weixin.qq.com"), "f4d90daf4b3bca3078ab155816175ba34c443a7b");
        // The fragment is not signed.
        assert_eq!(sign("http://mp.weixin.qq.com?params=value#/page?x=1"), "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
    }
}
