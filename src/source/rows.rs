//! Rows for an `array` input, from a CSV file (a header row, then an object per row, each
//! cell typed by the input's `columns`: an empty cell of a typed column is `null`) or an
//! NDJSON file (a JSON value per line; blank lines skipped). Every problem names the file,
//! the line and the column.
//!
//! A file of `IN_PLACE` rows or more is not loaded: one pass checks every row (as loading
//! would) and notes where each starts, and a row is read from the file and parsed when it is
//! asked for (`FileRows`). Memory is then 8 bytes a row, whatever the rows hold.

use std::io::{BufRead, Read, Seek};
use std::path::Path;
use std::sync::Mutex;

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Kind, LoadKind};
use crate::plan::bind::coerce;
use crate::recipe::InputType;
use crate::source::Source;

/// Files with at least this many rows are read in place.
pub const IN_PLACE: usize = 1024;

/// The rows of a file: loaded, or read in place.
#[derive(Debug)]
pub enum Rows {
    Loaded(Vec<serde_json::Value>),
    InPlace(std::sync::Arc<FileRows>),
}

/// Reads the rows of `path` for input `input`: every row is checked now, and a problem names
/// its line and column.
pub fn load(
    path: &Path,
    format: Format,
    input: &str,
    columns: &IndexMap<String, InputType>,
) -> Result<Rows, Diagnostic> {
    let read_error = |error: std::io::Error| {
        Diagnostic::new(
            Kind::Load(LoadKind::Read),
            format!("cannot read inputs file `{}`: {error}", path.display()),
        )
    };
    let file = super::read::open(path, super::read::ROWS).map_err(read_error)?;
    match FileRows::index(path, file, format, columns) {
        Ok(rows) if rows.len() >= IN_PLACE => Ok(Rows::InPlace(std::sync::Arc::new(rows))),
        // Few rows, or a problem: loaded whole, which also locates the problem.
        _ => {
            let text = super::read::text(path, super::read::INPUTS).map_err(read_error)?;
            let source = Source::new(path, text);
            read(&source, format, input, columns).map(Rows::Loaded)
        }
    }
}

/// The rows of a file, read when asked for.
pub struct FileRows {
    name: String,
    /// CSV: the header's names and the declared type of each column.
    headers: Vec<String>,
    kinds: Vec<Option<InputType>>,
    /// Where each row starts, then where the last ends.
    starts: Vec<u64>,
    sha256: String,
    reader: Mutex<Block>,
}

/// The file, read on from where the row asked for last ended: rows are mostly asked for in
/// order, and then no seek is needed.
struct Block {
    reader: Reader,
    /// Where the reader is in the file.
    at: u64,
}

enum Reader {
    Csv(csv::Reader<std::fs::File>, csv::StringRecord),
    Ndjson(std::io::BufReader<std::fs::File>, Vec<u8>),
}

const BLOCK: usize = 64 * 1024;

impl std::fmt::Debug for FileRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileRows({}, {} rows)", self.name, self.len())
    }
}

impl FileRows {
    /// One pass over `file`: every row checked, where it starts noted. `Err` for any problem
    /// (the caller loads the file to say where).
    fn index(
        path: &Path,
        file: std::fs::File,
        format: Format,
        columns: &IndexMap<String, InputType>,
    ) -> Result<FileRows, ()> {
        let mut hashed = Hashed {
            inner: std::io::BufReader::with_capacity(BLOCK, file.try_clone().map_err(|_| ())?),
            hasher: Sha256::new(),
        };
        let (mut headers, mut kinds, mut starts) = (Vec::new(), Vec::new(), Vec::new());
        match format {
            Format::Csv => {
                let mut reader = csv_reader(true).from_reader(&mut hashed);
                let header = reader.headers().map_err(|_| ())?.clone();
                if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
                    return Err(());
                }
                if columns.keys().any(|c| !header.iter().any(|h| h == c)) {
                    return Err(());
                }
                headers = header.iter().map(str::to_owned).collect();
                kinds = headers.iter().map(|h| columns.get(h).copied()).collect();
                let mut record = csv::StringRecord::new();
                while reader.read_record(&mut record).map_err(|_| ())? {
                    starts.push(record.position().map_or(0, |p| p.byte()));
                    row_of(&headers, &kinds, &record).map_err(|_| ())?;
                }
                starts.push(reader.position().byte());
            }
            Format::Ndjson => {
                let (mut at, mut line) = (0u64, Vec::new());
                loop {
                    line.clear();
                    let n = hashed.read_until(b'\n', &mut line).map_err(|_| ())?;
                    if n == 0 {
                        break;
                    }
                    if !line.trim_ascii().is_empty() {
                        serde_json::from_slice::<serde::de::IgnoredAny>(&line).map_err(|_| ())?;
                        starts.push(at);
                    }
                    at += n as u64;
                }
                starts.push(at);
            }
        }
        // Whatever the parser left unread counts in the digest too.
        std::io::copy(&mut hashed, &mut std::io::sink()).map_err(|_| ())?;
        let sha256 = hashed
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(FileRows {
            name: path.display().to_string(),
            headers,
            kinds,
            starts,
            sha256,
            reader: Mutex::new(Block {
                reader: match format {
                    Format::Csv => Reader::Csv(
                        csv_reader(false).buffer_capacity(BLOCK).from_reader(file),
                        csv::StringRecord::new(),
                    ),
                    Format::Ndjson => {
                        Reader::Ndjson(std::io::BufReader::with_capacity(BLOCK, file), Vec::new())
                    }
                },
                // Not at any row: the first asked for is sought.
                at: u64::MAX,
            }),
        })
    }

    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `index`, parsed; `None` past the end, or when the file changed since it was checked.
    pub fn get(&self, index: usize) -> Option<serde_json::Value> {
        let (from, to) = (*self.starts.get(index)?, *self.starts.get(index + 1)?);
        let mut block = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let Block { reader, at } = &mut *block;
        let sought = *at == from;
        // Wherever the reader ends up, it is at a known row only on success.
        *at = u64::MAX;
        let row = match reader {
            Reader::Csv(reader, record) => {
                if !sought {
                    let mut position = csv::Position::new();
                    position.set_byte(from);
                    reader.seek(position).ok()?;
                }
                reader.read_record(record).ok()?.then_some(())?;
                row_of(&self.headers, &self.kinds, record).ok()?
            }
            Reader::Ndjson(reader, line) => {
                if !sought {
                    reader.seek(std::io::SeekFrom::Start(from)).ok()?;
                }
                line.resize(usize::try_from(to - from).ok()?, 0);
                reader.read_exact(line).ok()?;
                serde_json::from_slice(line).ok()?
            }
        };
        *at = to;
        Some(row)
    }

    /// What a report shows for the input: the file, its row count and digest.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "file": self.name,
            "rows": self.len(),
            "sha256": self.sha256,
        })
    }

    /// Every row: for a cassette, which must hold its inputs.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array((0..self.len()).filter_map(|i| self.get(i)).collect())
    }
}

/// A reader that hashes what passes through it.
struct Hashed<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: BufRead> Read for Hashed<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.hasher.update(&out[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashed<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            self.hasher.update(&buffer[..amount.min(buffer.len())]);
        }
        self.inner.consume(amount);
    }
}

fn csv_reader(headers: bool) -> csv::ReaderBuilder {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(headers)
        .flexible(false)
        .trim(csv::Trim::Headers);
    builder
}

/// A CSV record as the object of its row, typed by `kinds`; `Err` names the column (by
/// index) that does not fit and says why.
fn row_of(
    headers: &[String],
    kinds: &[Option<InputType>],
    record: &csv::StringRecord,
) -> Result<serde_json::Value, (usize, String)> {
    if record.len() != headers.len() {
        return Err((0, "the row's length differs from the header's".into()));
    }
    let mut row = serde_json::Map::with_capacity(headers.len());
    for (i, (name, cell)) in headers.iter().zip(record.iter()).enumerate() {
        let value = match kinds[i] {
            None | Some(InputType::String) => serde_json::Value::String(cell.to_owned()),
            Some(_) if cell.trim().is_empty() => serde_json::Value::Null,
            Some(kind) => coerce(kind, cell).map_err(|message| (i, message))?,
        };
        row.insert(name.to_owned(), value);
    }
    Ok(serde_json::Value::Object(row))
}

/// The formats read as rows, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn of(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// The rows of `source` for input `input`.
pub fn read(
    source: &Source,
    format: Format,
    input: &str,
    columns: &IndexMap<String, InputType>,
) -> Result<Vec<serde_json::Value>, Diagnostic> {
    match format {
        Format::Csv => csv_rows(source, input, columns),
        Format::Ndjson => ndjson_rows(source),
    }
}

fn problem(source: &Source, line: u64, column: usize, message: String) -> Diagnostic {
    let line = u32::try_from(line).unwrap_or(u32::MAX).max(1);
    let column = u32::try_from(column).unwrap_or(u32::MAX).max(1);
    Diagnostic::new(Kind::Load(LoadKind::InvalidValue), message).at_position(source, line, column)
}

fn csv_rows(
    source: &Source,
    input: &str,
    columns: &IndexMap<String, InputType>,
) -> Result<Vec<serde_json::Value>, Diagnostic> {
    let mut reader = csv_reader(true).from_reader(source.text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(source, &e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(problem(
            source,
            1,
            1,
            "the CSV file has no header row: its first line names the columns".into(),
        ));
    }
    for declared in columns.keys() {
        if !headers.iter().any(|h| h == declared) {
            let names: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
            return Err(problem(
                source,
                1,
                1,
                format!(
                    "input `{input}` declares column `{declared}`, and the header has {}",
                    names.join(", ")
                ),
            )
            .help("name the column in the header row, or remove it from `columns`"));
        }
    }
    let names: Vec<String> = headers.iter().map(str::to_owned).collect();
    let kinds: Vec<Option<InputType>> = names.iter().map(|h| columns.get(h).copied()).collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(source, &e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let row = row_of(&names, &kinds, &record).map_err(|(i, message)| {
            let name = &names[i];
            let kind = kinds[i].unwrap_or(InputType::String);
            problem(
                source,
                line,
                field_column(source, line, i),
                format!("column `{name}`: {message}"),
            )
            .help(format!(
                "input `{input}` declares column `{name}` as `{}`",
                kind.name()
            ))
        })?;
        rows.push(row);
    }
    Ok(rows)
}

fn csv_error(source: &Source, error: &csv::Error) -> Diagnostic {
    let line = error.position().map_or(1, |p| p.line());
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => problem(
            source,
            line,
            1,
            format!(
                "this row has {}, the header {}",
                crate::plural::count(*len as usize, "field", "fields"),
                crate::plural::count(*expected_len as usize, "column", "columns")
            ),
        )
        .help("every row has one field per column; quote a field that holds a comma"),
        csv::ErrorKind::Utf8 { err, .. } => problem(
            source,
            line,
            1,
            format!("field {} is not UTF-8 text", err.field() + 1),
        ),
        _ => problem(source, line, 1, format!("not valid CSV: {error}")),
    }
}

/// The column (from 1) where field `index` of the record on `line` starts, counting the
/// commas outside quotes; 1 when the line cannot be read that way.
fn field_column(source: &Source, line: u64, index: usize) -> usize {
    let Some(text) = u32::try_from(line).ok().and_then(|l| source.line(l)) else {
        return 1;
    };
    if index == 0 {
        return 1;
    }
    let (mut quoted, mut field) = (false, 0);
    for (at, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                field += 1;
                if field == index {
                    return text[..at].chars().count() + 2;
                }
            }
            _ => {}
        }
    }
    1
}

fn ndjson_rows(source: &Source) -> Result<Vec<serde_json::Value>, Diagnostic> {
    let mut rows = Vec::new();
    for (n, line) in source.text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|e| {
            let text = e.to_string();
            let message = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(m, _)| m);
            problem(
                source,
                n as u64 + 1,
                e.column(),
                format!("line {} is not JSON: {message}", n + 1),
            )
            .help("an NDJSON file holds one JSON value per line")
        })?;
        rows.push(value);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(spec: &[(&str, InputType)]) -> IndexMap<String, InputType> {
        spec.iter().map(|(n, k)| (n.to_string(), *k)).collect()
    }

    #[test]
    fn csv_rows_are_objects_typed_by_their_columns() {
        let source = Source::new(
            "rows.csv",
            "locator,seats,active,note\n101,5,true,\"a, b\"\n102,,false,\n",
        );
        let rows = read(
            &source,
            Format::Csv,
            "children",
            &columns(&[
                ("seats", InputType::Integer),
                ("active", InputType::Boolean),
            ]),
        )
        .unwrap();
        assert_eq!(
            serde_json::Value::Array(rows),
            serde_json::json!([
                {"locator": "101", "seats": 5, "active": true, "note": "a, b"},
                {"locator": "102", "seats": null, "active": false, "note": ""},
            ])
        );
    }

    #[test]
    fn csv_problems_name_the_line_and_column() {
        let typed = columns(&[("seats", InputType::Integer)]);
        let source = Source::new("rows.csv", "locator,seats\n101,5\n\"1,02\",five\n");
        let error = read(&source, Format::Csv, "children", &typed).unwrap_err();
        let at = error.location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (3, 8), "{error:?}");
        assert!(
            error
                .message
                .contains("column `seats`: expected an integer"),
            "{error:?}"
        );
        let ragged = Source::new("rows.csv", "a,b\n1,2\n3\n");
        let error = read(&ragged, Format::Csv, "x", &IndexMap::new()).unwrap_err();
        assert_eq!(error.location.as_ref().unwrap().line, 3);
        assert!(
            error
                .message
                .contains("this row has 1 field, the header 2 columns")
        );
        let missing = read(&ragged, Format::Csv, "x", &typed).unwrap_err();
        assert!(
            missing.message.contains("declares column `seats`"),
            "{missing:?}"
        );
    }

    #[test]
    fn ndjson_rows_with_blank_lines_and_a_bad_line() {
        let source = Source::new("rows.ndjson", "{\"id\": 1}\n\n\"two\"\n[3]\n");
        let rows = read(&source, Format::Ndjson, "x", &IndexMap::new()).unwrap();
        assert_eq!(
            rows,
            vec![
                serde_json::json!({"id": 1}),
                "two".into(),
                serde_json::json!([3])
            ]
        );
        let bad = Source::new("rows.ndjson", "{\"id\": 1}\n{\"id\": 2,}\n");
        let error = read(&bad, Format::Ndjson, "x", &IndexMap::new()).unwrap_err();
        let at = error.location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (2, 10), "{error:?}");
    }

    fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_large_csv_file_is_read_in_place_row_by_row_as_loading_would_read_it() {
        let mut text = String::from("id,seats,note\n");
        for i in 0..IN_PLACE + 10 {
            // Quoted fields with commas, quotes and a line break inside.
            text.push_str(&format!("{i},{},\"a, \"\"b\"\"\n{i}\"\n", i % 5));
        }
        let (_dir, path) = file("rows.csv", &text);
        let typed = columns(&[("seats", InputType::Integer)]);
        let Rows::InPlace(rows) = load(&path, Format::Csv, "x", &typed).unwrap() else {
            panic!("loaded");
        };
        let loaded = read(&Source::new(&path, text.clone()), Format::Csv, "x", &typed).unwrap();
        assert_eq!(rows.len(), loaded.len());
        // Out of order too: the block read last does not hold the row.
        for i in [0, 1, 500, IN_PLACE + 9, 3, IN_PLACE + 8] {
            assert_eq!(rows.get(i).as_ref(), Some(&loaded[i]), "row {i}");
        }
        assert_eq!(rows.get(rows.len()), None);
        assert_eq!(rows.to_json(), serde_json::Value::Array(loaded));
        let summary = rows.summary();
        assert_eq!(summary["rows"], IN_PLACE + 10);
        use sha2::Digest;
        let digest: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(summary["sha256"], digest);
    }

    #[test]
    fn a_large_ndjson_file_is_read_in_place_and_its_problems_are_located() {
        let mut text = String::new();
        for i in 0..IN_PLACE + 1 {
            text.push_str(&format!("{{\"id\": {i}}}\n\n"));
        }
        let (_dir, path) = file("rows.ndjson", &text);
        let Rows::InPlace(rows) = load(&path, Format::Ndjson, "x", &IndexMap::new()).unwrap()
        else {
            panic!("loaded");
        };
        assert_eq!(rows.len(), IN_PLACE + 1);
        assert_eq!(
            rows.get(IN_PLACE),
            Some(serde_json::json!({"id": IN_PLACE}))
        );
        // A bad line far down a large file: located as in a small one.
        text.push_str("{\"id\": 2,}\n");
        let (_dir, path) = file("bad.ndjson", &text);
        let error = load(&path, Format::Ndjson, "x", &IndexMap::new()).unwrap_err();
        let at = error.location.as_ref().unwrap();
        assert_eq!((at.line, at.column), (2 * (IN_PLACE as u32 + 1) + 1, 10));
    }

    #[test]
    fn a_small_file_is_loaded() {
        let (_dir, path) = file("rows.csv", "id\n1\n2\n");
        let rows = load(&path, Format::Csv, "x", &IndexMap::new()).unwrap();
        assert!(matches!(rows, Rows::Loaded(rows) if rows.len() == 2));
    }
}
