//! The tenant's colours made safe to use, and the few text styles the layouts share.

use caravan_sdk::{Align, Block, Branding, Text};

/// Used when the tenant's colour is not `#RRGGBB`.
pub const DEFAULT_PRIMARY: &str = "#1F3A5F";
pub const BLACK: &str = "#000000";
pub const WHITE: &str = "#FFFFFF";
pub const GREY: &str = "#666666";

/// Text sizes in points (the host accepts 6–36).
pub const TITLE: u8 = 24;
pub const HEADING: u8 = 14;
pub const SUBHEADING: u8 = 11;
pub const BODY: u8 = 10;
pub const SMALL: u8 = 8;

/// Colours for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    pub primary: String,
    /// Text that reads on `primary`.
    pub on_primary: String,
    /// A light wash of `primary` for panels.
    pub panel: String,
}

impl Palette {
    pub fn of(branding: &Branding) -> Self {
        let primary = color(&branding.primary_color).unwrap_or_else(|| DEFAULT_PRIMARY.into());
        let rgb = rgb(&primary).unwrap_or((0x1F, 0x3A, 0x5F));
        Self {
            on_primary: readable_on(rgb).into(),
            panel: tint(rgb, 90),
            primary,
        }
    }
}

/// `#RRGGBB` in upper case, or `None` when `text` is not such a colour.
pub fn color(text: &str) -> Option<String> {
    let text = text.trim();
    rgb(text).map(|_| text.to_ascii_uppercase())
}

fn rgb(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some((channel(0)?, channel(2)?, channel(4)?))
}

/// Black on light colours, white on dark ones (perceived brightness, ITU-R BT.601).
fn readable_on((r, g, b): (u8, u8, u8)) -> &'static str {
    let brightness = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    if brightness > 150_000 { BLACK } else { WHITE }
}

/// The colour mixed with `white_percent` % white.
fn tint((r, g, b): (u8, u8, u8), white_percent: u32) -> String {
    let mix = |c: u8| (u32::from(c) * (100 - white_percent) + 255 * white_percent + 50) / 100;
    format!("#{:02X}{:02X}{:02X}", mix(r), mix(g), mix(b))
}

/// A bold heading.
pub fn heading(content: impl Into<String>, size: u8, color: Option<&str>) -> Block {
    Block::Heading(Text {
        content: content.into(),
        size,
        bold: true,
        color: color.map(str::to_owned),
        align: Align::Left,
    })
}

/// Body text.
pub fn paragraph(content: impl Into<String>) -> Block {
    Block::Paragraph(Text {
        content: content.into(),
        size: BODY,
        bold: false,
        color: None,
        align: Align::Left,
    })
}

/// Small grey centred text for closing remarks.
pub fn note(content: impl Into<String>) -> Block {
    Block::Paragraph(Text {
        content: content.into(),
        size: SMALL,
        bold: false,
        color: Some(GREY.into()),
        align: Align::Center,
    })
}

/// `Company · email · phone · website`, printed at the foot of every page.
pub fn contact_line(branding: &Branding) -> String {
    let mut parts = vec![branding.company_name.trim()];
    for item in [
        &branding.support_email,
        &branding.support_phone,
        &branding.website,
    ]
    .into_iter()
    .flatten()
    {
        if !item.trim().is_empty() {
            parts.push(item.trim());
        }
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rrggbb_colours_are_accepted() {
        assert_eq!(color("#c8102e").as_deref(), Some("#C8102E"));
        assert_eq!(color(" #C8102E ").as_deref(), Some("#C8102E"));
        for bad in ["C8102E", "#C8102", "#C8102EE", "#GG102E", "red", ""] {
            assert_eq!(color(bad), None, "{bad}");
        }
    }

    #[test]
    fn text_on_the_primary_colour_stays_readable() {
        assert_eq!(readable_on((0xC8, 0x10, 0x2E)), WHITE);
        assert_eq!(readable_on((0xFF, 0xD7, 0x00)), BLACK);
    }

    #[test]
    fn panels_are_a_light_wash_of_the_primary_colour() {
        assert_eq!(tint((0xC8, 0x10, 0x2E), 90), "#FAE7EA");
        assert_eq!(tint((0, 0, 0), 100), "#FFFFFF");
    }
}
