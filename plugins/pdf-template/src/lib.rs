//! Caravan's built-in PDF template: lays out quotes and invoices as blocks for the host's
//! PDF engine (A4 portrait), in the tenant's colours.

mod format;
mod invoice;
mod quote;
mod style;

use caravan_sdk::{Document, DocumentKind, DocumentRequest, PdfTemplate, PluginError};

/// The built-in template.
#[derive(Debug)]
pub struct DefaultTemplate;

impl PdfTemplate for DefaultTemplate {
    fn render(request: DocumentRequest) -> Result<Document, PluginError> {
        Ok(match request.kind {
            DocumentKind::Quote => quote::layout(request),
            DocumentKind::Invoice => invoice::layout(request),
        })
    }
}

caravan_sdk::export_pdf_template!(DefaultTemplate);

// Each call runs in a fresh instance that is discarded afterwards, and this plugin keeps most
// of what it allocates (its answer): an arena spares the call the allocator's bookkeeping.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: caravan_sdk::Arena = caravan_sdk::Arena::new();
