//! `analisa export …`: report runs from the command line.

use std::path::PathBuf;

use analisa_jobs::reports::{Exporter, Manifest, RunTrigger, definition};
use analisa_lake::Lake;
use clap::Subcommand;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use object_store::ObjectStoreExt;
use uuid::Uuid;

use crate::config::AppConfig;

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Run a report definition now; its files and manifest go to `exports/` on the lake.
    Run {
        #[arg(long)]
        report: Uuid,
        /// Also copy the files into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a past run again from its manifest: the same lake versions, creators and days,
    /// so the same CSV and Parquet bytes.
    Rerun {
        #[arg(long)]
        run: Uuid,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One read-only SQL query over the lake written to a file, with the checks, limits and
    /// audit of `/v1/sql` (as an admin: every layer; private rows of --org only).
    Adhoc {
        #[arg(long)]
        sql: String,
        /// json, ndjson, csv, arrow or parquet.
        #[arg(long)]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// The organisation whose private rows the query may read (none without it).
        #[arg(long)]
        org: Option<Uuid>,
    },
}

pub async fn run(command: ExportCommand, config: &AppConfig) -> anyhow::Result<()> {
    let pool = crate::database::connect(config).await?;
    let lake = Lake::open(&config.lake)?;
    if let ExportCommand::Adhoc { sql, format, out, org } = command {
        let actor = std::env::var("USER").unwrap_or_else(|_| "operator".into());
        let result = analisa_query_api::export_query(lake, pool, &config.api, org, &actor, &sql, &format).await?;
        // Written beside the target and renamed: a reader never sees half a file.
        let partial = out.with_extension("partial");
        std::fs::write(&partial, &result.bytes)?;
        std::fs::rename(&partial, &out)?;
        eprintln!("{} rows{} to {} (lake versions: {})", result.rows, if result.truncated { " (truncated at the row limit)" } else { "" }, out.display(), result.versions);
        return Ok(());
    }
    let exporter = Exporter::new(lake.clone()).with_smtp(config.reports.smtp.clone());
    let (manifest, out) = match command {
        ExportCommand::Run { report, out } => {
            let definition = definition(&pool, report).await?;
            let manifest = exporter.run_recorded(&pool, &definition, RunTrigger::Manual, None, None).await?.expect("a manual run always starts");
            (manifest, out)
        }
        ExportCommand::Rerun { run, out } => (exporter.rerun_recorded(&pool, run, None).await?, out),
        ExportCommand::Adhoc { .. } => unreachable!("answered above"),
    };
    print(&manifest);
    if let Some(dir) = out {
        std::fs::create_dir_all(&dir)?;
        for file in &manifest.files {
            let bytes = lake.object_store().get(&lake.object_path(&file.path)).await?.bytes().await?;
            let name = file.path.rsplit('/').next().unwrap_or(&file.path);
            std::fs::write(dir.join(name), &bytes)?;
        }
        println!("copied to {}", dir.display());
    }
    Ok(())
}

fn print(manifest: &Manifest) {
    println!("report {} ({}), run {}, {} to {}, {} creators", manifest.run.report_name, manifest.run.report_id, manifest.run.run_id, manifest.from, manifest.to, manifest.influencers.len());
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(["file", "sections (rows)", "bytes", "sha256"]);
    for file in &manifest.files {
        let sections = file.sections.iter().map(|(s, n)| format!("{s} ({n})")).collect::<Vec<_>>().join(", ");
        table.add_row([file.path.clone(), sections, file.bytes.to_string(), file.sha256[..16].to_owned()]);
    }
    println!("{table}");
    println!("lake versions: {}", manifest.lake_versions.iter().map(|(t, v)| format!("{t}@v{v}")).collect::<Vec<_>>().join(", "));
}
