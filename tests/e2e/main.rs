//! End-to-end tests through Caravan's public interfaces. One binary, so the host is linked
//! once; each module groups the tests for one concern.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_tenants;
mod ai_clients;
mod auth;
mod auth_limits;
mod conventions;
mod default_plugins;
mod email_parser_budget;
mod helpdesk;
mod inbound_email;
mod isolation;
mod knowledge;
mod object_storage;
mod outages;
mod outbound_email;
mod plugin_registry;
mod plugin_sandbox;
mod pricing;
mod quotes;
mod rate_limits;
mod row_level_security;
mod storage_conformance;
mod tenant_cache;
mod tickets;
mod users;
