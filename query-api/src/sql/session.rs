//! The session one query runs in, made for its caller: the tables their role may read, each
//! organisation's private rows filtered to the caller's organisation, our views, and the
//! pinned versions the query asked for.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use analisa_lake::{CATALOG, Lake, Layer, LoadedTable, TableId};
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::logical_expr::{Expr, LogicalPlan, col, in_subquery, lit, not_in_subquery};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::resolve::resolve_table_references;

use uuid::Uuid;

use super::statement::{Pin, Relation};
use super::{Caller, SqlError, least_role};
use crate::ids::Role;

/// The lake's tables as last loaded, and each caller's session over them: shared by every
/// query until a table changes.
#[derive(Clone)]
pub struct Snapshot {
    pub tables: Arc<Vec<LoadedTable>>,
    pub loaded_at: Instant,
    sessions: Arc<Mutex<BTreeMap<(Uuid, Role), Arc<CallerSession>>>>,
}

/// Sessions kept per snapshot at most; beyond it they are all let go and made again as asked.
const MAX_SESSIONS: usize = 256;

impl Snapshot {
    pub fn new(tables: Vec<LoadedTable>) -> Self {
        Self { tables: Arc::new(tables), loaded_at: Instant::now(), sessions: Arc::default() }
    }

    /// This snapshot, looked at again just now: kept whole (sessions too) when `tables` are the
    /// same tables at the same versions, replaced by them otherwise.
    pub fn refreshed(&self, tables: Vec<LoadedTable>) -> Self {
        let key = |t: &LoadedTable| (t.id(), t.version());
        if self.tables.iter().map(key).eq(tables.iter().map(key)) {
            Self { loaded_at: Instant::now(), ..self.clone() }
        } else {
            Self::new(tables)
        }
    }

    /// The session of `caller` over every table and view they may read, made on first use:
    /// registering the tables, their row policies and the views costs more than planning most
    /// queries, and it is the same for every query of an organisation and role.
    pub async fn session_of(&self, lake: &Lake, views: &Views, caller: &Caller, memory_limit: u64) -> Result<Arc<CallerSession>, SqlError> {
        let key = (caller.org_id, caller.role);
        if let Some(session) = self.sessions.lock().expect("session cache lock").get(&key) {
            return Ok(session.clone());
        }
        // Made outside the lock: two first queries may both make one, and one is kept.
        let session = Arc::new(for_caller(lake, self, &[], views, caller, memory_limit, &Needs::Everything).await?);
        let mut sessions = self.sessions.lock().expect("session cache lock");
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        Ok(sessions.entry(key).or_insert(session).clone())
    }
}

/// One of our views: named questions over the lake, defined in `sql/catalog/<layer>.<name>.sql`.
struct View {
    layer: Layer,
    name: String,
    sql: &'static str,
    /// The lake tables it reads, for the versions a query reports.
    reads: Vec<TableId>,
}

/// The views every session gets, with the tables each reads.
pub struct Views {
    views: Vec<View>,
    names: BTreeSet<(Layer, String)>,
}

const VIEW_FILES: [(&str, &str); 3] = [
    ("gold.leaderboard", include_str!("../../../sql/catalog/gold.leaderboard.sql")),
    ("gold.latest_metrics", include_str!("../../../sql/catalog/gold.latest_metrics.sql")),
    ("gold.latest_benchmarks", include_str!("../../../sql/catalog/gold.latest_benchmarks.sql")),
];

impl Views {
    pub fn load() -> Self {
        let views: Vec<View> = VIEW_FILES
            .iter()
            .map(|(qualified, sql)| {
                let (layer, name) = qualified.split_once('.').expect("view files are named layer.name");
                let layer = Layer::ALL.into_iter().find(|l| l.as_str() == layer).expect("view files are named after a layer");
                let statement = DFParser::parse_sql(sql).ok().and_then(|mut s| s.pop_front()).unwrap_or_else(|| panic!("view {qualified} does not parse"));
                let (relations, _) = resolve_table_references(&statement, true).unwrap_or_else(|e| panic!("view {qualified}: {e}"));
                let reads = relations.iter().map(|r| format!("{}.{}", r.schema().unwrap_or("gold"), r.table()).parse().unwrap_or_else(|_| panic!("view {qualified} reads {r}, not a lake table"))).collect();
                View { layer, name: name.to_owned(), sql, reads }
            })
            .collect();
        let names = views.iter().map(|v| (v.layer, v.name.clone())).collect();
        Self { views, names }
    }

    pub fn names(&self) -> &BTreeSet<(Layer, String)> {
        &self.names
    }
}

/// A caller's session and the version behind each name in it.
pub struct CallerSession {
    pub ctx: SessionContext,
    versions: BTreeMap<TableId, u64>,
    pinned: BTreeMap<String, u64>,
}

impl CallerSession {
    /// The same session for one query, with a memory pool of its own.
    pub fn for_query(&self, memory_limit: u64) -> Result<Self, SqlError> {
        let ctx = analisa_lake::with_own_pool(&self.ctx, memory_limit).map_err(SqlError::from_lake)?;
        Ok(Self { ctx, versions: self.versions.clone(), pinned: self.pinned.clone() })
    }

    /// The lake versions a relation of the query reads.
    pub fn versions_of(&self, relation: &Relation, views: &Views) -> Vec<(String, u64)> {
        match relation {
            Relation::Table(id) => self.versions.get(id).map(|v| vec![(id.to_string(), *v)]).unwrap_or_default(),
            Relation::Pinned(pin) => {
                let name = format!("{}.{}", pin.table.layer(), pin.name);
                self.pinned.get(&name).map(|v| vec![(name, *v)]).unwrap_or_default()
            }
            Relation::View(layer, name) => views
                .views
                .iter()
                .filter(|v| v.layer == *layer && v.name == *name)
                .flat_map(|v| v.reads.iter().filter_map(|id| self.versions.get(id).map(|version| (id.to_string(), *version))))
                .collect(),
            Relation::InformationSchema | Relation::Series => Vec::new(),
        }
    }
}

fn reference(layer: Layer, name: &str) -> TableReference {
    TableReference::full(CATALOG, layer.as_str(), name)
}

/// What a session must hold: everything (to list the catalogue), or only what one query reads.
/// Registering a table or planning a view costs as much as planning a small query, so a query
/// gets just its own.
pub enum Needs {
    Everything,
    Only { tables: BTreeSet<TableId>, views: BTreeSet<(Layer, String)> },
}

impl Needs {
    /// The tables and views `reads` names, the tables those views read, and the tables the
    /// row policies of all of them (pinned versions too) look up.
    pub fn of(reads: &[Relation], views: &Views) -> Self {
        let (mut tables, mut named, mut pinned) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
        for relation in reads {
            match relation {
                Relation::Table(id) => {
                    tables.insert(*id);
                }
                Relation::Pinned(pin) => pinned.push(pin.table),
                Relation::View(layer, name) => {
                    named.insert((*layer, name.clone()));
                    tables.extend(views.views.iter().filter(|v| v.layer == *layer && v.name == *name).flat_map(|v| v.reads.iter().copied()));
                }
                Relation::InformationSchema => return Self::Everything,
                Relation::Series => {}
            }
        }
        let lookups: Vec<TableId> = tables.iter().chain(&pinned).flat_map(|id| RowPolicy::lookups(*id).iter().copied()).collect();
        tables.extend(lookups);
        Self::Only { tables, views: named }
    }

    fn table(&self, id: TableId) -> bool {
        match self {
            Self::Everything => true,
            Self::Only { tables, .. } => tables.contains(&id),
        }
    }

    fn view(&self, view: &View) -> bool {
        match self {
            Self::Everything => true,
            Self::Only { views, .. } => views.contains(&(view.layer, view.name.clone())),
        }
    }
}

/// Builds the session of one query.
pub async fn for_caller(lake: &Lake, snapshot: &Snapshot, pins: &[Pin], views: &Views, caller: &Caller, memory_limit: u64, needs: &Needs) -> Result<CallerSession, SqlError> {
    let ctx = lake.bounded_context(memory_limit).map_err(SqlError::from_lake)?;
    let datafusion = |e| SqlError::from_datafusion(e, memory_limit);
    let mut raw: BTreeMap<TableId, Arc<dyn TableProvider>> = BTreeMap::new();
    let mut versions = BTreeMap::new();
    for table in snapshot.tables.iter().filter(|t| needs.table(t.id())) {
        raw.insert(table.id(), table.provider(&ctx).await.map_err(SqlError::from_lake)?);
        versions.insert(table.id(), table.version());
    }
    let policy = RowPolicy::new(&ctx, &raw, &caller.org_id.to_string()).map_err(datafusion)?;
    for (&id, provider) in &raw {
        ctx.register_table(reference(id.layer(), id.name()), policy.apply(&ctx, id, provider.clone()).map_err(datafusion)?).map_err(datafusion)?;
    }
    let mut pinned = BTreeMap::new();
    for pin in pins {
        let table = lake.load_table(pin.table, pin.as_of).await.map_err(SqlError::from_lake)?;
        let provider = table.provider(&ctx).await.map_err(SqlError::from_lake)?;
        ctx.register_table(reference(pin.table.layer(), &pin.name), policy.apply(&ctx, pin.table, provider).map_err(datafusion)?).map_err(datafusion)?;
        pinned.insert(format!("{}.{}", pin.table.layer(), pin.name), table.version());
    }
    // Views are planned while every table is registered; their plans hold the (filtered)
    // tables themselves, so they keep working once the tables the role may not read are gone.
    for view in views.views.iter().filter(|v| needs.view(v)) {
        if view.reads.iter().all(|id| raw.contains_key(id)) {
            let create = format!("CREATE VIEW {CATALOG}.{}.{} AS {}", view.layer, view.name, view.sql);
            ctx.sql(&create).await.map_err(|e| SqlError::Internal(format!("view {}.{}: {e}", view.layer, view.name)))?;
        }
    }
    for &id in raw.keys().filter(|id| caller.role < least_role(id.layer())) {
        ctx.deregister_table(reference(id.layer(), id.name())).map_err(datafusion)?;
    }
    Ok(CallerSession { ctx, versions, pinned })
}

/// Which rows of a table an organisation may see. Public data is shared; first-party data
/// (connected accounts' insights, their raw answers and webhook deliveries) belongs to the
/// organisation that connected the account.
struct RowPolicy {
    org: String,
    /// Accounts this organisation connected.
    ours: Option<LogicalPlan>,
    /// Accounts other organisations connected.
    theirs: Option<LogicalPlan>,
    /// GA4 properties this organisation connected.
    our_properties: Option<LogicalPlan>,
}

impl RowPolicy {
    fn new(ctx: &SessionContext, raw: &BTreeMap<TableId, Arc<dyn TableProvider>>, org: &str) -> datafusion::error::Result<Self> {
        let accounts = |filter: Expr| -> datafusion::error::Result<Option<LogicalPlan>> {
            raw.get(&TableId::ACCOUNTS)
                .map(|t| Ok(ctx.read_table(t.clone())?.filter(filter)?.select(vec![col("account_id")])?.into_unoptimized_plan()))
                .transpose()
        };
        let our_properties = raw
            .get(&TableId::INSIGHTS)
            .map(|t| -> datafusion::error::Result<LogicalPlan> {
                Ok(ctx.read_table(t.clone())?.filter(col("platform").eq(lit("ga4")).and(col("org_id").eq(lit(org))))?.select(vec![col("account_id")])?.into_unoptimized_plan())
            })
            .transpose()?;
        Ok(Self {
            org: org.to_owned(),
            ours: accounts(col("org_id").eq(lit(org)))?,
            theirs: accounts(col("org_id").is_not_null().and(col("org_id").not_eq(lit(org))))?,
            our_properties,
        })
    }

    /// The tables `predicate` looks up for a table's rows.
    fn lookups(id: TableId) -> &'static [TableId] {
        match id {
            TableId::POST_METRICS | TableId::INSTAGRAM_RAW | TableId::FACEBOOK_RAW | TableId::TIKTOK_RAW | TableId::TIKTOK_BUSINESS_RAW | TableId::WEBHOOK_EVENTS => &[TableId::ACCOUNTS],
            TableId::GA4_RAW => &[TableId::INSIGHTS],
            _ => &[],
        }
    }

    fn predicate(&self, id: TableId) -> Option<Expr> {
        let ours = |column: &str| self.ours.clone().map_or(lit(false), |p| in_subquery(col(column), Arc::new(p)));
        let not_theirs = |column: &str| self.theirs.clone().map_or(lit(true), |p| not_in_subquery(col(column), Arc::new(p)));
        match id {
            TableId::ACCOUNTS => Some(col("org_id").is_null().or(col("org_id").eq(lit(self.org.as_str())))),
            TableId::INSIGHTS => Some(col("org_id").eq(lit(self.org.as_str()))),
            TableId::POST_METRICS => Some(col("source").not_eq(lit("insights")).or(ours("account_id"))),
            TableId::INSTAGRAM_RAW | TableId::FACEBOOK_RAW | TableId::TIKTOK_RAW | TableId::TIKTOK_BUSINESS_RAW => Some(not_theirs("account_ref")),
            TableId::GA4_RAW => Some(self.our_properties.clone().map_or(lit(false), |p| in_subquery(col("account_ref"), Arc::new(p)))),
            TableId::WEBHOOK_EVENTS => Some(ours("account_ref")),
            _ => None,
        }
    }

    fn apply(&self, ctx: &SessionContext, id: TableId, provider: Arc<dyn TableProvider>) -> datafusion::error::Result<Arc<dyn TableProvider>> {
        match self.predicate(id) {
            Some(predicate) => Ok(ctx.read_table(provider)?.filter(predicate)?.into_view()),
            None => Ok(provider),
        }
    }
}
