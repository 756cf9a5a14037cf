//! The answer formats of `/v1/sql`: JSON, NDJSON, CSV (RFC 4180), Arrow IPC stream, Parquet.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::ipc::writer::StreamWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `application/json`: an array of objects, nulls written out.
    Json,
    /// `application/x-ndjson`: one object per line.
    Ndjson,
    /// `text/csv`: header line, RFC 4180 quoting; nested values as JSON-like text.
    Csv,
    /// `application/vnd.apache.arrow.stream`: the Arrow IPC stream format.
    Arrow,
    /// `application/vnd.apache.parquet`: one Parquet file (zstd).
    Parquet,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Json, Format::Ndjson, Format::Csv, Format::Arrow, Format::Parquet];

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8; header=present",
            Self::Arrow => "application/vnd.apache.arrow.stream",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }

    fn media_type(self) -> &'static str {
        self.content_type().split(';').next().expect("split yields one part")
    }

    /// The first format an `Accept` header names (in its order; `*/*` means JSON), if any.
    pub fn from_accept(accept: &str) -> Option<Self> {
        accept.split(',').map(|item| item.split(';').next().unwrap_or("").trim()).find_map(|media| match media {
            "*/*" | "application/*" => Some(Self::Json),
            media => Self::ALL.into_iter().find(|f| f.media_type() == media || (*f == Self::Arrow && media == "application/vnd.apache.arrow.file")),
        })
    }
}

/// The body of an answer: the batches encoded one at a time as they are read from the stream,
/// so that the encoded copy never has to be held whole (Parquet's footer needs the end).
pub fn encode(format: Format, schema: SchemaRef, batches: Vec<RecordBatch>) -> impl Stream<Item = Result<Bytes, ArrowError>> + Send {
    let encoder = Encoder::new(format, schema);
    futures::stream::unfold((encoder, batches.into_iter(), false), |(mut encoder, mut batches, done)| async move {
        if done {
            return None;
        }
        let chunk = match batches.next() {
            Some(batch) => encoder.batch(&batch),
            None => encoder.finish(),
        };
        let finished = chunk.is_err() || encoder.finished;
        Some((chunk, (encoder, batches, finished)))
    })
    // The body may be polled again after its end (compression does); unfold must not be.
    .fuse()
}

struct Encoder {
    format: Format,
    schema: SchemaRef,
    started: bool,
    finished: bool,
    arrow: Option<StreamWriter<Vec<u8>>>,
    parquet: Option<ArrowWriter<Vec<u8>>>,
}

impl Encoder {
    fn new(format: Format, schema: SchemaRef) -> Self {
        Self { format, schema, started: false, finished: false, arrow: None, parquet: None }
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Bytes, ArrowError> {
        let first = !self.started;
        self.started = true;
        let mut out = Vec::new();
        match self.format {
            Format::Json => {
                out.push(if first { b'[' } else { b',' });
                let lines = json_lines(batch)?;
                let body = lines.strip_suffix(b"\n").unwrap_or(&lines);
                // Objects never hold a raw newline (JSON escapes it), so lines are objects.
                out.extend(body.iter().map(|&b| if b == b'\n' { b',' } else { b }));
            }
            Format::Ndjson => out = json_lines(batch)?,
            Format::Csv => {
                let mut writer = arrow::csv::WriterBuilder::new().with_header(first).build(&mut out);
                writer.write(&text_for_nested(batch)?)?;
            }
            Format::Arrow => {
                if self.arrow.is_none() {
                    self.arrow = Some(StreamWriter::try_new(Vec::new(), &self.schema)?);
                }
                let writer = self.arrow.as_mut().expect("just made");
                writer.write(batch)?;
                out = std::mem::take(writer.get_mut());
            }
            Format::Parquet => self.parquet_writer()?.write(batch).map_err(|e| ArrowError::ExternalError(Box::new(e)))?,
        }
        Ok(Bytes::from(out))
    }

    fn finish(&mut self) -> Result<Bytes, ArrowError> {
        self.finished = true;
        let empty = !self.started;
        let out = match self.format {
            Format::Json if empty => b"[]".to_vec(),
            Format::Json => b"]".to_vec(),
            Format::Ndjson => Vec::new(),
            // An empty result still says which columns it has.
            Format::Csv if empty => {
                let header: Vec<String> = self.schema.fields().iter().map(|f| csv_field(f.name())).collect();
                format!("{}\n", header.join(",")).into_bytes()
            }
            Format::Csv => Vec::new(),
            Format::Arrow => {
                let mut writer = match self.arrow.take() {
                    Some(writer) => writer,
                    None => StreamWriter::try_new(Vec::new(), &self.schema)?,
                };
                writer.finish()?;
                writer.into_inner()?
            }
            Format::Parquet => {
                self.parquet_writer()?;
                let writer = self.parquet.take().expect("just made");
                writer.into_inner().map_err(|e| ArrowError::ExternalError(Box::new(e)))?
            }
        };
        Ok(Bytes::from(out))
    }

    fn parquet_writer(&mut self) -> Result<&mut ArrowWriter<Vec<u8>>, ArrowError> {
        if self.parquet.is_none() {
            let properties = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
            let writer = ArrowWriter::try_new(Vec::new(), self.schema.clone(), Some(properties)).map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
            self.parquet = Some(writer);
        }
        Ok(self.parquet.as_mut().expect("just made"))
    }
}

fn json_lines(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::new();
    let mut writer = arrow::json::WriterBuilder::new().with_explicit_nulls(true).build::<_, arrow::json::writer::LineDelimited>(&mut out);
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

/// CSV has no nested values: lists and structs are written as their display text.
fn text_for_nested(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let nested = |t: &DataType| t.is_nested();
    if !batch.schema().fields().iter().any(|f| nested(f.data_type())) {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if nested(field.data_type()) {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
            let text: StringArray = (0..column.len()).map(|i| column.is_valid(i).then(|| formatter.value(i).to_string())).collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(text));
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn csv_field(name: &str) -> String {
    if name.contains([',', '"', '\n', '\r']) { format!("\"{}\"", name.replace('"', "\"\"")) } else { name.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, ListArray};
    use arrow::datatypes::Int32Type;
    use futures::TryStreamExt;

    fn sample() -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("handle", DataType::Utf8, true),
            Field::new("followers", DataType::Int64, true),
            Field::new("tags", DataType::List(Arc::new(Field::new("item", DataType::Int32, true))), true),
        ]));
        let batch = |handles: Vec<Option<&str>>, followers: Vec<Option<i64>>| {
            let n = handles.len();
            let tags = ListArray::from_iter_primitive::<Int32Type, _, _>((0..n).map(|i| Some(vec![Some(i as i32)])));
            RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(handles)), Arc::new(Int64Array::from(followers)), Arc::new(tags)]).unwrap()
        };
        (schema.clone(), vec![batch(vec![Some("ana, \"a\""), None], vec![Some(10), None]), batch(vec![Some("bia")], vec![Some(3)])])
    }

    async fn text(format: Format, batches: Vec<RecordBatch>, schema: SchemaRef) -> Vec<u8> {
        let chunks: Vec<Bytes> = encode(format, schema, batches).try_collect().await.unwrap();
        chunks.concat()
    }

    #[tokio::test]
    async fn json_and_ndjson_hold_every_row_with_nulls() {
        let (schema, batches) = sample();
        let json: serde_json::Value = serde_json::from_slice(&text(Format::Json, batches.clone(), schema.clone()).await).unwrap();
        assert_eq!(json, serde_json::json!([
            {"handle": "ana, \"a\"", "followers": 10, "tags": [0]},
            {"handle": null, "followers": null, "tags": [1]},
            {"handle": "bia", "followers": 3, "tags": [0]},
        ]));
        let ndjson = String::from_utf8(text(Format::Ndjson, batches, schema.clone()).await).unwrap();
        assert_eq!(ndjson.lines().count(), 3);
        assert_eq!(text(Format::Json, vec![], schema).await, b"[]");
    }

    #[tokio::test]
    async fn csv_quotes_and_writes_one_header() {
        let (schema, batches) = sample();
        let csv = String::from_utf8(text(Format::Csv, batches, schema.clone()).await).unwrap();
        assert_eq!(csv, "handle,followers,tags\n\"ana, \"\"a\"\"\",10,[0]\n,,[1]\nbia,3,[0]\n");
        assert_eq!(String::from_utf8(text(Format::Csv, vec![], schema).await).unwrap(), "handle,followers,tags\n");
    }

    #[tokio::test]
    async fn arrow_and_parquet_read_back_to_the_same_rows() {
        let (schema, batches) = sample();
        let ipc = text(Format::Arrow, batches.clone(), schema.clone()).await;
        let read: Vec<RecordBatch> = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(ipc), None).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(read, batches);
        let parquet = text(Format::Parquet, batches.clone(), schema).await;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(Bytes::from(parquet), 1024).unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 3);
    }

    #[test]
    fn accept_headers_choose_the_first_known_format() {
        assert_eq!(Format::from_accept("text/csv"), Some(Format::Csv));
        assert_eq!(Format::from_accept("application/vnd.apache.parquet, application/json;q=0.5"), Some(Format::Parquet));
        assert_eq!(Format::from_accept("text/html, */*;q=0.1"), Some(Format::Json));
        assert_eq!(Format::from_accept("image/png"), None);
    }
}
