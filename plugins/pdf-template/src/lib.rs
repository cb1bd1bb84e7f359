//! Caravan's built-in PDF template.

use caravan_sdk::{Document, DocumentRequest, PdfTemplate, PluginError};

/// The built-in template.
pub struct DefaultTemplate;

impl PdfTemplate for DefaultTemplate {
    fn render(request: DocumentRequest) -> Result<Document, PluginError> {
        Ok(Document {
            title: request.reference,
            blocks: vec![],
            footer: None,
        })
    }
}

caravan_sdk::export_pdf_template!(DefaultTemplate);
