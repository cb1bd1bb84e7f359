//! A component exporting both the pricing and the email-parser interfaces: it implements
//! more than any single slot's world, so uploads to either slot must be refused.

use caravan_sdk::{
    EmailParser, InboundEmail, ParseOutcome, PluginError, PricedQuote, Pricing, PricingRequest,
    TenantContext,
};

/// Prices nothing.
pub struct Both;

impl Pricing for Both {
    fn price(request: PricingRequest, _tenant: TenantContext) -> Result<PricedQuote, PluginError> {
        Err(PluginError::new("unused", request.quote_currency))
    }
}

impl EmailParser for Both {
    fn parse(_email: InboundEmail, _tenant: TenantContext) -> Result<ParseOutcome, PluginError> {
        Ok(ParseOutcome::NotAnEnquiry("unused".into()))
    }
}

caravan_sdk::export_pricing!(Both);
caravan_sdk::export_email_parser!(Both);
