//! The XML around a ciphertext (wecom-api §10.4, §10.5): built as the platform and the official
//! libraries write it, read as leniently as they read it (any root name, whitespace, CDATA or
//! escaped text, extra elements).

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::CryptError;

/// The body of a callback POST: `ToUserName` (the receive id), `AgentID` (empty for the
/// contacts-sync assistant) and `Encrypt`.
pub(crate) fn push(to_user_name: &str, agent_id: &str, encrypt: &str) -> Result<String, CryptError> {
    Ok(format!(
        "<xml><ToUserName>{}</ToUserName><AgentID>{}</AgentID><Encrypt>{}</Encrypt></xml>",
        cdata(to_user_name)?,
        cdata(agent_id)?,
        cdata(encrypt)?
    ))
}

/// The body of an encrypted passive reply; `TimeStamp` is the one element written without CDATA.
pub(crate) fn reply(encrypt: &str, msg_signature: &str, timestamp: &str, nonce: &str) -> Result<String, CryptError> {
    Ok(format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt)?,
        cdata(msg_signature)?,
        escape(timestamp),
        cdata(nonce)?
    ))
}

/// A CDATA section cannot hold `]]>`; the official libraries would write broken XML, we refuse.
fn cdata(value: &str) -> Result<String, CryptError> {
    if value.contains("]]>") {
        return Err(CryptError::GenReturnXml);
    }
    Ok(format!("<![CDATA[{value}]]>"))
}

/// The text of each child of the root element, in document order (the first of a repeated name
/// wins in [`Fields::get`]).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn parse(xml: &str) -> Result<Fields, CryptError> {
        let mut reader = Reader::from_str(xml);
        let mut fields = Vec::new();
        let mut depth = 0usize;
        let mut current: Option<(String, String)> = None;
        loop {
            let event = reader.read_event().map_err(|_| CryptError::ParseXml)?;
            match event {
                Event::Start(start) => {
                    depth += 1;
                    if depth == 2 {
                        let name = String::from_utf8(start.name().as_ref().to_vec()).map_err(|_| CryptError::ParseXml)?;
                        current = Some((name, String::new()));
                    }
                }
                Event::Empty(empty) if depth == 1 => {
                    let name = String::from_utf8(empty.name().as_ref().to_vec()).map_err(|_| CryptError::ParseXml)?;
                    fields.push((name, String::new()));
                }
                Event::End(_) => {
                    if depth == 2 {
                        fields.extend(current.take());
                    }
                    depth = depth.saturating_sub(1);
                }
                Event::Text(text) if depth == 2 => push_text(&mut current, &text.decode().map_err(|_| CryptError::ParseXml)?),
                Event::CData(text) if depth == 2 => push_text(&mut current, &text.decode().map_err(|_| CryptError::ParseXml)?),
                Event::GeneralRef(reference) if depth == 2 => {
                    let resolved = match reference.resolve_char_ref().map_err(|_| CryptError::ParseXml)? {
                        Some(c) => c.to_string(),
                        None => {
                            let name = reference.decode().map_err(|_| CryptError::ParseXml)?;
                            resolve_predefined_entity(&name).ok_or(CryptError::ParseXml)?.to_string()
                        }
                    };
                    push_text(&mut current, &resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        // An unclosed element at the end is a truncated body.
        if depth != 0 {
            return Err(CryptError::ParseXml);
        }
        Ok(Fields(fields))
    }

    /// The trimmed text of the first child named `name`; a missing one is a -40002, as in the
    /// official libraries.
    pub(crate) fn get(&self, name: &str) -> Result<&str, CryptError> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).ok_or(CryptError::ParseXml)
    }
}

fn push_text(current: &mut Option<(String, String)>, text: &str) {
    if let Some((_, value)) = current {
        value.push_str(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_reply_read_back() {
        let body = push("wx5823bf96d3bd56c7", "218", "abc+/=").unwrap();
        assert_eq!(
            body,
            "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><AgentID><![CDATA[218]]></AgentID><Encrypt><![CDATA[abc+/=]]></Encrypt></xml>"
        );
        let fields = Fields::parse(&body).unwrap();
        assert_eq!(fields.get("ToUserName"), Ok("wx5823bf96d3bd56c7"));
        assert_eq!(fields.get("AgentID"), Ok("218"));
        assert_eq!(fields.get("Encrypt"), Ok("abc+/="));
        let body = reply("enc", "sig", "1409659813", "1372623149").unwrap();
        assert!(body.contains("<TimeStamp>1409659813</TimeStamp>"));
        let fields = Fields::parse(&body).unwrap();
        assert_eq!(
            ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"].map(|n| fields.get(n).unwrap()),
            ["enc", "sig", "1409659813", "1372623149"]
        );
    }

    #[test]
    fn cdata_terminator_cannot_be_written() {
        assert_eq!(reply("enc", "sig", "1", "a]]>b"), Err(CryptError::GenReturnXml));
        assert_eq!(push("wx", "1]]>", "enc"), Err(CryptError::GenReturnXml));
        // Markup in the timestamp is escaped, so it reads back as written.
        let body = reply("enc", "sig", "1<&2", "n").unwrap();
        assert_eq!(Fields::parse(&body).unwrap().get("TimeStamp"), Ok("1<&2"));
    }

    #[test]
    fn reads_what_sdks_write() {
        // wechatpy: one element per line; others: escaped text, pretty-printed CDATA, another root.
        let wechatpy = "<xml>\n<Encrypt><![CDATA[e]]></Encrypt>\n<TimeStamp>1</TimeStamp>\n</xml>";
        assert_eq!(Fields::parse(wechatpy).unwrap().get("Encrypt"), Ok("e"));
        let escaped = "<?xml version=\"1.0\"?><root><Nonce>a&amp;b&#33;</Nonce><Encrypt>\n  <![CDATA[e]]>\n</Encrypt><Extra><Deep>x</Deep></Extra></root>";
        let fields = Fields::parse(escaped).unwrap();
        assert_eq!(fields.get("Nonce"), Ok("a&b!"));
        assert_eq!(fields.get("Encrypt"), Ok("e"));
        assert_eq!(fields.get("Deep"), Err(CryptError::ParseXml));
        assert_eq!(Fields::parse("<xml><Encrypt/></xml>").unwrap().get("Encrypt"), Ok(""));
    }

    #[test]
    fn broken_xml_is_40002() {
        for xml in ["", "not xml", "<xml><Encrypt>e</Encrypt>", "<xml><Encrypt>e</Nonce></xml>", "<xml><A>&bogus;</A></xml>"] {
            let parsed = Fields::parse(xml).and_then(|f| f.get("Encrypt").map(str::to_owned));
            assert_eq!(parsed, Err(CryptError::ParseXml), "{xml:?}");
        }
    }
}
