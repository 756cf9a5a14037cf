"""B1: the gold build (gold.influencer_metrics, then the cohort benchmarks) in DuckDB, polars
and pandas over the silver Parquet files of Analisa's lake, beside Analisa's own run.

  gold_build.py silver EXPORT_DIR OUT_DIR      silver-shaped Parquet from `analisa sim export`
  gold_build.py run ENGINE LAKE SQL_DIR OUT    one engine, timed in-process, result to OUT
  gold_build.py check LAKE OUT...              each engine's result against Analisa's gold

DuckDB runs the SQL Analisa runs (`analisa jobs sql`, with a handful of dialect rewrites);
polars (lazy) and pandas run the same computation written in their own APIs. `run` prints one
JSON line: {"engine", "seconds"}; peak RSS is measured around the process by the shell script.
"""

import datetime as dt
import json
import os
import re
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SILVER = ["accounts", "account_daily", "posts", "post_metrics"]
METRICS = ["er_followers_mean", "er_followers_median", "er_followers_full", "er_views", "er_reach", "followers",
           "growth_pct_30d", "growth_pct_90d", "est_reach_per_post", "posts_per_week", "avg_likes", "emv_usd", "sponsored_share"]
# Columns compared between engines (null_reasons, a JSON text, is left to the golden tests).
COMPARED = ["followers", "er_followers_mean", "er_followers_median", "er_followers_full", "er_followers_posts", "er_views", "er_views_posts",
            "er_reach", "avg_likes", "median_likes", "avg_comments", "median_comments", "avg_views", "median_views", "posts_per_week",
            "growth_pct_7d", "growth_pct_30d", "growth_pct_90d", "velocity_30d", "engagement_growth_90d", "reach_rate", "est_reach_per_post",
            "est_impressions", "emv_usd", "consistency_13w", "post_gap_stddev_days", "sponsored_share", "er_sponsored", "er_organic"]
EPOCH = dt.date(1970, 1, 1)


def registry():
    text = tomllib.loads((REPO / "sql/formulas.toml").read_text())
    tiers = sorted(text["tiers"], key=lambda t: t["min_followers"])
    for ordinal, tier in enumerate(tiers):
        tier["ordinal"] = ordinal
        tier.setdefault("max_followers", None)
    return text["metrics"], tiers


def silver_files(lake):
    """The Parquet files of the current version of each silver table. Delta keeps partition
    values (platform=…) in the paths, not in the files."""
    from deltalake import DeltaTable
    return {name: DeltaTable(f"{lake}/silver/{name}").file_uris() for name in SILVER}


def partition_values(path):
    return dict(part.split("=", 1) for part in Path(path).parent.parts if "=" in part)


# ---- silver from the simulator's export ------------------------------------------------------

def make_silver(export, out):
    """What the silver steps make of a full collection, built straight from the export: one
    snapshot of every post's counters as the APIs serve them on the last day, insights (saves,
    reach, impressions) only for connected accounts, and the daily follower history."""
    import duckdb
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for name in ["accounts", "account_daily", "posts"]:
        con.execute(f"CREATE VIEW x_{name} AS SELECT * FROM read_parquet('{export}/{name}.parquet')")
    end = con.execute("SELECT max(date) FROM x_account_daily").fetchone()[0]
    at = f"TIMESTAMP '{end} 23:59:00'"
    queries = {
        "accounts": f"""SELECT platform, account_id, handle, name AS display_name, biography, account_type, niche, country, language,
                               verified AS is_verified, {at} AS first_seen_at, {at} AS updated_at FROM x_accounts""",
        "account_daily": """SELECT platform, account_id, date AS snapshot_date, followers, follows, media_count,
                                   date + INTERVAL 23 HOUR + INTERVAL 59 MINUTE AS captured_at FROM x_account_daily""",
        "posts": f"""SELECT platform, post_id, account_id, media_type, published_at, CAST(length(caption) AS INTEGER) AS caption_length,
                            hashtags, mentions, pinned AS is_pinned, disclosure IS NOT NULL AS is_sponsored, disclosure AS sponsored_signal,
                            followers_at_publish, {at} AS updated_at FROM x_posts""",
        "post_metrics": f"""SELECT p.platform, p.post_id, p.account_id, DATE '{end}' AS snapshot_date,
                                   p.likes_served AS likes, p.comments_served AS comments,
                                   CASE WHEN p.platform <> 'instagram' OR a.connected THEN p.shares_served END AS shares,
                                   CASE WHEN a.connected THEN p.saves END AS saves,
                                   CASE WHEN p.media_type = 'video' THEN p.views_served END AS views,
                                   CASE WHEN a.connected THEN p.reach END AS reach,
                                   CASE WHEN a.connected THEN p.impressions END AS impressions,
                                   CASE WHEN a.connected THEN 'insights' ELSE 'public' END AS source, {at} AS captured_at
                            FROM x_posts p JOIN x_accounts a ON a.platform = p.platform AND a.account_id = p.account_id
                            WHERE p.media_type <> 'story'""",
    }
    for name, query in queries.items():
        con.execute(f"COPY ({query}) TO '{out}/{name}.parquet' (FORMAT parquet)")
    print(end)


# ---- DuckDB: the SQL Analisa runs ------------------------------------------------------------

def date_ints(sql):
    """DataFusion casts a date to INT as days since 1970; DuckDB has no such cast."""
    out, i = [], 0
    while (j := sql.find("CAST(", i)) >= 0:
        depth, k = 0, j + 4
        while True:
            depth += {"(": 1, ")": -1}.get(sql[k], 0)
            if depth == 0:
                break
            k += 1
        inner = date_ints(sql[j + 5:k])
        out.append(sql[i:j])
        out.append(f"date_diff('day', DATE '1970-01-01', {inner[:-7]})" if inner.endswith(" AS INT") else f"CAST({inner})")
        i = k + 1
    return "".join(out) + sql[i:]


def duckdb_dialect(sql):
    """The few places where DataFusion's SQL and DuckDB's differ."""
    sql = date_ints(sql)
    # Integer division: DataFusion's `/` on integers truncates, DuckDB's gives a fraction.
    sql = re.sub(r"\) / 7( END)?\) AS active_weeks", r") // 7\1) AS active_weeks", sql)
    sql = re.sub(r"named_struct\('metric', (.*?), 'value', ", r"struct_pack(metric := \1, value := ", sql)
    sql = sql.replace("make_array(", "list_value(")
    # An ordered aggregate in DataFusion, a window function only in DuckDB: its arg_max.
    sql = re.sub(r"last_value\(([\w.]+) ORDER BY ([\w.]+)\)", r"arg_max(\1, \2)", sql)
    return re.sub(r"CREATE (TABLE|VIEW) ", r"CREATE OR REPLACE \1 ", sql)


def statements(script):
    return [s.strip() for s in script.split(";\n") if s.strip()]


def run_duckdb(files, sql_dir, as_of):
    import duckdb
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE MACRO to_unixtime(t) AS epoch(t)")
    for schema in ["silver", "gold", "registry"]:
        con.execute(f"CREATE SCHEMA {schema}")
    for name, paths in files.items():
        con.execute(f"CREATE VIEW silver.{name} AS SELECT * FROM read_parquet({json.dumps(paths)}, hive_partitioning = true)".replace('"', "'"))
    start = time.perf_counter()
    for step, target in [("influencer_metrics", "gold.influencer_metrics"), ("benchmarks", "gold.benchmarks")]:
        *setup, query = statements(duckdb_dialect((Path(sql_dir) / f"{step}.sql").read_text()))
        for statement in setup:
            con.execute(statement)
        con.execute(f"CREATE TABLE {target} AS {query}")
    seconds = time.perf_counter() - start
    return seconds, con.sql("SELECT * FROM gold.influencer_metrics").to_arrow_table(), con.sql("SELECT * FROM gold.benchmarks").to_arrow_table()


# ---- polars (lazy) ----------------------------------------------------------------------------

def run_polars(files, as_of):
    import polars as pl
    params, tiers = registry()
    window, min_posts, video_window, cpm = params["window_days"], params["min_posts"], params["video_window"], params["cpm_usd"]
    day = (as_of - EPOCH).days
    key = ["platform", "account_id"]
    start = time.perf_counter()
    scan = {name: pl.concat([pl.scan_parquet(p).with_columns(pl.lit(v).alias(k) for k, v in partition_values(p).items()) for p in paths], how="diagonal")
            for name, paths in files.items()}
    tiers_lf = pl.LazyFrame(tiers, schema={"tier": pl.String, "min_followers": pl.Int64, "max_followers": pl.Int64, "reach_rate": pl.Float64, "ordinal": pl.Int64})
    daily = scan["account_daily"].filter(pl.col("snapshot_date") <= as_of).with_columns(pl.col("snapshot_date").cast(pl.Int32).alias("d"))
    latest = daily.group_by(key).agg(pl.col("followers").sort_by("d").last())
    base = (latest.join(tiers_lf, how="cross")
            .filter((pl.col("followers") >= pl.col("min_followers")) & (pl.col("max_followers").is_null() | (pl.col("followers") < pl.col("max_followers"))))
            .join(scan["accounts"].select(key + ["niche", "country", "language"]), on=key, how="left"))
    growth = base.select(key + ["followers"])
    for back in (7, 30, 90):
        past = (daily.filter((pl.col("d") <= day - back) & (pl.col("d") >= day - back - 3))
                .group_by(key).agg(pl.col("followers").sort_by("d").last().alias(f"f{back}")))
        growth = growth.join(past, on=key, how="left")
    growth = growth.select(key + [
        pl.when(pl.col(f"f{b}") > 0).then((pl.col("followers") - pl.col(f"f{b}")).cast(pl.Float64) / pl.col(f"f{b}")).alias(f"growth_pct_{b}d") for b in (7, 30, 90)
    ] + [pl.when(pl.col("f30") > 0).then((pl.col("followers") - pl.col("f30")).cast(pl.Float64) / 30).alias("velocity_30d")])

    newest = (scan["post_metrics"].filter(pl.col("snapshot_date") <= as_of)
              .sort("snapshot_date").group_by(["platform", "post_id"]).last())
    lc = pl.col("likes").is_not_null() & pl.col("comments").is_not_null()
    posts = (scan["posts"].with_columns(pl.col("published_at").dt.date().alias("published_date"))
             .filter((pl.col("media_type") != "story") & (pl.col("published_date") <= as_of))
             .join(newest.drop("account_id"), on=["platform", "post_id"])
             .with_columns(
                 pl.col("published_date").cast(pl.Int32).alias("published_day"),
                 (pl.col("likes").fill_null(0) + pl.col("comments").fill_null(0)).cast(pl.Float64).alias("engagements"),
                 pl.when((pl.col("followers_at_publish") > 0) & lc).then((pl.col("likes") + pl.col("comments")) / pl.col("followers_at_publish")).alias("er_followers"),
                 pl.when((pl.col("followers_at_publish") > 0) & lc & pl.col("shares").is_not_null() & pl.col("saves").is_not_null())
                   .then((pl.col("likes") + pl.col("comments") + pl.col("shares") + pl.col("saves")) / pl.col("followers_at_publish")).alias("er_full"),
                 pl.when((pl.col("views") > 0) & lc).then((pl.col("likes") + pl.col("comments") + pl.col("shares").fill_null(0)) / pl.col("views")).alias("er_views"),
                 pl.when((pl.col("reach") > 0) & lc).then((pl.col("likes") + pl.col("comments") + pl.col("shares").fill_null(0) + pl.col("saves").fill_null(0)) / pl.col("reach")).alias("er_reach"),
             ))
    video = (pl.col("media_type") == "video") & (pl.col("views") > 0)
    in_window = (posts.filter(~pl.col("is_pinned") & (pl.col("published_day") > day - window))
                 .sort(["platform", "account_id", "published_at", "post_id"])
                 .with_columns((pl.col("published_at").dt.epoch("us").diff().over(key).cast(pl.Float64) / 86_400e6).alias("gap")))
    window_stats = in_window.group_by(key).agg(
        pl.len().alias("posts"),
        pl.col("er_followers").count().alias("er_followers_posts"), pl.col("er_followers").mean().alias("er_mean"), pl.col("er_followers").median().alias("er_median"),
        pl.col("er_full").count().alias("full_posts"), pl.col("er_full").mean().alias("er_full_v"),
        pl.col("er_reach").count().alias("reach_posts"), pl.col("er_reach").mean().alias("er_reach_v"),
        pl.col("likes").cast(pl.Float64).mean().alias("avg_likes"), pl.col("likes").cast(pl.Float64).median().alias("median_likes"),
        pl.col("comments").cast(pl.Float64).mean().alias("avg_comments"), pl.col("comments").cast(pl.Float64).median().alias("median_comments"),
        video.sum().alias("videos"),
        pl.col("views").filter(video).cast(pl.Float64).mean().alias("avg_views"), pl.col("views").filter(video).cast(pl.Float64).median().alias("median_views"),
        pl.col("reach").cast(pl.Float64).mean().alias("mean_reach"), pl.col("impressions").cast(pl.Float64).mean().alias("mean_impressions"),
        pl.col("is_sponsored").cast(pl.Float64).mean().alias("sponsored_share_v"),
        pl.col("er_followers").filter(pl.col("is_sponsored")).mean().alias("er_sponsored"),
        pl.col("er_followers").filter(~pl.col("is_sponsored")).mean().alias("er_organic"),
        pl.col("gap").std().alias("post_gap_stddev_days"),
    )
    videos = (posts.filter((pl.col("media_type") == "video") & pl.col("er_views").is_not_null() & ~pl.col("is_pinned"))
              .sort(["published_at", "post_id"], descending=True).group_by(key).head(video_window)
              .group_by(key).agg(pl.len().alias("er_views_posts"), pl.col("er_views").mean().alias("er_views_v")))
    halves = (posts.filter(~pl.col("is_pinned") & (pl.col("published_day") > day - 180)).group_by(key).agg(
        pl.col("engagements").filter(pl.col("published_day") > day - 90).mean().alias("recent"),
        pl.col("engagements").filter(pl.col("published_day") <= day - 90).mean().alias("earlier")))
    weeks = (posts.filter(pl.col("published_day") > day - 91).group_by(key)
             .agg(((day - pl.col("published_day")) // 7).n_unique().alias("active_weeks")))
    j = (base.join(window_stats, on=key, how="left").join(videos, on=key, how="left").join(growth, on=key, how="left")
         .join(halves, on=key, how="left").join(weeks, on=key, how="left")
         .with_columns(pl.col(c).fill_null(0) for c in ["posts", "er_followers_posts", "full_posts", "reach_posts", "er_views_posts", "active_weeks", "videos"]))
    enough = lambda n: pl.col(n) >= min_posts  # noqa: E731
    video_first = (pl.col("platform") == "tiktok") | (pl.col("videos") * 2 > pl.col("posts"))
    est_reach = pl.when(video_first & enough("videos")).then(pl.col("avg_views")).otherwise(pl.col("followers") * pl.col("reach_rate"))
    impressions = pl.coalesce(pl.when(enough("reach_posts")).then(pl.col("mean_impressions")), est_reach)
    metrics = j.select(key + [
        "followers", "tier", "niche",
        pl.when(enough("er_followers_posts")).then(pl.col("er_mean")).alias("er_followers_mean"),
        pl.when(enough("er_followers_posts")).then(pl.col("er_median")).alias("er_followers_median"),
        pl.when(enough("full_posts")).then(pl.col("er_full_v")).alias("er_followers_full"), "er_followers_posts",
        pl.when(enough("er_views_posts")).then(pl.col("er_views_v")).alias("er_views"), "er_views_posts",
        pl.when(enough("reach_posts")).then(pl.col("er_reach_v")).alias("er_reach"),
        *[pl.when(enough("posts")).then(pl.col(c)).alias(c) for c in ["avg_likes", "median_likes", "avg_comments", "median_comments"]],
        *[pl.when(enough("videos")).then(pl.col(c)).alias(c) for c in ["avg_views", "median_views"]],
        (pl.col("posts").cast(pl.Float64) / (window / 7.0)).alias("posts_per_week"),
        "growth_pct_7d", "growth_pct_30d", "growth_pct_90d", "velocity_30d",
        pl.when(pl.col("recent").is_not_null() & (pl.col("earlier") > 0)).then(pl.col("recent") / pl.col("earlier") - 1).alias("engagement_growth_90d"),
        pl.when(enough("reach_posts") & (pl.col("followers") > 0)).then(pl.col("mean_reach") / pl.col("followers")).alias("reach_rate"),
        est_reach.alias("est_reach_per_post"), impressions.alias("est_impressions"), (cpm * impressions / 1000).alias("emv_usd"),
        (pl.col("active_weeks").cast(pl.Float64) / 13).alias("consistency_13w"), "post_gap_stddev_days",
        pl.when(pl.col("posts") > 0).then(pl.col("sponsored_share_v")).alias("sponsored_share"), "er_sponsored", "er_organic",
    ]).collect()

    # Cohorts: platform × niche × tier, widened below the minimum (niche dropped, then the
    # neighbouring tiers merged), as sql/views/cohorts.sql.
    min_members = params["cohort_min_members"]
    ordinals = {t["tier"]: t["ordinal"] for t in tiers}
    labels = {t["ordinal"]: "+".join(u["tier"] for u in tiers if abs(u["ordinal"] - t["ordinal"]) <= 1) for t in tiers}
    m = metrics.lazy().with_columns(pl.col("niche").fill_null("unknown"), pl.col("tier").replace_strict(ordinals, return_dtype=pl.Int64).alias("ordinal"))
    by_niche = m.group_by(["platform", "niche", "tier", "ordinal"]).agg(pl.len().alias("n0"))
    by_tier = m.group_by(["platform", "ordinal"]).agg(pl.len().alias("n1"))
    chosen = (by_niche.join(by_tier, on=["platform", "ordinal"])
              .with_columns(pl.when(pl.col("n0") >= min_members).then(0).when(pl.col("n1") >= min_members).then(1).otherwise(2).alias("level")))
    cohorts = chosen.select(
        "platform", "level", "ordinal",
        pl.when(pl.col("level") == 0).then(pl.col("niche")).otherwise(pl.lit("*")).alias("cohort_niche"),
        pl.when(pl.col("level") == 2).then(pl.col("ordinal").replace_strict(labels, return_dtype=pl.String)).otherwise(pl.col("tier")).alias("cohort_tier"),
        pl.when(pl.col("level") == 0).then(pl.col("niche")).alias("only_niche")).unique()
    members = (cohorts.join(m, on="platform", suffix="_m")
               .filter((pl.col("only_niche").is_null() | (pl.col("niche") == pl.col("only_niche")))
                       & pl.when(pl.col("level") == 2).then((pl.col("ordinal_m") - pl.col("ordinal")).abs() <= 1).otherwise(pl.col("ordinal_m") == pl.col("ordinal")))
               .unique(["platform", "cohort_niche", "cohort_tier", "account_id"]))
    long = members.unpivot(index=["platform", "cohort_niche", "cohort_tier"], on=METRICS, variable_name="metric").with_columns(pl.col("value").cast(pl.Float64))
    benchmarks = long.group_by(["platform", "cohort_niche", "cohort_tier", "metric"]).agg(
        pl.col("value").count().alias("members"),
        *[pl.col("value").quantile(q, interpolation="linear").alias(f"p{int(q * 100)}") for q in (0.1, 0.25, 0.5, 0.75, 0.9)],
        pl.col("value").mean().alias("mean")).collect()
    return time.perf_counter() - start, metrics.to_arrow(), benchmarks.to_arrow()


# ---- pandas -----------------------------------------------------------------------------------

def run_pandas(files, as_of):
    import numpy as np
    import pandas as pd
    params, tiers = registry()
    window, min_posts, video_window, cpm = params["window_days"], params["min_posts"], params["video_window"], params["cpm_usd"]
    day = (as_of - EPOCH).days
    key = ["platform", "account_id"]
    start = time.perf_counter()
    def read(name, columns=None):
        frames = []
        for path in files[name]:
            values = partition_values(path)
            frame = pd.read_parquet(path, columns=[c for c in columns if c not in values] if columns else None)
            frames.append(frame.assign(**values))
        return pd.concat(frames, ignore_index=True)

    daily = read("account_daily", key + ["snapshot_date", "followers"])
    daily["d"] = (pd.to_datetime(daily["snapshot_date"]) - pd.Timestamp(EPOCH)).dt.days
    daily = daily[daily["d"] <= day].sort_values("d")
    base = daily.groupby(key, as_index=False)["followers"].last()
    tier_frame = pd.DataFrame(tiers)
    idx = np.searchsorted(tier_frame["min_followers"].to_numpy(), base["followers"].to_numpy(), side="right") - 1
    base["tier"] = tier_frame["tier"].to_numpy()[idx]
    base["reach_rate"] = tier_frame["reach_rate"].to_numpy()[idx]
    base = base.merge(read("accounts", key + ["niche", "country", "language"]), on=key, how="left")
    for back in (7, 30, 90):
        past = daily[(daily["d"] <= day - back) & (daily["d"] >= day - back - 3)].groupby(key, as_index=False)["followers"].last().rename(columns={"followers": f"f{back}"})
        base = base.merge(past, on=key, how="left")
        ok = base[f"f{back}"] > 0
        base[f"growth_pct_{back}d"] = np.where(ok, (base["followers"] - base[f"f{back}"]) / base[f"f{back}"], np.nan)
    base["velocity_30d"] = np.where(base["f30"] > 0, (base["followers"] - base["f30"]) / 30, np.nan)

    pm = read("post_metrics")
    pm = pm[pd.to_datetime(pm["snapshot_date"]) <= pd.Timestamp(as_of)].sort_values("snapshot_date").groupby(["platform", "post_id"], as_index=False).last()
    posts = read("posts", ["platform", "post_id", "account_id", "media_type", "published_at", "is_pinned", "is_sponsored", "followers_at_publish"])
    posts["published_day"] = (posts["published_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize() - pd.Timestamp(EPOCH)).dt.days
    posts = posts[(posts["media_type"] != "story") & (posts["published_day"] <= day)].merge(pm.drop(columns=["account_id"]), on=["platform", "post_id"])
    lc = posts["likes"].notna() & posts["comments"].notna()
    f = posts["followers_at_publish"].astype("float64")
    likes, comments = posts["likes"].astype("float64"), posts["comments"].astype("float64")
    shares, saves, views, reach = (posts[c].astype("float64") for c in ["shares", "saves", "views", "reach"])
    posts["engagements"] = likes.fillna(0) + comments.fillna(0)
    posts["er_followers"] = np.where((f > 0) & lc, (likes + comments) / f, np.nan)
    posts["er_full"] = np.where((f > 0) & lc & shares.notna() & saves.notna(), (likes + comments + shares + saves) / f, np.nan)
    posts["er_views"] = np.where((views > 0) & lc, (likes + comments + shares.fillna(0)) / views, np.nan)
    posts["er_reach"] = np.where((reach > 0) & lc, (likes + comments + shares.fillna(0) + saves.fillna(0)) / reach, np.nan)
    posts["is_video"] = (posts["media_type"] == "video") & (views > 0)
    for c in ["likes", "comments", "views", "reach", "impressions"]:
        posts[c] = posts[c].astype("float64")

    w = posts[~posts["is_pinned"] & (posts["published_day"] > day - window)].sort_values(key + ["published_at", "post_id"]).copy()
    w["gap"] = w.groupby(key)["published_at"].diff().dt.total_seconds() / 86400
    w["video_views"] = w["views"].where(w["is_video"])
    w["er_s"] = w["er_followers"].where(w["is_sponsored"])
    w["er_o"] = w["er_followers"].where(~w["is_sponsored"])
    w["sponsored"] = w["is_sponsored"].astype("float64")
    g = w.groupby(key)
    stats = pd.DataFrame({
        "posts": g.size(), "er_followers_posts": g["er_followers"].count(), "er_mean": g["er_followers"].mean(), "er_median": g["er_followers"].median(),
        "full_posts": g["er_full"].count(), "er_full_v": g["er_full"].mean(), "reach_posts": g["er_reach"].count(), "er_reach_v": g["er_reach"].mean(),
        "avg_likes": g["likes"].mean(), "median_likes": g["likes"].median(), "avg_comments": g["comments"].mean(), "median_comments": g["comments"].median(),
        "videos": g["is_video"].sum(), "avg_views": g["video_views"].mean(), "median_views": g["video_views"].median(),
        "mean_reach": g["reach"].mean(), "mean_impressions": g["impressions"].mean(), "sponsored_share": g["sponsored"].mean(),
        "er_sponsored": g["er_s"].mean(), "er_organic": g["er_o"].mean(), "post_gap_stddev_days": g["gap"].std(),
    }).reset_index()
    v = posts[(posts["media_type"] == "video") & posts["er_views"].notna() & ~posts["is_pinned"]].sort_values(["published_at", "post_id"], ascending=False)
    v = v.groupby(key).head(video_window).groupby(key).agg(er_views_posts=("er_views", "size"), er_views_v=("er_views", "mean")).reset_index()
    h = posts[~posts["is_pinned"] & (posts["published_day"] > day - 180)].copy()
    h["recent"] = h["engagements"].where(h["published_day"] > day - 90)
    h["earlier"] = h["engagements"].where(h["published_day"] <= day - 90)
    h = h.groupby(key)[["recent", "earlier"]].mean().reset_index()
    wk = posts[posts["published_day"] > day - 91].assign(week=lambda x: (day - x["published_day"]) // 7).groupby(key)["week"].nunique().rename("active_weeks").reset_index()
    j = base.merge(stats, on=key, how="left").merge(v, on=key, how="left").merge(h, on=key, how="left").merge(wk, on=key, how="left")
    for c in ["posts", "er_followers_posts", "full_posts", "reach_posts", "er_views_posts", "active_weeks", "videos"]:
        j[c] = j[c].fillna(0)
    enough = lambda c: j[c] >= min_posts  # noqa: E731
    out = j[key + ["followers", "tier", "niche", "er_followers_posts", "er_views_posts", "growth_pct_7d", "growth_pct_30d", "growth_pct_90d", "velocity_30d",
                   "post_gap_stddev_days", "er_sponsored", "er_organic"]].copy()
    out["er_followers_mean"] = j["er_mean"].where(enough("er_followers_posts"))
    out["er_followers_median"] = j["er_median"].where(enough("er_followers_posts"))
    out["er_followers_full"] = j["er_full_v"].where(enough("full_posts"))
    out["er_views"] = j["er_views_v"].where(enough("er_views_posts"))
    out["er_reach"] = j["er_reach_v"].where(enough("reach_posts"))
    for c in ["avg_likes", "median_likes", "avg_comments", "median_comments"]:
        out[c] = j[c].where(enough("posts"))
    for c in ["avg_views", "median_views"]:
        out[c] = j[c].where(enough("videos"))
    out["posts_per_week"] = j["posts"] / (window / 7.0)
    out["engagement_growth_90d"] = (j["recent"] / j["earlier"] - 1).where(j["recent"].notna() & (j["earlier"] > 0))
    out["reach_rate"] = (j["mean_reach"] / j["followers"]).where(enough("reach_posts") & (j["followers"] > 0))
    video_first = (j["platform"] == "tiktok") | (j["videos"] * 2 > j["posts"])
    out["est_reach_per_post"] = j["avg_views"].where(video_first & enough("videos"), j["followers"] * j["reach_rate"])
    out["est_impressions"] = j["mean_impressions"].where(enough("reach_posts")).fillna(out["est_reach_per_post"])
    out["emv_usd"] = cpm * out["est_impressions"] / 1000
    out["consistency_13w"] = j["active_weeks"] / 13
    out["sponsored_share"] = j["sponsored_share"].where(j["posts"] > 0)
    metrics = out

    min_members = params["cohort_min_members"]
    ordinal = {t["tier"]: t["ordinal"] for t in tiers}
    labels = {t["ordinal"]: "+".join(u["tier"] for u in tiers if abs(u["ordinal"] - t["ordinal"]) <= 1) for t in tiers}
    m = metrics.assign(niche=metrics["niche"].fillna("unknown"), ordinal=metrics["tier"].map(ordinal))
    n0 = m.groupby(["platform", "niche", "tier", "ordinal"]).size().rename("n0").reset_index()
    n1 = m.groupby(["platform", "ordinal"]).size().rename("n1").reset_index()
    chosen = n0.merge(n1, on=["platform", "ordinal"])
    chosen["level"] = np.where(chosen["n0"] >= min_members, 0, np.where(chosen["n1"] >= min_members, 1, 2))
    cohorts = pd.DataFrame({
        "platform": chosen["platform"], "level": chosen["level"], "ordinal": chosen["ordinal"],
        "cohort_niche": np.where(chosen["level"] == 0, chosen["niche"], "*"),
        "cohort_tier": np.where(chosen["level"] == 2, chosen["ordinal"].map(labels), chosen["tier"]),
        "only_niche": chosen["niche"].where(chosen["level"] == 0),
    }).drop_duplicates()
    pairs = cohorts.merge(m, on="platform", suffixes=("", "_m"))
    keep = (pairs["only_niche"].isna() | (pairs["niche"] == pairs["only_niche"])) & np.where(
        pairs["level"] == 2, (pairs["ordinal_m"] - pairs["ordinal"]).abs() <= 1, pairs["ordinal_m"] == pairs["ordinal"])
    members = pairs[keep].drop_duplicates(["platform", "cohort_niche", "cohort_tier", "account_id"])
    long = members.melt(id_vars=["platform", "cohort_niche", "cohort_tier"], value_vars=METRICS, var_name="metric")
    long["value"] = long["value"].astype("float64")
    g = long.groupby(["platform", "cohort_niche", "cohort_tier", "metric"])["value"]
    benchmarks = pd.DataFrame({"members": g.count(), **{f"p{int(q * 100)}": g.quantile(q) for q in (0.1, 0.25, 0.5, 0.75, 0.9)}, "mean": g.mean()}).reset_index()
    seconds = time.perf_counter() - start
    import pyarrow as pa
    return seconds, pa.Table.from_pandas(metrics, preserve_index=False), pa.Table.from_pandas(benchmarks, preserve_index=False)


# ---- the checks -------------------------------------------------------------------------------

def check(lake, outputs):
    """Every engine's influencer metrics and benchmark p50s against the gold Analisa wrote."""
    import polars as pl
    from deltalake import DeltaTable
    gold = pl.read_parquet(DeltaTable(f"{lake}/gold/influencer_metrics").file_uris())
    gold = gold.filter(pl.col("as_of_date") == gold["as_of_date"].max())
    bench = pl.read_parquet(DeltaTable(f"{lake}/gold/benchmarks").file_uris())
    bench = bench.filter(pl.col("run_date") == bench["run_date"].max()).rename({"niche": "cohort_niche", "tier": "cohort_tier"})
    worst, percentiles = 0.0, 0.0
    for out in outputs:
        engine = Path(out).stem
        got = pl.read_parquet(f"{out}/metrics.parquet")
        joined = gold.join(got, on=["platform", "account_id"], suffix="_x")
        assert len(joined) == len(gold) == len(got), f"{engine}: {len(got)} influencers, Analisa {len(gold)}"
        for column in COMPARED:
            a, b = joined[column].cast(pl.Float64), joined[f"{column}_x"].cast(pl.Float64)
            assert (a.is_null() == b.is_null()).all(), f"{engine}: {column} is null for other influencers"
            diff = ((a - b).abs() / a.abs().clip(lower_bound=1e-12)).max() or 0.0
            worst = max(worst, diff)
            assert diff < 1e-9, f"{engine}: {column} differs by {diff:.3g}"
        got_b = pl.read_parquet(f"{out}/benchmarks.parquet")
        bj = bench.join(got_b, on=["platform", "cohort_niche", "cohort_tier", "metric"], suffix="_x")
        assert len(bj) == len(bench) == len(got_b), f"{engine}: {len(got_b)} benchmark rows, Analisa {len(bench)}"
        for column in ["members", "p10", "p25", "p50", "p75", "p90", "mean"]:
            a, b = bj[column].cast(pl.Float64), bj[f"{column}_x"].cast(pl.Float64)
            assert (a.is_null() == b.is_null()).all(), f"{engine}: benchmarks {column} is null for other cohorts"
            diff = ((a - b).abs() / a.abs().clip(lower_bound=1e-12)).max() or 0.0
            # DataFusion's percentile_cont rounds the interpolation weight down to 6 decimals.
            tolerance = 1e-6 if column.startswith("p") else 1e-9
            worst = max(worst, diff if tolerance == 1e-9 else 0.0)
            percentiles = max(percentiles, diff if tolerance == 1e-6 else 0.0)
            assert diff < tolerance, f"{engine}: benchmarks {column} differs by {diff:.3g}"
    print(f"{len(gold)} influencers and {len(bench)} benchmark rows agree in every engine: largest relative difference {worst:.2g}, "
          f"{percentiles:.2g} in percentiles (DataFusion rounds the interpolation weight to 6 decimals)")


def main():
    command = sys.argv[1]
    if command == "silver":
        make_silver(sys.argv[2], sys.argv[3])
    elif command == "run":
        engine, lake, sql_dir, out = sys.argv[2:6]
        as_of = dt.date.fromisoformat(sys.argv[6])
        files = silver_files(lake)
        if engine == "duckdb":
            seconds, metrics, benchmarks = run_duckdb(files, sql_dir, as_of)
        elif engine == "polars":
            seconds, metrics, benchmarks = run_polars(files, as_of)
        else:
            seconds, metrics, benchmarks = run_pandas(files, as_of)
        import pyarrow.parquet as pq
        Path(out).mkdir(parents=True, exist_ok=True)
        if "cohort_niche" not in benchmarks.column_names:
            benchmarks = benchmarks.rename_columns(["cohort_niche" if c == "niche" else "cohort_tier" if c == "tier" else c for c in benchmarks.column_names])
        pq.write_table(metrics, f"{out}/metrics.parquet")
        pq.write_table(benchmarks, f"{out}/benchmarks.parquet")
        print(json.dumps({"engine": engine, "seconds": seconds}), flush=True)
    elif command == "check":
        check(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown command {command}")
    sys.stdout.flush()
    # deltalake's threads can abort the interpreter at exit (delta-rs issue 2184).
    os._exit(0)


if __name__ == "__main__":
    main()
