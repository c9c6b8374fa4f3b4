//! The two signatures of WeCom enterprise payments (thirdparty-pay B.1): WeChat Pay v2 `sign`
//! and WeCom's `workwx_sign`. Both are upper(hex(MD5("k1=v1&k2=v2…&<secret name>=<secret>"))) over
//! parameters sorted by name, raw UTF-8 values, empty values skipped.

use md5::{Digest, Md5};

/// `sign`: every parameter but `sign` itself (so `workwx_sign` is included), then `&key=` and
/// the merchant API key. Which parameters a server counts is the caller's choice: the pay
/// servers ignore ones they do not define, such as `sign_type`.
pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, key: &str) -> String {
    md5_sign(params.into_iter().filter(|(name, _)| *name != "sign").collect(), "key", key)
}

/// The APIs that carry a `workwx_sign`, each with its fixed set of signed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkwxSign {
    /// `POST /mmpaymkttransfers/sendworkwxredpack` (企业红包).
    SendWorkwxRedpack,
    /// `POST /mmpaymkttransfers/promotion/paywwsptrans2pocket` (向员工付款).
    PayWwsptrans2pocket,
}

impl WorkwxSign {
    /// The only fields signed; any other (agentid, sender_name, remark, wishing, …) is left out.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            WorkwxSign::SendWorkwxRedpack => &["act_name", "mch_billno", "mch_id", "nonce_str", "re_openid", "total_amount", "wxappid"],
            WorkwxSign::PayWwsptrans2pocket => {
                &["amount", "appid", "desc", "mch_id", "nonce_str", "openid", "partner_trade_no", "ww_msg_type"]
            }
        }
    }

    /// `workwx_sign`: this API's fields, then `&secret=` and the payment app's secret.
    pub fn sign<'a>(self, params: impl IntoIterator<Item = (&'a str, &'a str)>, secret: &str) -> String {
        md5_sign(params.into_iter().filter(|(name, _)| self.fields().contains(name)).collect(), "secret", secret)
    }
}

fn md5_sign(mut params: Vec<(&str, &str)>, secret_name: &str, secret: &str) -> String {
    params.retain(|(_, value)| !value.is_empty());
    params.sort_by(|a, b| a.0.cmp(b.0));
    let mut string = String::new();
    for (name, value) in params {
        string.push_str(name);
        string.push('=');
        string.push_str(value);
        string.push('&');
    }
    string.push_str(secret_name);
    string.push('=');
    string.push_str(secret);
    crate::hex(&Md5::digest(string), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    // thirdparty-pay B.1: the doc's example values, key and secret alike.
    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";
    const REDPACK: [(&str, &str); 10] = [
        ("wxappid", "wx123456789"),
        ("mch_id", "10000098"),
        ("mch_billno", "11111234567890"),
        ("nonce_str", "qFKEgfig76DF9912fewmkp"),
        ("re_openid", "oxTWIuGaIt6gTKsQRLau2M0yL16E"),
        ("total_amount", "100"),
        ("act_name", "XXX"),
        ("remark", "Bonus"),
        ("sender_name", "HR"),
        ("wishing", "Thanks"),
    ];

    #[test]
    fn wechat_pay_v2_vector() {
        let params = [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ];
        assert_eq!(sign(params, KEY), "9A0A8659F005D6984697E2CA0A9CF3B7");
        // `sign` and empty values never count.
        let more = params.into_iter().chain([("sign", "9A0A8659F005D6984697E2CA0A9CF3B7"), ("attach", "")]);
        assert_eq!(sign(more, KEY), "9A0A8659F005D6984697E2CA0A9CF3B7");
    }

    #[test]
    fn red_packet_vectors() {
        let workwx_sign = WorkwxSign::SendWorkwxRedpack.sign(REDPACK, KEY);
        assert_eq!(workwx_sign, "8B8D04AFC9FD08094CC5A0C2FA8BB60C");
        // agentid is never part of workwx_sign.
        assert_eq!(WorkwxSign::SendWorkwxRedpack.sign(REDPACK.into_iter().chain([("agentid", "1000002")]), KEY), workwx_sign);
        let full = REDPACK.into_iter().chain([("workwx_sign", workwx_sign.as_str())]);
        assert_eq!(sign(full, KEY), "53CAFB1270E5FA21BB5EF6F5C125A651");
    }

    #[test]
    fn payment_vector() {
        let params = [
            ("appid", "wx123456789"),
            ("mch_id", "10000098"),
            ("nonce_str", "qFKEgfig76DF9912fewmkp"),
            ("partner_trade_no", "100000982017072019616"),
            ("openid", "oxTWIuGaIt6gTKsQRLau2M0yL16E"),
            ("amount", "100"),
            ("desc", "Travel"),
            ("ww_msg_type", "NORMAL_MSG"),
            ("act_name", "not signed for payments"),
            ("check_name", "NO_CHECK"),
        ];
        assert_eq!(WorkwxSign::PayWwsptrans2pocket.sign(params, KEY), "8A4FFB729251C84B4755762CF6A4DCEB");
    }
}
