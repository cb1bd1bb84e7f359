//! Turning a chosen rate into a quote option for the pricing plugin.

use caravan_sdk::{LineCost, QuoteLine, QuoteOption, Rate, ServiceType};

/// One accommodation option: the rate's nightly prices over the whole stay.
pub fn from_rate(rate: &Rate, nights: u32) -> QuoteOption {
    QuoteOption {
        title: rate.hotel_name.clone(),
        hotel_name: Some(rate.hotel_name.clone()),
        star_rating: rate.star_rating,
        room_type: Some(rate.room_type.clone()),
        meal_plan: Some(rate.meal_plan.clone()),
        lines: vec![QuoteLine {
            service: ServiceType::Accommodation,
            description: description(rate),
            nights,
            cost: LineCost::Nightly(rate.prices.clone()),
            rate_id: Some(rate.id.clone()),
        }],
    }
}

/// `Coral Cove Resort — Deluxe Suite (HB)`, leaving out what the rate does not say.
fn description(rate: &Rate) -> String {
    let hotel = rate.hotel_name.trim();
    let room = rate.room_type.trim();
    let meals = rate.meal_plan.trim();
    let mut text = hotel.to_owned();
    if !room.is_empty() {
        text.push_str(" — ");
        text.push_str(room);
    }
    if !meals.is_empty() {
        text.push_str(" (");
        text.push_str(meals);
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::rate;

    #[test]
    fn an_option_carries_the_rate_and_its_nightly_prices() {
        let mut r = rate("RATE-7", "Coral Cove Resort", "Zanzibar");
        r.room_type = "Deluxe Suite".into();
        r.meal_plan = "HB".into();
        let option = from_rate(&r, 7);
        assert_eq!(option.title, "Coral Cove Resort");
        assert_eq!(option.hotel_name.as_deref(), Some("Coral Cove Resort"));
        assert_eq!(option.star_rating, Some(4));
        assert_eq!(option.room_type.as_deref(), Some("Deluxe Suite"));
        assert_eq!(option.meal_plan.as_deref(), Some("HB"));
        let [line] = option.lines.as_slice() else {
            panic!("one line expected");
        };
        assert_eq!(line.service, ServiceType::Accommodation);
        assert_eq!(line.description, "Coral Cove Resort — Deluxe Suite (HB)");
        assert_eq!(line.nights, 7);
        assert_eq!(line.rate_id.as_deref(), Some("RATE-7"));
        assert_eq!(line.cost, LineCost::Nightly(r.prices.clone()));
    }

    #[test]
    fn a_rate_without_a_meal_plan_has_no_empty_brackets() {
        let mut r = rate("RATE-7", "Coral Cove Resort", "Zanzibar");
        r.room_type = "Deluxe Suite".into();
        r.meal_plan = " ".into();
        assert_eq!(
            from_rate(&r, 3).lines[0].description,
            "Coral Cove Resort — Deluxe Suite"
        );
    }
}
