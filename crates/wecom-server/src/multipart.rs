//! multipart/form-data bodies (uploads carry their file in a part named `media`), read with multer
//! as they arrive: a file part is handed out piece by piece, never held whole.

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

/// The most of a body read and thrown away after its upload was refused (or never looked at), so
/// the client can finish sending and read the answer; a longer body has its connection closed.
const DRAIN_LIMIT: usize = 256 * 1024 * 1024;

/// A file part being read.
pub struct FilePart {
    pub filename: String,
    /// The part's own Content-Type, when it names one.
    pub content_type: Option<String>,
    field: multer::Field<'static>,
}

/// The body is malformed or was cut off before the part ended.
#[derive(Debug)]
pub struct Malformed;

impl FilePart {
    /// The next piece of the file, `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Malformed> {
        self.field.chunk().await.map_err(|_| Malformed)
    }
}

/// Finds the part called `name` in a streamed body of at most `limit` bytes, reading (and
/// dropping) the parts before it.
pub async fn file<S, E>(content_type: Option<&str>, body: S, name: &str, limit: usize) -> Option<FilePart>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let boundary = multer::parse_boundary(content_type?).ok()?;
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
    let mut form = multer::Multipart::with_constraints(body, boundary, constraints);
    while let Some(field) = form.next_field().await.ok()? {
        if field.name() == Some(name) {
            let filename = field.file_name().unwrap_or_default().to_string();
            let content_type = field.content_type().map(|m| m.essence_str().to_string());
            return Some(FilePart { filename, content_type, field });
        }
    }
    None
}

/// A request body read by a task of its own and handed over in pieces through a small channel,
/// so at most a few pieces are in memory. When the reader goes away early (the upload was
/// refused), the task reads the rest and drops it, so the client still gets its answer.
pub struct BodyStream(mpsc::Receiver<Result<Bytes, axum::Error>>);

impl BodyStream {
    pub fn spawn(body: Body) -> BodyStream {
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            let mut drained = 0usize;
            while let Some(piece) = stream.next().await {
                if tx.is_closed() {
                    drained += piece.as_ref().map_or(0, Bytes::len);
                    if drained > DRAIN_LIMIT {
                        return;
                    }
                } else if let Err(mpsc::error::SendError(piece)) = tx.send(piece).await {
                    drained += piece.as_ref().map_or(0, Bytes::len);
                }
            }
        });
        BodyStream(rx)
    }

    pub fn into_stream(mut self) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send + 'static {
        futures_util::stream::poll_fn(move |cx| self.0.poll_recv(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// The part called `name` of a whole body, read to its end: (filename, bytes).
    async fn part(content_type: Option<&str>, body: &'static [u8], name: &str) -> Option<(String, Vec<u8>)> {
        let body = futures_util::stream::once(async move { Ok::<_, Infallible>(Bytes::from_static(body)) });
        let mut file = file(content_type, body, name, usize::MAX).await?;
        let mut data = Vec::new();
        while let Some(piece) = file.chunk().await.ok()? {
            data.extend_from_slice(&piece);
        }
        Some((file.filename, data))
    }

    #[tokio::test]
    async fn finds_the_named_part() {
        let form = b"--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nzzz\r\n--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.txt\"; filelength=6\r\nContent-Type: application/octet-stream\r\n\r\nhello\n\r\n--XyZ--\r\n";
        let p = part(Some("multipart/form-data; boundary=XyZ"), form, "media").await.unwrap();
        assert_eq!((p.0.as_str(), &p.1[..]), ("a.txt", &b"hello\n"[..]));
        assert!(part(Some("application/json"), form, "media").await.is_none());
        assert!(part(None, form, "media").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=XyZ"), form, "file").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=\"XyZ\""), b"--XyZ--\r\n", "media").await.is_none());
        assert!(part(Some("multipart/form-data; boundary=XyZ"), b"--XyZ\r\nContent-Disp", "media").await.is_none(), "truncated");
        let cut = b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.txt\"\r\n\r\nhello, and then noth";
        assert!(part(Some("multipart/form-data; boundary=XyZ"), cut, "media").await.is_none(), "cut inside the file");
    }

    #[tokio::test]
    async fn streams_a_file_in_pieces() {
        let head =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"media\"; filename=\"big.bin\"\r\nContent-Type: application/pdf\r\n\r\n";
        let pieces: Vec<Result<Bytes, Infallible>> = std::iter::once(Bytes::from_static(head))
            .chain((0..64).map(|_| Bytes::from(vec![7u8; 16 * 1024])))
            .chain(std::iter::once(Bytes::from_static(b"\r\n--XyZ--\r\n")))
            .map(Ok)
            .collect();
        // Through the reader task: multer takes whatever is ready, which the channel bounds.
        let body = BodyStream::spawn(Body::from_stream(futures_util::stream::iter(pieces)));
        let mut f = file(Some("multipart/form-data; boundary=XyZ"), body.into_stream(), "media", usize::MAX).await.unwrap();
        assert_eq!((f.filename.as_str(), f.content_type.as_deref()), ("big.bin", Some("application/pdf")));
        let (mut total, mut largest) = (0, 0);
        while let Some(piece) = f.chunk().await.unwrap() {
            total += piece.len();
            largest = largest.max(piece.len());
        }
        assert_eq!(total, 64 * 16 * 1024);
        assert!(largest <= 5 * 16 * 1024, "pieces pass through, the file is never gathered: {largest}");
    }
}
