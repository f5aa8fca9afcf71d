//! Streamed exports (CSV or JSON) of any list the store pages through: the whole filtered view goes
//! out page by page, never held in memory at once.

use super::{Export, invalid};
use crate::error::ApiError;
use crate::store::{Paged, StoreError};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::IntoResponse;
use futures_util::stream;
use hermod_shared::console::ListPage;
use serde::Serialize;
use std::future::Future;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

fn format(raw: &Option<String>) -> Result<Format, ApiError> {
    match raw.as_deref().unwrap_or("csv") {
        "csv" => Ok(Format::Csv),
        "json" => Ok(Format::Json),
        other => Err(invalid("format", format!("`{other}` is not csv or json"))),
    }
}

/// One CSV field: quoted when needed, and with a leading `'` when a spreadsheet would take it for a
/// formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// Streams the whole view `filter` selects, in the `format` asked for (`csv` by default): every page
/// `fetch` gives until there is no next one. `columns` heads the CSV; `row` turns an item into its
/// CSV fields.
pub fn stream_pages<T, Fl, F, Fut>(
    format: &Option<String>,
    name: &str,
    columns: &'static [&'static str],
    row: fn(&T) -> Vec<String>,
    filter: Fl,
    fetch: F,
) -> Result<Export<T>, ApiError>
where
    T: Serialize + Send + 'static,
    Fl: Paged,
    F: Fn(Fl) -> Fut + Send + 'static,
    Fut: Future<Output = Result<ListPage<T>, StoreError>> + Send,
{
    let format = self::format(format)?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::spawn(async move {
        let send = |text: String| {
            let tx = tx.clone();
            async move { tx.send(Ok(Bytes::from(text))).await.is_ok() }
        };
        let opened = match format {
            Format::Csv => {
                send(csv_line(
                    &columns.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                ))
                .await
            }
            Format::Json => send("[".into()).await,
        };
        if !opened {
            return;
        }
        let mut cursor = None;
        let mut first = true;
        loop {
            let ListPage {
                items, next_cursor, ..
            } = match fetch(filter.export_page(cursor)).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(error = %e, "export failed part-way");
                    // The body ends in an error, so the client sees a broken download, not a short file.
                    let _ = tx.send(Err(std::io::Error::other(e.0))).await;
                    return;
                }
            };
            let mut chunk = String::new();
            for item in &items {
                match format {
                    Format::Csv => chunk.push_str(&csv_line(&row(item))),
                    Format::Json => {
                        if !first {
                            chunk.push(',');
                        }
                        chunk.push_str(&serde_json::to_string(item).unwrap_or_default());
                    }
                }
                first = false;
            }
            if !chunk.is_empty() && !send(chunk).await {
                return;
            }
            match next_cursor.and_then(|c| c.parse().ok()) {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if format == Format::Json {
            send("]".into()).await;
        }
    });
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let (content_type, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    Ok(Export::new(
        (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.{ext}\""),
                ),
            ],
            body,
        )
            .into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
