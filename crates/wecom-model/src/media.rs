//! Temporary media (临时素材, wecom-api.md §8; legacy-api.md §1.3, §6): the four types and their
//! limits, what an upload's bytes must look like, media ids, download ranges and the answers in
//! each dialect.

use crate::{Dialect, Errcode};
use serde_json::{json, Map, Value};

/// media/upload's media_id is usable for 3 days by every app of the corp.
pub const MEDIA_TTL: i64 = 3 * 86_400;
/// Every upload is at least this long; shorter is 40006 ("所有文件size必须大于5个字节").
pub const MIN_BYTES: u64 = 5;
pub const IMAGE_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const VOICE_MAX_BYTES: u64 = 2 * 1024 * 1024;
pub const VIDEO_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const FILE_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// media/uploadimg: JPG/PNG up to 2 MB (wecom-api.md §8.4).
pub const UPLOADIMG_MAX_BYTES: u64 = 2 * 1024 * 1024;
/// media/upload_by_url fetches files up to 200 MB (wecom-api.md §8.5).
pub const BY_URL_MAX_BYTES: u64 = 200 * 1024 * 1024;
/// media/get answers at most this much in one response; more needs a Range (830002).
pub const DOWNLOAD_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// A voice plays at most 60 s (45007); an AMR frame is 20 ms.
const VOICE_MAX_FRAMES: u64 = 60 * 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Image,
    Voice,
    Video,
    File,
}

impl MediaType {
    /// The `type` of media/upload: anything else is 40005.
    pub fn parse(s: Option<&str>) -> Result<MediaType, Errcode> {
        match s {
            Some("image") => Ok(MediaType::Image),
            Some("voice") => Ok(MediaType::Voice),
            Some("video") => Ok(MediaType::Video),
            Some("file") => Ok(MediaType::File),
            _ => Err(Errcode::InvalidMediaType),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::File => "file",
        }
    }

    /// The largest upload and what is answered past it.
    fn limit(self) -> (u64, Errcode) {
        match self {
            MediaType::Image => (IMAGE_MAX_BYTES, Errcode::InvalidImageSize),
            MediaType::Voice => (VOICE_MAX_BYTES, Errcode::InvalidFileSize),
            MediaType::Video => (VIDEO_MAX_BYTES, Errcode::InvalidVideoSize),
            MediaType::File => (FILE_MAX_BYTES, Errcode::MediaSizeOutOfLimit),
        }
    }
}

/// What the bytes turned out to be, by their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Amr,
    Mp4,
    /// A `file`: anything.
    Any,
}

impl Format {
    /// The Content-Type media/get answers with; a file keeps the one it was uploaded with.
    pub fn content_type(self, uploaded: Option<&str>) -> String {
        match self {
            Format::Jpeg => "image/jpeg".into(),
            Format::Png => "image/png".into(),
            Format::Amr => "voice/amr".into(),
            Format::Mp4 => "video/mp4".into(),
            Format::Any => uploaded.filter(|t| is_mime(t)).unwrap_or("application/octet-stream").into(),
        }
    }

    /// The name media/get gives the download: `MEDIA_ID.jpg` for pictures, sounds and videos
    /// (wecom-api.md §8.2), the uploaded name for a file (it is what a file message shows).
    pub fn download_name(self, media_id: &str, uploaded: &str) -> String {
        let ext = match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Amr => "amr",
            Format::Mp4 => "mp4",
            Format::Any if !uploaded.is_empty() => return uploaded.to_string(),
            Format::Any => "bin",
        };
        format!("{media_id}.{ext}")
    }
}

/// `type/subtype` without parameters or odd characters, safe to echo in a header.
fn is_mime(t: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    t.split_once('/').is_some_and(|(a, b)| ok(a) && ok(b))
}

/// Checks an upload as its bytes arrive, so an oversized or mistyped file is refused without
/// keeping it: the size as it grows, the signature once its first bytes are in, a voice's AMR
/// frames as they pass.
#[derive(Debug)]
pub struct Check {
    media_type: MediaType,
    max: u64,
    over: Errcode,
    size: u64,
    /// The first bytes, until the signature can be judged.
    head: Vec<u8>,
    format: Option<Format>,
    amr: Amr,
}

/// Bytes enough to tell every accepted format apart (`#!AMR-WB\n` is the longest).
const SIGNATURE_BYTES: usize = 12;

impl Check {
    /// media/upload of `media_type`.
    pub fn upload(media_type: MediaType) -> Check {
        let (max, over) = media_type.limit();
        Check::new(media_type, max, over)
    }

    /// media/uploadimg: an image, 2 MB at most.
    pub fn uploadimg() -> Check {
        Check::new(MediaType::Image, UPLOADIMG_MAX_BYTES, Errcode::InvalidImageSize)
    }

    /// media/upload_by_url: a video or file of up to 200 MB.
    pub fn by_url(media_type: MediaType) -> Check {
        Check::new(media_type, BY_URL_MAX_BYTES, Errcode::MediaSizeOutOfLimit)
    }

    /// An upload of `media_type` of at most `max` bytes, `over` past it (the group robots' own
    /// sizes, with the same format rules).
    pub fn new(media_type: MediaType, max: u64, over: Errcode) -> Check {
        Check { media_type, max, over, size: 0, head: Vec::new(), format: None, amr: Amr::default() }
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Errcode> {
        self.size += bytes.len() as u64;
        if self.size > self.max {
            return Err(self.over);
        }
        if self.format.is_none() {
            let take = (SIGNATURE_BYTES - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
            if self.head.len() == SIGNATURE_BYTES {
                self.judge_signature()?;
                let head = std::mem::take(&mut self.head);
                return self.after_signature(&head).and_then(|_| self.after_signature(&bytes[take..]));
            }
            return Ok(());
        }
        self.after_signature(bytes)
    }

    /// Judged when the upload is complete: its size, its format.
    pub fn finish(mut self) -> Result<Format, Errcode> {
        match self.size {
            0 => return Err(Errcode::EmptyMediaData),
            n if n < MIN_BYTES => return Err(Errcode::InvalidFileSize),
            _ => {}
        }
        if self.format.is_none() {
            self.judge_signature()?;
            let head = std::mem::take(&mut self.head);
            self.after_signature(&head)?;
        }
        if self.format == Some(Format::Amr) {
            self.amr.finish()?;
        }
        Ok(self.format.unwrap_or(Format::Any))
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    fn judge_signature(&mut self) -> Result<(), Errcode> {
        let h = &self.head[..];
        let format = match self.media_type {
            MediaType::Image if h.starts_with(&[0xff, 0xd8, 0xff]) => Format::Jpeg,
            MediaType::Image if h.starts_with(b"\x89PNG\r\n\x1a\n") => Format::Png,
            MediaType::Image => return Err(Errcode::InvalidMediaFileType),
            MediaType::Voice if h.starts_with(b"#!AMR") => Format::Amr,
            MediaType::Voice => return Err(Errcode::VoiceNotAmr),
            MediaType::Video if h.len() >= 8 && &h[4..8] == b"ftyp" => Format::Mp4,
            MediaType::Video => return Err(Errcode::InvalidMediaFileType),
            MediaType::File => Format::Any,
        };
        self.format = Some(format);
        Ok(())
    }

    fn after_signature(&mut self, bytes: &[u8]) -> Result<(), Errcode> {
        if self.format == Some(Format::Amr) {
            self.amr.feed(bytes)?;
        }
        Ok(())
    }
}

/// Walks an AMR file (RFC 4867 §5, single channel): the `#!AMR\n` or `#!AMR-WB\n` magic, then
/// frames of one header byte and a payload whose length the header's frame type gives.
#[derive(Debug, Default)]
struct Amr {
    /// Bytes of the magic read so far; the magic is complete when it ends in `\n`.
    magic: Vec<u8>,
    wideband: bool,
    /// Payload bytes of the current frame still to pass.
    skip: usize,
    frames: u64,
}

impl Amr {
    const NB_SIZES: [Option<usize>; 16] = [
        Some(12),
        Some(13),
        Some(15),
        Some(17),
        Some(19),
        Some(20),
        Some(26),
        Some(31),
        Some(5),
        None,
        None,
        None,
        None,
        None,
        None,
        Some(0),
    ];
    const WB_SIZES: [Option<usize>; 16] = [
        Some(17),
        Some(23),
        Some(32),
        Some(36),
        Some(40),
        Some(46),
        Some(50),
        Some(58),
        Some(60),
        Some(5),
        None,
        None,
        None,
        None,
        Some(0),
        Some(0),
    ];

    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Errcode> {
        while !bytes.is_empty() {
            if !self.magic.ends_with(b"\n") {
                self.magic.push(bytes[0]);
                bytes = &bytes[1..];
                match &self.magic[..] {
                    b"#!AMR\n" => {}
                    b"#!AMR-WB\n" => self.wideband = true,
                    m if b"#!AMR-WB\n".starts_with(m) || b"#!AMR\n".starts_with(m) => {}
                    _ => return Err(Errcode::InvalidVoiceFile),
                }
                continue;
            }
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let frame_type = usize::from((bytes[0] >> 3) & 0x0f);
            let sizes = if self.wideband { Amr::WB_SIZES } else { Amr::NB_SIZES };
            self.skip = sizes[frame_type].ok_or(Errcode::InvalidVoiceFile)?;
            self.frames += 1;
            bytes = &bytes[1..];
        }
        Ok(())
    }

    /// A voice without a single frame, or cut inside one, does not meet the requirements. Its
    /// length is judged last, once its size has passed: the size limit answers first.
    fn finish(&self) -> Result<(), Errcode> {
        if !self.magic.ends_with(b"\n") || self.frames == 0 || self.skip > 0 {
            return Err(Errcode::InvalidVoiceFile);
        }
        if self.frames > VOICE_MAX_FRAMES {
            return Err(Errcode::VoicePlaytimeOutOfLimit);
        }
        Ok(())
    }
}

/// A new temporary media id: `1` and 43 URL-safe characters, the shape of the platform's
/// (temporary ids start with `1`, permanent material ids with `2`, legacy-api.md §6).
pub fn new_media_id() -> String {
    id_starting_with('1')
}

pub(crate) fn id_starting_with(first: char) -> String {
    format!("{first}{}", crate::credential::random_url_safe(43))
}

/// The id in a media/uploadimg URL: 40 lowercase hex characters.
pub fn new_image_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..40).map(|_| char::from_digit(rng.random_range(0..16), 16).expect("a hex digit")).collect()
}

/// The path under which wecomd serves media/uploadimg pictures and app logos.
pub fn image_path(image_id: &str) -> String {
    format!("/media/img/{image_id}")
}

/// media/upload's answer. WeCom: errmsg "" and created_at a digit string (wecom-api.md §8.1);
/// 企业号: no errcode/errmsg and created_at a number (legacy-api.md §1.3).
pub fn upload_view(dialect: Dialect, media_type: MediaType, media_id: &str, created_at: i64) -> Map<String, Value> {
    let created_at = match dialect {
        Dialect::WeCom => json!(created_at.to_string()),
        Dialect::Legacy => json!(created_at),
    };
    with_errmsg(dialect, json!({ "type": media_type.as_str(), "media_id": media_id, "created_at": created_at }))
}

/// media/uploadimg's answer: `{"url":…}`, with errmsg "" for WeCom.
pub fn uploadimg_view(dialect: Dialect, url: &str) -> Map<String, Value> {
    with_errmsg(dialect, json!({ "url": url }))
}

/// WeCom's media answers carry an empty errmsg; 企业号's carry none (the envelope is left off).
fn with_errmsg(dialect: Dialect, v: Value) -> Map<String, Value> {
    let Value::Object(mut m) = v else { unreachable!("views are objects") };
    if dialect == Dialect::WeCom {
        m.insert("errmsg".into(), "".into());
    }
    m
}

/// What a Range header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// No Range header, or one wecomd does not take (several ranges, other units): the whole file.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// Outside the file: HTTP 416.
    Unsatisfiable,
}

impl Range {
    /// `bytes=a-b`, `bytes=a-` or `bytes=-n` (RFC 9110 §14.1.2).
    pub fn parse(header: Option<&str>, size: u64) -> Range {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Range::Whole };
        let Some((a, b)) = spec.trim().split_once('-') else { return Range::Whole };
        if spec.contains(',') {
            return Range::Whole;
        }
        let (a, b) = (a.trim(), b.trim());
        let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
            (Ok(s), Err(_)) if b.is_empty() => (s, size.saturating_sub(1)),
            (Err(_), Ok(n)) if a.is_empty() && n > 0 => (size.saturating_sub(n), size.saturating_sub(1)),
            (Err(_), Ok(0)) if a.is_empty() => return Range::Unsatisfiable,
            _ => return Range::Whole,
        };
        if start >= size {
            return Range::Unsatisfiable;
        }
        Range::Part { start, end }
    }
}

/// What media/get may send: a whole file over 20 MB, or a range over 20 MB, is 830002.
pub fn check_download(range: Range, size: u64) -> Result<(), Errcode> {
    let len = match range {
        Range::Whole => size,
        Range::Part { start, end } => end - start + 1,
        Range::Unsatisfiable => 0,
    };
    if len > DOWNLOAD_MAX_BYTES {
        return Err(Errcode::DownloadTooLarge);
    }
    Ok(())
}

/// `Content-disposition` of a download: the plain form for ASCII names, RFC 5987's `filename*`
/// for others (both are what WxJava reads the name from, wecom-api.md §8.2).
pub fn content_disposition(filename: &str) -> String {
    if filename.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        return format!("attachment; filename=\"{filename}\"");
    }
    let encoded: String = filename
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("attachment; filename*=utf-8''{encoded}")
}

/// The media a checked message payload names: the media_id of image, voice, video and file; the
/// thumb_media_id of mpnews articles and of a chat link (optional there); the media_id of a 企业号
/// mpnews sent by its permanent material id.
pub fn named_media<'a>(msgtype: &str, payload: &'a Value) -> Vec<&'a str> {
    let field = |v: &'a Value, k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match msgtype {
        "image" | "voice" | "video" | "file" => field(payload, "media_id").into_iter().collect(),
        "mpnews" => field(payload, "media_id")
            .into_iter()
            .chain(payload.get("articles").and_then(Value::as_array).into_iter().flatten().filter_map(|a| field(a, "thumb_media_id")))
            .collect(),
        "link" => field(payload, "thumb_media_id").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Runs an upload_by_url job may take: one, and two more after instances stopped under it. A job
/// whose runs keep being cut off fails with -1 rather than being fetched for ever.
pub const JOB_ATTEMPTS: i64 = 3;

/// media/upload_by_url (wecom-api.md §8.5): what the job fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByUrl {
    pub media_type: MediaType,
    pub filename: String,
    pub url: String,
    /// Lowercase hex.
    pub md5: String,
}

/// Checks media/upload_by_url's body: scene 1, type video or file (40005), filename, url
/// (http/https) and md5 (32 hex digits) present (40058 naming the field).
pub fn by_url(body: &Map<String, Value>) -> Result<ByUrl, crate::ApiError> {
    use crate::ApiError;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let missing = |k: &str| ApiError::with_detail(Errcode::InvalidRequestParameter, format!("{k} invalid"));
    if body.get("scene").and_then(Value::as_i64) != Some(1) {
        return Err(missing("scene"));
    }
    let media_type = match text("type") {
        Some("video") => MediaType::Video,
        Some("file") => MediaType::File,
        _ => return Err(Errcode::InvalidMediaType.into()),
    };
    let filename = text("filename").ok_or_else(|| missing("filename"))?.to_string();
    let url = text("url").filter(|u| u.starts_with("http://") || u.starts_with("https://")).ok_or_else(|| missing("url"))?.to_string();
    let md5 = text("md5").filter(|m| m.len() == 32 && m.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(|| missing("md5"))?;
    Ok(ByUrl { media_type, filename, url, md5: md5.to_ascii_lowercase() })
}

/// An upload_by_url job's state, as get_upload_by_url_result numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Processing = 1,
    Finished = 2,
    Failed = 3,
}

/// get_upload_by_url_result's answer: status, and the outcome once there is one.
pub fn job_view(status: JobStatus, errcode: i64, errmsg: &str, media_id: &str, created_at: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), (status as i64).into());
    let detail = match status {
        JobStatus::Processing => json!({}),
        JobStatus::Finished => json!({ "errcode": 0, "errmsg": "ok", "media_id": media_id, "created_at": created_at.to_string() }),
        JobStatus::Failed => json!({ "errcode": errcode, "errmsg": errmsg }),
    };
    m.insert("detail".into(), detail);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: MediaType, data: &[u8]) -> Result<Format, i64> {
        let mut c = Check::upload(t);
        c.feed(data).map_err(Errcode::code)?;
        c.finish().map_err(Errcode::code)
    }

    /// `seconds` of AMR-NB 12.2 kbit/s frames.
    fn amr(seconds: usize) -> Vec<u8> {
        let mut v = b"#!AMR\n".to_vec();
        for _ in 0..seconds * 50 {
            v.push(0x3c);
            v.extend_from_slice(&[0u8; 31]);
        }
        v
    }

    #[test]
    fn types_and_their_signatures() {
        assert_eq!(MediaType::parse(Some("thumb")), Err(Errcode::InvalidMediaType));
        assert_eq!(MediaType::parse(None), Err(Errcode::InvalidMediaType));
        assert_eq!(check(MediaType::Image, b"\xff\xd8\xff\xe0 jpeg body"), Ok(Format::Jpeg));
        assert_eq!(check(MediaType::Image, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(Format::Png));
        assert_eq!(check(MediaType::Image, b"GIF89a........"), Err(40004));
        assert_eq!(check(MediaType::Video, b"\0\0\0\x18ftypmp42...."), Ok(Format::Mp4));
        assert_eq!(check(MediaType::Video, b"RIFF....AVI LIST"), Err(40004));
        assert_eq!(check(MediaType::Voice, b"ID3\x03 an mp3 file"), Err(301017));
        assert_eq!(check(MediaType::File, b"hello"), Ok(Format::Any));
    }

    #[test]
    fn sizes() {
        assert_eq!(check(MediaType::File, b""), Err(44001));
        assert_eq!(check(MediaType::File, b"four"), Err(40006));
        let mut c = Check::upload(MediaType::File);
        assert_eq!(c.feed(&vec![0u8; FILE_MAX_BYTES as usize]), Ok(()));
        assert_eq!(c.feed(b"x"), Err(Errcode::MediaSizeOutOfLimit));
        let mut c = Check::upload(MediaType::Image);
        assert_eq!(c.feed(b"\xff\xd8\xff"), Ok(()));
        assert_eq!(c.feed(&vec![0u8; IMAGE_MAX_BYTES as usize]).map_err(Errcode::code), Err(40009));
        let mut c = Check::upload(MediaType::Video);
        assert_eq!(c.feed(&vec![0u8; VIDEO_MAX_BYTES as usize + 1]).map_err(Errcode::code), Err(40011));
        let mut c = Check::uploadimg();
        assert_eq!(c.feed(&vec![0xffu8; UPLOADIMG_MAX_BYTES as usize + 1]).map_err(Errcode::code), Err(40009));
    }

    #[test]
    fn signatures_split_across_pieces() {
        let mut c = Check::upload(MediaType::Image);
        for b in b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" {
            c.feed(&[*b]).unwrap();
        }
        assert_eq!(c.finish(), Ok(Format::Png));
        let data = amr(2);
        let mut c = Check::upload(MediaType::Voice);
        for piece in data.chunks(7) {
            c.feed(piece).unwrap();
        }
        assert_eq!(c.finish(), Ok(Format::Amr));
    }

    #[test]
    fn voices_play_at_most_a_minute() {
        assert_eq!(check(MediaType::Voice, &amr(60)), Ok(Format::Amr));
        assert_eq!(check(MediaType::Voice, &amr(61)), Err(45007));
        let mut cut = amr(1);
        cut.pop();
        assert_eq!(check(MediaType::Voice, &cut), Err(301016), "cut inside a frame");
        assert_eq!(check(MediaType::Voice, b"#!AMR\n"), Err(301016), "no frame");
        assert_eq!(check(MediaType::Voice, b"#!AMRX\x3c\0\0"), Err(301016), "bad magic");
        assert_eq!(check(MediaType::Voice, b"#!AMR\n\x4c\0\0\0"), Err(301016), "reserved frame type");
        let mut wb = b"#!AMR-WB\n".to_vec();
        wb.push(0x44); // frame type 8: 60 bytes
        wb.extend_from_slice(&[0u8; 60]);
        assert_eq!(check(MediaType::Voice, &wb), Ok(Format::Amr));
        let mut big = amr(1);
        big.resize(VOICE_MAX_BYTES as usize + 1, 0);
        assert_eq!(check(MediaType::Voice, &big), Err(40006), "the size is judged before the length");
    }

    #[test]
    fn ids() {
        let id = new_media_id();
        assert_eq!(id.len(), 44);
        assert!(id.starts_with('1'));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let img = new_image_id();
        assert_eq!(img.len(), 40);
        assert!(img.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn answers_per_dialect() {
        let w = upload_view(Dialect::WeCom, MediaType::Image, "1abc", 1380000000);
        assert_eq!(Value::Object(w), json!({ "errmsg": "", "type": "image", "media_id": "1abc", "created_at": "1380000000" }));
        let l = upload_view(Dialect::Legacy, MediaType::Voice, "1abc", 1462426106);
        assert_eq!(Value::Object(l), json!({ "type": "voice", "media_id": "1abc", "created_at": 1462426106 }));
        assert_eq!(Value::Object(uploadimg_view(Dialect::Legacy, "http://x/y")), json!({ "url": "http://x/y" }));
    }

    #[test]
    fn downloads() {
        assert_eq!(Format::Jpeg.download_name("1m", "a.png"), "1m.jpg");
        assert_eq!(Format::Any.download_name("1m", "报告.pdf"), "报告.pdf");
        assert_eq!(Format::Any.content_type(Some("application/pdf")), "application/pdf");
        assert_eq!(Format::Any.content_type(Some("text/plain\r\nX: y")), "application/octet-stream");
        assert_eq!(content_disposition("1m.jpg"), "attachment; filename=\"1m.jpg\"");
        assert_eq!(content_disposition("报告.pdf"), "attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf");
        assert_eq!(Range::parse(None, 10), Range::Whole);
        assert_eq!(Range::parse(Some("bytes=0-3"), 10), Range::Part { start: 0, end: 3 });
        assert_eq!(Range::parse(Some("bytes=4-"), 10), Range::Part { start: 4, end: 9 });
        assert_eq!(Range::parse(Some("bytes=-3"), 10), Range::Part { start: 7, end: 9 });
        assert_eq!(Range::parse(Some("bytes=5-100"), 10), Range::Part { start: 5, end: 9 });
        assert_eq!(Range::parse(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(Range::parse(Some("bytes=0-1,4-5"), 10), Range::Whole);
        assert_eq!(check_download(Range::Whole, DOWNLOAD_MAX_BYTES + 1), Err(Errcode::DownloadTooLarge));
        assert_eq!(check_download(Range::Part { start: 0, end: 1023 }, DOWNLOAD_MAX_BYTES + 1), Ok(()));
    }

    #[test]
    fn media_named_by_messages() {
        assert_eq!(named_media("image", &json!({ "media_id": "1a" })), vec!["1a"]);
        assert_eq!(named_media("video", &json!({ "media_id": "1v", "title": "t" })), vec!["1v"]);
        let mpnews = json!({ "articles": [{ "thumb_media_id": "1x" }, { "thumb_media_id": "1y" }] });
        assert_eq!(named_media("mpnews", &mpnews), vec!["1x", "1y"]);
        assert_eq!(named_media("mpnews", &json!({ "media_id": "2material" })), vec!["2material"], "permanent material");
        assert!(named_media("link", &json!({ "title": "t", "thumb_media_id": "" })).is_empty());
        assert!(named_media("text", &json!({ "content": "1a" })).is_empty());
    }

    #[test]
    fn by_url_body() {
        let ok =
            json!({ "scene": 1, "type": "video", "filename": "v.mp4", "url": "http://h/v.mp4", "md5": "D41D8CD98F00B204E9800998ECF8427E" });
        let b = by_url(ok.as_object().unwrap()).unwrap();
        assert_eq!((b.media_type, b.md5.as_str()), (MediaType::Video, "d41d8cd98f00b204e9800998ecf8427e"));
        let code = |patch: Value| {
            let mut v = ok.clone();
            v.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
            by_url(v.as_object().unwrap()).unwrap_err().errcode
        };
        assert_eq!(code(json!({ "scene": 2 })), 40058);
        assert_eq!(code(json!({ "type": "image" })), 40005);
        assert_eq!(code(json!({ "url": "ftp://h/v" })), 40058);
        assert_eq!(code(json!({ "md5": "xyz" })), 40058);
    }
}
