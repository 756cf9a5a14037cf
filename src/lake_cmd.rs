//! `analisa lake …`

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use analisa_lake::catalog::{self, tables};
use analisa_lake::{Lake, TableId};
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use crate::config::AppConfig;

#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Create every catalogued table that does not exist yet.
    Init,
    /// List the tables with their version, files, rows and size.
    Info {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Compact small files (all tables, or the ones named).
    Optimize {
        #[arg(long = "table", value_name = "LAYER.TABLE")]
        tables: Vec<TableId>,
    },
    /// Write a checkpoint of the Delta log (all tables, or the ones named).
    Checkpoint {
        #[arg(long = "table", value_name = "LAYER.TABLE")]
        tables: Vec<TableId>,
    },
    /// Delete files no recent version needs (all tables, or the ones named).
    Vacuum {
        #[arg(long = "table", value_name = "LAYER.TABLE")]
        tables: Vec<TableId>,
        /// Keep files needed by versions newer than this (default: lake.vacuum_retention).
        #[arg(long, value_parser = humantime_duration)]
        retention: Option<Duration>,
    },
    /// Load rows from Parquet files into a table: each catalogued column is taken by name and
    /// cast to its type, an absent optional column is left null. Every file is read and checked
    /// before anything is written, and all of them land in one commit.
    Import {
        #[arg(long = "table", value_name = "LAYER.TABLE")]
        table: TableId,
        /// Parquet files (e.g. history exported from another tool).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Append the rows as they are instead of merging on the table's natural key (faster
        /// for a first load; a second import of the same rows then duplicates them).
        #[arg(long)]
        append: bool,
    },
    /// Print the catalogue as Markdown (the source of docs/lake.md).
    Docs,
}

fn humantime_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

fn selected(named: Vec<TableId>) -> Vec<TableId> {
    if named.is_empty() { tables().iter().map(|t| t.id).collect() } else { named }
}

pub async fn run(command: LakeCommand, config: &AppConfig) -> anyhow::Result<()> {
    let open = || Lake::open(&config.lake);
    match command {
        LakeCommand::Docs => print!("{}", catalog::markdown()),
        LakeCommand::Init => {
            let lake = open()?;
            let created = lake.init().await?;
            println!("lake at {}: {} table(s) created, {} already there", lake.root_url(), created.len(), tables().len() - created.len());
        }
        LakeCommand::Info { json } => {
            let lake = open()?;
            let infos = lake.info().await?;
            if json {
                for info in infos {
                    println!(
                        "{}",
                        serde_json::json!({
                            "table": info.id.to_string(), "version": info.version,
                            "files": info.files, "rows": info.rows, "bytes": info.bytes,
                        })
                    );
                }
            } else {
                let mut table = Table::new();
                table.load_preset(UTF8_FULL_CONDENSED).set_header(["table", "version", "files", "rows", "size", "partitioned by", "natural key"]);
                for info in infos {
                    let def = info.id.def();
                    table.add_row([
                        info.id.to_string(),
                        info.version.map_or_else(|| "not created".into(), |v| v.to_string()),
                        info.files.to_string(),
                        info.rows.to_string(),
                        human_bytes(info.bytes),
                        def.partition_columns.join(", "),
                        def.natural_key.join(", "),
                    ]);
                }
                println!("lake at {}\n{table}", lake.root_url());
            }
        }
        LakeCommand::Optimize { tables } => {
            let lake = open()?;
            for id in selected(tables) {
                let (added, removed) = lake.optimize(id).await?;
                println!("{id}: {removed} file(s) compacted into {added}");
            }
        }
        LakeCommand::Checkpoint { tables } => {
            let lake = open()?;
            for id in selected(tables) {
                let version = lake.checkpoint(id).await?;
                println!("{id}: checkpoint at version {version}");
            }
        }
        LakeCommand::Import { table, files, append } => {
            let lake = open()?;
            lake.create_if_missing(table).await?;
            let mut batches = Vec::new();
            for file in &files {
                batches.extend(read_parquet(file)?);
            }
            let batches = table.def().fit(batches)?;
            let outcome = if append { lake.append(table, batches).await? } else { lake.upsert(table, batches).await? };
            println!("{table}: {} row(s) from {} file(s) {}, version {}", outcome.rows, files.len(), if append { "appended" } else { "merged" }, outcome.version);
        }
        LakeCommand::Vacuum { tables, retention } => {
            let lake = open()?;
            let retention = retention.unwrap_or(config.lake.vacuum_retention);
            for id in selected(tables) {
                let deleted = lake.vacuum(id, retention).await?;
                println!("{id}: {} file(s) deleted", deleted.len());
            }
        }
    }
    Ok(())
}

fn read_parquet(path: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).with_context(|| format!("{} is not a Parquet file", path.display()))?.build()?;
    reader.collect::<Result<Vec<_>, _>>().with_context(|| format!("reading {}", path.display()))
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
