/// The return codes of the official WXBizMsgCrypt libraries (加解密库的返回码), one variant each,
/// named as those libraries name them.
///
/// Three of them cannot happen here and exist so the table is whole: SHA-1 and base64 encoding
/// never fail (`ComputeSignature`, `EncodeBase64`), and AES encryption only fails for a message
/// longer than the 4-byte length field allows (`EncryptAes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    #[error("-40001 signature verification failed (签名验证错误)")]
    ValidateSignature,
    #[error("-40002 XML parsing failed (xml解析失败)")]
    ParseXml,
    #[error("-40003 computing the signature failed (sha加密生成签名失败)")]
    ComputeSignature,
    #[error("-40004 illegal EncodingAESKey (AESKey 非法)")]
    IllegalAesKey,
    #[error("-40005 ReceiveId does not match (ReceiveId 校验错误)")]
    ValidateCorpid,
    #[error("-40006 AES encryption failed (AES 加密失败)")]
    EncryptAes,
    #[error("-40007 AES decryption failed (AES 解密失败)")]
    DecryptAes,
    #[error("-40008 illegal buffer after decryption (解密后得到的buffer非法)")]
    IllegalBuffer,
    #[error("-40009 base64 encoding failed (base64加密失败)")]
    EncodeBase64,
    #[error("-40010 base64 decoding failed (base64解密失败)")]
    DecodeBase64,
    #[error("-40011 generating the XML failed (生成xml失败)")]
    GenReturnXml,
}

impl CryptError {
    /// The official numeric code.
    pub fn code(self) -> i32 {
        match self {
            CryptError::ValidateSignature => -40001,
            CryptError::ParseXml => -40002,
            CryptError::ComputeSignature => -40003,
            CryptError::IllegalAesKey => -40004,
            CryptError::ValidateCorpid => -40005,
            CryptError::EncryptAes => -40006,
            CryptError::DecryptAes => -40007,
            CryptError::IllegalBuffer => -40008,
            CryptError::EncodeBase64 => -40009,
            CryptError::DecodeBase64 => -40010,
            CryptError::GenReturnXml => -40011,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CryptError::*;

    #[test]
    fn codes_are_the_official_ones() {
        let all = [
            ValidateSignature,
            ParseXml,
            ComputeSignature,
            IllegalAesKey,
            ValidateCorpid,
            EncryptAes,
            DecryptAes,
            IllegalBuffer,
            EncodeBase64,
            DecodeBase64,
            GenReturnXml,
        ];
        let codes: Vec<i32> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, (0..11).map(|i| -40001 - i).collect::<Vec<_>>());
        assert!(ValidateCorpid.to_string().starts_with("-40005 "));
    }
}
