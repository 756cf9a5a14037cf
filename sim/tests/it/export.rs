//! Exports: deterministic, complete, and shaped like the real creator population.

use std::collections::HashMap;
use std::fs::File;

use analisa_sim::{WorldSpec, export};
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read(dir: &std::path::Path, table: &str) -> Vec<RecordBatch> {
    let file = File::open(dir.join(format!("{table}.parquet"))).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap().map(Result::unwrap).collect()
}

fn column_strings(batches: &[RecordBatch], name: &str) -> Vec<String> {
    batches.iter().flat_map(|b| b.column_by_name(name).unwrap().as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_owned()).collect::<Vec<_>>()).collect()
}

fn column_i64(batches: &[RecordBatch], name: &str) -> Vec<i64> {
    batches.iter().flat_map(|b| b.column_by_name(name).unwrap().as_primitive::<Int64Type>().values().to_vec()).collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_world() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let summary = export(&WorldSpec::new(11, 40, 45), a.path(), |_| {}).unwrap();
    export(&WorldSpec::new(11, 40, 45), b.path(), |_| {}).unwrap();
    export(&WorldSpec::new(12, 40, 45), c.path(), |_| {}).unwrap();
    for table in ["accounts", "account_daily", "posts", "comments", "events"] {
        let file = format!("{table}.parquet");
        let bytes_a = std::fs::read(a.path().join(&file)).unwrap();
        assert_eq!(bytes_a, std::fs::read(b.path().join(&file)).unwrap(), "{table} differs between two runs of one seed");
        assert_ne!(bytes_a, std::fs::read(c.path().join(&file)).unwrap(), "{table} is the same for another seed");
    }
    assert_eq!(summary.accounts, 40);
    assert_eq!(summary.account_days, 40 * 45);
    assert!(summary.posts > 40 * 3, "{summary:?}");
    let readme = std::fs::read_to_string(a.path().join("README.md")).unwrap();
    assert!(readme.contains("## comments.parquet") && readme.contains("`sentiment`"), "{readme}");
}

/// The population the simulator promises in docs/sim.md.
#[test]
fn the_world_looks_like_the_real_population() {
    let dir = tempfile::tempdir().unwrap();
    let world = WorldSpec::new(2026, 2_000, 120);
    export(&world, dir.path(), |_| {}).unwrap();
    let accounts = read(dir.path(), "accounts");
    let n = 2_000.0;

    // Tiers: many nano and micro, few mega.
    let tiers = column_strings(&accounts, "tier_end");
    let share = |t: &str| tiers.iter().filter(|x| *x == t).count() as f64 / n;
    assert!((0.30..=0.55).contains(&share("nano")), "nano {}", share("nano"));
    assert!((0.22..=0.42).contains(&share("micro")), "micro {}", share("micro"));
    assert!((0.05..=0.16).contains(&share("mid")), "mid {}", share("mid"));
    assert!((0.005..=0.05).contains(&share("mega")), "mega {}", share("mega"));
    assert!(share("nano") > share("micro") && share("micro") > share("mid") && share("mid") > share("mega"));

    // Countries: Brazil-heavy.
    let countries = column_strings(&accounts, "country");
    let br = countries.iter().filter(|c| *c == "BR").count() as f64 / n;
    assert!((0.45..=0.65).contains(&br), "BR share {br}");

    // Fraud prevalence.
    let bought = accounts.iter().map(|b| b.column_by_name("fraud_bought_followers").unwrap().as_boolean().true_count()).sum::<usize>() as f64 / n;
    assert!((0.05..=0.11).contains(&bought), "bought followers {bought}");
    let pods = accounts.iter().map(|b| b.column_by_name("fraud_comment_pod").unwrap().as_boolean().true_count()).sum::<usize>() as f64 / n;
    assert!((0.03..=0.09).contains(&pods), "pods {pods}");

    // Instagram ER (likes + comments over followers, median per account) falls with tier.
    let posts = read(dir.path(), "posts");
    let tier_of: HashMap<String, String> = column_strings(&accounts, "account_id").into_iter().zip(tiers.clone()).collect();
    let platform_of: HashMap<String, String> = column_strings(&accounts, "account_id").into_iter().zip(column_strings(&accounts, "platform")).collect();
    let (ids, types) = (column_strings(&posts, "account_id"), column_strings(&posts, "media_type"));
    let (likes, comments, followers) = (column_i64(&posts, "likes"), column_i64(&posts, "comments"), column_i64(&posts, "followers_at_publish"));
    let mut per_account: HashMap<&str, Vec<f64>> = HashMap::new();
    for i in 0..ids.len() {
        if platform_of[&ids[i]] == "instagram" && types[i] != "story" {
            per_account.entry(&ids[i]).or_default().push((likes[i] + comments[i]) as f64 / followers[i] as f64);
        }
    }
    let median = |mut v: Vec<f64>| { v.sort_by(f64::total_cmp); v[v.len() / 2] };
    let mut by_tier: HashMap<&str, Vec<f64>> = HashMap::new();
    for (id, ers) in per_account {
        by_tier.entry(tier_of[id].as_str()).or_default().push(median(ers));
    }
    let er = |t: &str| median(by_tier[t].clone());
    assert!((0.025..=0.06).contains(&er("nano")), "nano ER {}", er("nano"));
    assert!((0.012..=0.035).contains(&er("micro")), "micro ER {}", er("micro"));
    assert!(er("nano") > er("micro") && er("micro") > er("mid"), "nano {} micro {} mid {}", er("nano"), er("micro"), er("mid"));

    // Comments: mostly Brazilian Portuguese, a good share of English, varied, all three sentiments.
    let comments = read(dir.path(), "comments");
    let langs = column_strings(&comments, "language");
    let total = langs.len() as f64;
    let pt = langs.iter().filter(|l| *l == "pt").count() as f64 / total;
    let en = langs.iter().filter(|l| *l == "en").count() as f64 / total;
    assert!((0.45..=0.70).contains(&pt), "pt share {pt}");
    assert!((0.15..=0.35).contains(&en), "en share {en}");
    let labels = column_strings(&comments, "sentiment");
    for (label, low, high) in [("positive", 0.5, 0.75), ("neutral", 0.15, 0.35), ("negative", 0.07, 0.2)] {
        let s = labels.iter().filter(|l| *l == label).count() as f64 / total;
        assert!((low..=high).contains(&s), "{label} share {s}");
    }
    let texts = column_strings(&comments, "text");
    let distinct: std::collections::HashSet<&String> = texts.iter().collect();
    assert!(distinct.len() > 2_000, "only {} distinct comments", distinct.len());

    // Sponsored posts carry a disclosure.
    let disclosures = posts.iter().map(|b| b.column_by_name("disclosure").unwrap().len() - b.column_by_name("disclosure").unwrap().null_count()).sum::<usize>() as f64 / ids.len() as f64;
    assert!((0.07..=0.15).contains(&disclosures), "sponsored share {disclosures}");
}
