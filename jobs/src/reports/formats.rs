//! Section tables to bytes: CSV (RFC 4180), Parquet and XLSX (typed cells, one sheet per
//! section, frozen header). The same rows always give the same CSV and Parquet bytes, which is
//! what makes a past run reproducible.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Date32Type, Field, Float32Type, Float64Type, Int32Type, Int64Type, Schema, TimeUnit, TimestampMicrosecondType, UInt64Type};
use arrow_csv::writer::{Terminator, WriterBuilder};
use chrono::{DateTime, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};

use super::spec::Language;
use crate::error::{JobsError, Result};

fn failed(what: &str, error: impl std::fmt::Display) -> JobsError {
    JobsError::Export(format!("{what}: {error}"))
}

/// One table of a report, its batches merged (so the bytes do not depend on how DataFusion
/// happened to split the rows) and its strings made plain (views and dictionaries are how
/// the engine works, not what a file reader expects).
pub struct Table {
    pub name: &'static str,
    pub batch: RecordBatch,
}

impl Table {
    pub fn new(name: &'static str, schema: Arc<Schema>, batches: &[RecordBatch]) -> Result<Self> {
        let batch = concat_batches(&schema, batches)?;
        let plain: Vec<Field> = schema.fields().iter().map(|f| Field::new(f.name(), plain_type(f.data_type()), true)).collect();
        let columns = batch.columns().iter().zip(&plain).map(|(c, f)| cast(c, f.data_type())).collect::<Result<Vec<ArrayRef>, _>>()?;
        Ok(Self { name, batch: RecordBatch::try_new(Arc::new(Schema::new(plain)), columns)? })
    }

    pub fn rows(&self) -> usize {
        self.batch.num_rows()
    }
}

fn plain_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::Dictionary(_, value) => plain_type(value),
        other => other.clone(),
    }
}

pub fn csv(table: &Table) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = WriterBuilder::new()
            .with_header(true)
            .with_line_terminator(Terminator::CRLF)
            .with_date_format("%Y-%m-%d".into())
            .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.6fZ".into())
            .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.6f".into())
            .build(&mut out);
        writer.write(&table.batch).map_err(|e| failed("CSV", e))?;
    }
    Ok(out)
}

pub fn parquet(table: &Table) -> Result<Vec<u8>> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by("analisa".into())
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, table.batch.schema(), Some(properties)).map_err(|e| failed("Parquet", e))?;
    writer.write(&table.batch).map_err(|e| failed("Parquet", e))?;
    writer.close().map_err(|e| failed("Parquet", e))?;
    Ok(out)
}

/// Columns holding fractions that read as percentages (metrics.md keeps rates as fractions).
pub(super) fn is_rate(column: &str) -> bool {
    column.starts_with("er_") || column.starts_with("growth_pct") || column.ends_with("_share") || matches!(column, "reach_rate" | "consistency_13w" | "engagement_growth_90d" | "weight")
}

/// Sheet names in the report's language.
fn sheet_name(section: &str, language: Language) -> &str {
    match (section, language) {
        ("summary", Language::PtBr) => "Resumo",
        ("history", Language::PtBr) => "Histórico",
        ("score", Language::PtBr) => "Social Score",
        ("flags", Language::PtBr) => "Alertas",
        ("summary", Language::En) => "Summary",
        ("history", Language::En) => "History",
        ("score", Language::En) => "Social Score",
        ("flags", Language::En) => "Flags",
        (other, _) => other,
    }
}

pub fn xlsx(tables: &[Table], language: Language) -> Result<Vec<u8>> {
    let xlsx = |e: rust_xlsxwriter::XlsxError| failed("XLSX", e);
    let mut workbook = Workbook::new();
    let header = CellFormat::new().set_bold().set_background_color("DDEFEA");
    let percent = CellFormat::new().set_num_format("0.00%");
    let number = CellFormat::new().set_num_format("#,##0.##");
    let integer = CellFormat::new().set_num_format("#,##0");
    let date = CellFormat::new().set_num_format(if language == Language::En { "yyyy-mm-dd" } else { "dd/mm/yyyy" });
    let timestamp = CellFormat::new().set_num_format(if language == Language::En { "yyyy-mm-dd hh:mm" } else { "dd/mm/yyyy hh:mm" });
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(sheet_name(table.name, language)).map_err(xlsx)?;
        let batch = &table.batch;
        for (c, field) in batch.schema().fields().iter().enumerate() {
            let col = u16::try_from(c).map_err(|e| failed("XLSX", e))?;
            sheet.write_string_with_format(0, col, field.name(), &header).map_err(xlsx)?;
            let array = batch.column(c);
            for r in 0..batch.num_rows() {
                let row = u32::try_from(r + 1).map_err(|e| failed("XLSX", e))?;
                if array.is_null(r) {
                    continue;
                }
                match array.data_type() {
                    DataType::Float64 | DataType::Float32 => {
                        let value = if let Some(a) = array.as_primitive_opt::<Float64Type>() { a.value(r) } else { f64::from(array.as_primitive::<Float32Type>().value(r)) };
                        sheet.write_number_with_format(row, col, value, if is_rate(field.name()) { &percent } else { &number }).map_err(xlsx)?;
                    }
                    DataType::Int64 => sheet.write_number_with_format(row, col, array.as_primitive::<Int64Type>().value(r) as f64, &integer).map(|_| ()).map_err(xlsx)?,
                    DataType::Int32 => sheet.write_number_with_format(row, col, f64::from(array.as_primitive::<Int32Type>().value(r)), &integer).map(|_| ()).map_err(xlsx)?,
                    DataType::UInt64 => sheet.write_number_with_format(row, col, array.as_primitive::<UInt64Type>().value(r) as f64, &integer).map(|_| ()).map_err(xlsx)?,
                    DataType::Boolean => sheet.write_boolean(row, col, array.as_boolean().value(r)).map(|_| ()).map_err(xlsx)?,
                    DataType::Date32 => {
                        let day = NaiveDate::from_epoch_days(array.as_primitive::<Date32Type>().value(r)).ok_or_else(|| failed("XLSX", "a date out of range"))?;
                        let cell = ExcelDateTime::parse_from_str(&day.to_string()).map_err(xlsx)?;
                        sheet.write_datetime_with_format(row, col, &cell, &date).map_err(xlsx)?;
                    }
                    DataType::Timestamp(TimeUnit::Microsecond, _) => {
                        let micros = array.as_primitive::<TimestampMicrosecondType>().value(r);
                        let at = DateTime::from_timestamp_micros(micros).ok_or_else(|| failed("XLSX", "a timestamp out of range"))?;
                        let cell = ExcelDateTime::from_timestamp(at.timestamp()).map_err(xlsx)?;
                        sheet.write_datetime_with_format(row, col, &cell, &timestamp).map_err(xlsx)?;
                    }
                    DataType::Utf8 => sheet.write_string(row, col, array.as_string::<i32>().value(r)).map(|_| ()).map_err(xlsx)?,
                    other => return Err(failed("XLSX", format!("column {} has type {other}, which a sheet cannot hold", field.name()))),
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
        sheet.autofit();
    }
    workbook.save_to_buffer().map_err(xlsx)
}
