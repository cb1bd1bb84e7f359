//! Caravan's built-in email parser.

use caravan_sdk::{EmailParser, InboundEmail, ParseOutcome, PluginError, TenantContext};

/// The built-in parser.
pub struct DefaultParser;

impl EmailParser for DefaultParser {
    fn parse(_email: InboundEmail, _tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
        Ok(ParseOutcome::NotAnEnquiry("not implemented".into()))
    }
}

caravan_sdk::export_email_parser!(DefaultParser);
