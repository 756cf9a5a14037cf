//! What a user's SQL text may be, decided before anything is planned: one read-only query over
//! named relations, with `VERSION AS OF` / `TIMESTAMP AS OF` turned into names the gateway
//! registers (DataFusion's parser has no time-travel syntax, so the rewrite happens on the
//! statement's tokens, where strings and comments are already told apart from names).

use std::collections::BTreeSet;
use std::fmt;

use analisa_lake::{AsOf, CATALOG, Layer, TableId};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use datafusion::common::TableReference;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::resolve::resolve_table_references;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};

use super::SqlError;

/// A table read as it was at a version or time, under the name the rewrite gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub table: TableId,
    pub as_of: AsOf,
    /// The table name inside its layer's schema, e.g. `social_score@v12`.
    pub name: String,
}

/// A query that passed the textual checks: one read-only statement and the relations it names.
#[derive(Debug)]
pub struct Checked {
    pub statement: Statement,
    pub pins: Vec<Pin>,
    /// Relations named in the query (CTE names excluded), as written.
    pub relations: Vec<TableReference>,
}

/// Parses `sql` into one read-only query.
pub fn check(sql: &str) -> Result<Checked, SqlError> {
    let (text, pins) = rewrite_time_travel(sql)?;
    let mut statements = DFParser::parse_sql_with_dialect(&text, &GenericDialect {}).map_err(|e| SqlError::Syntax(e.to_string()))?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (None, _) => return Err(SqlError::Syntax("the query is empty".into())),
        (Some(_), false) => return Err(SqlError::NotReadOnly("send one statement at a time".into())),
        (Some(statement), true) => statement,
    };
    let (relations, _ctes) = resolve_table_references(&statement, true).map_err(|e| SqlError::Syntax(e.to_string()))?;
    match statement {
        DFStatement::Statement(inner) if matches!(*inner, Statement::Query(_)) => Ok(Checked { statement: *inner, pins, relations }),
        other => Err(SqlError::NotReadOnly(format!(
            "only a query (SELECT, WITH … SELECT, VALUES) can run here; {} is refused: the lake is read-only through SQL",
            kind_of(&other)
        ))),
    }
}

/// The first words of a statement, to name what was refused.
fn kind_of(statement: &DFStatement) -> String {
    match statement {
        DFStatement::CopyTo(_) => "COPY".into(),
        DFStatement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".into(),
        DFStatement::Explain(_) => "EXPLAIN".into(),
        other => other.to_string().split_whitespace().take(2).collect::<Vec<_>>().join(" ").to_uppercase(),
    }
}

/// Where a relation named in a query points.
#[derive(Debug, Clone, PartialEq)]
pub enum Relation {
    Table(TableId),
    Pinned(Pin),
    /// One of the gateway's views (`gold.leaderboard`): layer and name.
    View(Layer, String),
    /// `information_schema.tables` and friends, listing what the caller may see.
    InformationSchema,
    /// `generate_series(…)` / `range(…)`: numbers made on the fly (date spines, test data).
    Series,
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Table(id) => write!(f, "{id}"),
            Self::Pinned(pin) => write!(f, "{}.{}", pin.table.layer(), pin.name),
            Self::View(layer, name) => write!(f, "{layer}.{name}"),
            Self::InformationSchema => f.write_str("information_schema"),
            Self::Series => f.write_str("generate_series"),
        }
    }
}

impl Relation {
    pub fn layer(&self) -> Option<Layer> {
        match self {
            Self::Table(id) => Some(id.layer()),
            Self::Pinned(pin) => Some(pin.table.layer()),
            Self::View(layer, _) => Some(*layer),
            Self::InformationSchema | Self::Series => None,
        }
    }
}

/// Resolves a relation of the query against the catalogue, the pins and the views; the
/// default schema is gold.
pub fn resolve(reference: &TableReference, pins: &[Pin], views: &BTreeSet<(Layer, String)>) -> Result<Relation, SqlError> {
    let unknown = || SqlError::UnknownTable(reference.to_string());
    let (catalog, schema, table) = match reference {
        TableReference::Bare { table } if matches!(table.as_ref(), "generate_series" | "range") => return Ok(Relation::Series),
        TableReference::Bare { table } => (None, None, table.as_ref()),
        TableReference::Partial { schema, table } => (None, Some(schema.as_ref()), table.as_ref()),
        TableReference::Full { catalog, schema, table } => (Some(catalog.as_ref()), Some(schema.as_ref()), table.as_ref()),
    };
    if catalog.is_some_and(|c| c != CATALOG) {
        return Err(unknown());
    }
    let schema = schema.unwrap_or(Layer::Gold.as_str());
    if schema == "information_schema" {
        return match table {
            "tables" | "columns" | "views" | "schemata" => Ok(Relation::InformationSchema),
            _ => Err(unknown()),
        };
    }
    let layer = Layer::ALL.into_iter().find(|l| l.as_str() == schema).ok_or_else(unknown)?;
    if let Some(pin) = pins.iter().find(|p| p.table.layer() == layer && p.name == table) {
        return Ok(Relation::Pinned(pin.clone()));
    }
    if views.contains(&(layer, table.to_owned())) {
        return Ok(Relation::View(layer, table.to_owned()));
    }
    format!("{schema}.{table}").parse::<TableId>().map(Relation::Table).map_err(|_| unknown())
}

/// Turns `<table> VERSION AS OF <n>` and `<table> TIMESTAMP AS OF '<time>'` into a reference
/// to `<layer>."<table>@v<n>"` / `<layer>."<table>@<time>"`, and says which pins it made.
pub fn rewrite_time_travel(sql: &str) -> Result<(String, Vec<Pin>), SqlError> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize().map_err(|e| SqlError::Syntax(e.to_string()))?;
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut pins = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some((kind, value_at)) = as_of_clause(&tokens, i) else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        let (name_start, parts) = trailing_name(&out);
        if parts.is_empty() {
            return Err(SqlError::Syntax(format!("{kind} AS OF must follow a table name")));
        }
        let written = parts.join(".");
        let table = table_of(&parts).ok_or_else(|| SqlError::UnknownTable(format!("{written} (time travel works on lake tables only)")))?;
        let as_of = match (&tokens[value_at], kind) {
            (Token::Number(n, _), "VERSION") => AsOf::Version(n.parse().map_err(|_| SqlError::Syntax(format!("VERSION AS OF needs a whole number, not {n}")))?),
            (Token::SingleQuotedString(text), "TIMESTAMP") => AsOf::Timestamp(parse_instant(text)?),
            (other, "VERSION") => return Err(SqlError::Syntax(format!("VERSION AS OF needs a version number, not {other}"))),
            (other, _) => return Err(SqlError::Syntax(format!("TIMESTAMP AS OF needs a quoted time such as '2026-11-01T00:00:00Z', not {other}"))),
        };
        let name = match as_of {
            AsOf::Version(v) => format!("{}@v{v}", table.name()),
            AsOf::Timestamp(at) => format!("{}@{}", table.name(), at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            AsOf::Latest => unreachable!("only versions and times are parsed"),
        };
        out.truncate(name_start);
        out.push(Token::make_word(table.layer().as_str(), None));
        out.push(Token::Period);
        out.push(Token::make_word(&name, Some('"')));
        if !pins.iter().any(|p: &Pin| p.name == name && p.table == table) {
            pins.push(Pin { table, as_of, name });
        }
        i = value_at + 1;
    }
    Ok((out.iter().map(ToString::to_string).collect(), pins))
}

/// At `i`, `VERSION|TIMESTAMP AS OF <value>`: the keyword and the value's index.
fn as_of_clause(tokens: &[Token], i: usize) -> Option<(&'static str, usize)> {
    let kind = match &tokens[i] {
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("version") => "VERSION",
        Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("timestamp") => "TIMESTAMP",
        _ => return None,
    };
    let mut at = i + 1;
    for expected in ["as", "of"] {
        at = next_non_space(tokens, at)?;
        match &tokens[at] {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(expected) => at += 1,
            _ => return None,
        }
    }
    Some((kind, next_non_space(tokens, at)?))
}

fn next_non_space(tokens: &[Token], mut at: usize) -> Option<usize> {
    while matches!(tokens.get(at)?, Token::Whitespace(_)) {
        at += 1;
    }
    Some(at)
}

/// The dotted name at the end of `out` (after trailing whitespace): where it starts and its parts.
fn trailing_name(out: &[Token]) -> (usize, Vec<String>) {
    let mut end = out.len();
    while end > 0 && matches!(out[end - 1], Token::Whitespace(_)) {
        end -= 1;
    }
    let mut parts = Vec::new();
    let mut at = end;
    loop {
        match at.checked_sub(1).map(|p| &out[p]) {
            Some(Token::Word(Word { value, quote_style, .. })) => {
                parts.push(if quote_style.is_some() { value.clone() } else { value.to_lowercase() });
                at -= 1;
            }
            _ => break,
        }
        if at > 0 && out[at - 1] == Token::Period {
            at -= 1;
        } else {
            break;
        }
    }
    parts.reverse();
    (at, parts)
}

fn table_of(parts: &[String]) -> Option<TableId> {
    match parts {
        [table] => format!("gold.{table}").parse().ok(),
        [schema, table] => format!("{schema}.{table}").parse().ok(),
        [catalog, schema, table] if catalog == CATALOG => format!("{schema}.{table}").parse().ok(),
        _ => None,
    }
}

/// `2026-11-01T00:00:00Z`, `2026-11-01 00:00:00` (UTC) or `2026-11-01` (midnight UTC).
fn parse_instant(text: &str) -> Result<DateTime<Utc>, SqlError> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
        .map_err(|_| SqlError::Syntax(format!("TIMESTAMP AS OF '{text}' is not a time; write it like '2026-11-01T00:00:00Z'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_and_timestamp_clauses_become_pinned_names() {
        let (sql, pins) = rewrite_time_travel(
            "SELECT s.score FROM gold.social_score VERSION AS OF 12 s JOIN analisa.silver.posts TIMESTAMP AS OF '2026-11-01' p ON true -- VERSION AS OF 3",
        )
        .unwrap();
        assert_eq!(
            sql,
            r#"SELECT s.score FROM gold."social_score@v12" s JOIN silver."posts@2026-11-01T00:00:00Z" p ON true -- VERSION AS OF 3"#
        );
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0], Pin { table: TableId::SOCIAL_SCORE, as_of: AsOf::Version(12), name: "social_score@v12".into() });
        assert_eq!(pins[1].as_of, AsOf::Timestamp("2026-11-01T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn strings_and_columns_named_version_are_left_alone() {
        let text = "SELECT 'x VERSION AS OF 3' AS version, version AS of_ FROM gold.social_score";
        let (sql, pins) = rewrite_time_travel(text).unwrap();
        assert_eq!(sql, text);
        assert!(pins.is_empty());
    }

    #[test]
    fn bad_time_travel_is_a_clear_error() {
        assert!(matches!(rewrite_time_travel("SELECT * FROM gold.nope VERSION AS OF 1"), Err(SqlError::UnknownTable(t)) if t.contains("gold.nope")));
        assert!(matches!(rewrite_time_travel("SELECT * FROM gold.social_score VERSION AS OF 'x'"), Err(SqlError::Syntax(_))));
        assert!(matches!(rewrite_time_travel("SELECT * FROM gold.social_score TIMESTAMP AS OF 'yesterday'"), Err(SqlError::Syntax(m)) if m.contains("not a time")));
    }

    #[test]
    fn only_one_query_passes() {
        assert!(check("SELECT 1").is_ok());
        assert!(check("WITH t AS (SELECT 1 AS x) SELECT x FROM t").is_ok());
        for (sql, word) in [
            ("DROP TABLE gold.social_score", "DROP TABLE"),
            ("INSERT INTO gold.social_score VALUES (1)", "INSERT INTO"),
            ("DELETE FROM silver.posts", "DELETE FROM"),
            ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
            ("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'", "CREATE EXTERNAL TABLE"),
            ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
            ("SET datafusion.execution.batch_size = 1", "SET DATAFUSION.EXECUTION.BATCH_SIZE"),
        ] {
            match check(sql) {
                Err(SqlError::NotReadOnly(message)) => assert!(message.contains(word), "{sql}: {message}"),
                other => panic!("{sql} was not refused as a write: {other:?}"),
            }
        }
        assert!(matches!(check("SELECT 1; SELECT 2"), Err(SqlError::NotReadOnly(_))));
        assert!(matches!(check("SELEC 1"), Err(SqlError::Syntax(_))));
        assert!(matches!(check("  "), Err(SqlError::Syntax(_))));
    }

    #[test]
    fn relations_resolve_to_the_catalogue_views_and_pins() {
        let views = BTreeSet::from([(Layer::Gold, "leaderboard".to_owned())]);
        let checked = check("WITH x AS (SELECT * FROM social_score VERSION AS OF 2) SELECT * FROM x, silver.posts, gold.leaderboard, information_schema.tables, generate_series(1, 3)").unwrap();
        let mut resolved: Vec<String> = checked.relations.iter().map(|r| resolve(r, &checked.pins, &views).unwrap().to_string()).collect();
        resolved.sort();
        assert_eq!(resolved, ["generate_series", "gold.leaderboard", "gold.social_score@v2", "information_schema", "silver.posts"]);
        for unknown in ["SELECT * FROM other.gold.social_score", "SELECT * FROM gold.nope", "SELECT * FROM information_schema.df_settings", "SELECT * FROM read_csv('/etc/passwd')"] {
            let refused = check(unknown).map(|c| c.relations.iter().any(|r| resolve(r, &c.pins, &views).is_err()));
            assert!(refused.unwrap_or(true), "{unknown}");
        }
    }
}
