//! Arrow Flight SQL: the lake for ADBC and JDBC clients, pandas and polars, through the same
//! SQL gateway as `/v1/sql` (same checks, limits, visibility and audit).
//!
//! Credentials are the HTTP API's: `authorization: Bearer <access token or API key>` on every
//! call, or a Basic handshake whose password is one of them (the answer carries the bearer
//! header the client then sends). `x-analisa-org` names the organisation for users who belong
//! to several. Statement and prepared-statement handles carry the SQL itself, so any server
//! instance can answer the ticket, and it is checked again for whoever presents it. The plan
//! made for a statement's FlightInfo is handed to the DoGet that follows on the same instance
//! (see [`HandOff`]), so a query is planned once, not once per call.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult, Any, CommandGetCatalogs,
    CommandGetDbSchemas, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery, CommandStatementQuery,
    DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::{Stream, TryStreamExt};
use prost::Message;
use std::sync::LazyLock;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use crate::error::ApiError;
use crate::ids::Role;
use crate::sql::{Caller, Channel, Gateway, Planned, SqlError};
use crate::state::AppState;

pub type FlightSqlServer = FlightServiceServer<FlightSql>;

/// The Flight SQL service of an API with a lake.
pub fn server(state: &AppState) -> Option<FlightSqlServer> {
    let gateway = state.sql.clone()?;
    Some(FlightServiceServer::new(FlightSql { state: state.clone(), gateway, hand_off: Arc::default() }))
}

#[derive(Clone)]
pub struct FlightSql {
    state: AppState,
    gateway: Arc<Gateway>,
    hand_off: Arc<HandOff>,
}

/// Plans made for one call and not run yet, for the caller's next call with the same SQL: a
/// client asks GetFlightInfo (which must plan, for the schema) and then DoGet with its ticket,
/// and the second plan was ~5 % of a small query's work (B6's profile). A plan is taken once,
/// and only by the same caller (organisation, role, credential's holder) within a minute of
/// being made; otherwise the ticket's SQL is planned afresh, as on another instance. The rows
/// then come from the table versions the announced schema was planned on.
struct HandOff<P = Planned> {
    kept_for: Duration,
    plans: Mutex<HashMap<HandOffKey, Kept<P>>>,
}

/// A plan and when it was made: its minute counts from then, however often it is handed on.
struct Kept<P> {
    made: Instant,
    plan: P,
}

impl<P> Kept<P> {
    fn new(plan: P) -> Self {
        Self { made: Instant::now(), plan }
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct HandOffKey {
    org_id: Uuid,
    role: Role,
    actor: String,
    sql: String,
}

impl HandOffKey {
    fn new(caller: &Caller, sql: &str) -> Self {
        Self { org_id: caller.org_id, role: caller.role, actor: caller.actor.clone(), sql: sql.to_owned() }
    }

    fn same_caller(&self, other: &Self) -> bool {
        (self.org_id, self.role, &self.actor) == (other.org_id, other.role, &other.actor)
    }
}

impl<P> Default for HandOff<P> {
    fn default() -> Self {
        Self { kept_for: Duration::from_secs(60), plans: Mutex::default() }
    }
}

impl<P> HandOff<P> {
    /// Plans kept at most, and per caller: a client that asks for FlightInfo and never fetches
    /// (or fetches from another instance) pushes out its own oldest plans, not everyone's.
    const MOST: usize = 1024;
    const MOST_PER_CALLER: usize = 16;

    fn keep(&self, caller: &Caller, sql: &str, kept: Kept<P>) {
        let key = HandOffKey::new(caller, sql);
        // Declared before the lock's guard, so let go of after it: a plan may hold the last
        // reference to an old snapshot.
        let mut released: Vec<Kept<P>> = Vec::new();
        let mut plans = self.plans.lock().expect("hand-off lock");
        released.extend(plans.extract_if(|_, kept| kept.made.elapsed() >= self.kept_for).map(|(_, kept)| kept));
        let oldest = |plans: &HashMap<HandOffKey, Kept<P>>, of_caller: bool| {
            plans.iter().filter(|(other, _)| !of_caller || other.same_caller(&key)).min_by_key(|(_, kept)| kept.made).map(|(other, _)| other.clone())
        };
        if !plans.contains_key(&key) {
            if plans.keys().filter(|other| other.same_caller(&key)).count() >= Self::MOST_PER_CALLER {
                released.extend(oldest(&plans, true).and_then(|other| plans.remove(&other)));
            }
            if plans.len() >= Self::MOST {
                released.extend(oldest(&plans, false).and_then(|other| plans.remove(&other)));
            }
        }
        released.extend(plans.insert(key, kept));
    }

    fn take(&self, caller: &Caller, sql: &str) -> Option<Kept<P>> {
        let kept = self.plans.lock().expect("hand-off lock").remove(&HandOffKey::new(caller, sql))?;
        (kept.made.elapsed() < self.kept_for).then_some(kept)
    }
}

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send + 'static>>;

static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "Analisa");
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    builder.append(SqlInfo::FlightSqlServerReadOnly, true);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(SqlInfo::FlightSqlServerTransaction, 0_i32);
    builder.append(SqlInfo::FlightSqlServerCancel, false);
    builder.build().expect("static SQL info builds")
});

impl FlightSql {
    /// Who is calling: the bearer credential (or `x-api-key`) and the organisation header.
    async fn caller(&self, metadata: &MetadataMap) -> Result<Caller, Status> {
        let credential = bearer(metadata).ok_or_else(|| Status::unauthenticated("present `authorization: Bearer <access token or API key>`, or hand-shake with one as the password"))?;
        let principal = crate::auth::principal_for(&self.state, &credential).await.map_err(status)?;
        if let Some(limit) = crate::ratelimit::take(&self.state, &principal).await
            && limit.remaining < 0
        {
            return Err(Status::resource_exhausted(format!("rate limit of the {} plan reached; retry in {} s", principal.plan().as_str(), limit.retry_after_secs)));
        }
        let org = match metadata.get("x-analisa-org") {
            Some(value) => Some(value.to_str().ok().and_then(|v| v.trim().parse::<Uuid>().ok()).ok_or_else(|| Status::invalid_argument("x-analisa-org must be an organisation id"))?),
            None => None,
        };
        crate::rbac::sql_caller(&self.state, &principal, org).await.map_err(status)
    }

    /// `sql` planned for the caller: the plan an earlier call of theirs left, or a new one.
    async fn planned(&self, metadata: &MetadataMap, sql: &str) -> Result<(Caller, Kept<Planned>), Status> {
        let caller = self.caller(metadata).await?;
        let kept = match self.hand_off.take(&caller, sql) {
            Some(kept) => kept,
            None => Kept::new(self.gateway.plan(&caller, sql, None, Channel::FlightSql).await.map_err(sql_status)?),
        };
        Ok((caller, kept))
    }

    async fn flight_info(&self, sql: &str, metadata: &MetadataMap, ticket: Ticket, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
        let (caller, kept) = self.planned(metadata, sql).await?;
        let info = FlightInfo::new()
            .try_with_schema(&kept.plan.schema())
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_descriptor(descriptor);
        self.hand_off.keep(&caller, sql, kept);
        Ok(Response::new(info))
    }

    async fn run(&self, sql: &str, metadata: &MetadataMap) -> Result<Response<DoGetStream>, Status> {
        let (_, kept) = self.planned(metadata, sql).await?;
        let stream = self.gateway.execute(kept.plan);
        let schema = stream.schema();
        let batches = stream.map_err(|e| FlightError::Tonic(Box::new(sql_status(e))));
        let encoded = FlightDataEncoderBuilder::new().with_schema(schema).build(batches).map_err(Status::from);
        Ok(Response::new(Box::pin(encoded)))
    }

    /// A metadata answer: one batch.
    fn one_batch(schema: SchemaRef, batch: Result<RecordBatch, impl std::fmt::Display>) -> Result<Response<DoGetStream>, Status> {
        let batch = batch.map_err(|e| Status::internal(e.to_string()))?;
        let stream = FlightDataEncoderBuilder::new().with_schema(schema).build(futures::stream::once(async { Ok(batch) })).map_err(Status::from);
        Ok(Response::new(Box::pin(stream)))
    }

    fn metadata_info(message: &impl ProstMessageExt, schema: &arrow::datatypes::Schema, descriptor: FlightDescriptor) -> Result<Response<FlightInfo>, Status> {
        let ticket = Ticket::new(message.as_any().encode_to_vec());
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }
}

fn bearer(metadata: &MetadataMap) -> Option<String> {
    let header = metadata.get("authorization").and_then(|v| v.to_str().ok());
    header
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|v| v.trim().to_owned())
        .or_else(|| metadata.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

fn status(error: ApiError) -> Status {
    match error {
        ApiError::BadRequest(m) => Status::invalid_argument(m),
        ApiError::Unauthenticated(m) => Status::unauthenticated(m),
        ApiError::Forbidden(m) => Status::permission_denied(m),
        ApiError::NotFound(m) | ApiError::Gone(m) => Status::not_found(m),
        ApiError::Conflict(m) => Status::aborted(m),
        ApiError::NotAcceptable(m) => Status::invalid_argument(m),
        ApiError::QueryLimit(m) => Status::resource_exhausted(m),
        ApiError::TooManyRequests { detail, .. } => Status::resource_exhausted(detail),
        ApiError::Unavailable(m) | ApiError::BadGateway(m) => Status::unavailable(m),
        ApiError::Internal(cause) => {
            tracing::error!(%cause, "internal error in Flight SQL");
            Status::internal("an internal error occurred; it has been logged")
        }
    }
}

fn sql_status(error: SqlError) -> Status {
    match error {
        SqlError::TimeLimit(_) => Status::deadline_exceeded(error.to_string()),
        other => status(ApiError::from(other)),
    }
}

fn utf8(bytes: &[u8], what: &str) -> Result<String, Status> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Status::invalid_argument(format!("the {what} is not valid")))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn do_handshake(&self, request: Request<Streaming<HandshakeRequest>>) -> Result<Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>, Status> {
        let metadata = request.metadata();
        let credential = match metadata.get("authorization").and_then(|v| v.to_str().ok()) {
            Some(basic) if basic.starts_with("Basic ") => {
                let decoded = STANDARD.decode(basic.trim_start_matches("Basic ").trim()).ok().and_then(|b| String::from_utf8(b).ok());
                let (_, password) = decoded.as_deref().and_then(|d| d.split_once(':')).ok_or_else(|| Status::invalid_argument("malformed Basic credentials"))?;
                password.to_owned()
            }
            _ => bearer(metadata).ok_or_else(|| Status::unauthenticated("hand-shake with Basic credentials whose password is an API key or access token"))?,
        };
        crate::auth::principal_for(&self.state, &credential).await.map_err(status)?;
        let bearer = MetadataValue::try_from(format!("Bearer {credential}")).map_err(|_| Status::invalid_argument("the credential is not a valid header value"))?;
        let output = futures::stream::iter([Ok(HandshakeResponse { protocol_version: 0, payload: Default::default() })]);
        let mut response: Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>> = Response::new(Box::pin(output));
        response.metadata_mut().insert("authorization", bearer);
        Ok(response)
    }

    async fn get_flight_info_statement(&self, query: CommandStatementQuery, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let ticket = Ticket::new(TicketStatementQuery { statement_handle: query.query.clone().into_bytes().into() }.as_any().encode_to_vec());
        self.flight_info(&query.query, request.metadata(), ticket, request.get_ref().clone()).await
    }

    async fn do_get_statement(&self, ticket: TicketStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let sql = utf8(&ticket.statement_handle, "statement handle")?;
        self.run(&sql, request.metadata()).await
    }

    async fn do_action_create_prepared_statement(&self, query: ActionCreatePreparedStatementRequest, request: Request<arrow_flight::Action>) -> Result<ActionCreatePreparedStatementResult, Status> {
        let (caller, kept) = self.planned(request.metadata(), &query.query).await?;
        let IpcMessage(schema) = SchemaAsIpc::new(&kept.plan.schema(), &IpcWriteOptions::default()).try_into().map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        self.hand_off.keep(&caller, &query.query, kept);
        Ok(ActionCreatePreparedStatementResult { prepared_statement_handle: query.query.into_bytes().into(), dataset_schema: schema, parameter_schema: Default::default() })
    }

    async fn do_action_close_prepared_statement(&self, _query: ActionClosePreparedStatementRequest, _request: Request<arrow_flight::Action>) -> Result<(), Status> {
        // Handles carry their SQL: nothing is held on the server.
        Ok(())
    }

    async fn get_flight_info_prepared_statement(&self, query: CommandPreparedStatementQuery, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        let sql = utf8(&query.prepared_statement_handle, "prepared statement handle")?;
        let ticket = Ticket::new(query.as_any().encode_to_vec());
        self.flight_info(&sql, request.metadata(), ticket, request.get_ref().clone()).await
    }

    async fn do_get_prepared_statement(&self, query: CommandPreparedStatementQuery, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let sql = utf8(&query.prepared_statement_handle, "prepared statement handle")?;
        self.run(&sql, request.metadata()).await
    }

    async fn do_put_prepared_statement_query(&self, _query: CommandPreparedStatementQuery, _request: Request<PeekableFlightDataStream>) -> Result<DoPutPreparedStatementResult, Status> {
        Err(Status::unimplemented("bound parameters are not supported; write the values into the query"))
    }

    async fn get_flight_info_catalogs(&self, query: CommandGetCatalogs, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder().schema();
        Self::metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_catalogs(&self, query: CommandGetCatalogs, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.caller(request.metadata()).await?;
        let mut builder = query.into_builder();
        builder.append(analisa_lake::CATALOG);
        Self::one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_schemas(&self, query: CommandGetDbSchemas, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder().schema();
        Self::metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_schemas(&self, query: CommandGetDbSchemas, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let mut builder = query.into_builder();
        for layer in analisa_lake::Layer::ALL.into_iter().filter(|&l| caller.role >= crate::sql::least_role(l)) {
            builder.append(analisa_lake::CATALOG, layer.as_str());
        }
        Self::one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_tables(&self, query: CommandGetTables, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder().schema();
        Self::metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_tables(&self, query: CommandGetTables, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        let caller = self.caller(request.metadata()).await?;
        let listed = self.gateway.catalogue(&caller).await.map_err(sql_status)?;
        let mut builder = query.into_builder();
        for table in &listed {
            builder.append(analisa_lake::CATALOG, table.layer.as_str(), &table.name, table.kind, &table.schema).map_err(|e| Status::internal(e.to_string()))?;
        }
        Self::one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_table_types(&self, query: CommandGetTableTypes, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.into_builder().schema();
        Self::metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_table_types(&self, query: CommandGetTableTypes, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.caller(request.metadata()).await?;
        let mut builder = query.into_builder();
        builder.append("TABLE");
        builder.append("VIEW");
        Self::one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_sql_info(&self, query: CommandGetSqlInfo, request: Request<FlightDescriptor>) -> Result<Response<FlightInfo>, Status> {
        self.caller(request.metadata()).await?;
        let schema = query.clone().into_builder(&SQL_INFO).schema();
        Self::metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_sql_info(&self, query: CommandGetSqlInfo, request: Request<Ticket>) -> Result<Response<DoGetStream>, Status> {
        self.caller(request.metadata()).await?;
        let builder = query.into_builder(&SQL_INFO);
        Self::one_batch(builder.schema(), builder.build())
    }

    async fn do_get_fallback(&self, _request: Request<Ticket>, message: Any) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        Err(Status::unimplemented(format!("{} is not offered by this read-only server", message.type_url)))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(org_id: Uuid, role: Role, actor: &str) -> Caller {
        Caller { org_id, role, actor: actor.to_owned() }
    }

    fn taken(hand_off: &HandOff<usize>, caller: &Caller, sql: &str) -> Option<usize> {
        hand_off.take(caller, sql).map(|kept| kept.plan)
    }

    #[test]
    fn a_plan_is_handed_once_and_only_to_the_caller_it_was_made_for() {
        let hand_off = HandOff::default();
        let (org, other_org) = (Uuid::new_v4(), Uuid::new_v4());
        let analyst = caller(org, Role::Analyst, "user:a");
        hand_off.keep(&analyst, "SELECT 1", Kept::new(7));
        for stranger in [caller(other_org, Role::Analyst, "user:a"), caller(org, Role::Viewer, "user:a"), caller(org, Role::Analyst, "user:b")] {
            assert_eq!(taken(&hand_off, &stranger, "SELECT 1"), None, "{stranger:?} must plan for themselves");
        }
        assert_eq!(taken(&hand_off, &analyst, "SELECT 2"), None, "another statement");
        assert_eq!(taken(&hand_off, &analyst, "SELECT 1"), Some(7));
        assert_eq!(taken(&hand_off, &analyst, "SELECT 1"), None, "taken once");
    }

    #[test]
    fn a_plan_s_minute_counts_from_when_it_was_made_however_often_it_is_handed_on() {
        let hand_off = HandOff::default();
        let analyst = caller(Uuid::new_v4(), Role::Analyst, "user:a");
        let made = Instant::now().checked_sub(Duration::from_secs(61)).expect("the clock has run for a minute");
        hand_off.keep(&analyst, "SELECT 1", Kept { made, plan: 7 });
        assert_eq!(taken(&hand_off, &analyst, "SELECT 1"), None);
        // Handed on (taken and kept again, as GetFlightInfo does after creating a prepared
        // statement), it keeps its age.
        hand_off.keep(&analyst, "SELECT 2", Kept::new(8));
        let kept = hand_off.take(&analyst, "SELECT 2").expect("fresh");
        let made = kept.made;
        hand_off.keep(&analyst, "SELECT 2", kept);
        assert_eq!(hand_off.take(&analyst, "SELECT 2").map(|kept| kept.made), Some(made));
    }

    #[test]
    fn a_caller_who_never_fetches_pushes_out_only_their_own_plans() {
        let hand_off = HandOff::default();
        let org = Uuid::new_v4();
        let (greedy, other) = (caller(org, Role::Analyst, "user:greedy"), caller(org, Role::Analyst, "user:other"));
        hand_off.keep(&other, "SELECT 0", Kept::new(0));
        for n in 1..=HandOff::<usize>::MOST_PER_CALLER + 5 {
            hand_off.keep(&greedy, &format!("SELECT {n}"), Kept::new(n));
        }
        let theirs = hand_off.plans.lock().unwrap().keys().filter(|key| key.actor == "user:greedy").count();
        assert_eq!(theirs, HandOff::<usize>::MOST_PER_CALLER);
        assert_eq!(taken(&hand_off, &greedy, "SELECT 1"), None, "their oldest went first");
        let newest = HandOff::<usize>::MOST_PER_CALLER + 5;
        assert_eq!(taken(&hand_off, &greedy, &format!("SELECT {newest}")), Some(newest));
        assert_eq!(taken(&hand_off, &other, "SELECT 0"), Some(0), "another caller's plan stays");
    }

    #[test]
    fn plans_never_fetched_do_not_pile_up() {
        let hand_off = HandOff::default();
        let org = Uuid::new_v4();
        let most = HandOff::<usize>::MOST;
        for n in 0..most + 10 {
            hand_off.keep(&caller(org, Role::Analyst, &format!("user:{n}")), "SELECT 1", Kept::new(n));
        }
        assert_eq!(hand_off.plans.lock().unwrap().len(), most);
        assert_eq!(taken(&hand_off, &caller(org, Role::Analyst, "user:0"), "SELECT 1"), None, "the oldest went first");
        assert_eq!(taken(&hand_off, &caller(org, Role::Analyst, "user:11"), "SELECT 1"), Some(11), "the rest stay");
        assert_eq!(taken(&hand_off, &caller(org, Role::Analyst, &format!("user:{}", most + 9)), "SELECT 1"), Some(most + 9));
    }
}
