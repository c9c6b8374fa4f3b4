//! multipart/form-data bodies (uploads carry their file in a part named `media`), read with multer.

use axum::body::Bytes;
use std::convert::Infallible;

/// One file part of an upload.
pub struct Part {
    pub filename: String,
    pub data: Bytes,
}

/// The part called `name`; `None` when the body is not multipart, is malformed or has no such
/// part (the platform answers all three alike).
pub async fn part(content_type: Option<&str>, body: Bytes, name: &str) -> Option<Part> {
    let boundary = multer::parse_boundary(content_type?).ok()?;
    let mut form = multer::Multipart::new(futures_util::stream::once(async move { Ok::<_, Infallible>(body) }), boundary);
    while let Some(field) = form.next_field().await.ok()? {
        if field.name() == Some(name) {
            let filename = field.file_name().unwrap_or_default().to_string();
            return field.bytes().await.ok().map(|data| Part { filename, data });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[tokio::test]
    async fn finds_the_named_part() {
        let form = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nzzz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.txt\"; filelength=6\r\nContent-Type: application/octet-stream\r\n\r\nhello\n\r\n--XyZ--\r\n";
        let p = part(Some("multipart/form-data; boundary=XyZ"), body(form), "media").await.unwrap();
        assert_eq!((p.filename.as_str(), &p.data[..]), ("a.txt", &b"hello\n"[..]));
        assert!(part(Some("application/json"), body(form), "media").await.is_none());
        assert!(part(None, body(form), "media").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=XyZ"), body(form), "file").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=\"XyZ\""), body(b"--XyZ--\r\n"), "media").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=XyZ"), body(b"--XyZ\r\nContent-Disp"), "media").await.is_none(), "truncated");
    }
}
