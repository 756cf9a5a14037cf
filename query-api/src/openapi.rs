//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::LazyLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{auth, influencers, lists, ops, orgs};

#[derive(OpenApi)]
#[openapi(
    info(title = "Analisa API", description = "Influencer analytics: public creator data, Social Score with its breakdown, and each organisation's private lists, campaigns and keys. Errors are RFC 7807 problem+json.", license(name = "Apache-2.0")),
    paths(
        ops::health, ops::ready,
        auth::register, auth::login, auth::refresh, auth::logout, auth::me,
        orgs::create, orgs::get, orgs::update, orgs::delete, orgs::members, orgs::change_role, orgs::remove_member,
        orgs::invite, orgs::invitations, orgs::revoke_invitation, orgs::accept,
        orgs::create_key, orgs::keys, orgs::revoke_key, orgs::connections, orgs::activity,
        influencers::search, influencers::profile, influencers::history, influencers::posts, influencers::compare,
        lists::lists, lists::create_list, lists::get_list, lists::rename_list, lists::delete_list, lists::add_to_list, lists::remove_from_list,
        lists::campaigns, lists::create_campaign, lists::get_campaign, lists::update_campaign, lists::delete_campaign, lists::add_to_campaign, lists::remove_from_campaign,
        lists::dispute, lists::disputes,
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Accounts, sign-in and tokens"),
        (name = "organisations", description = "Organisations, members, invitations, API keys, activity"),
        (name = "influencers", description = "Public creator data and flag disputes"),
        (name = "lists", description = "Tracked lists of an organisation"),
        (name = "campaigns", description = "Campaigns of an organisation"),
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
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn document_json() -> String {
    static JSON: LazyLock<String> = LazyLock::new(|| document().to_pretty_json().expect("the document serialises"));
    JSON.clone()
}
