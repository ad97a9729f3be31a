//! `multipart/form-data` bodies (RFC 7578): text parts and file parts, with an exact
//! `Content-Length`, streamed from disk in 64 KiB pieces rather than read into memory. A body
//! can be sent again (a retry, a token refresh, a 307 redirect): each send opens its files
//! anew. Cassettes and dry runs see a canonical text instead of the bytes: the names, the
//! values, and each file's name, size and SHA-256.

use std::io::Read as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

/// One part, its templates rendered.
#[derive(Clone, Debug)]
pub enum Part {
    Text {
        name: String,
        value: String,
        content_type: Option<String>,
    },
    File {
        name: String,
        path: PathBuf,
        filename: String,
        content_type: String,
    },
}

/// A whole body: what it is made of, its boundary and its length.
#[derive(Debug)]
pub struct Multipart {
    boundary: String,
    parts: Vec<Part>,
    segments: Vec<Segment>,
    len: u64,
}

#[derive(Debug)]
enum Segment {
    Bytes(Bytes),
    File { path: PathBuf, len: u64 },
}

const CHUNK: usize = 64 * 1024;

impl Multipart {
    /// The body of `parts`; the files must be regular files (their length is sent first).
    pub fn new(parts: Vec<Part>) -> Result<Multipart, String> {
        let boundary = format!("whisk-{}", uuid::Uuid::new_v4().simple());
        let mut segments = Vec::new();
        let mut len = 0u64;
        let mut push = |segment: Segment, len: &mut u64| {
            *len += match &segment {
                Segment::Bytes(bytes) => bytes.len() as u64,
                Segment::File { len, .. } => *len,
            };
            segments.push(segment);
        };
        for part in &parts {
            let mut head = format!("--{boundary}\r\nContent-Disposition: form-data; ");
            match part {
                Part::Text {
                    name,
                    value,
                    content_type,
                } => {
                    head.push_str(&format!("name=\"{}\"\r\n", escape(name)));
                    if let Some(content_type) = content_type {
                        head.push_str(&format!("Content-Type: {content_type}\r\n"));
                    }
                    head.push_str("\r\n");
                    head.push_str(value);
                    head.push_str("\r\n");
                    push(Segment::Bytes(Bytes::from(head)), &mut len);
                }
                Part::File {
                    name,
                    path,
                    filename,
                    content_type,
                } => {
                    let meta = std::fs::metadata(path)
                        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                    if !meta.is_file() {
                        return Err(format!("`{}` is not a regular file", path.display()));
                    }
                    head.push_str(&format!(
                        "name=\"{}\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                        escape(name),
                        escape(filename)
                    ));
                    push(Segment::Bytes(Bytes::from(head)), &mut len);
                    push(
                        Segment::File {
                            path: path.clone(),
                            len: meta.len(),
                        },
                        &mut len,
                    );
                    push(Segment::Bytes(Bytes::from_static(b"\r\n")), &mut len);
                }
            }
        }
        push(
            Segment::Bytes(Bytes::from(format!("--{boundary}--\r\n"))),
            &mut len,
        );
        Ok(Multipart {
            boundary,
            parts,
            segments,
            len,
        })
    }

    /// The `Content-Type` header's value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// A fresh body to send: its files opened now.
    pub fn body(self: &Arc<Self>) -> std::io::Result<MultipartBody> {
        let mut files = Vec::new();
        for segment in &self.segments {
            if let Segment::File { path, .. } = segment {
                files.push(Some(tokio::fs::File::from_std(std::fs::File::open(path)?)));
            }
        }
        Ok(MultipartBody {
            plan: self.clone(),
            next: 0,
            files,
            file: None,
            sent: 0,
        })
    }

    /// What a cassette keeps and a replay compares: every part, a file by its name, size and
    /// SHA-256 (read now, in pieces), never its bytes.
    pub fn canonical(&self) -> String {
        let mut out = String::from("multipart/form-data\n");
        for part in &self.parts {
            match part {
                Part::Text { name, value, .. } => out.push_str(&format!("{name}={value}\n")),
                Part::File {
                    name,
                    path,
                    filename,
                    content_type,
                } => {
                    let (size, digest) = digest(path).unwrap_or((0, "unreadable".into()));
                    out.push_str(&format!(
                        "{name}=@{filename} ({content_type}, {size} bytes, sha256 {digest})\n"
                    ));
                }
            }
        }
        out
    }

    /// Every byte, read now: for the clients that want the body whole (tests, small bodies).
    #[cfg(test)]
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for segment in &self.segments {
            match segment {
                Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                Segment::File { path, .. } => {
                    out.extend(std::fs::read(path).unwrap_or_default());
                }
            }
        }
        out
    }
}

fn digest(path: &std::path::Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((size, hex))
}

/// A name or file name inside a quoted parameter: `"` and line breaks percent-encoded, as
/// browsers do (RFC 7578 §4.2 leaves it to them).
fn escape(text: &str) -> String {
    text.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A multipart body being sent.
pub struct MultipartBody {
    plan: Arc<Multipart>,
    next: usize,
    /// The files, in order, opened when the body was made; taken as they are reached.
    files: Vec<Option<tokio::fs::File>>,
    /// The file being read, with what it still owes.
    file: Option<(tokio::fs::File, u64, PathBuf)>,
    sent: usize,
}

impl http_body::Body for MultipartBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        loop {
            if let Some((file, left, path)) = &mut this.file {
                if *left == 0 {
                    this.file = None;
                    continue;
                }
                let mut buf = vec![0u8; CHUNK.min(*left as usize)];
                let mut read = ReadBuf::new(&mut buf);
                match Pin::new(file).poll_read(cx, &mut read) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(())) => {
                        let n = read.filled().len();
                        if n == 0 {
                            let message = format!(
                                "`{}` became shorter while it was being sent",
                                path.display()
                            );
                            return Poll::Ready(Some(Err(std::io::Error::other(message))));
                        }
                        *left -= n as u64;
                        buf.truncate(n);
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))));
                    }
                }
            }
            let Some(segment) = this.plan.segments.get(this.next) else {
                return Poll::Ready(None);
            };
            this.next += 1;
            match segment {
                Segment::Bytes(bytes) => return Poll::Ready(Some(Ok(Frame::data(bytes.clone())))),
                Segment::File { path, len } => {
                    let file = this.files.get_mut(this.sent).and_then(Option::take);
                    this.sent += 1;
                    match file {
                        Some(file) => this.file = Some((file, *len, path.clone())),
                        None => {
                            let message = format!("`{}` could not be opened", path.display());
                            return Poll::Ready(Some(Err(std::io::Error::other(message))));
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.file.is_none() && self.next >= self.plan.segments.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.plan.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[tokio::test]
    async fn streams_text_and_file_parts_with_their_exact_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.iar");
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let plan = Arc::new(
            Multipart::new(vec![
                Part::Text {
                    name: "type".into(),
                    value: "archive".into(),
                    content_type: None,
                },
                Part::File {
                    name: "file".into(),
                    path: path.clone(),
                    filename: "a\"b.iar".into(),
                    content_type: "application/octet-stream".into(),
                },
            ])
            .unwrap(),
        );
        let whole = plan.bytes();
        assert_eq!(whole.len() as u64, plan.len());
        // Sent twice: each body opens the file again.
        for _ in 0..2 {
            let sent = plan.body().unwrap().collect().await.unwrap().to_bytes();
            assert_eq!(sent.as_ref(), whole.as_slice());
        }
        let text = String::from_utf8_lossy(&whole);
        let boundary = plan.content_type().rsplit('=').next().unwrap().to_owned();
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\narchive\r\n"
        )));
        assert!(text.contains("name=\"file\"; filename=\"a%22b.iar\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
        let canonical = plan.canonical();
        assert!(canonical.contains("type=archive\n"), "{canonical}");
        assert!(
            canonical.contains("file=@a\"b.iar (application/octet-stream, 200000 bytes, sha256 "),
            "{canonical}"
        );
    }

    #[tokio::test]
    async fn a_file_that_shrinks_while_sent_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 1000]).unwrap();
        let plan = Arc::new(
            Multipart::new(vec![Part::File {
                name: "f".into(),
                path: path.clone(),
                filename: "f".into(),
                content_type: "application/octet-stream".into(),
            }])
            .unwrap(),
        );
        std::fs::write(&path, vec![1u8; 10]).unwrap();
        let error = plan.body().unwrap().collect().await.unwrap_err();
        assert!(error.to_string().contains("became shorter"), "{error}");
        assert!(
            Multipart::new(vec![Part::File {
                name: "f".into(),
                path: dir.path().to_path_buf(),
                filename: "d".into(),
                content_type: "x/y".into(),
            }])
            .unwrap_err()
            .contains("not a regular file")
        );
    }
}
