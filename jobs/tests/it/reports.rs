//! Report exports on a simulated world: contents equal the gold tables, typed XLSX, Parquet a
//! real reader opens, re-runs byte-identical after new data lands, scope inside the organisation.

use std::process::Command;

use analisa_jobs::reports::{Exporter, Manifest, Retry, RunTrigger, SmtpConfig, SmtpSecurity, definition};
use analisa_jobs::{Ledger, ReportOutcome, Scheduler};
use analisa_lake::{Lake, TableId};
use object_store::ObjectStoreExt;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::world::*;

async fn organisation(db: &PgPool, name: &str) -> Uuid {
    let org = Uuid::now_v7();
    sqlx::query("INSERT INTO organisations (org_id, name, plan) VALUES ($1, $2, 'pro')").bind(org).bind(name).execute(db).await.unwrap();
    org
}

async fn define(db: &PgPool, org: Uuid, spec: serde_json::Value) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO report_definitions (report_id, org_id, name, spec) VALUES ($1, $2, 'Weekly creators', $3)").bind(id).bind(org).bind(spec).execute(db).await.unwrap();
    id
}

async fn file(lake: &Lake, manifest: &Manifest, suffix: &str) -> Vec<u8> {
    let entry = manifest.files.iter().find(|f| f.path.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix} in {:?}", manifest.files));
    lake.object_store().get(&lake.object_path(&entry.path)).await.unwrap().bytes().await.unwrap().to_vec()
}

/// The rows of a query as CSV-like text lines (for comparing with an exported CSV).
async fn query_lines(lake: &Lake, sql: &str) -> Vec<String> {
    let session = lake.session().await.unwrap();
    let batches = session.sql(sql).await.unwrap();
    let mut lines = Vec::new();
    for batch in batches {
        let columns: Vec<_> = batch.columns().iter().map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap()).collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = columns.iter().map(|c| arrow::array::AsArray::as_string::<i32>(c.as_ref()).iter().nth(row).flatten().unwrap_or("").to_owned()).collect();
            lines.push(cells.join(","));
        }
    }
    lines
}

type Received = std::sync::Arc<std::sync::Mutex<Vec<(std::collections::HashMap<String, String>, String)>>>;

/// A webhook receiver on loopback answering the given statuses in turn (then 200), keeping
/// each request's headers and body.
async fn webhook_receiver(statuses: Vec<u16>) -> (String, Received) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/analisa", listener.local_addr().unwrap());
    let received: Received = Default::default();
    let keep = received.clone();
    tokio::spawn(async move {
        let mut statuses = statuses.into_iter();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut buffer = [0u8; 8192];
            let (headers, body) = loop {
                let n = socket.read(&mut buffer).await.unwrap();
                raw.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&raw).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let headers: std::collections::HashMap<String, String> =
                        head.lines().skip(1).filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_lowercase(), v.to_owned())).collect();
                    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    if body.len() >= length {
                        break (headers, body.to_owned());
                    }
                }
                if n == 0 {
                    panic!("the connection closed mid-request");
                }
            };
            keep.lock().unwrap().push((headers, body));
            let status = statuses.next().unwrap_or(200);
            socket.write_all(format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes()).await.unwrap();
        }
    });
    (url, received)
}

/// An SMTP server on a free loopback port that writes each message it gets into a folder.
const SMTP_SINK: &str = r#"
import sys, time, uuid, socket
from aiosmtpd.controller import Controller
class Save:
    async def handle_DATA(self, server, session, envelope):
        with open(f"{sys.argv[1]}/{uuid.uuid4()}.eml", "wb") as out:
            out.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n" + envelope.original_content)
        return "250 OK"
probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
controller = Controller(Save(), hostname="127.0.0.1", port=port)
controller.start()
print(port, flush=True)
while True:
    time.sleep(1)
"#;

fn python() -> Option<String> {
    std::env::var("ANALISA_PYTHON").ok()
}

#[tokio::test]
async fn reports_equal_gold_in_every_format_and_rerun_byte_identical() {
    let sim = start_sim(47, 16, 50).await;
    let dir = tempfile::tempdir().unwrap();
    let lake = file_lake(dir.path());
    lake.init().await.unwrap();
    let db = Database::create().await;
    let pool = db.ledger.pool().clone();
    // Three weeks of daily snapshots (follower history), then everything on the last day.
    let end = analisa_sim::WorldSpec::new(47, 16, 50).end_date;
    track(&lake, &sim, &targets(&sim), end - chrono::Duration::days(20), end).await;
    collect(&lake, &sim, targets(&sim)).await;
    pipeline_on(lake.clone()).run(&db.ledger, &analisa_jobs::RunOptions::new(analisa_jobs::select("all").unwrap()), |_| {}).await.unwrap();

    let org = organisation(&pool, "Agência").await;
    let other = organisation(&pool, "Outra").await;
    let picked: Vec<String> = query_lines(&lake, "SELECT platform || ':' || account_id FROM gold.influencer_metrics GROUP BY 1 ORDER BY 1 LIMIT 5").await;
    let list = Uuid::now_v7();
    sqlx::query("INSERT INTO tracked_lists (list_id, org_id, name) VALUES ($1, $2, 'Favoritos')").bind(list).bind(org).execute(&pool).await.unwrap();
    for id in &picked {
        let (platform, account) = id.split_once(':').unwrap();
        sqlx::query("INSERT INTO tracked_list_members (list_id, platform, account_id) VALUES ($1, $2, $3)").bind(list).bind(platform).bind(account).execute(&pool).await.unwrap();
    }
    let exporter = Exporter::new(lake.clone()).with_retry(Retry { attempts: 2, first_delay: std::time::Duration::from_millis(10) });

    // CSV of a tracked list: every section, each equal to the same question asked of gold.
    let csv_report = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary", "history", "score", "flags"], "period": {"last_days": 30}, "format": "csv"})).await;
    let definition_csv = definition(&pool, csv_report).await.unwrap();
    let first = exporter.run_recorded(&pool, &definition_csv, RunTrigger::Manual, None, None).await.unwrap().expect("a manual run starts");
    assert_eq!(first.influencers, picked);
    assert_eq!(first.files.len(), 4);
    assert_eq!(first.lake_versions.len(), 5);
    assert_eq!(first.formula_versions[0], "social_score/v1");
    let to = first.to;
    assert_eq!(first.from, to - chrono::Duration::days(29));
    let ids = picked.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
    let history = String::from_utf8(file(&lake, &first, "history.csv").await).unwrap();
    let mut lines = history.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(lines.next().unwrap(), "platform,account_id,handle,date,followers,follower_delta,posts,likes,comments,views,er_daily");
    let expected = query_lines(
        &lake,
        &format!(
            "SELECT d.platform, d.account_id, a.handle, d.date, d.followers, d.follower_delta, d.posts, d.likes, d.comments, d.views, d.er_daily
             FROM gold.influencer_daily d JOIN silver.accounts a USING (platform, account_id)
             WHERE d.platform || ':' || d.account_id IN ({ids}) AND d.date BETWEEN DATE '{}' AND DATE '{to}' ORDER BY 1, 2, 4",
            first.from
        ),
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(lines.collect::<Vec<_>>(), expected, "the CSV holds exactly the gold rows");
    let summary = String::from_utf8(file(&lake, &first, "summary.csv").await).unwrap();
    assert_eq!(summary.split("\r\n").filter(|l| !l.is_empty()).count(), picked.len() + 1, "one summary row per creator");
    let score = String::from_utf8(file(&lake, &first, "score.csv").await).unwrap();
    assert!(score.lines().next().unwrap().ends_with("component,input_metric,value,percentile,weight,contribution"));
    let recorded: (String, i32) = sqlx::query_as("SELECT status, attempts FROM report_runs WHERE run_id = $1").bind(first.run.run_id).fetch_one(&pool).await.unwrap();
    assert_eq!(recorded, ("succeeded".into(), 1));
    // The manifest on the object store is the one recorded.
    assert_eq!(exporter.manifest(&first.run).await.unwrap(), first);

    // New data lands (a pipeline writes new numbers for the same days): a new run sees it, a
    // re-run of the first from its manifest gives the same bytes as before.
    let session = lake.session().await.unwrap();
    let changed = session.sql("SELECT platform, account_id, date, followers * 2 AS followers, follows, follower_delta, posts, likes, comments, views, er_daily, 'later' AS run_id FROM gold.influencer_daily").await.unwrap();
    let changed = TableId::INFLUENCER_DAILY.def().fit(changed).unwrap();
    lake.replace(TableId::INFLUENCER_DAILY, None, changed).await.unwrap();
    let fresh = exporter.run_recorded(&pool, &definition_csv, RunTrigger::Manual, None, None).await.unwrap().unwrap();
    assert_ne!(file(&lake, &fresh, "history.csv").await, history.as_bytes(), "a new run reads the new data");
    let again = exporter.rerun_recorded(&pool, first.run.run_id, None).await.unwrap();
    assert_eq!(again.rerun_of, Some(first.run.run_id));
    for (old, new) in first.files.iter().zip(&again.files) {
        assert_eq!((old.sha256.as_str(), old.bytes), (new.sha256.as_str(), new.bytes), "{} re-made byte for byte", old.path);
    }
    assert_eq!(file(&lake, &again, "history.csv").await, history.as_bytes());

    // Parquet, re-made identically too, and readable by pyarrow.
    let parquet_report = define(&pool, org, json!({"scope": {"influencers": picked}, "sections": ["summary", "history"], "period": {"last_days": 14}, "format": "parquet"})).await;
    let parquet = exporter.run_recorded(&pool, &definition(&pool, parquet_report).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    let parquet_again = exporter.rerun_recorded(&pool, parquet.run.run_id, None).await.unwrap();
    assert_eq!(parquet.files.iter().map(|f| &f.sha256).collect::<Vec<_>>(), parquet_again.files.iter().map(|f| &f.sha256).collect::<Vec<_>>());

    // XLSX: one sheet per section, typed cells.
    let xlsx_report = define(&pool, org, json!({"scope": {"cohort": {"platform": ["instagram"]}}, "sections": ["summary", "history", "score"], "period": {"last_days": 30}, "format": "xlsx", "language": "pt-BR"})).await;
    let xlsx = exporter.run_recorded(&pool, &definition(&pool, xlsx_report).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    assert!(xlsx.influencers.iter().all(|id| id.starts_with("instagram:")) && !xlsx.influencers.is_empty());

    if let Some(python) = python() {
        let out = tempfile::tempdir().unwrap();
        let parquet_path = out.path().join("history.parquet");
        std::fs::write(&parquet_path, file(&lake, &parquet, "history.parquet").await).unwrap();
        let xlsx_path = out.path().join("report.xlsx");
        std::fs::write(&xlsx_path, file(&lake, &xlsx, "report.xlsx").await).unwrap();
        let check = r#"
import sys, datetime, pyarrow.parquet as pq, openpyxl
table = pq.read_table(sys.argv[1])
assert table.num_rows == int(sys.argv[3]), (table.num_rows, sys.argv[3])
assert str(table.schema.field("date").type) == "date32[day]", table.schema
book = openpyxl.load_workbook(sys.argv[2])
assert book.sheetnames == ["Resumo", "Histórico", "Social Score"], book.sheetnames
history = book["Histórico"]
assert history.freeze_panes == "A2", history.freeze_panes
header = [c.value for c in history[1]]
row = {h: c for h, c in zip(header, history[2])}
assert isinstance(row["date"].value, datetime.datetime) and row["date"].number_format == "dd/mm/yyyy", row["date"].number_format
assert isinstance(row["followers"].value, (int, float)), row["followers"].value
assert row["er_daily"].value is None or row["er_daily"].number_format == "0.00%"
summary = book["Resumo"]
names = [c.value for c in summary[1]]
assert "score" in names and "er_followers_median" in names, names
print("ok", table.num_rows, history.max_row)
"#;
        let rows = parquet.files.iter().find(|f| f.path.ends_with("history.parquet")).unwrap().sections["history"];
        let output = Command::new(python).args(["-c", check, parquet_path.to_str().unwrap(), xlsx_path.to_str().unwrap(), &rows.to_string()]).output().unwrap();
        assert!(output.status.success(), "{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    } else {
        panic!("ANALISA_PYTHON is not set: run the tests through scripts/test, which prepares pyarrow and openpyxl");
    }

    // PDF: the creators' handles and scores in its text, its pages render.
    let pdf_report = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary", "flags"], "period": {"last_days": 30}, "format": "pdf", "language": "en"})).await;
    let pdf = exporter.run_recorded(&pool, &definition(&pool, pdf_report).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    let out = tempfile::tempdir().unwrap();
    let pdf_path = out.path().join("report.pdf");
    std::fs::write(&pdf_path, file(&lake, &pdf, "report.pdf").await).unwrap();
    let text = Command::new("pdftotext").args(["-layout", pdf_path.to_str().unwrap(), "-"]).output().expect("pdftotext (poppler-utils; scripts/test installs it)");
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    let scores = query_lines(&lake, &format!(
        "SELECT a.handle, s.score FROM gold.social_score s JOIN silver.accounts a USING (platform, account_id)
         WHERE s.platform || ':' || s.account_id IN ({ids}) AND s.as_of_date = (SELECT max(as_of_date) FROM gold.social_score) ORDER BY 1"
    )).await;
    assert!(!scores.is_empty());
    for line in &scores {
        let (handle, score) = line.split_once(',').unwrap();
        assert!(text.contains(&format!("@{handle}")), "the PDF names @{handle}");
        let shown = format!("{:.1}", score.parse::<f64>().unwrap());
        assert!(text.contains(&shown), "the PDF shows {handle}'s score {shown}");
    }
    assert!(text.contains("Social Score breakdown") && text.contains("Followers over the period") && text.contains(&format!("page 1 of {}", picked.len() + 3)), "{text}");
    let screenshots = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/screenshots");
    for page in ["1", "2"] {
        let rendered = Command::new("pdftoppm").args(["-png", "-r", "70", "-f", page, "-l", page, "-singlefile", pdf_path.to_str().unwrap(), &format!("{screenshots}/report-page-{page}")]).status().unwrap();
        assert!(rendered.success(), "page {page} renders");
    }
    let pt = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary"], "period": {"last_days": 30}, "format": "pdf"})).await;
    let pt = exporter.run_recorded(&pool, &definition(&pool, pt).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    std::fs::write(&pdf_path, file(&lake, &pt, "report.pdf").await).unwrap();
    let text = String::from_utf8_lossy(&Command::new("pdftotext").args([pdf_path.to_str().unwrap(), "-"]).output().unwrap().stdout).into_owned();
    assert!(text.contains("Relatório de influenciadores") && text.contains("Composição do Social Score") && text.contains("página 1 de"), "{text}");

    // Webhook delivery: signed with the definition's secret, retried after a 503, recorded.
    let (hook_url, received) = webhook_receiver(vec![503, 200]).await;
    let hooked = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"})).await;
    sqlx::query("UPDATE report_definitions SET delivery = $2 WHERE report_id = $1")
        .bind(hooked)
        .bind(json!({"webhook": {"url": hook_url, "secret": "a-webhook-secret-of-ours"}}))
        .execute(&pool)
        .await
        .unwrap();
    let delivered = exporter.run_recorded(&pool, &definition(&pool, hooked).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    let requests = received.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "a 503 is tried again");
    for (headers, body) in &requests {
        let timestamp: i64 = headers["x-analisa-timestamp"].parse().unwrap();
        assert_eq!(headers["x-analisa-signature"], analisa_jobs::reports::webhook_signature("a-webhook-secret-of-ours", timestamp, body.as_bytes()), "signed over the raw body");
        let payload: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["manifest"]["run_id"], json!(delivered.run.run_id));
    }
    let record: serde_json::Value = sqlx::query_scalar("SELECT delivery FROM report_runs WHERE run_id = $1").bind(delivered.run.run_id).fetch_one(&pool).await.unwrap();
    assert_eq!(record["webhook"], json!({"delivered": true, "attempts": 2, "http_status": 200, "error": null}));
    // A receiver that refuses (4xx) is not asked again; the run stays succeeded, the refusal noted.
    let (refusing, received) = webhook_receiver(vec![410]).await;
    sqlx::query("UPDATE report_definitions SET delivery = $2 WHERE report_id = $1").bind(hooked).bind(json!({"webhook": {"url": refusing, "secret": "a-webhook-secret-of-ours"}})).execute(&pool).await.unwrap();
    let refused = exporter.run_recorded(&pool, &definition(&pool, hooked).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    assert_eq!(received.lock().unwrap().len(), 1);
    let record: (String, serde_json::Value) = sqlx::query_as("SELECT status, delivery FROM report_runs WHERE run_id = $1").bind(refused.run.run_id).fetch_one(&pool).await.unwrap();
    assert_eq!((record.0.as_str(), record.1["webhook"]["delivered"].clone(), record.1["webhook"]["http_status"].clone()), ("succeeded", json!(false), json!(410)));
    let bad = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"})).await;
    sqlx::query("UPDATE report_definitions SET delivery = $2 WHERE report_id = $1").bind(bad).bind(json!({"webhook": {"url": "ftp://example.com", "secret": "a-webhook-secret-of-ours"}})).execute(&pool).await.unwrap();
    assert!(definition(&pool, bad).await.unwrap_err().to_string().contains("http or https"));

    // E-mail delivery through a local SMTP sink (aiosmtpd): the files attached.
    let python = python().expect("ANALISA_PYTHON");
    let inbox = tempfile::tempdir().unwrap();
    let mut sink = Command::new(&python)
        .args(["-c", SMTP_SINK, inbox.path().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(sink.stdout.take().unwrap()), &mut port).unwrap();
    let smtp = SmtpConfig { host: "127.0.0.1".into(), port: port.trim().parse().unwrap(), security: SmtpSecurity::None, username: None, password: None, from: "Analisa <relatorios@analisa.dev>".into() };
    let mailed = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary", "history"], "period": {"last_days": 7}, "format": "csv"})).await;
    sqlx::query("UPDATE report_definitions SET delivery = $2 WHERE report_id = $1").bind(mailed).bind(json!({"email": {"to": ["marca@example.com", "dados@example.com"]}})).execute(&pool).await.unwrap();
    let mailer = Exporter::new(lake.clone()).with_smtp(Some(smtp));
    let sent = mailer.run_recorded(&pool, &definition(&pool, mailed).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    let record: serde_json::Value = sqlx::query_scalar("SELECT delivery FROM report_runs WHERE run_id = $1").bind(sent.run.run_id).fetch_one(&pool).await.unwrap();
    assert_eq!(record["email"]["delivered"], json!(true), "{record}");
    let messages: Vec<_> = std::fs::read_dir(inbox.path()).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    sink.kill().ok();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(message.contains("marca@example.com") && message.contains("dados@example.com") && message.contains("Weekly creators"), "{message}");
    assert!(message.contains("summary.csv") && message.contains("history.csv") && message.contains("text/csv"), "the files are attached: {message}");
    // Without an SMTP server configured the run still succeeds and says why nothing was sent.
    let unsent = exporter.run_recorded(&pool, &definition(&pool, mailed).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap().unwrap();
    let record: serde_json::Value = sqlx::query_scalar("SELECT delivery FROM report_runs WHERE run_id = $1").bind(unsent.run.run_id).fetch_one(&pool).await.unwrap();
    assert!(record["email"]["error"].as_str().unwrap().contains("no SMTP server"), "{record}");

    // Another organisation's list is refused, and the failure is recorded with its reason.
    let foreign = define(&pool, other, json!({"scope": {"list": list}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"})).await;
    let error = exporter.run_recorded(&pool, &definition(&pool, foreign).await.unwrap(), RunTrigger::Manual, None, None).await.unwrap_err();
    assert!(error.to_string().contains("not one of this organisation's"), "{error}");
    let failed: (String, String, i32) = sqlx::query_as("SELECT status, error, attempts FROM report_runs WHERE report_id = $1").bind(foreign).fetch_one(&pool).await.unwrap();
    assert_eq!((failed.0.as_str(), failed.2), ("failed", 1), "a definition that cannot run is not retried");
    assert!(failed.1.contains("not one of this organisation's"));
    let prefix = lake.object_path(&format!("exports/{other}"));
    assert!(futures::StreamExt::next(&mut lake.object_store().list(Some(&prefix))).await.is_none(), "a failed run leaves no files");

    // A definition scheduled for Mondays 08:00 in São Paulo, two schedulers ticking on a
    // controlled clock: nothing before 11:00 UTC, then exactly one run of that occurrence.
    let weekly = define(&pool, org, json!({"scope": {"list": list}, "sections": ["summary"], "period": {"last_days": 7}, "format": "csv"})).await;
    sqlx::query("UPDATE report_definitions SET schedule = '0 0 8 * * Mon', time_zone = 'America/Sao_Paulo' WHERE report_id = $1").bind(weekly).execute(&pool).await.unwrap();
    let scheduler = || Scheduler::new(pipeline_on(lake.clone()), Ledger::new(pool.clone()), Vec::new());
    let (one, two) = (scheduler(), scheduler());
    let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let early = one.tick_reports(at("2026-11-29T00:00:00Z"), at("2026-11-30T10:59:59Z")).await.unwrap();
    assert!(early.iter().all(|o| o.report_id != weekly), "not before its time: {early:?}");
    let (a, b) = tokio::join!(one.tick_reports(at("2026-11-30T10:59:59Z"), at("2026-11-30T11:00:30Z")), two.tick_reports(at("2026-11-30T10:59:59Z"), at("2026-11-30T11:00:30Z")));
    let outcomes: Vec<ReportOutcome> = a.unwrap().into_iter().chain(b.unwrap()).filter(|o| o.report_id == weekly).map(|o| o.outcome).collect();
    assert_eq!(outcomes.len(), 2, "both schedulers saw the occurrence: {outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| matches!(o, ReportOutcome::Ran(_))).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == ReportOutcome::TakenElsewhere).count(), 1, "{outcomes:?}");
    let runs: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as("SELECT status, due_at FROM report_runs WHERE report_id = $1").bind(weekly).fetch_all(&pool).await.unwrap();
    assert_eq!(runs, vec![("succeeded".to_owned(), Some(at("2026-11-30T11:00:00Z")))]);
    db.drop_now().await;
}
