//! The one PDF renderer: turns the layout a pdf-template plugin returns
//! ([`documents::Document`]) into an A4 PDF.
//!
//! Blocks are placed top to bottom inside 18 mm margins and pages break where they must:
//! paragraphs between lines, tables between rows (repeating their header), key-value lists
//! between pairs; banners, images and panels move whole to the next page (a panel taller
//! than a page is split). Every page gets the document footer and "Page N of M".
//!
//! Text uses the built-in Helvetica faces with WinAnsi encoding, so it stays extractable
//! and no font is embedded; the `text` submodule reduces any other character to an ASCII
//! spelling or `?` and measures with the fonts' widths. printpdf only draws operations, so
//! wrapping, tables and page breaks are done here.
//!
//! Rendering is synchronous and CPU-bound (measured in a debug build: about half a
//! millisecond for a two-page quote, about 15 ms for a 500-row table), so async callers
//! should still run it with `spawn_blocking`.

mod logo;
mod text;

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, RawImage, Rect, Rgb, TextItem, XObjectId,
    XObjectTransform,
};

use crate::plugins::bindings::documents;
use text::Face;

/// Images the host holds for the tenant, by the key `image` blocks use.
#[derive(Clone, Copy, Default)]
pub struct Images<'a> {
    /// PNG or JPEG bytes, shown by `image` blocks with the key `logo`.
    pub logo: Option<&'a [u8]>,
}

impl std::fmt::Debug for Images<'_> {
    // The bytes themselves are noise in a log line; their size is what helps.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Images")
            .field("logo", &self.logo.map(|b| format!("{} bytes", b.len())))
            .finish()
    }
}

/// Why a document could not be rendered. Messages name the field or image at fault.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// A colour that is not `#RRGGBB` (the plugin output validator refuses these first).
    #[error("{field}: `{value}` is not a #RRGGBB colour")]
    InvalidColor { field: String, value: String },
    /// Image bytes that are neither PNG nor JPEG.
    #[error("image `{key}` is not a PNG or JPEG file")]
    UnsupportedImage { key: String },
    /// A PNG or JPEG that cannot be decoded.
    #[error("image `{key}` could not be decoded: {reason}")]
    UndecodableImage { key: String, reason: String },
    /// An image whose pixel count exceeds [`MAX_IMAGE_PIXELS`].
    #[error(
        "image `{key}` is {width}x{height} pixels; at most {MAX_IMAGE_PIXELS} pixels are accepted"
    )]
    ImageTooLarge {
        key: String,
        width: u32,
        height: u32,
    },
    /// printpdf reported an error while writing the file.
    #[error("writing the PDF failed: {0}")]
    Printpdf(String),
}

/// Largest image accepted, in pixels (about 100 MB once decoded to RGBA).
pub const MAX_IMAGE_PIXELS: u64 = 25_000_000;

/// Points per millimetre.
const MM: f32 = 72.0 / 25.4;
/// A4 portrait, in points.
const PAGE_WIDTH: f32 = 210.0 * MM;
const PAGE_HEIGHT: f32 = 297.0 * MM;
const MARGIN: f32 = 18.0 * MM;
const LEFT: f32 = MARGIN;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - MARGIN;
/// Content stops at the bottom margin; the footer lives inside the margin, below it.
const BOTTOM: f32 = MARGIN;
/// Height available to content on an empty page.
const PAGE_ROOM: f32 = TOP - BOTTOM;

/// Body text size for key-value lists, in points.
const BODY_SIZE: f32 = 10.0;
const TABLE_SIZE: f32 = 9.0;
const CELL_PADDING: f32 = 4.0;
/// Table cells wrap up to this many lines and are cut with an ellipsis beyond, so one
/// runaway cell cannot make a row taller than a page.
const MAX_CELL_LINES: usize = 6;
const FOOTER_SIZE: f32 = 8.0;
/// Room a heading wants below it for the text it introduces, so it is not left alone at
/// the foot of a page.
const KEEP_WITH_NEXT: f32 = 2.0 * BODY_SIZE * 1.3;

const BLACK: Rgb8 = Rgb8(0, 0, 0);
const WHITE: Rgb8 = Rgb8(0xFF, 0xFF, 0xFF);
const FOOTER_GREY: Rgb8 = Rgb8(0x66, 0x66, 0x66);
const RULE_GREY: Rgb8 = Rgb8(0xBB, 0xBB, 0xBB);
const CELL_BORDER: Rgb8 = Rgb8(0xC8, 0xC8, 0xC8);
const STRIPE: Rgb8 = Rgb8(0xF2, 0xF3, 0xF5);

/// Renders `doc` to PDF bytes.
///
/// Errors: [`PdfError::InvalidColor`] for a colour that is not `#RRGGBB`; the image errors
/// when an `image` block refers to a logo that is given but cannot be used (a logo that is
/// not given is skipped); [`PdfError::Printpdf`] if serialisation reports an error.
/// Out-of-range sizes, spacers, widths and ragged table rows are clamped or padded rather
/// than refused, since the host validates plugin output before it gets here.
pub fn render(doc: &documents::Document, images: &Images<'_>) -> Result<Vec<u8>, PdfError> {
    let mut renderer = Renderer {
        pdf: PdfDocument::new(&doc.title),
        images: *images,
        logo: None,
        page: Page::default(),
        pages: Vec::new(),
    };
    for (i, block) in doc.blocks.iter().enumerate() {
        renderer.block(block, &format!("blocks[{i}]"))?;
    }
    renderer.finish(doc.footer.as_deref())
}

/// An sRGB colour as the documents spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rgb8(u8, u8, u8);

impl Rgb8 {
    /// `#RRGGBB` (either case), or an error naming `field`.
    fn parse(field: &str, value: &str) -> Result<Self, PdfError> {
        let invalid = || PdfError::InvalidColor {
            field: field.to_owned(),
            value: value.to_owned(),
        };
        let hex = value.strip_prefix('#').ok_or_else(invalid)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let channel = |i: usize| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(invalid)
        };
        Ok(Self(channel(0)?, channel(2)?, channel(4)?))
    }

    fn parse_or(field: &str, value: Option<&str>, default: Self) -> Result<Self, PdfError> {
        value.map_or(Ok(default), |v| Self::parse(field, v))
    }

    fn color(self) -> Color {
        let unit = |c: u8| f32::from(c) / 255.0;
        Color::Rgb(Rgb::new(unit(self.0), unit(self.1), unit(self.2), None))
    }

    /// Black or white, whichever reads on this colour (perceived brightness, ITU-R BT.601),
    /// for text the layout gives no colour of its own (table headers, panels).
    fn readable_text(self) -> Self {
        let brightness =
            299 * u32::from(self.0) + 587 * u32::from(self.1) + 114 * u32::from(self.2);
        if brightness > 150_000 { BLACK } else { WHITE }
    }
}

fn mm(points: f32) -> Mm {
    Mm(points / MM)
}

/// Baseline of a line of text `size` points high set in a line box `line_height` high whose
/// top is `top`: the glyphs (Helvetica ascender 0.718 em, descender 0.207 em) are centred
/// in the box.
fn baseline(top: f32, line_height: f32, size: f32) -> f32 {
    top - (line_height - 0.925 * size) / 2.0 - 0.718 * size
}

/// Left edge of something `width` wide aligned inside `[left, left + room]`.
fn aligned(align: documents::Align, left: f32, room: f32, width: f32) -> f32 {
    match align {
        documents::Align::Left => left,
        documents::Align::Center => left + (room - width).max(0.0) / 2.0,
        documents::Align::Right => left + (room - width).max(0.0),
    }
}

fn font(face: Face) -> PdfFontHandle {
    PdfFontHandle::Builtin(match face {
        Face::Regular => BuiltinFont::Helvetica,
        Face::Bold => BuiltinFont::HelveticaBold,
    })
}

/// The page being filled: its drawing operations and the cursor.
#[derive(Debug)]
struct Page {
    ops: Vec<Op>,
    /// Top of the free space, in points from the bottom edge.
    y: f32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            ops: Vec::new(),
            y: TOP,
        }
    }
}

impl Page {
    /// Nothing placed yet (not even space): breaking to a new page would win no room and
    /// only leave this one blank.
    fn fresh(&self) -> bool {
        self.y >= TOP
    }

    fn room(&self) -> f32 {
        self.y - BOTTOM
    }

    /// Moves the cursor down, never below the bottom margin.
    fn advance(&mut self, height: f32) {
        self.y = (self.y - height).max(BOTTOM);
    }

    fn text(&mut self, x: f32, baseline: f32, content: &str, face: Face, size: f32, color: Rgb8) {
        if content.is_empty() {
            return;
        }
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: font(face),
                size: Pt(size),
            },
            Op::SetFillColor { col: color.color() },
            // In a fresh text object the text matrix is the identity, so this relative
            // move is an absolute position.
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(x),
                    y: Pt(baseline),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(content.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    fn rect(&mut self, x: f32, bottom: f32, width: f32, height: f32, mode: PaintMode) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(bottom),
                width: Pt(width),
                height: Pt(height),
                mode: Some(mode),
                winding_order: None,
            },
        });
    }

    fn fill(&mut self, x: f32, bottom: f32, width: f32, height: f32, color: Rgb8) {
        self.ops.push(Op::SetFillColor { col: color.color() });
        self.rect(x, bottom, width, height, PaintMode::Fill);
    }

    fn stroke_color(&mut self, color: Rgb8, thickness: f32) {
        self.ops.push(Op::SetOutlineColor { col: color.color() });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, color: Rgb8, thickness: f32) {
        self.stroke_color(color, thickness);
        let point = |x: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![point(x1), point(x2)],
                is_closed: false,
            },
        });
    }
}

/// A logo added to the document once, however many blocks show it.
#[derive(Debug, Clone)]
struct PlacedImage {
    id: XObjectId,
    width: u32,
    height: u32,
}

/// One line of a panel: its text, face, size and the space it takes.
#[derive(Debug)]
struct PanelLine {
    text: String,
    face: Face,
    size: f32,
    /// Extra space above the line (separates the footer from the lines).
    gap: f32,
    height: f32,
}

#[derive(Debug)]
struct Renderer<'a> {
    pdf: PdfDocument,
    images: Images<'a>,
    logo: Option<PlacedImage>,
    page: Page,
    pages: Vec<Vec<Op>>,
}

impl Renderer<'_> {
    fn new_page(&mut self) {
        let done = std::mem::take(&mut self.page);
        self.pages.push(done.ops);
    }

    /// Starts a new page unless `height` fits below the cursor (or this page is still
    /// empty, where breaking would not win any room).
    fn ensure(&mut self, height: f32) {
        if height > self.page.room() && !self.page.fresh() {
            self.new_page();
        }
    }

    /// Space between blocks; dropped at the top of a page, where it would only push the
    /// content down.
    fn gap(&mut self, height: f32) {
        if !self.page.fresh() {
            self.page.advance(height);
        }
    }

    fn block(&mut self, block: &documents::Block, field: &str) -> Result<(), PdfError> {
        match block {
            documents::Block::Banner(banner) => self.banner(banner, field),
            documents::Block::Heading(t) => self.text_block(t, field, true),
            documents::Block::Paragraph(t) => self.text_block(t, field, false),
            documents::Block::KeyValues(pairs) => {
                self.key_values(pairs);
                Ok(())
            }
            documents::Block::Table(table) => self.table(table, field),
            documents::Block::Panel(panel) => self.panel(panel, field),
            documents::Block::Image(image) => self.image(image),
            documents::Block::Spacer(points) => {
                // The WIT allows 1–200 points; more would only ever mean "next page".
                self.page.advance((*points).min(200) as f32);
                Ok(())
            }
            documents::Block::Rule(color) => {
                let color = Rgb8::parse(field, color)?;
                self.ensure(8.0);
                self.gap(4.0);
                let y = self.page.y;
                self.page.hline(LEFT, LEFT + CONTENT_WIDTH, y, color, 1.0);
                self.page.advance(8.0);
                Ok(())
            }
            documents::Block::PageBreak => {
                if !self.page.fresh() {
                    self.new_page();
                }
                Ok(())
            }
        }
    }

    fn banner(&mut self, banner: &documents::Banner, field: &str) -> Result<(), PdfError> {
        const PADDING: f32 = 12.0;
        const TITLE: f32 = 20.0;
        const SUBTITLE: f32 = 11.0;
        let background = Rgb8::parse(&format!("{field}.background"), &banner.background)?;
        let foreground = Rgb8::parse(&format!("{field}.foreground"), &banner.foreground)?;
        let inner = CONTENT_WIDTH - 2.0 * PADDING;
        let title_lines = text::limit(
            text::wrap(&text::clean(&banner.title, false), Face::Bold, TITLE, inner),
            3,
            Face::Bold,
            TITLE,
            inner,
        );
        let subtitle_lines = banner.subtitle.as_deref().map_or_else(Vec::new, |s| {
            let lines = text::wrap(&text::clean(s, false), Face::Regular, SUBTITLE, inner);
            text::limit(lines, 2, Face::Regular, SUBTITLE, inner)
        });
        let title_height = TITLE * 1.2;
        let subtitle_height = SUBTITLE * 1.3;
        let mut height = 2.0 * PADDING + title_lines.len() as f32 * title_height;
        if !subtitle_lines.is_empty() {
            height += 4.0 + subtitle_lines.len() as f32 * subtitle_height;
        }
        self.ensure(height);
        let top = self.page.y;
        self.page
            .fill(LEFT, top - height, CONTENT_WIDTH, height, background);
        let mut y = top - PADDING;
        for line in &title_lines {
            let base = baseline(y, title_height, TITLE);
            self.page
                .text(LEFT + PADDING, base, line, Face::Bold, TITLE, foreground);
            y -= title_height;
        }
        y -= 4.0;
        for line in &subtitle_lines {
            let base = baseline(y, subtitle_height, SUBTITLE);
            self.page.text(
                LEFT + PADDING,
                base,
                line,
                Face::Regular,
                SUBTITLE,
                foreground,
            );
            y -= subtitle_height;
        }
        self.page.advance(height);
        self.page.advance(10.0);
        Ok(())
    }

    /// Headings and paragraphs: wrapped to the content width, broken across pages between
    /// lines. A heading keeps some room below it so it does not end a page.
    fn text_block(
        &mut self,
        t: &documents::Text,
        field: &str,
        heading: bool,
    ) -> Result<(), PdfError> {
        let color = Rgb8::parse_or(&format!("{field}.color"), t.color.as_deref(), BLACK)?;
        let size = f32::from(t.size.clamp(6, 36));
        let face = if t.bold { Face::Bold } else { Face::Regular };
        let lines = text::wrap(&text::clean(&t.content, true), face, size, CONTENT_WIDTH);
        if lines.is_empty() {
            return Ok(());
        }
        let line_height = size * if heading { 1.2 } else { 1.3 };
        if heading {
            self.gap(size * 0.6);
            self.ensure(lines.len() as f32 * line_height + KEEP_WITH_NEXT);
        }
        for line in &lines {
            self.ensure(line_height);
            let top = self.page.y;
            let width = text::width(line, face, size);
            let x = aligned(t.align, LEFT, CONTENT_WIDTH, width);
            self.page
                .text(x, baseline(top, line_height, size), line, face, size, color);
            self.page.advance(line_height);
        }
        self.page.advance(if heading { size * 0.3 } else { 4.0 });
        Ok(())
    }

    /// `Key: value` lines: keys bold in a column as wide as the widest key (up to a third of
    /// the width), values wrapped beside them.
    fn key_values(&mut self, pairs: &[documents::KeyValue]) {
        const GAP: f32 = 8.0;
        const MAX_VALUE_LINES: usize = 40;
        let size = BODY_SIZE;
        let line_height = size * 1.35;
        let keys: Vec<String> = pairs
            .iter()
            .map(|p| {
                let key = text::clean(p.key.trim(), false);
                if key.is_empty() || key.ends_with(':') {
                    key
                } else {
                    format!("{key}:")
                }
            })
            .collect();
        let widest = keys
            .iter()
            .map(|k| text::width(k, Face::Bold, size))
            .fold(0.0, f32::max);
        let key_width = widest.min(CONTENT_WIDTH / 3.0);
        let value_left = LEFT + key_width + GAP;
        let value_width = CONTENT_WIDTH - key_width - GAP;
        for (pair, key) in pairs.iter().zip(&keys) {
            let value = text::clean(&pair.value, true);
            let mut lines = text::wrap(&value, Face::Regular, size, value_width);
            lines = text::limit(lines, MAX_VALUE_LINES, Face::Regular, size, value_width);
            let height = lines.len().max(1) as f32 * line_height;
            self.ensure(height);
            let top = self.page.y;
            let key = text::fit(key, Face::Bold, size, key_width);
            let base = baseline(top, line_height, size);
            self.page.text(LEFT, base, &key, Face::Bold, size, BLACK);
            for (i, line) in lines.iter().enumerate() {
                let base = baseline(top - i as f32 * line_height, line_height, size);
                self.page
                    .text(value_left, base, line, Face::Regular, size, BLACK);
            }
            self.page.advance(height);
        }
        self.page.advance(6.0);
    }

    fn table(&mut self, table: &documents::Table, field: &str) -> Result<(), PdfError> {
        let header_fill = match &table.header_background {
            Some(c) => Some(Rgb8::parse(&format!("{field}.header_background"), c)?),
            None => None,
        };
        if table.columns.is_empty() {
            return Ok(());
        }
        // Widths are shares of the content width; they should add up to 100, and are
        // scaled as if they did (equal shares when they are all zero).
        let total: u32 = table
            .columns
            .iter()
            .map(|c| u32::from(c.width_percent))
            .sum();
        let widths: Vec<f32> = table
            .columns
            .iter()
            .map(|c| {
                if total == 0 {
                    CONTENT_WIDTH / table.columns.len() as f32
                } else {
                    CONTENT_WIDTH * f32::from(c.width_percent) / total as f32
                }
            })
            .collect();
        let headers: Vec<&str> = table.columns.iter().map(|c| c.header.as_str()).collect();
        let header = Row::lay_out(&headers, &widths, Face::Bold);
        let header_text = header_fill.map_or(BLACK, Rgb8::readable_text);
        let rows: Vec<Row> = table
            .rows
            .iter()
            .map(|cells| {
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                Row::lay_out(&cells, &widths, Face::Regular)
            })
            .collect();

        // The header never ends a page: it goes with the first row.
        self.ensure(header.height + rows.first().map_or(0.0, |r| r.height));
        self.draw_row(&header, table, &widths, header_fill, header_text);
        for (i, row) in rows.iter().enumerate() {
            if row.height > self.page.room() {
                self.new_page();
                self.draw_row(&header, table, &widths, header_fill, header_text);
            }
            let fill = (table.striped && i % 2 == 1).then_some(STRIPE);
            self.draw_row(row, table, &widths, fill, BLACK);
        }
        self.page.advance(8.0);
        Ok(())
    }

    fn draw_row(
        &mut self,
        row: &Row,
        table: &documents::Table,
        widths: &[f32],
        fill: Option<Rgb8>,
        color: Rgb8,
    ) {
        let top = self.page.y;
        let bottom = top - row.height;
        if let Some(fill) = fill {
            self.page
                .fill(LEFT, bottom, CONTENT_WIDTH, row.height, fill);
        }
        self.page.stroke_color(CELL_BORDER, 0.5);
        let mut left = LEFT;
        for ((lines, width), column) in row.cells.iter().zip(widths).zip(&table.columns) {
            self.page
                .rect(left, bottom, *width, row.height, PaintMode::Stroke);
            let inner = width - 2.0 * CELL_PADDING;
            for (i, line) in lines.iter().enumerate() {
                let line_top = top - CELL_PADDING - i as f32 * Row::LINE_HEIGHT;
                let base = baseline(line_top, Row::LINE_HEIGHT, TABLE_SIZE);
                let line_width = text::width(line, row.face, TABLE_SIZE);
                let x = aligned(column.align, left + CELL_PADDING, inner, line_width);
                self.page.text(x, base, line, row.face, TABLE_SIZE, color);
            }
            left += width;
        }
        self.page.advance(row.height);
    }

    /// A shaded box: bold title, lines, bold footer. It moves to the next page whole when
    /// it does not fit; one taller than a page is split, each part on its own shading.
    fn panel(&mut self, panel: &documents::Panel, field: &str) -> Result<(), PdfError> {
        const PADDING: f32 = 10.0;
        let background = Rgb8::parse(&format!("{field}.background"), &panel.background)?;
        let color = background.readable_text();
        let inner = CONTENT_WIDTH - 2.0 * PADDING;
        let mut items = Vec::new();
        let mut push = |content: &str, face: Face, size: f32, gap: f32| {
            let lines = text::wrap(&text::clean(content, false), face, size, inner);
            for (i, line) in lines.into_iter().enumerate() {
                items.push(PanelLine {
                    text: line,
                    face,
                    size,
                    gap: if i == 0 { gap } else { 0.0 },
                    height: size * 1.3,
                });
            }
        };
        push(&panel.title, Face::Bold, 12.0, 0.0);
        for (i, line) in panel.lines.iter().enumerate() {
            push(
                line,
                Face::Regular,
                BODY_SIZE,
                if i == 0 { 3.0 } else { 0.0 },
            );
        }
        if let Some(footer) = &panel.footer {
            push(footer, Face::Bold, 11.0, 5.0);
        }
        let total: f32 = 2.0 * PADDING + items.iter().map(|l| l.gap + l.height).sum::<f32>();
        if total <= PAGE_ROOM {
            self.ensure(total);
        }
        let mut rest = items.as_slice();
        while !rest.is_empty() {
            // As many lines as fit on this page (at least one, so a page always moves on).
            let room = self.page.room() - 2.0 * PADDING;
            let mut used = 0.0;
            let mut take = 0;
            for line in rest {
                let gap = if take == 0 { 0.0 } else { line.gap };
                if take > 0 && used + gap + line.height > room {
                    break;
                }
                used += gap + line.height;
                take += 1;
            }
            if used > room && !self.page.fresh() {
                self.new_page();
                continue;
            }
            let (chunk, after) = rest.split_at(take);
            let height = used + 2.0 * PADDING;
            let top = self.page.y;
            self.page
                .fill(LEFT, top - height, CONTENT_WIDTH, height, background);
            let mut y = top - PADDING;
            for (i, line) in chunk.iter().enumerate() {
                if i > 0 {
                    y -= line.gap;
                }
                let base = baseline(y, line.height, line.size);
                self.page.text(
                    LEFT + PADDING,
                    base,
                    &line.text,
                    line.face,
                    line.size,
                    color,
                );
                y -= line.height;
            }
            self.page.advance(height);
            rest = after;
            if !rest.is_empty() {
                self.new_page();
            }
        }
        self.page.advance(8.0);
        Ok(())
    }

    fn image(&mut self, image: &documents::Image) -> Result<(), PdfError> {
        // `logo` is the only key today; an image the host does not have is left out, as the
        // template could not know (it is told `has-logo` but may ignore it).
        if image.key != "logo" {
            return Ok(());
        }
        let Some(bytes) = self.images.logo else {
            return Ok(());
        };
        let placed = match &self.logo {
            Some(placed) => placed.clone(),
            None => {
                let placed = self.add_image(&image.key, bytes)?;
                self.logo = Some(placed.clone());
                placed
            }
        };
        let mut width = (image.width_mm.clamp(5, 180) as f32 * MM).min(CONTENT_WIDTH);
        let mut height = width * placed.height as f32 / placed.width as f32;
        if height > PAGE_ROOM {
            width *= PAGE_ROOM / height;
            height = PAGE_ROOM;
        }
        self.ensure(height);
        let x = aligned(image.align, LEFT, CONTENT_WIDTH, width);
        let bottom = self.page.y - height;
        // At 72 dpi one pixel is one point, so the scale is simply points per pixel.
        let scale = width / placed.width as f32;
        self.page.ops.push(Op::UseXobject {
            id: placed.id,
            transform: XObjectTransform {
                translate_x: Some(Pt(x)),
                translate_y: Some(Pt(bottom)),
                scale_x: Some(scale),
                scale_y: Some(scale),
                dpi: Some(72.0),
                ..XObjectTransform::default()
            },
        });
        self.page.advance(height + 6.0);
        Ok(())
    }

    /// Checks the image's header, decodes it and adds it to the document.
    fn add_image(&mut self, key: &str, bytes: &[u8]) -> Result<PlacedImage, PdfError> {
        let header = logo::read(bytes).map_err(|e| match e {
            logo::HeaderError::UnknownFormat => PdfError::UnsupportedImage {
                key: key.to_owned(),
            },
            logo::HeaderError::Truncated(reason) => PdfError::UndecodableImage {
                key: key.to_owned(),
                reason: reason.to_owned(),
            },
        })?;
        let pixels = u64::from(header.width) * u64::from(header.height);
        if pixels > MAX_IMAGE_PIXELS {
            return Err(PdfError::ImageTooLarge {
                key: key.to_owned(),
                width: header.width,
                height: header.height,
            });
        }
        let mut warnings = Vec::new();
        let raw = RawImage::decode_from_bytes(bytes, &mut warnings).map_err(|reason| {
            PdfError::UndecodableImage {
                key: key.to_owned(),
                reason,
            }
        })?;
        let (Ok(width), Ok(height)) = (u32::try_from(raw.width), u32::try_from(raw.height)) else {
            return Err(PdfError::ImageTooLarge {
                key: key.to_owned(),
                width: header.width,
                height: header.height,
            });
        };
        if width == 0 || height == 0 {
            return Err(PdfError::UndecodableImage {
                key: key.to_owned(),
                reason: "the image has no pixels".to_owned(),
            });
        }
        let id = self.pdf.add_image(&raw);
        Ok(PlacedImage { id, width, height })
    }

    /// Closes the last page, stamps every page with the footer and its number, and writes
    /// the file.
    fn finish(mut self, footer: Option<&str>) -> Result<Vec<u8>, PdfError> {
        // Even an empty document is one (blank, numbered) page.
        if !self.page.fresh() || self.pages.is_empty() {
            self.new_page();
        }
        let total = self.pages.len();
        let footer = footer.map(|f| text::clean(f.trim(), false));
        let pages = std::mem::take(&mut self.pages)
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                let mut page = Page {
                    ops,
                    ..Page::default()
                };
                stamp(&mut page, footer.as_deref(), i + 1, total);
                PdfPage::new(mm(PAGE_WIDTH), mm(PAGE_HEIGHT), page.ops)
            })
            .collect();
        self.pdf.with_pages(pages);
        let info = &mut self.pdf.metadata.info;
        info.creator = "Caravan".to_owned();
        info.producer = "Caravan (printpdf)".to_owned();
        info.creation_date = printpdf::OffsetDateTime::now_utc();
        info.modification_date = info.creation_date;
        info.metadata_date = info.creation_date;

        let mut warnings = Vec::new();
        let bytes = self.pdf.save(&PdfSaveOptions::default(), &mut warnings);
        let errors: Vec<String> = warnings
            .into_iter()
            .filter(|w| w.severity == PdfParseErrorSeverity::Error)
            .map(|w| w.msg)
            .collect();
        if !errors.is_empty() {
            return Err(PdfError::Printpdf(errors.join("; ")));
        }
        Ok(bytes)
    }
}

/// The footer (left, cut to fit) and `Page N of M` (right) below a thin rule, inside the
/// bottom margin.
fn stamp(page: &mut Page, footer: Option<&str>, number: usize, total: usize) {
    let baseline = 10.0 * MM;
    let label = format!("Page {number} of {total}");
    let label_width = text::width(&label, Face::Regular, FOOTER_SIZE);
    let right = LEFT + CONTENT_WIDTH;
    page.hline(LEFT, right, BOTTOM - 8.0, RULE_GREY, 0.5);
    if let Some(footer) = footer {
        let room = CONTENT_WIDTH - label_width - 12.0;
        let footer = text::fit(footer, Face::Regular, FOOTER_SIZE, room);
        page.text(
            LEFT,
            baseline,
            &footer,
            Face::Regular,
            FOOTER_SIZE,
            FOOTER_GREY,
        );
    }
    page.text(
        right - label_width,
        baseline,
        &label,
        Face::Regular,
        FOOTER_SIZE,
        FOOTER_GREY,
    );
}

/// A table row laid out: each cell's lines and the row's height.
#[derive(Debug)]
struct Row {
    cells: Vec<Vec<String>>,
    height: f32,
    face: Face,
}

impl Row {
    const LINE_HEIGHT: f32 = TABLE_SIZE * 1.25;

    /// Cells wrapped to their columns (missing cells are blank, extra ones ignored).
    fn lay_out(cells: &[&str], widths: &[f32], face: Face) -> Self {
        let cells: Vec<Vec<String>> = widths
            .iter()
            .enumerate()
            .map(|(i, width)| {
                let inner = (width - 2.0 * CELL_PADDING).max(1.0);
                let content = text::clean(cells.get(i).copied().unwrap_or(""), false);
                let lines = text::wrap(&content, face, TABLE_SIZE, inner);
                text::limit(lines, MAX_CELL_LINES, face, TABLE_SIZE, inner)
            })
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        Self {
            height: lines as f32 * Self::LINE_HEIGHT + 2.0 * CELL_PADDING,
            cells,
            face,
        }
    }
}

#[cfg(test)]
mod tests;
