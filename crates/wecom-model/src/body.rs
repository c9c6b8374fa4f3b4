//! JSON request bodies: parsed from the raw bytes whatever the Content-Type (wechatpy sends none),
//! with each dialect's errcode for what cannot be read (wecom-api.md §1.1, §1.11; legacy-api.md §0.5).

use crate::{ApiError, Dialect, Errcode};
use serde::de::DeserializeOwned;

/// The largest body wecomd reads; the platform's limit is not published (compatibility ledger).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Reads a body as `T`. Fields a handler must report as "missing" with their own errcode are
/// `Option`s in `T`; what fails here is an unreadable body.
pub fn parse<T: DeserializeOwned>(bytes: &[u8], dialect: Dialect) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(match dialect {
            Dialect::WeCom => Errcode::InvalidRequestParameter,
            Dialect::Legacy => Errcode::EmptyPostData,
        }
        .into());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let code = match dialect {
            // WeCom answers 40058 for bad JSON and for values of the wrong type alike.
            Dialect::WeCom => Errcode::InvalidRequestParameter,
            // 企业号 answered 47001 for a body it could not decode.
            Dialect::Legacy => Errcode::DataFormatError,
        };
        ApiError::with_detail(code, format!("{e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Body {
        userid: Option<String>,
    }

    #[test]
    fn reads_json_without_caring_for_content_type() {
        let b: Body = parse(br#"{"userid":"zhangsan","extra":1}"#, Dialect::WeCom).unwrap();
        assert_eq!(b.userid.as_deref(), Some("zhangsan"));
        let b: Body = parse(br#"{"userid":"\u5f20\u4e09"}"#, Dialect::WeCom).unwrap();
        assert_eq!(b.userid.as_deref(), Some("张三"), "\\u escapes are accepted");
        let b: Body = parse(b"{}", Dialect::Legacy).unwrap();
        assert_eq!(b.userid, None);
    }

    #[test]
    fn unreadable_bodies_per_dialect() {
        let code = |bytes: &[u8], d| parse::<Body>(bytes, d).unwrap_err().errcode;
        assert_eq!(code(b"", Dialect::WeCom), 40058);
        assert_eq!(code(b"  ", Dialect::Legacy), 44002);
        assert_eq!(code(b"{not json", Dialect::WeCom), 40058);
        assert_eq!(code(b"{not json", Dialect::Legacy), 47001);
        assert_eq!(code(br#"{"userid":123}"#, Dialect::WeCom), 40058);
        assert_eq!(code(br#"{"userid":123}"#, Dialect::Legacy), 47001);
        assert_eq!(code(b"[1,2]", Dialect::WeCom), 40058);
        assert_eq!(code(&[0xff, 0xfe], Dialect::WeCom), 40058);
    }

    #[test]
    fn detail_is_kept_after_the_text() {
        let e = parse::<Body>(br#"{"userid":123}"#, Dialect::WeCom).unwrap_err();
        assert!(e.text.starts_with("invalid Request Parameter: "), "{}", e.text);
    }
}
