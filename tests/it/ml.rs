//! `analisa ml …` as a user runs it: the two interfaces of the issue on sample input, and the
//! registry on a lake.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::{analisa, text};

#[test]
fn sentiment_reads_lines_and_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("comments.txt");
    let mut lines = b"mds que video incrivel, amei demais \xf0\x9f\x98\x8d\nque lixo de publi, unfollow\n\n\xff\xfe garbage\nThis is the best video I've seen all week\n".to_vec();
    lines.extend(std::iter::repeat_n(b'x', 1 << 20));
    lines.push(b'\n');
    std::fs::write(&input, &lines).unwrap();
    let output = analisa(dir.path(), &["ml", "sentiment", "--input", "comments.txt"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let rows: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 6, "one line out per line in");
    assert_eq!((rows[0]["label"].as_str(), rows[0]["lang"].as_str()), (Some("positive"), Some("pt")));
    assert_eq!((rows[1]["label"].as_str(), rows[1]["lang"].as_str()), (Some("negative"), Some("pt")));
    assert_eq!((rows[4]["label"].as_str(), rows[4]["lang"].as_str()), (Some("positive"), Some("en")));
    // The keys in the order of the interface.
    let first = stdout.lines().next().unwrap();
    let at: Vec<usize> = ["\"label\"", "\"p_negative\"", "\"p_neutral\"", "\"p_positive\"", "\"lang\""].iter().map(|k| first.find(k).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]) && rows[0].as_object().unwrap().len() == 5, "{first}");
    assert_eq!(rows[2]["error"], "empty line");
    assert_eq!(rows[3]["error"], "not UTF-8 text");
    assert!(rows[5]["error"].as_str().unwrap().starts_with("line of 1048576 bytes"));
    assert!(stderr.contains("3 of 6 lines could not be scored"), "{stderr}");

    // `-` reads standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_analisa")).args(["ml", "sentiment", "--input", "-"]).current_dir(dir.path()).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"worst purchase ever, total waste of money\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(row["label"], "negative");

    let output = analisa(dir.path(), &["ml", "sentiment", "--model", "forecast@latest", "--input", "comments.txt"]);
    assert!(!output.status.success() && text(&output).1.contains("this command takes a sentiment model"), "{}", text(&output).1);
    let output = analisa(dir.path(), &["ml", "sentiment", "--input", "missing.txt"]);
    assert!(!output.status.success() && text(&output).1.contains("missing.txt"));
}

#[test]
fn forecast_reads_series_csv_and_writes_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("series_id,date,value\n");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    for d in 0..120 {
        let day = start + chrono::Duration::days(d);
        csv.push_str(&format!("grower,{day},{}\n", 10_000 + 40 * d + (d % 7) * 15));
        if d < 30 {
            csv.push_str(&format!("newcomer,{day},{}\n", 500 + 5 * d));
        }
    }
    csv.push_str("broken,yesterday,12\n");
    std::fs::write(dir.path().join("series.csv"), csv).unwrap();
    let output = analisa(dir.path(), &["ml", "forecast", "--input", "series.csv", "--horizon", "30"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("series_id,date,point,lo80,hi80,lo95,hi95"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert_eq!(rows.len(), 60, "30 days for each readable series");
    let grower: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "grower").collect();
    assert_eq!(grower[0][1], "2026-09-29", "the day after the last observation");
    for r in &rows {
        let v: Vec<f64> = r[2..].iter().map(|x| x.parse().unwrap()).collect();
        let (point, lo80, hi80, lo95, hi95) = (v[0], v[1], v[2], v[3], v[4]);
        assert!(lo95 <= lo80 && lo80 <= point && point <= hi80 && hi80 <= hi95, "{r:?}");
    }
    let last: f64 = grower[29][2].parse().unwrap();
    assert!(last > 14_700.0 && last < 16_500.0, "a steady grower keeps growing: {last}");
    assert!(stderr.contains("series newcomer: 30 days of history, under 60: drift forecast"), "{stderr}");
    assert!(stderr.contains("line") && stderr.contains("yesterday"), "the bad row is named: {stderr}");

    let output = analisa(dir.path(), &["ml", "forecast", "--input", "series.csv", "--horizon", "400"]);
    assert!(!output.status.success() && text(&output).1.contains("--horizon 400: between 1 and 90 days"), "{}", text(&output).1);
    std::fs::write(dir.path().join("bad.csv"), "id;day;n\n").unwrap();
    let output = analisa(dir.path(), &["ml", "forecast", "--input", "bad.csv", "--horizon", "7"]);
    assert!(!output.status.success() && text(&output).1.contains("series_id,date,value"), "{}", text(&output).1);
}

#[test]
fn models_lists_the_defaults_and_what_the_lake_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("analisa.toml"), "[lake]\nroot = \"file://./lake\"\n").unwrap();
    let output = analisa(dir.path(), &["ml", "models"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("sentiment@") && stdout.contains("forecast@") && stdout.contains("built in (default)"), "{stdout}");
    let output = analisa(dir.path(), &["ml", "sentiment", "--model", "latest", "--input", "-"]);
    assert!(!output.status.success());
    assert!(text(&output).1.contains("none trained into this lake yet"), "{}", text(&output).1);
}
