//! Renderer tests: documents are rendered and read back with poppler's `pdftotext`,
//! `pdfinfo` and `pdfimages`, so they check what a reader of the file gets.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use printpdf::{OutputImageFormat, RawImage, RawImageData, RawImageFormat};

use super::*;
use documents::{Align, Block};

// ---------------------------------------------------------------------------------------
// Reading the output back

/// Runs a poppler tool on `pdf` (passed as a file: not every tool reads standard input)
/// and returns its standard output.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(pdf).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    let mut command = Command::new(format!("/usr/bin/{tool}"));
    command.args(args).arg(&path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let output = command.stderr(Stdio::piped()).output().unwrap();
    assert!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// All text, in reading order, the way the brief's `pdftotext - -` shows it.
fn text_of(pdf: &[u8]) -> String {
    let mut child = Command::new("/usr/bin/pdftotext")
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // pdftotext reads all of its input before writing anything, so writing first cannot
    // deadlock on a full output pipe.
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn page_text(pdf: &[u8], page: usize) -> String {
    let page = page.to_string();
    poppler("pdftotext", &["-f", &page, "-l", &page], pdf)
}

fn info(pdf: &[u8], key: &str) -> String {
    let info = poppler("pdfinfo", &[], pdf);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("pdfinfo has no {key}: {info}"))
        .trim()
        .to_owned()
}

fn page_count(pdf: &[u8]) -> usize {
    info(pdf, "Pages").parse().unwrap()
}

/// Every word's box as `(xMin, xMax, word)`, from `pdftotext -bbox`.
fn word_boxes(pdf: &[u8]) -> Vec<(f32, f32, String)> {
    let html = poppler("pdftotext", &["-bbox"], pdf);
    let attr = |line: &str, name: &str| -> f32 {
        let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = start + line[start..].find('"').unwrap();
        line[start..end].parse().unwrap()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let word = l[l.find('>').unwrap() + 1..l.rfind("</word>").unwrap()].to_owned();
            (attr(l, "xMin"), attr(l, "xMax"), word)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Building documents

fn text(content: &str, size: u8, bold: bool) -> documents::Text {
    documents::Text {
        content: content.to_owned(),
        size,
        bold,
        color: None,
        align: Align::Left,
    }
}

fn paragraph(content: &str) -> Block {
    Block::Paragraph(text(content, 10, false))
}

fn heading(content: &str) -> Block {
    Block::Heading(text(content, 14, true))
}

fn document(blocks: Vec<Block>) -> documents::Document {
    documents::Document {
        title: "Test document".to_owned(),
        blocks,
        footer: Some("Sunrise Travel · bookings@sunrise.example · +27 21 555 0100".to_owned()),
    }
}

fn pair(key: &str, value: &str) -> documents::KeyValue {
    documents::KeyValue {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn panel(title: &str, lines: &[&str], total: &str) -> Block {
    Block::Panel(documents::Panel {
        title: title.to_owned(),
        lines: lines.iter().map(|l| (*l).to_owned()).collect(),
        footer: Some(format!("Total: {total}")),
        background: "#E8EEF5".to_owned(),
    })
}

fn column(header: &str, width_percent: u8, align: Align) -> documents::Column {
    documents::Column {
        header: header.to_owned(),
        width_percent,
        align,
    }
}

const TERMS: &str = "Prices are per room for the dates shown and include VAT. A deposit of \
    30% secures the booking; the balance is due 30 days before arrival. Cancellations made \
    more than 30 days before arrival forfeit the deposit only, later cancellations the full \
    amount. Rates are subject to availability until the booking is confirmed in writing.";

/// A quote laid out the way the built-in pdf-template plugin does it: banner,
/// particulars, one panel per option, notes and terms.
fn typical_quote() -> documents::Document {
    let mut blocks = vec![
        Block::Banner(documents::Banner {
            title: "Sunrise Travel".to_owned(),
            subtitle: Some("Travel Quote".to_owned()),
            background: "#1F3A5F".to_owned(),
            foreground: "#FFFFFF".to_owned(),
        }),
        Block::Spacer(8),
        Block::KeyValues(vec![
            pair("Reference", "QT-20270210-4F2A9C"),
            pair("Date", "2027-02-10"),
            pair("Customer", "Thandiwe Mokoena"),
            pair("Email", "thandiwe@example.com"),
            pair("Destination", "Zanzibar"),
            pair("Dates", "2027-03-12 to 2027-03-19"),
            pair("Nights", "7"),
            pair("Guests", "2 Adults, 1 Child"),
        ]),
        Block::Rule("#1F3A5F".to_owned()),
        Block::Heading(documents::Text {
            color: Some("#1F3A5F".to_owned()),
            ..text("Accommodation Options", 14, true)
        }),
    ];
    let hotels = [
        ("Coral Cove Resort (5 star)", "ZAR 48,600"),
        ("Baraza Beach Villas (5 star)", "ZAR 61,250"),
        ("Stone Town Heritage Hotel (4 star)", "ZAR 32,900"),
        ("Kendwa Palms Lodge (3 star)", "ZAR 24,400"),
    ];
    for (i, (hotel, total)) in hotels.iter().enumerate() {
        blocks.push(panel(
            &format!("Option {}: {hotel}", i + 1),
            &[
                "Room: Ocean View Suite",
                "Meal plan: Half Board (HB)",
                "Accommodation, 7 nights",
                "Return airport transfers",
                "Per Person: ZAR 19,440",
            ],
            total,
        ));
    }
    blocks.push(Block::Heading(text("Notes", 11, true)));
    blocks.push(paragraph(
        "Flights are not included. We can arrange them on request.",
    ));
    blocks.push(Block::Heading(text("Terms & Conditions", 11, true)));
    for _ in 0..4 {
        blocks.push(paragraph(TERMS));
    }
    blocks.push(Block::Spacer(12));
    blocks.push(Block::Rule("#1F3A5F".to_owned()));
    blocks.push(Block::Paragraph(documents::Text {
        color: Some("#666666".to_owned()),
        align: Align::Center,
        ..text(
            "This quote is valid until 2027-02-17 and subject to availability.",
            8,
            false,
        )
    }));
    documents::Document {
        title: "Quote QT-20270210-4F2A9C".to_owned(),
        blocks,
        footer: Some("Sunrise Travel · bookings@sunrise.example · +27 21 555 0100".to_owned()),
    }
}

fn no_images() -> Images<'static> {
    Images::default()
}

/// A `width` × `height` PNG of a red-to-blue gradient, encoded by printpdf's own encoder.
fn png(width: usize, height: usize) -> Vec<u8> {
    let pixels = (0..width * height)
        .flat_map(|i| {
            let x = (i % width * 255 / width.max(1)) as u8;
            [255 - x, 40, x]
        })
        .collect();
    let image = RawImage {
        width,
        height,
        data_format: RawImageFormat::RGB8,
        pixels: RawImageData::U8(pixels),
        tag: Vec::new(),
    };
    let (bytes, format) = image.encode_to_bytes(&[OutputImageFormat::Png]).unwrap();
    assert_eq!(format, OutputImageFormat::Png);
    bytes
}

// ---------------------------------------------------------------------------------------
// What a reader sees

#[test]
fn a_typical_quote_shows_the_customer_hotels_totals_and_footer_on_two_numbered_pages() {
    let started = Instant::now();
    let pdf = render(&typical_quote(), &no_images()).unwrap();
    let elapsed = started.elapsed();
    assert!(pdf.starts_with(b"%PDF-"));

    assert_eq!(page_count(&pdf), 2);
    assert_eq!(info(&pdf, "Title"), "Quote QT-20270210-4F2A9C");
    let all = text_of(&pdf);
    for expected in [
        "Sunrise Travel",
        "Travel Quote",
        "QT-20270210-4F2A9C",
        "Thandiwe Mokoena",
        "Coral Cove Resort",
        "Baraza Beach Villas",
        "Stone Town Heritage Hotel",
        "Kendwa Palms Lodge",
        "Total: ZAR 48,600",
        "Total: ZAR 24,400",
        "Terms & Conditions",
        "valid until 2027-02-17",
    ] {
        assert!(all.contains(expected), "{expected:?} missing from:\n{all}");
    }
    for page in 1..=2 {
        let on_page = page_text(&pdf, page);
        assert!(on_page.contains(&format!("Page {page} of 2")), "{on_page}");
        assert!(
            on_page.contains("Sunrise Travel · bookings@sunrise.example · +27 21 555 0100"),
            "footer missing on page {page}:\n{on_page}"
        );
    }
    eprintln!("typical two-page quote rendered in {elapsed:?}");
}

#[test]
fn a_typical_quote_renders_in_milliseconds() {
    // Median of several runs, so one slow scheduling slot on a shared machine does not
    // decide the outcome. The bound is loose: the point is "not seconds".
    let doc = typical_quote();
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let started = Instant::now();
            render(&doc, &no_images()).unwrap();
            started.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    eprintln!("typical quote: median {median:?}, fastest {:?}", times[0]);
    assert!(median < Duration::from_millis(500), "median {median:?}");
}

#[test]
fn a_long_table_breaks_between_rows_and_repeats_its_header_on_every_page() {
    let rows: Vec<Vec<String>> = (1..=500)
        .map(|i| {
            vec![
                i.to_string(),
                format!("Row-{i:03} Sunset dhow cruise with dinner"),
                "ZAR 1,250.00".to_owned(),
                "2".to_owned(),
                "ZAR 2,500.00".to_owned(),
            ]
        })
        .collect();
    let doc = document(vec![
        heading("Invoice items"),
        Block::Table(documents::Table {
            columns: vec![
                column("#", 6, Align::Right),
                column("Description", 46, Align::Left),
                column("Unit Price", 18, Align::Right),
                column("Qty", 10, Align::Center),
                column("Total", 20, Align::Right),
            ],
            rows,
            header_background: Some("#1F3A5F".to_owned()),
            striped: true,
        }),
        paragraph("Thank you for your business."),
    ]);
    let started = Instant::now();
    let pdf = render(&doc, &no_images()).unwrap();
    let elapsed = started.elapsed();
    eprintln!("500-row table rendered in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");

    let pages = page_count(&pdf);
    assert!(pages >= 10, "500 rows on {pages} pages");
    for page in 1..=pages {
        let on_page = page_text(&pdf, page);
        assert!(
            on_page.contains("Description") && on_page.contains("Unit Price"),
            "no header on page {page}:\n{on_page}"
        );
        assert!(on_page.contains(&format!("Page {page} of {pages}")));
    }
    // Every row exactly once: none lost at a break, none drawn twice.
    let all = text_of(&pdf);
    for i in 1..=500 {
        let marker = format!("Row-{i:03} ");
        assert_eq!(all.matches(&marker).count(), 1, "{marker:?}");
    }
    assert!(all.contains("Thank you for your business."));
}

/// `n` one-line paragraphs, 17 points each (a 13-point line and 4 points after): 40 leave
/// about 60 points at the foot of the first page, 42 about 26.
fn filler(n: usize) -> Vec<Block> {
    (1..=n).map(|i| paragraph(&format!("Line {i}"))).collect()
}

#[test]
fn a_panel_that_does_not_fit_moves_whole_to_the_next_page() {
    // The panel below is about 84 points high.
    let mut blocks = filler(40);
    blocks.push(panel(
        "Option 9: Harbour View Hotel",
        &["Room: Deluxe Double", "Meal plan: Bed & Breakfast (BB)"],
        "ZAR 12,000",
    ));
    let pdf = render(&document(blocks), &no_images()).unwrap();
    assert_eq!(page_count(&pdf), 2);
    let first = page_text(&pdf, 1);
    let second = page_text(&pdf, 2);
    assert!(first.contains("Line 40"), "{first}");
    assert!(!first.contains("Harbour View") && !first.contains("ZAR 12,000"));
    assert!(second.contains("Option 9: Harbour View Hotel"), "{second}");
    assert!(second.contains("Total: ZAR 12,000"), "{second}");
}

#[test]
fn a_panel_taller_than_a_page_is_split_without_losing_lines() {
    let lines: Vec<String> = (1..=90).map(|i| format!("Excursion line {i:02}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let pdf = render(
        &document(vec![panel("Everything included", &lines, "ZAR 99,000")]),
        &no_images(),
    )
    .unwrap();
    assert_eq!(page_count(&pdf), 2);
    let all = text_of(&pdf);
    for i in 1..=90 {
        assert_eq!(all.matches(&format!("Excursion line {i:02}")).count(), 1);
    }
    assert!(page_text(&pdf, 2).contains("Total: ZAR 99,000"));
}

#[test]
fn long_paragraphs_wrap_inside_the_margins() {
    let long = TERMS.repeat(3);
    let mut blocks = Vec::new();
    for (size, bold, align) in [
        (6, false, Align::Left),
        (10, false, Align::Left),
        (10, true, Align::Right),
        (13, true, Align::Center),
        (24, false, Align::Left),
        (36, true, Align::Right),
    ] {
        blocks.push(Block::Paragraph(documents::Text {
            align,
            ..text(&long, size, bold)
        }));
    }
    blocks.push(Block::Paragraph(text(
        &"Wide letters WWWWMMMM@@@@ ÆÆŒŒ——…… ".repeat(12),
        12,
        true,
    )));
    blocks.push(Block::KeyValues(vec![pair(
        "A key that is much too long to fit in a third of the page width at all",
        &long,
    )]));
    blocks.push(Block::Table(documents::Table {
        columns: vec![
            column("Narrow", 10, Align::Left),
            column("Wide", 90, Align::Right),
        ],
        rows: vec![vec!["Supercalifragilistic".to_owned(), long]],
        header_background: None,
        striped: false,
    }));
    let pdf = render(&document(blocks), &no_images()).unwrap();
    let boxes = word_boxes(&pdf);
    assert!(boxes.len() > 500);
    let (left, right) = (MARGIN - 0.5, PAGE_WIDTH - MARGIN + 0.5);
    for (x_min, x_max, word) in &boxes {
        assert!(
            *x_min >= left && *x_max <= right,
            "{word:?} spans {x_min}..{x_max}, outside {left}..{right}"
        );
    }
    // The overlong table cell was cut, and says so.
    assert!(text_of(&pdf).contains('\u{2026}'));
}

#[test]
fn characters_outside_latin1_do_not_break_the_document_and_stay_readable() {
    let doc = documents::Document {
        title: "Devis Zürich – 東京".to_owned(),
        blocks: vec![
            paragraph("Zürich – café “quoted” €"),
            paragraph("Łódź, Dvořák and Şişli"),
            paragraph("東京 tour 🌴 with Ĳsselmeer\u{200B} stop"),
            Block::KeyValues(vec![pair("Città", "São Tomé — 5★")]),
        ],
        footer: Some("Ünïcödé · footer".to_owned()),
    };
    let pdf = render(&doc, &no_images()).unwrap();
    let all = text_of(&pdf);
    for expected in [
        "Zürich – café “quoted” €",
        "Lódz, Dvorák and Sisli",
        "?? tour ? with IJsselmeer stop",
        "São Tomé — 5*",
        "Città:",
        "Ünïcödé · footer",
    ] {
        assert!(all.contains(expected), "{expected:?} missing from:\n{all}");
    }
    // The metadata is UTF-16, so the title keeps every character.
    assert_eq!(info(&pdf, "Title"), "Devis Zürich – 東京");
}

#[test]
fn an_empty_document_is_one_numbered_page() {
    let doc = documents::Document {
        title: String::new(),
        blocks: Vec::new(),
        footer: None,
    };
    let pdf = render(&doc, &no_images()).unwrap();
    assert_eq!(page_count(&pdf), 1);
    assert!(text_of(&pdf).contains("Page 1 of 1"));
}

#[test]
fn page_breaks_start_a_page_but_never_leave_one_blank() {
    let doc = document(vec![
        Block::PageBreak,
        paragraph("First page"),
        Block::PageBreak,
        Block::PageBreak,
        paragraph("Second page"),
        Block::PageBreak,
    ]);
    let pdf = render(&doc, &no_images()).unwrap();
    assert_eq!(page_count(&pdf), 2);
    assert!(page_text(&pdf, 1).contains("First page"));
    assert!(page_text(&pdf, 2).contains("Second page"));
}

#[test]
fn a_heading_is_not_left_alone_at_the_foot_of_a_page() {
    // About 26 points are left: room for the heading alone (about 25 with the space
    // above it) but not for the line that follows it.
    let mut blocks = filler(42);
    blocks.push(heading("Banking Details"));
    blocks.push(paragraph("Account 1234 5678"));
    let pdf = render(&document(blocks), &no_images()).unwrap();
    assert_eq!(page_count(&pdf), 2);
    let first = page_text(&pdf, 1);
    let second = page_text(&pdf, 2);
    assert!(first.contains("Line 42") && !first.contains("Banking Details"));
    assert!(second.contains("Banking Details") && second.contains("Account 1234 5678"));
}

// ---------------------------------------------------------------------------------------
// Colours

#[test]
fn colours_that_are_not_rrggbb_are_errors_naming_the_field_and_value() {
    let banner = |background: &str| {
        Block::Banner(documents::Banner {
            title: "T".to_owned(),
            subtitle: None,
            background: background.to_owned(),
            foreground: "#FFFFFF".to_owned(),
        })
    };
    let cases = [
        (
            vec![paragraph("ok"), banner("red")],
            "blocks[1].background",
            "red",
        ),
        (vec![banner("#1F3A5")], "blocks[0].background", "#1F3A5"),
        (
            vec![Block::Rule("1F3A5F".to_owned())],
            "blocks[0]",
            "1F3A5F",
        ),
        (
            vec![Block::Heading(documents::Text {
                color: Some("#GG0000".to_owned()),
                ..text("Heading", 14, true)
            })],
            "blocks[0].color",
            "#GG0000",
        ),
        (
            vec![Block::Table(documents::Table {
                columns: vec![column("A", 100, Align::Left)],
                rows: Vec::new(),
                header_background: Some("#12345678".to_owned()),
                striped: false,
            })],
            "blocks[0].header_background",
            "#12345678",
        ),
        (
            vec![Block::Panel(documents::Panel {
                title: "P".to_owned(),
                lines: Vec::new(),
                footer: None,
                background: "#ÿÿÿÿÿÿ".to_owned(),
            })],
            "blocks[0].background",
            "#ÿÿÿÿÿÿ",
        ),
    ];
    for (blocks, field, value) in cases {
        let error = render(&document(blocks), &no_images()).unwrap_err();
        let PdfError::InvalidColor {
            field: got_field,
            value: got_value,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!((got_field.as_str(), got_value.as_str()), (field, value));
        assert_eq!(
            error.to_string(),
            format!("{field}: `{value}` is not a #RRGGBB colour")
        );
    }
}

#[test]
fn lower_case_colours_are_accepted() {
    let doc = document(vec![Block::Rule("#1f3a5f".to_owned())]);
    assert!(render(&doc, &no_images()).is_ok());
}

// ---------------------------------------------------------------------------------------
// Images

fn logo_block(width_mm: u32, align: Align) -> Block {
    Block::Image(documents::Image {
        key: "logo".to_owned(),
        width_mm,
        align,
    })
}

/// `(width, height)` of each image `pdfimages -list` reports.
fn images_in(pdf: &[u8]) -> Vec<(u32, u32)> {
    poppler("pdfimages", &["-list"], pdf)
        .lines()
        .skip(2)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[3].parse().unwrap(), cols[4].parse().unwrap())
        })
        .collect()
}

#[test]
fn a_png_logo_is_drawn_once_however_often_it_is_shown() {
    let logo = png(40, 20);
    let doc = document(vec![
        logo_block(40, Align::Left),
        paragraph("Below the logo"),
        logo_block(20, Align::Right),
    ]);
    let pdf = render(&doc, &Images { logo: Some(&logo) }).unwrap();
    assert_eq!(images_in(&pdf), [(40, 20), (40, 20)]);
    // Two placements of one image object.
    let list = poppler("pdfimages", &["-list"], &pdf);
    let objects: Vec<&str> = list
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().nth(10).unwrap())
        .collect();
    assert_eq!(objects[0], objects[1], "{list}");
    assert!(text_of(&pdf).contains("Below the logo"));
}

#[test]
fn a_jpeg_logo_is_drawn() {
    let image = RawImage {
        width: 16,
        height: 16,
        data_format: RawImageFormat::RGB8,
        pixels: RawImageData::U8(vec![200; 16 * 16 * 3]),
        tag: Vec::new(),
    };
    let (jpeg, _) = image.encode_to_bytes(&[OutputImageFormat::Jpeg]).unwrap();
    assert!(jpeg.starts_with(&[0xFF, 0xD8]));
    let doc = document(vec![logo_block(30, Align::Center)]);
    let pdf = render(&doc, &Images { logo: Some(&jpeg) }).unwrap();
    assert_eq!(images_in(&pdf), [(16, 16)]);
}

#[test]
fn a_missing_logo_or_an_unknown_key_is_skipped() {
    let doc = document(vec![
        logo_block(40, Align::Left),
        Block::Image(documents::Image {
            key: "signature".to_owned(),
            width_mm: 40,
            align: Align::Left,
        }),
        paragraph("Still here"),
    ]);
    let pdf = render(&doc, &no_images()).unwrap();
    assert!(images_in(&pdf).is_empty());
    assert!(text_of(&pdf).contains("Still here"));
}

#[test]
fn a_logo_that_cannot_be_used_is_an_error_saying_why() {
    let doc = document(vec![logo_block(40, Align::Left)]);
    let render_with = |bytes: &[u8]| render(&doc, &Images { logo: Some(bytes) }).unwrap_err();

    let error = render_with(b"GIF89a not what we take");
    assert!(
        matches!(error, PdfError::UnsupportedImage { .. }),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "image `logo` is not a PNG or JPEG file");

    let mut broken = png(8, 8);
    broken.truncate(40);
    let error = render_with(&broken);
    assert!(
        matches!(error, PdfError::UndecodableImage { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("image `logo` could not be decoded: ")
    );

    // A tiny file claiming a 100 000 × 100 000 canvas is refused before decoding.
    let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    huge.extend_from_slice(&100_000_u32.to_be_bytes());
    huge.extend_from_slice(&100_000_u32.to_be_bytes());
    huge.extend_from_slice(&[8, 2, 0, 0, 0]);
    let error = render_with(&huge);
    assert!(
        matches!(
            error,
            PdfError::ImageTooLarge {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn an_undecodable_logo_that_no_block_shows_is_not_an_error() {
    // The host may hold a logo the template chose not to use; only a shown one is decoded.
    let doc = document(vec![paragraph("No logo here")]);
    assert!(
        render(
            &doc,
            &Images {
                logo: Some(b"junk")
            }
        )
        .is_ok()
    );
}

#[test]
fn images_debug_shows_the_size_not_the_bytes() {
    let logo = [1_u8, 2, 3];
    let debug = format!("{:?}", Images { logo: Some(&logo) });
    assert_eq!(debug, r#"Images { logo: Some("3 bytes") }"#);
}
