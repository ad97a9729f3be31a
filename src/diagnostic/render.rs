//! Renders diagnostics as text with annotate-snippets.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::Diagnostic;

/// Renders one diagnostic as a block of text (no trailing newline).
pub fn render(diagnostic: &Diagnostic, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let level = match diagnostic.severity {
        super::Severity::Error => Level::ERROR,
        super::Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(diagnostic.message.as_str());
    let mut first: Option<Group> = None;
    let mut notes = Vec::new();
    let context = match (&diagnostic.step, &diagnostic.field) {
        (Some(step), Some(field)) => Some(format!("in step `{step}`, field `{field}`")),
        (Some(step), None) => Some(format!("in step `{step}`")),
        (None, Some(field)) => Some(format!("in field `{field}`")),
        (None, None) => None,
    };
    let location_text;
    let mut header_only = None;
    if let Some(location) = &diagnostic.location {
        match &location.source_line {
            Some(line) if location.line > 0 => {
                let start = byte_offset(line, location.column);
                let end = token_end(line, start);
                let mut annotation = AnnotationKind::Primary.span(start..end);
                if let Some(context) = &context {
                    annotation = annotation.label(context.as_str());
                }
                first = Some(
                    title.clone().element(
                        Snippet::source(line.as_str())
                            .line_start(location.line as usize)
                            .path(location.file.as_str())
                            .annotation(annotation),
                    ),
                );
            }
            _ => {
                location_text = if location.line > 0 {
                    format!("{}:{}:{}", location.file, location.line, location.column)
                } else {
                    location.file.clone()
                };
                header_only = Some(location_text);
                if let Some(context) = &context {
                    notes.push(context.clone());
                }
            }
        }
    } else if let Some(context) = &context {
        notes.push(context.clone());
    }
    if first.is_none() && header_only.is_none() {
        // Nothing to point at: the notes and help go under the title, `= help: ...`, as
        // rustc and cargo write them, rather than as groups of their own after an empty
        // gutter.
        let mut group = Group::with_title(title);
        for note in &notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(help) = &diagnostic.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        return renderer.render(&[group]).to_string();
    }
    let mut groups = vec![first.unwrap_or_else(|| Group::with_title(title))];
    if let Some(file) = &header_only {
        groups.push(Group::with_title(
            Level::NOTE.secondary_title(format!("in {file}")),
        ));
    }
    for note in &notes {
        groups.push(Group::with_title(
            Level::NOTE.secondary_title(note.as_str()),
        ));
    }
    if let Some(help) = &diagnostic.help {
        groups.push(Group::with_title(
            Level::HELP.secondary_title(help.as_str()),
        ));
    }
    renderer.render(&groups).to_string()
}

/// The byte offset of a 1-based character column in `line`.
fn byte_offset(line: &str, column: u32) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map(|(offset, _)| offset)
        .unwrap_or(line.len())
}

/// Where the token starting at `start` ends: a quoted string to its closing quote, a key to its
/// colon, a plain value to the end of the line or of its flow collection entry.
fn token_end(line: &str, start: usize) -> usize {
    let rest = &line[start..];
    let end = match rest.chars().next() {
        Some(quote @ ('"' | '\'')) => rest[1..].find(quote).map(|i| i + 2).unwrap_or(rest.len()),
        _ => {
            let trimmed = rest.trim_end();
            let stops = [": ", ",", " }", "}", "]", " #"];
            let cut = stops.iter().filter_map(|s| trimmed.find(s)).min();
            match cut {
                Some(0) | None => trimmed
                    .strip_suffix(':')
                    .map(str::len)
                    .unwrap_or(trimmed.len()),
                Some(cut) => cut,
            }
        }
    };
    (start + end.max(1)).min(line.len().max(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Location;

    #[test]
    fn renders_location_caret_and_help() {
        let mut diagnostic = Diagnostic::new(
            crate::diagnostic::Kind::Load(crate::diagnostic::LoadKind::UnknownKey),
            "unknown field `nmae`",
        )
        .help("did you mean `name`?");
        diagnostic.location = Some(Box::new(Location {
            file: "r.yaml".into(),
            line: 2,
            column: 1,
            source_line: Some("nmae: x".into()),
        }));
        let text = render(&diagnostic, false);
        assert!(text.contains("r.yaml:2:1"), "{text}");
        assert!(text.contains("nmae: x"), "{text}");
        assert!(text.contains("^^^^"), "{text}");
        assert!(text.contains("did you mean `name`?"), "{text}");
    }
}
