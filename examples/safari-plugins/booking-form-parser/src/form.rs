//! Recognising the booking form's email and reading its `Field: value` lines.

/// The subject the website's form sends.
const SUBJECT: &str = "new booking request";

/// A form has every label even when the visitor leaves a field empty; fewer than this many
/// known labels means the email is something else that happens to share the subject.
const MIN_LABELS: usize = 3;

/// The form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Phone,
    Destination,
    Arrival,
    Departure,
    Adults,
    ChildrenAges,
    Budget,
    Notes,
}

impl Field {
    const ALL: [Field; 10] = [
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::Destination,
        Field::Arrival,
        Field::Departure,
        Field::Adults,
        Field::ChildrenAges,
        Field::Budget,
        Field::Notes,
    ];

    /// The label as the form writes it, lower-cased.
    fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Destination => "destination",
            Field::Arrival => "arrival",
            Field::Departure => "departure",
            Field::Adults => "adults",
            Field::ChildrenAges => "children ages",
            Field::Budget => "budget (usd)",
            Field::Notes => "notes",
        }
    }

    fn from_label(label: &str) -> Option<Field> {
        let label = collapse(label).to_lowercase();
        Field::ALL.into_iter().find(|f| f.label() == label)
    }
}

/// The fields found in a form email: each present label with its trimmed value (possibly
/// empty), first occurrence only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    values: Vec<(Field, String)>,
}

impl Form {
    /// The value of `field`; `None` when the label is absent or the value empty.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// How many of the form's labels were found.
    pub fn labels(&self) -> usize {
        self.values.len()
    }

    /// Whether this is what the booking form sends.
    pub fn is_booking_form(&self) -> bool {
        self.labels() >= MIN_LABELS
    }

    /// Reads `Field: value` lines. Lines after `Notes:` that are not a field continue the
    /// notes, up to a signature separator (`--`).
    pub fn read(body: &str) -> Self {
        let mut form = Form::default();
        let mut in_notes = false;
        for raw in body.lines() {
            let line = raw.trim();
            if line == "--" {
                in_notes = false;
                continue;
            }
            if let Some((field, value)) = split_field(line) {
                in_notes = field == Field::Notes;
                if !form.values.iter().any(|(f, _)| *f == field) {
                    form.values.push((field, collapse(value)));
                } else {
                    // A repeated label ends any notes; the first value wins.
                    in_notes = false;
                }
            } else if in_notes
                && !line.is_empty()
                && let Some((_, notes)) = form.values.iter_mut().find(|(f, _)| *f == Field::Notes)
            {
                if !notes.is_empty() {
                    notes.push(' ');
                }
                notes.push_str(&collapse(line));
            }
        }
        form
    }
}

/// Whether `subject` is the form's, ignoring case and surrounding spaces.
pub fn is_booking_subject(subject: &str) -> bool {
    collapse(subject).to_lowercase() == SUBJECT
}

/// `Label: value` with a known label.
fn split_field(line: &str) -> Option<(Field, &str)> {
    let (label, value) = line.split_once(':')?;
    Some((Field::from_label(label)?, value.trim()))
}

/// Runs of whitespace as one space, trimmed.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "Name: Amina Otieno\n\
        Email: Amina.Otieno@Example.com\n\
        Phone: +254 712 345 678\n\
        Destination: Mara\n\
        Arrival: 2027-08-10\n\
        Departure: 2027-08-17\n\
        Adults: 2\n\
        Children ages: 8, 5\n\
        Budget (USD): 9,500\n\
        Notes: Our first safari.\n\
        We would love a hot-air balloon ride.\n\
        --\n\
        Sent from the Sunbird Safaris website\n";

    #[test]
    fn every_field_of_the_form_is_read() {
        let form = Form::read(BODY);
        assert_eq!(form.labels(), 10);
        assert_eq!(form.get(Field::Name), Some("Amina Otieno"));
        assert_eq!(form.get(Field::Phone), Some("+254 712 345 678"));
        assert_eq!(form.get(Field::ChildrenAges), Some("8, 5"));
        assert_eq!(form.get(Field::Budget), Some("9,500"));
        assert!(form.is_booking_form());
    }

    #[test]
    fn notes_run_on_over_several_lines_until_the_signature() {
        let form = Form::read(BODY);
        assert_eq!(
            form.get(Field::Notes),
            Some("Our first safari. We would love a hot-air balloon ride.")
        );
    }

    #[test]
    fn labels_are_matched_without_regard_to_case_or_spacing() {
        let form = Form::read("NAME : Amina\n  children   AGES:  8\nbudget (usd): 100");
        assert_eq!(form.get(Field::Name), Some("Amina"));
        assert_eq!(form.get(Field::ChildrenAges), Some("8"));
        assert_eq!(form.get(Field::Budget), Some("100"));
    }

    #[test]
    fn an_empty_field_counts_as_a_label_but_has_no_value() {
        let form = Form::read("Name: Amina\nPhone:\nEmail: a@b.example");
        assert_eq!(form.labels(), 3);
        assert_eq!(form.get(Field::Phone), None);
    }

    #[test]
    fn the_first_of_a_repeated_field_wins() {
        let form = Form::read("Adults: 2\nAdults: 3");
        assert_eq!(form.get(Field::Adults), Some("2"));
    }

    #[test]
    fn prose_with_a_colon_is_not_a_form() {
        let form = Form::read("Hi there: we want to visit the Mara.\nThanks: Amina");
        assert_eq!(form.labels(), 0);
        assert!(!form.is_booking_form());
    }

    #[test]
    fn the_subject_must_be_the_form_subject() {
        assert!(is_booking_subject("New booking request"));
        assert!(is_booking_subject("  new  BOOKING request "));
        assert!(!is_booking_subject("Re: New booking request"));
        assert!(!is_booking_subject("New booking request received"));
    }
}
