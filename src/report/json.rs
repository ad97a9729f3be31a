//! The JSON report writer: masked, pretty, written atomically. Strings (object keys too) are
//! masked as they are written, so that a large report is never held as a JSON value tree.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

use super::Report;
use super::atomic::write_atomically_with;
use crate::redact::{Redactor, Snapshot};

/// The report as JSON with every secret masked.
pub fn to_masked_json(report: &Report, redactor: &Redactor) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap_or(serde_json::Value::Null);
    redactor.mask_value(&mut value);
    value
}

/// `value` as pretty JSON text with every string masked.
pub fn to_masked_text<T: Serialize>(value: &T, redactor: &Redactor) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 * 1024);
    write_masked(value, redactor, &mut out)?;
    Ok(out)
}

fn write_masked<T: Serialize, W: Write>(
    value: &T,
    redactor: &Redactor,
    out: &mut W,
) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, Masking::new(redactor));
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Writes the report to `path` through a temporary file and a rename, so that a crash never
/// leaves a truncated report; the JSON streams to the file as it is made.
pub fn write_json(report: &Report, redactor: &Redactor, path: &Path) -> io::Result<()> {
    write_atomically_with(path, |file| write_masked(report, redactor, file))
}

/// serde_json's pretty formatter, with each string collected (as escaped JSON text) and masked
/// before it is written. The redactor knows each secret's JSON-escaped form.
struct Masking {
    /// Nesting depth, and whether the innermost array or object has a value yet (the layout of
    /// serde_json's `PrettyFormatter`, indenting by two spaces).
    depth: usize,
    has_value: bool,
    masker: Snapshot,
    /// The string being written, while one is.
    string: Option<Vec<u8>>,
    /// The buffer strings are collected in, kept between strings.
    spare: Vec<u8>,
}

impl Masking {
    fn new(redactor: &Redactor) -> Masking {
        Masking {
            depth: 0,
            has_value: false,
            masker: redactor.snapshot(),
            string: None,
            spare: Vec::with_capacity(256),
        }
    }
}

impl Formatter for Masking {
    fn begin_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let mut buffer = std::mem::take(&mut self.spare);
        buffer.clear();
        self.string = Some(buffer);
        writer.write_all(b"\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if let Some(buffer) = self.string.take() {
            writer.write_all(&self.masker.mask_bytes(&buffer))?;
            self.spare = buffer;
        }
        writer.write_all(b"\"")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        match &mut self.string {
            Some(text) => {
                text.extend_from_slice(fragment.as_bytes());
                Ok(())
            }
            None => writer.write_all(fragment.as_bytes()),
        }
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        match &mut self.string {
            Some(text) => CompactFormatter.write_char_escape(text, escape),
            None => CompactFormatter.write_char_escape(writer, escape),
        }
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(writer, true)?;
        }
        writer.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(writer, true)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

impl Masking {
    /// A new line and the indentation of the current depth, after a comma unless `first`: one
    /// write where serde_json's pretty formatter makes one per level.
    fn line<W: ?Sized + Write>(&self, writer: &mut W, first: bool) -> io::Result<()> {
        let start = usize::from(first);
        let end = 2 + 2 * self.depth;
        match LINE.get(start..end) {
            Some(bytes) => writer.write_all(bytes),
            None => {
                writer.write_all(&LINE[start..2])?;
                (0..self.depth).try_for_each(|_| writer.write_all(b"  "))
            }
        }
    }
}

/// `,` and a newline, then enough indentation for any report.
const LINE: &[u8; 130] = b",\n                                                                                                                                ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_like_to_string_pretty_at_any_depth() {
        let mut deep = serde_json::json!({"leaf": [1, {}, [], {"a": []}]});
        for depth in 0..80 {
            deep = serde_json::json!({ format!("k{depth}"): [deep, depth] });
        }
        let text = to_masked_text(&deep, &Redactor::new()).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap() + "\n"
        );
    }

    #[test]
    fn masks_strings_and_keys_but_never_numbers_or_structure() {
        let redactor = Redactor::new();
        redactor.add("200");
        redactor.add("s\"cret");
        let value = serde_json::json!({
            "status": 200,
            "token": "Bearer 200",
            "s\"cret": ["x s\"cret y", "line\nbreak"],
        });
        let text = String::from_utf8(to_masked_text(&value, &redactor).unwrap()).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            back,
            serde_json::json!({
                "status": 200,
                "token": "Bearer ***",
                "***": ["x *** y", "line\nbreak"],
            })
        );
        assert_eq!(
            text,
            serde_json::to_string_pretty(&back).unwrap() + "\n",
            "same layout as to_string_pretty"
        );
    }
}
