//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::LazyLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::PROBLEM_JSON;
use crate::routes::{auth, connections, identities, influencers, lists, ops, orgs, reports, sql};

#[derive(OpenApi)]
#[openapi(
    info(title = "Analisa API", description = "Influencer analytics: public creator data, Social Score with its breakdown, and each organisation's private lists, campaigns and keys. Errors are RFC 7807 problem+json.", license(name = "Apache-2.0")),
    paths(
        ops::health, ops::ready,
        auth::register, auth::login, auth::refresh, auth::logout, auth::me,
        identities::begin_social_sign_in, identities::social_sign_in, identities::list_identities, identities::begin_link_identity, identities::link_identity, identities::unlink_identity,
        orgs::create, orgs::get, orgs::update, orgs::delete, orgs::members, orgs::change_role, orgs::remove_member,
        orgs::invite, orgs::invitations, orgs::revoke_invitation, orgs::accept,
        orgs::create_key, orgs::keys, orgs::revoke_key, orgs::activity,
        connections::list, connections::begin, connections::complete, connections::disconnect,
        influencers::search, influencers::profile, influencers::history, influencers::posts, influencers::compare,
        lists::lists, lists::create_list, lists::get_list, lists::rename_list, lists::delete_list, lists::add_to_list, lists::remove_from_list,
        lists::campaigns, lists::create_campaign, lists::get_campaign, lists::update_campaign, lists::delete_campaign, lists::add_to_campaign, lists::remove_from_campaign,
        lists::dispute, lists::disputes,
        sql::query,
        reports::list, reports::create, reports::update, reports::delete, reports::run_now, reports::runs, reports::download,
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Accounts, sign-in and tokens"),
        (name = "organisations", description = "Organisations, members, invitations, API keys, activity"),
        (name = "connections", description = "Platform accounts an organisation connects (OAuth), never their tokens"),
        (name = "influencers", description = "Public creator data and flag disputes"),
        (name = "lists", description = "Tracked lists of an organisation"),
        (name = "campaigns", description = "Campaigns of an organisation"),
        (name = "reports", description = "Report definitions, runs and signed downloads of an organisation"),
        (name = "sql", description = "Read-only SQL over the lake (also over Arrow Flight SQL)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()));
        components.add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))));
        let problem = |description: &str| {
            ResponseBuilder::new().description(description).content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build()).build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                // Errors are problem+json, whatever the annotation's default content type.
                for response in responses.values_mut() {
                    if let RefOr::T(response) = response
                        && response.content.get("application/json").is_some_and(|c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")))
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response.content.insert(PROBLEM_JSON.into(), content);
                    }
                }
                if operation.tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t == "operations")) {
                    continue;
                }
                // Every signed-in route can be rate limited, and every route can meet a
                // database that is away.
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    responses.entry("429".into()).or_insert_with(|| RefOr::T(problem("Too Many Requests: the caller's plan limit; see Retry-After")));
                }
                responses.entry("503".into()).or_insert_with(|| RefOr::T(problem("Service Unavailable: the database is unreachable")));
                // A body that is not `application/json` is refused before the handler runs.
                if operation.request_body.is_some() {
                    responses.entry("415".into()).or_insert_with(|| RefOr::T(problem("Unsupported Media Type: the body must be application/json")));
                }
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn document_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| document().to_pretty_json().expect("the document serialises"));
    JSON.clone()
}
