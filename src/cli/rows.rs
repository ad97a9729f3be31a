//! Rows for an `array` input, from a CSV file (a header row, then an object per row, each
//! cell typed by the input's `columns`: an empty cell of a typed column is `null`) or an
//! NDJSON file (a JSON value per line; blank lines skipped). Every problem names the file,
//! the line and the column.

use indexmap::IndexMap;

use crate::diagnostic::{Diagnostic, Kind, LoadKind};
use crate::plan::bind::coerce;
use crate::recipe::InputType;
use crate::source::Source;

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
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(source.text.as_bytes());
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
    let kinds: Vec<Option<InputType>> = headers.iter().map(|h| columns.get(h).copied()).collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(source, &e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut row = serde_json::Map::with_capacity(headers.len());
        for (i, (name, cell)) in headers.iter().zip(record.iter()).enumerate() {
            let value = match kinds[i] {
                None | Some(InputType::String) => serde_json::Value::String(cell.to_owned()),
                Some(_) if cell.trim().is_empty() => serde_json::Value::Null,
                Some(kind) => coerce(kind, cell).map_err(|message| {
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
                })?,
            };
            row.insert(name.to_owned(), value);
        }
        rows.push(serde_json::Value::Object(row));
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
}
