//! The built-in help guide (H2, H3): short topics on using Caravan, searchable by word.

use serde::Serialize;

/// One guide topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub icon: &'static str,
}

/// Every topic, in the order the guide shows them.
pub const TOPICS: &[Topic] = &[
    Topic {
        id: "quotes",
        name: "Quotes",
        description: "Generate, edit, send and resend quotes; quote PDFs and their public links.",
        icon: "file-text",
    },
    Topic {
        id: "inbound",
        name: "Inbound enquiries",
        description: "How enquiry emails become tickets and automatic quotes, and how to reply.",
        icon: "inbox",
    },
    Topic {
        id: "pricing",
        name: "Rates and pricing",
        description: "Import hotel rates from CSV, seasons, meal plans and markups.",
        icon: "dollar-sign",
    },
    Topic {
        id: "crm",
        name: "Clients and pipeline",
        description: "Client records, pipeline stages, activities and follow-ups.",
        icon: "users",
    },
    Topic {
        id: "invoices",
        name: "Invoices and payments",
        description: "Convert quotes to invoices, record payments and banking details.",
        icon: "credit-card",
    },
    Topic {
        id: "knowledge",
        name: "Knowledge base",
        description: "Upload documents (txt, md, pdf, docx) so the helpdesk can answer from them.",
        icon: "book-open",
    },
    Topic {
        id: "notifications",
        name: "Notifications",
        description: "What triggers a notification and how to choose which ones you receive by email.",
        icon: "bell",
    },
    Topic {
        id: "settings",
        name: "Settings and branding",
        description: "Company details, logo, colours, email sender and team members.",
        icon: "settings",
    },
];

/// Topics whose name or description contains every word of `query` (case-insensitive);
/// the first three when none does.
pub fn search(query: &str) -> Vec<Topic> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty())
        .collect();
    let matching: Vec<Topic> = TOPICS
        .iter()
        .filter(|t| {
            let text = format!("{} {} {}", t.id, t.name, t.description).to_lowercase();
            !words.is_empty() && words.iter().all(|w| text.contains(w.as_str()))
        })
        .copied()
        .collect();
    if matching.is_empty() {
        TOPICS.iter().take(3).copied().collect()
    } else {
        matching
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_found_by_words_of_their_description() {
        let found = search("CSV rates");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "pricing");
    }

    #[test]
    fn an_unmatched_query_returns_the_first_three_topics() {
        assert_eq!(search("zzz").len(), 3);
        assert_eq!(search("").len(), 3);
    }
}
