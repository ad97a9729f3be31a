//! Text that leaves the process — stderr lines, the terminal, a dry-run script, Markdown —
//! goes through `MaskedWrite`, which masks everything written to it. A secret split over two
//! writes is still found: the end of a write that could be the start of a secret waits for the
//! next write (or for `flush`).

use std::io::{self, Write};

use super::{MASK, Masker};

/// An `io::Write` that masks every sensitive value of `masker` on its way to `inner`. Flush it
/// (or drop it) to write what is held back.
pub struct MaskedWrite<W: Write> {
    inner: W,
    masker: Masker,
    /// Bytes not written yet: they could be the start of a secret the next write completes.
    held: Vec<u8>,
    /// For a terminal: control characters are shown escaped, except colour codes (SGR) when
    /// `Some(true)`, so that text from a server cannot move the cursor, retitle the window or
    /// hide what is printed.
    escape: Option<bool>,
}

impl<W: Write> MaskedWrite<W> {
    pub fn new(inner: W, masker: Masker) -> MaskedWrite<W> {
        MaskedWrite {
            inner,
            masker,
            held: Vec::new(),
            escape: None,
        }
    }

    /// The same, for a terminal: control characters escaped, colour codes kept when `colors`.
    pub fn for_terminal(inner: W, masker: Masker, colors: bool) -> MaskedWrite<W> {
        MaskedWrite {
            inner,
            masker,
            held: Vec::new(),
            escape: Some(colors),
        }
    }

    /// Writes the held bytes that can no longer be the start of a secret (all of them when
    /// `all`), masked.
    fn drain(&mut self, all: bool) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let (out, keep) = self.masker.mask_prefix(&self.held, all);
        self.inner.write_all(&out)?;
        self.held.drain(..keep);
        Ok(())
    }
}

impl<W: Write> Write for MaskedWrite<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.escape {
            Some(colors) => self.held.extend_from_slice(&escape_controls(buf, colors)),
            None => self.held.extend_from_slice(buf),
        }
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskedWrite<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// `text` with control characters (C0 but newline and tab, DEL, C1) shown as `\xNN` /
/// `\u{NN}`, and escape sequences with them; `ESC [ digits ; m` colour codes kept when
/// `colors`.
pub fn escape_controls(text: &[u8], colors: bool) -> std::borrow::Cow<'_, [u8]> {
    let needs = text
        .iter()
        .any(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        || text
            .windows(2)
            .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]));
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == 0x1b && colors {
            // Keep `ESC [ [0-9;]* m`.
            let mut j = i + 1;
            if text.get(j) == Some(&b'[') {
                j += 1;
                while text
                    .get(j)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b';')
                {
                    j += 1;
                }
                if text.get(j) == Some(&b'm') {
                    out.extend_from_slice(&text[i..=j]);
                    i = j + 1;
                    continue;
                }
            }
        }
        if (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            i += 1;
        } else if b == 0xC2 && text.get(i + 1).is_some_and(|c| (0x80..=0x9F).contains(c)) {
            out.extend_from_slice(format!("\\u{{{:x}}}", text[i + 1]).as_bytes());
            i += 2;
        } else {
            out.push(b);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Masker {
    /// Masks the longest prefix of `text` whose masking more bytes cannot change (all of it
    /// when `all`): the masked bytes, and how many bytes of `text` they stand for.
    pub(super) fn mask_prefix(&self, text: &[u8], all: bool) -> (Vec<u8>, usize) {
        let Some(matcher) = self.matcher() else {
            // No automaton: values one at a time, on the whole text.
            return (self.mask_bytes(text).into_owned(), text.len());
        };
        let longest = self.longest();
        // A secret may start anywhere from here on and not be complete yet.
        let undecided = if all {
            text.len()
        } else {
            text.len().saturating_sub(longest.saturating_sub(1))
        };
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        let mut end = undecided;
        for found in matcher.find_iter(text) {
            // Only where every secret starting here would fit is the longest match known.
            if !all && found.start() + longest > text.len() {
                end = end.min(found.start());
                break;
            }
            out.extend_from_slice(&text[at..found.start()]);
            out.extend_from_slice(MASK.as_bytes());
            at = found.end();
        }
        let end = end.max(at);
        out.extend_from_slice(&text[at..end]);
        (out, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(chunks: &[&str]) -> String {
        let redactor = crate::redact::Redactor::new();
        redactor.add("tok");
        redactor.add_derived("tokenXYZ");
        let mut out = Vec::new();
        {
            let mut masked = MaskedWrite::new(&mut out, redactor.masker());
            for chunk in chunks {
                masked.write_all(chunk.as_bytes()).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masks_secrets_split_over_writes() {
        assert_eq!(written(&["a tokenXYZ b tok c"]), "a *** b *** c");
        assert_eq!(
            written(&["a to", "kenX", "YZ b t", "ok c"]),
            "a *** b *** c"
        );
        assert_eq!(
            written(&["a tok", "enXYZ"]),
            "a ***",
            "the longer secret wins"
        );
        assert_eq!(written(&["t", "o", "k"]), "***");
        assert_eq!(
            written(&["tokenXY"]),
            "***enXY",
            "an incomplete longer one is not a secret"
        );
        assert_eq!(written(&["clean ", "text"]), "clean text");
    }

    #[test]
    fn a_terminal_sees_control_characters_escaped_and_colours_kept() {
        let text = b"\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b[2J\rX\xc2\x9b1m ok\n";
        let out = escape_controls(text, true);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "\x1b[31mred\x1b[0m \\x1b]0;pwned\\x07 \\x1b[2J\\x0dX\\u{9b}1m ok\n"
        );
        let plain = escape_controls(b"\x1b[31mred", false);
        assert_eq!(String::from_utf8_lossy(&plain), "\\x1b[31mred");
    }

    #[test]
    fn holds_back_only_what_could_start_a_secret() {
        let redactor = crate::redact::Redactor::new();
        redactor.add_derived("tokenXYZ");
        let mut out = Vec::new();
        let mut masked = MaskedWrite::new(&mut out, redactor.masker());
        masked.write_all(b"hello world, ").unwrap();
        masked.write_all(b"to").unwrap();
        drop(masked);
        assert_eq!(out, b"hello world, to");
    }
}
