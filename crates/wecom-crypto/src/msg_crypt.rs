//! WXBizMsgCrypt (wecom-api §10.2–10.5): the encryption of every callback.
//!
//! `plain = random(16) ‖ u32_be(len(msg)) ‖ msg ‖ receive_id`, PKCS#7-padded to **32**-byte
//! blocks, AES-256-CBC with key = base64(EncodingAESKey + "=") and IV = key[0..16], then base64.
//! `msg_signature` = hex(SHA-1(concat(sort([token, timestamp, nonce, encrypt])))).
//!
//! The platform's side (what wecomd does): [`MsgCrypt::echo`] for URL verification,
//! [`MsgCrypt::push`] for a callback POST, [`MsgCrypt::open_reply`] for an encrypted passive
//! reply. An app's side (what the official libraries call VerifyURL, DecryptMsg, EncryptMsg):
//! [`MsgCrypt::verify_url`], [`MsgCrypt::decrypt_msg`], [`MsgCrypt::encrypt_msg`].

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use rand::distr::Alphanumeric;
use rand::Rng;
use sha1::{Digest, Sha1};

use crate::envelope::{self, Fields};
use crate::CryptError;

/// Standard base64, written with padding; read as the official libraries read it: the 43rd
/// character of an EncodingAESKey carries two spare bits that need not be zero, and padding is
/// optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The padding block of the scheme: 32 bytes, not AES's 16.
const PAD_BLOCK: usize = 32;
/// Random prefix, then the 4-byte message length.
const HEADER: usize = 16 + 4;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// One callback configuration: Token, EncodingAESKey and the ReceiveId written into (and
/// required in) every ciphertext — the corpid for self-built apps and the contacts-sync
/// assistant, the suite_id for a suite's instruction callbacks.
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

/// A callback POST: the `msg_signature` for the query string and the XML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub msg_signature: String,
    pub body: String,
}

/// A URL verification: the `msg_signature` and `echostr` query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    pub msg_signature: String,
    pub echostr: String,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token and key are secrets: keep them out of logs.
        f.debug_struct("MsgCrypt").field("receive_id", &self.receive_id).finish_non_exhaustive()
    }
}

impl MsgCrypt {
    /// -40004 unless the EncodingAESKey is 43 characters that decode to 32 bytes.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<MsgCrypt, CryptError> {
        if encoding_aes_key.len() != 43 {
            return Err(CryptError::IllegalAesKey);
        }
        let key = BASE64.decode(format!("{encoding_aes_key}=")).map_err(|_| CryptError::IllegalAesKey)?;
        let key = key.try_into().map_err(|_| CryptError::IllegalAesKey)?;
        Ok(MsgCrypt { token: token.to_owned(), key, receive_id: receive_id.to_owned() })
    }

    /// `msg_signature` over this Token and the given timestamp, nonce and ciphertext (or echostr).
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        crate::hex(&Sha1::digest(parts.concat()), false)
    }

    /// Encrypts `msg` behind 16 random alphanumeric bytes, as the official libraries do (a
    /// receiver that reads the plaintext as text is not tripped by binary noise).
    pub fn encrypt(&self, msg: &str) -> Result<String, CryptError> {
        let mut rng = rand::rng();
        let random: [u8; 16] = std::array::from_fn(|_| rng.sample(Alphanumeric));
        self.encrypt_with(&random, msg.as_bytes())
    }

    fn encrypt_with(&self, random: &[u8; 16], msg: &[u8]) -> Result<String, CryptError> {
        let len = u32::try_from(msg.len()).map_err(|_| CryptError::EncryptAes)?;
        let mut plain = Vec::with_capacity(HEADER + msg.len() + self.receive_id.len() + PAD_BLOCK);
        plain.extend_from_slice(random);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(msg);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let len = plain.len();
        Encryptor::new(&self.key.into(), &self.iv().into())
            .encrypt_padded::<NoPadding>(&mut plain, len)
            .map_err(|_| CryptError::EncryptAes)?;
        Ok(BASE64.encode(plain))
    }

    /// Decrypts a ciphertext and returns the message; -40005 if it was sealed for another
    /// ReceiveId.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptError> {
        let plain = self.decrypt_raw(encrypt)?;
        let (msg, receive_id) = split(&plain)?;
        if receive_id != self.receive_id.as_bytes() {
            return Err(CryptError::ValidateCorpid);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| CryptError::IllegalBuffer)
    }

    /// base64 and AES only: the padded plaintext.
    fn decrypt_raw(&self, encrypt: &str) -> Result<Vec<u8>, CryptError> {
        let mut buf = BASE64.decode(encrypt).map_err(|_| CryptError::DecodeBase64)?;
        if buf.is_empty() {
            return Err(CryptError::DecryptAes);
        }
        let len = Decryptor::new(&self.key.into(), &self.iv().into())
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| CryptError::DecryptAes)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    fn verify(&self, msg_signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> Result<(), CryptError> {
        if self.signature(timestamp, nonce, encrypt) != msg_signature {
            return Err(CryptError::ValidateSignature);
        }
        Ok(())
    }

    /// Platform side of URL verification: the query parameters that carry `plaintext`, which the
    /// app must echo back as its body.
    pub fn echo(&self, plaintext: &str, timestamp: &str, nonce: &str) -> Result<Echo, CryptError> {
        let echostr = self.encrypt(plaintext)?;
        Ok(Echo { msg_signature: self.signature(timestamp, nonce, &echostr), echostr })
    }

    /// Platform side of a callback: encrypts the inner XML `msg` and wraps it in the POST body
    /// (`ToUserName` = the ReceiveId, `AgentID` empty for the contacts-sync assistant).
    pub fn push(&self, agent_id: &str, msg: &str, timestamp: &str, nonce: &str) -> Result<Push, CryptError> {
        let encrypt = self.encrypt(msg)?;
        let body = envelope::push(&self.receive_id, agent_id, &encrypt)?;
        Ok(Push { msg_signature: self.signature(timestamp, nonce, &encrypt), body })
    }

    /// Platform side of a passive reply: checks `MsgSignature` against the body's own
    /// `TimeStamp` and `Nonce`, then decrypts.
    pub fn open_reply(&self, body: &str) -> Result<String, CryptError> {
        let fields = Fields::parse(body)?;
        let encrypt = fields.get("Encrypt")?;
        self.verify(fields.get("MsgSignature")?, fields.get("TimeStamp")?, fields.get("Nonce")?, encrypt)?;
        self.decrypt(encrypt)
    }

    /// App side of URL verification (VerifyURL): the plaintext to answer with.
    pub fn verify_url(&self, msg_signature: &str, timestamp: &str, nonce: &str, echostr: &str) -> Result<String, CryptError> {
        self.verify(msg_signature, timestamp, nonce, echostr)?;
        self.decrypt(echostr)
    }

    /// App side of a callback (DecryptMsg): the inner XML of a POST body, the signature coming
    /// from the query string.
    pub fn decrypt_msg(&self, msg_signature: &str, timestamp: &str, nonce: &str, body: &str) -> Result<String, CryptError> {
        let fields = Fields::parse(body)?;
        let encrypt = fields.get("Encrypt")?;
        self.verify(msg_signature, timestamp, nonce, encrypt)?;
        self.decrypt(encrypt)
    }

    /// App side of a passive reply (EncryptMsg): the encrypted reply body.
    pub fn encrypt_msg(&self, reply: &str, timestamp: &str, nonce: &str) -> Result<String, CryptError> {
        let encrypt = self.encrypt(reply)?;
        envelope::reply(&encrypt, &self.signature(timestamp, nonce, &encrypt), timestamp, nonce)
    }
}

/// Strips the padding (1..=32; anything else is -40008, as is a length that overruns the buffer)
/// and the random prefix: the message and the ReceiveId behind it.
fn split(plain: &[u8]) -> Result<(&[u8], &[u8]), CryptError> {
    let pad = usize::from(*plain.last().ok_or(CryptError::IllegalBuffer)?);
    if !(1..=PAD_BLOCK).contains(&pad) || plain.len() < HEADER + pad {
        return Err(CryptError::IllegalBuffer);
    }
    let content = &plain[..plain.len() - pad];
    let len = u32::from_be_bytes([content[16], content[17], content[18], content[19]]);
    let rest = &content[HEADER..];
    let len = usize::try_from(len).map_err(|_| CryptError::IllegalBuffer)?;
    if len > rest.len() {
        return Err(CryptError::IllegalBuffer);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    // wecom-api Appendix B.1 (official vector, doc 90968).
    const CORPID: &str = "wx5823bf96d3bd56c7";
    const TOKEN: &str = "QDG6eK";
    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const TIMESTAMP: &str = "1409659813";
    const NONCE: &str = "1372623149";
    const B1_SIGNATURE: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
    const B1_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";
    const B1_MSG: &str = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>";
    // Appendix B.2 (self-generated with fixed random prefixes).
    const B2_REPLY: &str = "<xml><ToUserName><![CDATA[mycreate]]></ToUserName><FromUserName><![CDATA[wx5823bf96d3bd56c7]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>";
    const B2_REPLY_ENCRYPT: &str = "2JaQ0H0H/TuqGM/rDRTva7eYYvoGWOn5NWtG0o4TRaDDmdzv4OmNvaF+634DU86Aoi0J13SoZp4djan2C6BEEkg7BtGaYOGPVQvPOg7mnNf1WvdzcC+7vIZnUMY0mz7i9wYicDhPD2VLvuVZ/hJmDRYt0wGeWR5zzYtwrfAK++EJjTQoJDfOILOqlkd68X8ebovpI1C4KJnhUUnmX80XILlKDcezC3pMgdj/g0mblVxgUtWlT70K2RZakiZzxl1vWUBE/mkRbd4LPveYG0PkYinjZLunoq4ys9at+m5XFUvD3Q6CJRFARNTPOeGeZNvuwUDvSyBnu5WEA5iX3zWLpOpEnPDFXQn+/v4XaC9AsvORxH0zVcabchK2rhXtqED4";
    const B2_REPLY_SIGNATURE: &str = "4d4d47d450e38e2a103ba90d5590b83939dc11da";
    const B2_ECHO: &str = "1616140317555161061";
    const B2_ECHOSTR: &str = "5E3PQMOs0sDXj07fjAt1jwchSQCW++Ee+ofgmPqr4MrCK2mbBOCICiq11/xfSY8ZhfPyPGGL32QwMdhL8cmJCA==";
    const B2_ECHO_SIGNATURE: &str = "f357575b8c686a8901c5eb68c690bcd3d06b02eb";

    fn crypt() -> MsgCrypt {
        MsgCrypt::new(TOKEN, KEY, CORPID).unwrap()
    }

    #[test]
    fn official_vector_b1() {
        let c = crypt();
        assert_eq!(c.signature(TIMESTAMP, NONCE, B1_ENCRYPT), B1_SIGNATURE);
        let plain = c.decrypt_raw(B1_ENCRYPT).unwrap();
        assert_eq!(plain.len(), 352);
        assert_eq!(plain[351], 30, "pad byte of a 32-byte block");
        assert_eq!(&plain[..16], b"0960688932c47ef1");
        assert_eq!(&plain[16..20], &284u32.to_be_bytes());
        assert_eq!(B1_MSG.len(), 284);
        assert_eq!(c.decrypt(B1_ENCRYPT).unwrap(), B1_MSG);
        // The same ciphertext in a POST body, as an app receives it.
        let body = envelope::push(CORPID, "218", B1_ENCRYPT).unwrap();
        assert_eq!(c.decrypt_msg(B1_SIGNATURE, TIMESTAMP, NONCE, &body).unwrap(), B1_MSG);
    }

    #[test]
    fn self_generated_vectors_b2() {
        let c = crypt();
        let encrypt = c.encrypt_with(b"aaaaaaaaaaaaaaaa", B2_REPLY.as_bytes()).unwrap();
        assert_eq!(encrypt, B2_REPLY_ENCRYPT);
        assert_eq!(c.signature(TIMESTAMP, NONCE, &encrypt), B2_REPLY_SIGNATURE);
        assert_eq!(*c.decrypt_raw(&encrypt).unwrap().last().unwrap(), 32, "a full block of padding");
        let reply = envelope::reply(&encrypt, B2_REPLY_SIGNATURE, TIMESTAMP, NONCE).unwrap();
        assert_eq!(c.open_reply(&reply).unwrap(), B2_REPLY);

        let echostr = c.encrypt_with(b"bbbbbbbbbbbbbbbb", B2_ECHO.as_bytes()).unwrap();
        assert_eq!(echostr, B2_ECHOSTR);
        assert_eq!(c.signature(TIMESTAMP, NONCE, &echostr), B2_ECHO_SIGNATURE);
        assert_eq!(*c.decrypt_raw(&echostr).unwrap().last().unwrap(), 7);
        assert_eq!(c.verify_url(B2_ECHO_SIGNATURE, TIMESTAMP, NONCE, B2_ECHOSTR).unwrap(), B2_ECHO);
    }

    #[test]
    fn both_sides_round_trip() {
        let c = crypt();
        for msg in ["", "x", "企业微信 ✓ 😀", &"0123456789abcdef".repeat(64)] {
            let push = c.push("1000002", msg, TIMESTAMP, NONCE).unwrap();
            assert_eq!(c.decrypt_msg(&push.msg_signature, TIMESTAMP, NONCE, &push.body).unwrap(), msg);
            let reply = c.encrypt_msg(msg, TIMESTAMP, NONCE).unwrap();
            assert_eq!(c.open_reply(&reply).unwrap(), msg);
            let echo = c.echo(msg, TIMESTAMP, NONCE).unwrap();
            assert_eq!(c.verify_url(&echo.msg_signature, TIMESTAMP, NONCE, &echo.echostr).unwrap(), msg);
        }
        // A fresh random prefix every time, of printable characters.
        let (a, b) = (c.encrypt("same").unwrap(), c.encrypt("same").unwrap());
        assert_ne!(a, b);
        assert!(c.decrypt_raw(&a).unwrap()[..16].iter().all(u8::is_ascii_alphanumeric));
        // The sync assistant's callbacks carry an empty AgentID.
        let push = c.push("", "m", TIMESTAMP, NONCE).unwrap();
        assert!(push.body.contains("<AgentID><![CDATA[]]></AgentID>"));
    }

    #[test]
    fn keys() {
        assert!(MsgCrypt::new(TOKEN, KEY, CORPID).is_ok());
        for bad in [
            "",
            &KEY[..42],
            &format!("{KEY}A"),
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2!",
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2=",
        ] {
            assert_eq!(MsgCrypt::new(TOKEN, bad, CORPID).unwrap_err(), CryptError::IllegalAesKey, "{bad:?}");
        }
        // Secrets stay out of Debug output.
        let debug = format!("{:?}", crypt());
        assert!(debug.contains(CORPID) && !debug.contains(TOKEN));
    }

    #[test]
    fn bad_input_is_an_error_value() {
        let c = crypt();
        assert_eq!(c.decrypt("not base64!"), Err(CryptError::DecodeBase64));
        assert_eq!(c.decrypt(""), Err(CryptError::DecryptAes));
        assert_eq!(c.decrypt(&BASE64.encode([0u8; 17])), Err(CryptError::DecryptAes));
        // Well-formed AES blocks whose plaintext is noise: the pad byte or the length is wrong.
        let cipher = BASE64.decode(c.encrypt_with(b"aaaaaaaaaaaaaaaa", b"x").unwrap()).unwrap();
        // Truncated to 32 bytes: the plaintext ends inside the ReceiveId, on a byte above 32.
        assert_eq!(c.decrypt(&BASE64.encode(&cipher[..32])), Err(CryptError::IllegalBuffer));
        // Truncated to 16 bytes: it ends inside the random prefix.
        assert_eq!(c.decrypt(&BASE64.encode(&cipher[..16])), Err(CryptError::IllegalBuffer));
        let other = MsgCrypt::new(TOKEN, KEY, "ww0000000000000000").unwrap();
        assert_eq!(other.decrypt(B1_ENCRYPT), Err(CryptError::ValidateCorpid));
        assert_eq!(c.verify_url(B2_ECHO_SIGNATURE, TIMESTAMP, "1372623148", B2_ECHOSTR), Err(CryptError::ValidateSignature));
        let mut tampered = B1_SIGNATURE.to_owned();
        tampered.replace_range(..1, "5");
        let body = envelope::push(CORPID, "218", B1_ENCRYPT).unwrap();
        assert_eq!(c.decrypt_msg(&tampered, TIMESTAMP, NONCE, &body), Err(CryptError::ValidateSignature));
        assert_eq!(c.decrypt_msg(B1_SIGNATURE, TIMESTAMP, NONCE, "<xml><ToUserName/></xml>"), Err(CryptError::ParseXml));
        assert_eq!(c.open_reply("<xml><Encrypt>e</Encrypt></xml>"), Err(CryptError::ParseXml));
        assert_eq!(c.encrypt_msg("m", TIMESTAMP, "]]>"), Err(CryptError::GenReturnXml));
    }

    #[test]
    fn padding_rules() {
        // Pad byte 0 or above 32, and a length that runs past the buffer, are -40008.
        let mut plain = vec![b'a'; 16];
        plain.extend_from_slice(&3u32.to_be_bytes());
        plain.extend_from_slice(b"msg");
        plain.extend_from_slice(CORPID.as_bytes());
        let good_len = plain.len();
        let pad = PAD_BLOCK - good_len % PAD_BLOCK;
        plain.resize(good_len + pad, pad as u8);
        assert_eq!(split(&plain).unwrap(), (&b"msg"[..], CORPID.as_bytes()));
        for last in [0u8, 33, 255] {
            let mut bad = plain.clone();
            *bad.last_mut().unwrap() = last;
            assert_eq!(split(&bad), Err(CryptError::IllegalBuffer), "pad {last}");
        }
        let mut long = plain.clone();
        long[16..20].copy_from_slice(&1000u32.to_be_bytes());
        assert_eq!(split(&long), Err(CryptError::IllegalBuffer));
        assert_eq!(split(&[5; 10]), Err(CryptError::IllegalBuffer));
        assert_eq!(split(&[]), Err(CryptError::IllegalBuffer));
    }
}
