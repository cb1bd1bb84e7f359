//! Text extraction for knowledge-base uploads: plain text, Markdown, PDF and DOCX files become
//! one UTF-8 string, after the file's bytes are checked against the type its name claims.
//!
//! Everything here is synchronous, CPU-bound and free of I/O; callers on an async runtime run
//! [`extract`] on a blocking thread. Uploads are untrusted, so every parser runs with size caps,
//! and the PDF parser additionally runs under `catch_unwind`: a panic inside it is reported as
//! a corrupt file rather than taking the worker down.
//!
//! Encrypted PDFs: lopdf tries the empty user password while loading and decrypts
//! transparently when it works (a PDF that only restricts printing or copying), so such a
//! file is indexed like any other. A PDF that needs a real password to open is refused with
//! [`ExtractError::EncryptedPdf`].

use std::borrow::Cow;
use std::fmt;
use std::io::Cursor;

/// Largest `word/document.xml` read from a DOCX, uncompressed. A real document's body is
/// rarely above a few megabytes; anything far beyond is a decompression bomb.
pub const MAX_DOCX_XML_BYTES: u64 = 64 * 1024 * 1024;

/// Largest size any single PDF stream (object stream, page content, font map) may inflate to.
pub const MAX_PDF_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// Largest amount of text kept from one file, in bytes; past it the file is refused as too
/// large rather than silently truncated.
pub const MAX_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// A file type the knowledge base accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// Plain text (`.txt`, `.text`).
    Txt,
    /// Markdown (`.md`, `.markdown`).
    Md,
    /// PDF (`.pdf`).
    Pdf,
    /// Word 2007+ document (`.docx`).
    Docx,
}

impl FileType {
    /// Every accepted type, in the order messages list them.
    pub const ALL: [FileType; 4] = [FileType::Txt, FileType::Md, FileType::Pdf, FileType::Docx];

    /// The short name stored with a document and shown to users: `txt`, `md`, `pdf`, `docx`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Txt => "txt",
            FileType::Md => "md",
            FileType::Pdf => "pdf",
            FileType::Docx => "docx",
        }
    }

    /// The MIME type to serve the original file with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Txt => "text/plain",
            FileType::Md => "text/markdown",
            FileType::Pdf => "application/pdf",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }

    /// The type a file name's extension claims (case-insensitive), or `None` for any other
    /// extension or none at all.
    pub fn from_filename(name: &str) -> Option<FileType> {
        match extension(name)?.to_ascii_lowercase().as_str() {
            "txt" | "text" => Some(FileType::Txt),
            "md" | "markdown" => Some(FileType::Md),
            "pdf" => Some(FileType::Pdf),
            "docx" => Some(FileType::Docx),
            _ => None,
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text with LF line ends; paragraphs (and PDF pages) are separated by blank lines,
    /// and DOCX headings are written as Markdown headings.
    pub text: String,
    /// The type the file was read as.
    pub file_type: FileType,
    /// Number of pages, for PDFs only.
    pub pages: Option<u32>,
}

/// Why a file's text could not be extracted. Messages are written for the person who
/// uploaded the file; [`ExtractError::code`] is the stable machine-readable form.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The extension is missing or not one of txt, md, pdf, docx.
    #[error("{}; allowed types are txt, md, pdf and docx", describe_extension(.extension.as_deref()))]
    UnsupportedType {
        /// The extension as given, without the dot; `None` when the name has none.
        extension: Option<String>,
    },
    /// The bytes are not what the extension says.
    #[error("the file is named as {claimed} but its content looks like {actual}")]
    ContentMismatch {
        /// The type the extension claims.
        claimed: FileType,
        /// What the content looks like, e.g. "a PNG image".
        actual: &'static str,
    },
    /// The file has no bytes at all.
    #[error("the file is empty")]
    EmptyFile,
    /// A PDF that cannot be opened without a password.
    #[error("the PDF is password-protected; password-protected PDFs cannot be indexed")]
    EncryptedPdf,
    /// The file has the right signature but cannot be parsed.
    #[error("the {file_type} file is corrupt or unreadable: {reason}")]
    CorruptFile {
        /// The type being read.
        file_type: FileType,
        /// What the parser reported.
        reason: String,
    },
    /// Decompressed content or text above the caps in this module.
    #[error("the {file_type} file is too large to index: {reason}")]
    TooLarge {
        /// The type being read.
        file_type: FileType,
        /// Which limit was exceeded.
        reason: String,
    },
    /// The file parses but holds no text (a scanned PDF, an empty document).
    #[error(
        "the {file_type} file contains no extractable text (a scanned PDF needs text recognition first)"
    )]
    NoText {
        /// The type that was read.
        file_type: FileType,
    },
}

impl ExtractError {
    /// A stable identifier for the error, for API responses and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::UnsupportedType { .. } => "unsupported_type",
            ExtractError::ContentMismatch { .. } => "content_mismatch",
            ExtractError::EmptyFile => "empty_file",
            ExtractError::EncryptedPdf => "encrypted_pdf",
            ExtractError::CorruptFile { .. } => "corrupt_file",
            ExtractError::TooLarge { .. } => "too_large",
            ExtractError::NoText { .. } => "no_text",
        }
    }
}

fn describe_extension(extension: Option<&str>) -> String {
    match extension {
        Some(ext) => format!("unsupported file type `.{ext}`"),
        None => "the file name has no extension".to_owned(),
    }
}

/// The part of a file name after its last dot, if there is one and it is not the whole
/// name (`.bashrc` has no extension).
fn extension(name: &str) -> Option<&str> {
    // Browsers send bare names, but some clients include a path.
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// Extracts the text of an uploaded file named `filename`.
///
/// Errors: [`ExtractError::UnsupportedType`] for an extension other than txt, text, md,
/// markdown, pdf, docx; [`ExtractError::EmptyFile`] for zero bytes;
/// [`ExtractError::ContentMismatch`] when the bytes are another kind of file;
/// [`ExtractError::EncryptedPdf`], [`ExtractError::CorruptFile`] and
/// [`ExtractError::TooLarge`] from the parsers; [`ExtractError::NoText`] when nothing but
/// whitespace comes out.
pub fn extract(filename: &str, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let file_type =
        FileType::from_filename(filename).ok_or_else(|| ExtractError::UnsupportedType {
            extension: extension(filename).map(str::to_owned),
        })?;
    if bytes.is_empty() {
        return Err(ExtractError::EmptyFile);
    }
    let (text, pages) = match file_type {
        FileType::Txt | FileType::Md => (decode_text(file_type, bytes)?, None),
        FileType::Pdf => {
            if !looks_like_pdf(bytes) {
                return Err(mismatch(file_type, bytes));
            }
            let (text, pages) = pdf::extract(bytes)?;
            (text, Some(pages))
        }
        FileType::Docx => (docx::extract(bytes)?, None),
    };
    if text.trim().is_empty() {
        return Err(ExtractError::NoText { file_type });
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(ExtractError::TooLarge {
            file_type,
            reason: format!("more than {} MiB of text", MAX_TEXT_BYTES / (1024 * 1024)),
        });
    }
    Ok(Extracted {
        text,
        file_type,
        pages,
    })
}

fn mismatch(claimed: FileType, bytes: &[u8]) -> ExtractError {
    ExtractError::ContentMismatch {
        claimed,
        actual: sniff(bytes).unwrap_or("binary data"),
    }
}

fn corrupt(file_type: FileType, reason: impl fmt::Display) -> ExtractError {
    ExtractError::CorruptFile {
        file_type,
        reason: reason.to_string(),
    }
}

/// The PDF header may be preceded by up to 1024 bytes of junk, which readers tolerate.
fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024 + 5)];
    head.windows(5).any(|w| w == b"%PDF-")
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// What well-known binary signature the bytes start with, as a phrase for messages.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"\x7fELF", "an executable (ELF)"),
        (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "a legacy Office document (.doc, .xls)",
        ),
        (b"PK\x05\x06", "an empty ZIP archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!\x1a\x07", "a RAR archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"{\\rtf", "an RTF document"),
        (b"\0asm", "a WebAssembly module"),
    ];
    if bytes.starts_with(ZIP_MAGIC) {
        return Some(if zip_has_document_xml(bytes) {
            "a DOCX document"
        } else {
            "a ZIP archive"
        });
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(&b"WEBP"[..]) {
        return Some("a WebP image");
    }
    // Windows executables start with "MZ", which plain text may too; only call it an
    // executable when the PE header it points to is there.
    if bytes.starts_with(b"MZ") && bytes.windows(4).take(1024).any(|w| w == b"PE\0\0") {
        return Some("a Windows executable");
    }
    if looks_like_pdf(bytes) {
        return Some("a PDF document");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, what)| *what)
}

fn zip_has_document_xml(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map(|archive| archive.index_for_name(docx::DOCUMENT_XML).is_some())
        .unwrap_or(false)
}

/// Decodes a txt or md upload: UTF-8 (with or without a BOM), UTF-16 with a BOM, or else
/// Windows-1252, which is what legacy Windows editors save and which maps every byte.
fn decode_text(file_type: FileType, bytes: &[u8]) -> Result<String, ExtractError> {
    let text: Cow<'_, str> =
        if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
            let body = bytes.get(bom_len..).unwrap_or_default();
            if encoding != encoding_rs::UTF_8 && body.len() % 2 != 0 {
                return Err(mismatch(file_type, bytes));
            }
            encoding.decode_without_bom_handling(body).0
        } else {
            if let Some(actual) = sniff(bytes) {
                return Err(ExtractError::ContentMismatch {
                    claimed: file_type,
                    actual,
                });
            }
            if bytes.contains(&0) {
                return Err(mismatch(file_type, bytes));
            }
            match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => {
                    encoding_rs::WINDOWS_1252
                        .decode_without_bom_handling(bytes)
                        .0
                }
            }
        };
    if looks_binary(&text) {
        return Err(mismatch(file_type, bytes));
    }
    Ok(normalize_newlines(&text))
}

/// Text is taken for binary when it holds NUL or when more than one character in twenty is
/// a control character other than tab, line feed, form feed and carriage return.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c') {
            control += 1;
        }
    }
    control * 20 > total
}

/// CRLF and lone CR become LF.
fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Collapses runs of spaces and tabs inside lines, trims lines, and keeps at most one blank
/// line between paragraphs. Control characters that fonts map glyphs to are dropped.
fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for line in text.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || (c.is_control() && c != '\n'))
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_pending { "\n\n" } else { "\n" });
        }
        blank_pending = false;
        out.push_str(&words.join(" "));
    }
    out
}

mod pdf {
    //! PDF text through lopdf, read operator by operator so that line and paragraph breaks
    //! follow the text's position on the page.

    use std::collections::BTreeMap;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use lopdf::content::Content;

    use super::{
        ExtractError, FileType, MAX_PDF_STREAM_BYTES, MAX_TEXT_BYTES, corrupt, normalize_whitespace,
    };
    use lopdf::{DecompressError, Document, Encoding, LoadOptions, Object, ObjectId};

    /// Extracts the text and page count of a PDF, turning a panic inside lopdf into
    /// [`ExtractError::CorruptFile`].
    pub(super) fn extract(bytes: &[u8]) -> Result<(String, u32), ExtractError> {
        // The closure only reads `bytes` and builds fresh values, so no state a panic could
        // leave half-updated escapes it.
        match catch_unwind(AssertUnwindSafe(|| read(bytes))) {
            Ok(result) => result,
            Err(_) => Err(corrupt(FileType::Pdf, "the PDF parser could not read it")),
        }
    }

    fn read(bytes: &[u8]) -> Result<(String, u32), ExtractError> {
        let options = LoadOptions {
            max_decompressed_size: Some(MAX_PDF_STREAM_BYTES),
            ..LoadOptions::default()
        };
        let doc = match Document::load_mem_with_options(bytes, options) {
            Ok(doc) => doc,
            // A damaged file that declares encryption is reported as encrypted: that is the
            // more useful thing to tell its owner.
            Err(_) if trailer_has_encrypt(bytes) => return Err(ExtractError::EncryptedPdf),
            Err(e) => return Err(load_error(e)),
        };
        // After a successful empty-password decryption lopdf removes /Encrypt from the
        // trailer; if it is still there, a password was needed.
        if doc.is_encrypted() {
            return Err(ExtractError::EncryptedPdf);
        }
        let pages = doc.get_pages();
        // Readers show nothing for a page tree without pages; lopdf gets here when it had to
        // skip most of a damaged file.
        if pages.is_empty() {
            return Err(corrupt(FileType::Pdf, "the PDF has no readable pages"));
        }
        let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
        let mut texts = Vec::new();
        let mut first_error = None;
        for page_id in pages.values() {
            match page_text(&doc, *page_id) {
                Ok(text) => {
                    let text = normalize_whitespace(&text);
                    if !text.is_empty() {
                        texts.push(text);
                    }
                }
                Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                    return Err(too_large());
                }
                // One unreadable page should not cost the rest of the document.
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let (true, Some(e)) = (texts.is_empty(), first_error) {
            return Err(corrupt(FileType::Pdf, e));
        }
        Ok((texts.join("\n\n"), page_count))
    }

    fn too_large() -> ExtractError {
        ExtractError::TooLarge {
            file_type: FileType::Pdf,
            reason: format!(
                "a stream inflates to more than {} MiB",
                MAX_PDF_STREAM_BYTES / (1024 * 1024)
            ),
        }
    }

    fn load_error(e: lopdf::Error) -> ExtractError {
        match e {
            lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => too_large(),
            e => corrupt(FileType::Pdf, e),
        }
    }

    /// Whether a trailer dictionary (the last 2 KiB or so of a file, or any `trailer`
    /// keyword) names an /Encrypt dictionary.
    fn trailer_has_encrypt(bytes: &[u8]) -> bool {
        let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        let tail = &bytes[bytes.len().saturating_sub(4096)..];
        find(tail, b"/Encrypt")
    }

    /// Where text is on the page, enough to tell a new word, line or paragraph.
    struct Writer<'a> {
        text: String,
        encoding: Option<&'a Encoding<'a>>,
        font_size: f32,
        leading: f32,
        /// The y of the current line's start, in text space.
        line_y: f32,
        /// The y where text was last shown, if any on this page.
        shown_y: Option<f32>,
        /// A horizontal move happened since the last shown text.
        moved: bool,
    }

    impl Writer<'_> {
        fn show(&mut self, operand: &Object) {
            match operand {
                Object::String(bytes, _) => self.show_bytes(bytes),
                Object::Array(items) => {
                    for item in items {
                        match item {
                            Object::String(bytes, _) => self.show_bytes(bytes),
                            // Offsets are in thousandths of an em; a large negative one moves
                            // right by about a space's width or more.
                            other => {
                                if other.as_float().is_ok_and(|n| n < -200.0) {
                                    self.moved = true;
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }

        fn show_bytes(&mut self, bytes: &[u8]) {
            let decoded = match self.encoding {
                Some(encoding) => encoding.bytes_to_string(bytes).unwrap_or_default(),
                // Without a usable font entry, printable ASCII is the safest reading.
                None => bytes
                    .iter()
                    .filter(|b| b.is_ascii_graphic() || **b == b' ')
                    .map(|b| char::from(*b))
                    .collect(),
            };
            if decoded.is_empty() {
                return;
            }
            let size = self.font_size.max(1.0);
            if let Some(shown_y) = self.shown_y {
                let drop = shown_y - self.line_y;
                if drop.abs() > size * 0.5 {
                    // Twice the font size is more than any ordinary line spacing; moving up
                    // usually means a new column or a new text block.
                    self.text.push_str(if drop > size * 2.0 || drop < 0.0 {
                        "\n\n"
                    } else {
                        "\n"
                    });
                } else if self.moved && !self.text.ends_with(char::is_whitespace) {
                    self.text.push(' ');
                }
            }
            self.shown_y = Some(self.line_y);
            self.moved = false;
            self.text.push_str(&decoded);
        }
    }

    fn number(operands: &[Object], i: usize) -> f32 {
        operands
            .get(i)
            .and_then(|o| o.as_float().ok())
            .filter(|n| n.is_finite())
            .unwrap_or(0.0)
    }

    fn page_text(doc: &Document, page_id: ObjectId) -> lopdf::Result<String> {
        let fonts = doc.get_page_fonts(page_id)?;
        let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
            .into_iter()
            .filter_map(|(name, font)| {
                font.get_font_encoding_with_limit(doc, MAX_PDF_STREAM_BYTES)
                    .ok()
                    .map(|encoding| (name, encoding))
            })
            .collect();
        let content = doc.get_page_content_with_limit(page_id, MAX_PDF_STREAM_BYTES)?;
        // A page without content streams is blank, not broken.
        if content.iter().all(u8::is_ascii_whitespace) {
            return Ok(String::new());
        }
        let content = Content::decode(&content)?;
        let mut w = Writer {
            text: String::new(),
            encoding: None,
            font_size: 12.0,
            leading: 0.0,
            line_y: 0.0,
            shown_y: None,
            moved: false,
        };
        for op in &content.operations {
            let operands = &op.operands;
            match op.operator.as_str() {
                "BT" => w.line_y = 0.0,
                "Tf" => {
                    w.encoding = operands
                        .first()
                        .and_then(|o| o.as_name().ok())
                        .and_then(|name| encodings.get(name));
                    w.font_size = number(operands, 1).abs();
                }
                "TL" => w.leading = number(operands, 0),
                "Td" | "TD" => {
                    let (tx, ty) = (number(operands, 0), number(operands, 1));
                    if op.operator == "TD" {
                        w.leading = -ty;
                    }
                    w.line_y += ty;
                    if tx != 0.0 {
                        w.moved = true;
                    }
                }
                "Tm" => {
                    w.line_y = number(operands, 5);
                    w.moved = true;
                }
                "T*" => w.line_y -= w.leading,
                "Tj" | "TJ" => {
                    if let Some(operand) = operands.first() {
                        w.show(operand);
                    }
                }
                "'" => {
                    w.line_y -= w.leading;
                    if let Some(operand) = operands.first() {
                        w.show(operand);
                    }
                }
                "\"" => {
                    w.line_y -= w.leading;
                    if let Some(operand) = operands.get(2) {
                        w.show(operand);
                    }
                }
                _ => {}
            }
            if w.text.len() > MAX_TEXT_BYTES {
                break;
            }
        }
        Ok(w.text)
    }
}

mod docx {
    //! The body of a DOCX (`word/document.xml`) as text: paragraphs, headings as Markdown,
    //! tables as one line per row.

    use std::io::{Cursor, Read};

    use quick_xml::Reader;
    use quick_xml::events::{BytesStart, Event};

    use super::{ExtractError, FileType, MAX_DOCX_XML_BYTES, ZIP_MAGIC, corrupt, mismatch};

    pub(super) const DOCUMENT_XML: &str = "word/document.xml";

    pub(super) fn extract(bytes: &[u8]) -> Result<String, ExtractError> {
        if !bytes.starts_with(ZIP_MAGIC) {
            return Err(mismatch(FileType::Docx, bytes));
        }
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(FileType::Docx, e))?;
        let file = match archive.by_name(DOCUMENT_XML) {
            Ok(file) => file,
            Err(zip::result::ZipError::FileNotFound) => {
                return Err(ExtractError::ContentMismatch {
                    claimed: FileType::Docx,
                    actual: "a ZIP archive that is not a Word document",
                });
            }
            Err(e) => return Err(corrupt(FileType::Docx, e)),
        };
        let too_large = || ExtractError::TooLarge {
            file_type: FileType::Docx,
            reason: format!(
                "the document body is larger than {} MiB",
                MAX_DOCX_XML_BYTES / (1024 * 1024)
            ),
        };
        // The declared size can lie, so the read itself is capped as well.
        if file.size() > MAX_DOCX_XML_BYTES {
            return Err(too_large());
        }
        let mut xml = Vec::new();
        file.take(MAX_DOCX_XML_BYTES + 1)
            .read_to_end(&mut xml)
            .map_err(|e| corrupt(FileType::Docx, e))?;
        if xml.len() as u64 > MAX_DOCX_XML_BYTES {
            return Err(too_large());
        }
        let xml = String::from_utf8(xml)
            .map_err(|_| corrupt(FileType::Docx, "word/document.xml is not UTF-8"))?;
        body_text(&xml).map_err(|e| corrupt(FileType::Docx, e))
    }

    /// A paragraph being read, and its heading level if its style is a heading.
    #[derive(Default)]
    struct Paragraph {
        text: String,
        heading: Option<usize>,
    }

    /// A table being read: finished rows, the current row's cells, the current cell.
    #[derive(Default)]
    struct Table {
        rows: Vec<String>,
        row: Vec<String>,
        cell: String,
    }

    #[derive(Default)]
    struct Body {
        blocks: Vec<String>,
        /// Paragraphs nest when a text box sits inside a paragraph.
        paragraphs: Vec<Paragraph>,
        tables: Vec<Table>,
        in_text: bool,
        run_depth: usize,
        /// Depth inside `mc:Fallback`, whose content repeats the `mc:Choice` beside it.
        skip_depth: usize,
    }

    impl Body {
        fn push_text(&mut self, text: &str) {
            if self.in_text
                && let Some(p) = self.paragraphs.last_mut()
            {
                p.text.push_str(text);
            }
        }

        fn push_run_char(&mut self, c: char) {
            if self.run_depth > 0
                && let Some(p) = self.paragraphs.last_mut()
            {
                p.text.push(c);
            }
        }

        fn end_paragraph(&mut self) {
            let Some(p) = self.paragraphs.pop() else {
                return;
            };
            let text = p.text.trim();
            if text.is_empty() {
                return;
            }
            if let Some(table) = self.tables.last_mut() {
                // A cell's paragraphs share its one line.
                if !table.cell.is_empty() {
                    table.cell.push(' ');
                }
                table.cell.push_str(&text.replace('\n', " "));
                return;
            }
            match p.heading {
                Some(level) => {
                    let title = text.replace('\n', " ");
                    self.blocks.push(format!("{} {title}", "#".repeat(level)));
                }
                None => self.blocks.push(text.to_owned()),
            }
        }

        fn end_table(&mut self) {
            let Some(table) = self.tables.pop() else {
                return;
            };
            let text = table.rows.join("\n");
            if text.is_empty() {
                return;
            }
            match self.tables.last_mut() {
                // A nested table is flattened into the enclosing cell.
                Some(outer) => {
                    if !outer.cell.is_empty() {
                        outer.cell.push(' ');
                    }
                    outer.cell.push_str(&text.replace('\n', " "));
                }
                None => self.blocks.push(text),
            }
        }

        fn start(&mut self, e: &BytesStart<'_>, empty: bool) {
            match e.local_name().as_ref() {
                b"p" if !empty => self.paragraphs.push(Paragraph::default()),
                b"pStyle" => {
                    let level = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == b"val")
                        .and_then(|a| heading_level(&String::from_utf8_lossy(&a.value)));
                    if let Some(p) = self.paragraphs.last_mut() {
                        p.heading = level;
                    }
                }
                b"t" if !empty => self.in_text = true,
                b"r" if !empty => self.run_depth += 1,
                b"tab" => self.push_run_char('\t'),
                b"br" | b"cr" => self.push_run_char('\n'),
                b"tbl" if !empty => self.tables.push(Table::default()),
                b"tr" if !empty => {
                    if let Some(t) = self.tables.last_mut() {
                        t.row.clear();
                    }
                }
                b"tc" if !empty => {
                    if let Some(t) = self.tables.last_mut() {
                        t.cell.clear();
                    }
                }
                _ => {}
            }
        }

        fn end(&mut self, local_name: &[u8]) {
            match local_name {
                b"p" => self.end_paragraph(),
                b"t" => self.in_text = false,
                b"r" => self.run_depth = self.run_depth.saturating_sub(1),
                b"tc" => {
                    if let Some(t) = self.tables.last_mut() {
                        let cell = std::mem::take(&mut t.cell);
                        t.row.push(cell);
                    }
                }
                b"tr" => {
                    if let Some(t) = self.tables.last_mut() {
                        let row = std::mem::take(&mut t.row);
                        if row.iter().any(|c| !c.is_empty()) {
                            t.rows.push(row.join(" | "));
                        }
                    }
                }
                b"tbl" => self.end_table(),
                _ => {}
            }
        }
    }

    /// `Title` is a level-1 heading, `Heading1`..`Heading6` (also spelled `heading 1`) their
    /// own level.
    fn heading_level(style: &str) -> Option<usize> {
        let style = style.to_ascii_lowercase().replace(' ', "");
        if style == "title" {
            return Some(1);
        }
        let level: usize = style.strip_prefix("heading")?.parse().ok()?;
        (1..=6).contains(&level).then_some(level)
    }

    pub(super) fn body_text(xml: &str) -> Result<String, quick_xml::Error> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(false);
        let mut body = Body::default();
        loop {
            let event = reader.read_event()?;
            if body.skip_depth > 0 {
                match &event {
                    Event::Start(_) => body.skip_depth += 1,
                    Event::End(_) => body.skip_depth -= 1,
                    Event::Eof => break,
                    _ => {}
                }
                continue;
            }
            match event {
                Event::Start(e) if e.local_name().as_ref() == b"Fallback" => body.skip_depth = 1,
                Event::Start(e) => body.start(&e, false),
                Event::Empty(e) => body.start(&e, true),
                Event::End(e) => body.end(e.local_name().as_ref()),
                // Text outside `w:t` (field codes, deleted runs) is not document text.
                Event::Text(e) if body.in_text => {
                    let text = e.decode().map_err(quick_xml::Error::Encoding)?;
                    body.push_text(&text);
                }
                Event::CData(e) if body.in_text => {
                    let text = e.decode().map_err(quick_xml::Error::Encoding)?;
                    body.push_text(&text);
                }
                Event::GeneralRef(e) if body.in_text => {
                    if let Some(c) = e.resolve_char_ref()? {
                        body.push_text(c.encode_utf8(&mut [0; 4]));
                    } else {
                        let name = e.decode().map_err(quick_xml::Error::Encoding)?;
                        if let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) {
                            body.push_text(s);
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(body.blocks.join("\n\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    // ---- fixtures -------------------------------------------------------------------------

    const W_NS: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

    /// A DOCX holding `body` (the children of `w:body`) and the parts Word always writes.
    fn docx(body: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>"#
        );
        zip_with(&[
            ("[Content_Types].xml", "<Types/>"),
            ("word/document.xml", &xml),
        ])
    }

    fn zip_with(files: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in files {
            writer.start_file(*name, options).expect("start zip entry");
            writer
                .write_all(content.as_bytes())
                .expect("write zip entry");
        }
        writer.finish().expect("finish zip").into_inner()
    }

    fn para(text: &str) -> String {
        format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    }

    /// A PDF with one page per entry, each line of a page drawn as Helvetica text 14 pt
    /// below the previous one.
    fn pdf(pages: &[&[&str]]) -> Vec<u8> {
        use printpdf::{
            BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
            TextItem,
        };
        let mut doc = PdfDocument::new("fixture");
        let pages = pages
            .iter()
            .map(|lines| {
                let mut ops = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    ops.extend([
                        Op::StartTextSection,
                        Op::SetFont {
                            font: PdfFontHandle::Builtin(BuiltinFont::Helvetica),
                            size: Pt(11.0),
                        },
                        Op::SetTextCursor {
                            pos: Point {
                                x: Pt(50.0),
                                y: Pt(780.0 - 14.0 * i as f32),
                            },
                        },
                        Op::ShowText {
                            items: vec![TextItem::Text((*line).to_owned())],
                        },
                        Op::EndTextSection,
                    ]);
                }
                PdfPage::new(Mm(210.0), Mm(297.0), ops)
            })
            .collect();
        doc.with_pages(pages);
        doc.save(&PdfSaveOptions::default(), &mut Vec::new())
    }

    /// A one-page PDF that only fills a rectangle.
    fn pdf_with_only_a_rectangle() -> Vec<u8> {
        use printpdf::{Mm, Op, PaintMode, PdfDocument, PdfPage, PdfSaveOptions, Pt, Rect};
        let mut doc = PdfDocument::new("drawing");
        let ops = vec![Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(50.0),
                y: Pt(50.0),
                width: Pt(100.0),
                height: Pt(80.0),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        }];
        doc.with_pages(vec![PdfPage::new(Mm(210.0), Mm(297.0), ops)]);
        doc.save(&PdfSaveOptions::default(), &mut Vec::new())
    }

    /// A hand-written PDF with a correct cross-reference table built from `objects`
    /// (object 1 first) and `trailer_extra` added to the trailer dictionary.
    fn handmade_pdf(objects: &[&str], trailer_extra: &str) -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn code(result: Result<Extracted, ExtractError>) -> &'static str {
        match result {
            Ok(e) => panic!("expected an error, got text {:?}", e.text),
            Err(e) => e.code(),
        }
    }

    // ---- file types -----------------------------------------------------------------------

    #[test]
    fn file_types_come_from_the_extension_in_any_case() {
        assert_eq!(FileType::from_filename("a.TXT"), Some(FileType::Txt));
        assert_eq!(FileType::from_filename("notes.text"), Some(FileType::Txt));
        assert_eq!(FileType::from_filename("README.Md"), Some(FileType::Md));
        assert_eq!(FileType::from_filename("x.markdown"), Some(FileType::Md));
        assert_eq!(
            FileType::from_filename("Brochure 2026.PDF"),
            Some(FileType::Pdf)
        );
        assert_eq!(
            FileType::from_filename(r"C:\docs\terms.docx"),
            Some(FileType::Docx)
        );
        assert_eq!(FileType::from_filename("archive.docx.exe"), None);
        assert_eq!(FileType::from_filename(".md"), None);
        assert_eq!(FileType::from_filename("md"), None);
        assert_eq!(FileType::Docx.as_str(), "docx");
        assert_eq!(FileType::Md.content_type(), "text/markdown");
        assert_eq!(
            FileType::Docx.content_type(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
    }

    #[test]
    fn an_unsupported_extension_is_refused_with_the_allowed_types() {
        let err = extract("setup.exe", b"MZ").expect_err("exe refused");
        assert_eq!(err.code(), "unsupported_type");
        let message = err.to_string();
        assert!(message.contains(".exe"), "{message}");
        assert!(message.contains("txt, md, pdf and docx"), "{message}");
    }

    #[test]
    fn a_name_without_extension_is_refused() {
        let err = extract("README", b"hello").expect_err("no extension refused");
        assert_eq!(err.code(), "unsupported_type");
        assert!(err.to_string().contains("no extension"), "{err}");
    }

    #[test]
    fn an_empty_file_is_refused() {
        for name in ["a.txt", "a.md", "a.pdf", "a.docx"] {
            assert_eq!(code(extract(name, b"")), "empty_file", "{name}");
        }
    }

    // ---- content that does not match the name ----------------------------------------------

    #[test]
    fn a_pdf_named_docx_is_a_content_mismatch_naming_pdf() {
        let err = extract("terms.docx", &pdf(&[&["Hello"]])).expect_err("mismatch");
        assert_eq!(err.code(), "content_mismatch");
        assert!(err.to_string().contains("a PDF document"), "{err}");
    }

    #[test]
    fn a_png_named_txt_is_a_content_mismatch_naming_png() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
        let err = extract("notes.txt", png).expect_err("mismatch");
        assert_eq!(err.code(), "content_mismatch");
        assert!(err.to_string().contains("a PNG image"), "{err}");
    }

    #[test]
    fn a_docx_named_pdf_is_a_content_mismatch_naming_docx() {
        let err = extract("terms.pdf", &docx(&para("Hi"))).expect_err("mismatch");
        assert_eq!(err.code(), "content_mismatch");
        assert!(err.to_string().contains("a DOCX document"), "{err}");
    }

    #[test]
    fn a_zip_without_a_document_named_docx_is_a_content_mismatch() {
        let bytes = zip_with(&[("photos/readme.txt", "hello")]);
        let err = extract("terms.docx", &bytes).expect_err("mismatch");
        assert_eq!(err.code(), "content_mismatch");
        assert!(err.to_string().contains("ZIP archive"), "{err}");
    }

    #[test]
    fn binary_bytes_named_md_are_a_content_mismatch() {
        let err = extract("notes.md", b"abc\0\x01\x02def").expect_err("mismatch");
        assert_eq!(err.code(), "content_mismatch");
        assert!(err.to_string().contains("binary data"), "{err}");
        let elf = extract("notes.txt", b"\x7fELF\x02\x01\x01").expect_err("mismatch");
        assert!(elf.to_string().contains("ELF"), "{elf}");
    }

    // ---- plain text and markdown ------------------------------------------------------------

    #[test]
    fn text_is_returned_with_lf_line_ends() {
        let got = extract("a.txt", b"one\r\ntwo\rthree\n").expect("text");
        assert_eq!(got.text, "one\ntwo\nthree\n");
        assert_eq!(got.file_type, FileType::Txt);
        assert_eq!(got.pages, None);
    }

    #[test]
    fn markdown_keeps_its_markup() {
        let got = extract("a.md", "# Title\r\n\r\n* item   one\r\n".as_bytes()).expect("md");
        assert_eq!(got.text, "# Title\n\n* item   one\n");
        assert_eq!(got.file_type, FileType::Md);
    }

    #[test]
    fn a_utf8_bom_is_dropped() {
        let got = extract("a.txt", "\u{feff}Zürich".as_bytes()).expect("text");
        assert_eq!(got.text, "Zürich");
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut le = vec![0xff, 0xfe];
        le.extend(
            "Ça va, Zürich\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(
            extract("a.txt", &le).expect("utf-16le").text,
            "Ça va, Zürich\n"
        );
        let mut be = vec![0xfe, 0xff];
        be.extend("Ελλάδα".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(extract("a.md", &be).expect("utf-16be").text, "Ελλάδα");
    }

    #[test]
    fn text_that_is_not_utf8_is_read_as_windows_1252() {
        // "Café – 5 €" as Windows-1252.
        let got = extract("a.txt", b"Caf\xe9 \x96 5 \x80").expect("cp1252");
        assert_eq!(got.text, "Café – 5 €");
    }

    #[test]
    fn whitespace_only_text_has_no_text() {
        assert_eq!(code(extract("a.txt", b"  \r\n\t\n ")), "no_text");
    }

    // ---- PDF ------------------------------------------------------------------------------

    #[test]
    fn pdf_text_is_extracted_with_lines_and_page_breaks() {
        let bytes = pdf(&[
            &["Cancellation policy", "Full refund up to 30 days."],
            &["Page two   has    spaces."],
        ]);
        let got = extract("terms.pdf", &bytes).expect("pdf text");
        assert_eq!(got.file_type, FileType::Pdf);
        assert_eq!(got.pages, Some(2));
        assert_eq!(
            got.text,
            "Cancellation policy\nFull refund up to 30 days.\n\nPage two has spaces."
        );
    }

    #[test]
    fn a_pdf_with_only_a_drawing_has_no_text() {
        let err = extract("scan.pdf", &pdf_with_only_a_rectangle()).expect_err("no text");
        assert_eq!(err.code(), "no_text");
    }

    #[test]
    fn a_pdf_with_blank_pages_has_no_text() {
        let bytes = handmade_pdf(
            &[
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            ],
            "",
        );
        assert_eq!(code(extract("blank.pdf", &bytes)), "no_text");
    }

    #[test]
    fn a_password_protected_pdf_is_refused() {
        // A standard security handler whose user password is not empty: the /U value
        // matches no password lopdf can try.
        let bytes = handmade_pdf(
            &[
                "<< /Type /Catalog /Pages 2 0 R >>",
                "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
                "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 \
                 /O <8A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9> \
                 /U <0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0> >>",
            ],
            "/Encrypt 4 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]",
        );
        let err = extract("locked.pdf", &bytes).expect_err("encrypted");
        assert_eq!(err.code(), "encrypted_pdf");
        assert!(err.to_string().contains("password-protected"), "{err}");
    }

    /// `bytes` re-saved by lopdf with RC4 encryption and the given user password.
    fn encrypted_pdf(bytes: &[u8], user_password: &str) -> Vec<u8> {
        use lopdf::{EncryptionState, EncryptionVersion, Object, Permissions, StringFormat};
        let mut doc = lopdf::Document::load_mem(bytes).expect("load fixture");
        let id = Object::String(vec![7; 16], StringFormat::Hexadecimal);
        doc.trailer.set("ID", Object::Array(vec![id.clone(), id]));
        let state = EncryptionState::try_from(EncryptionVersion::V1 {
            document: &doc,
            owner_password: "owner",
            user_password,
            permissions: Permissions::all(),
        })
        .expect("encryption state");
        doc.encrypt(&state).expect("encrypt");
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("save");
        out
    }

    #[test]
    fn a_pdf_encrypted_with_a_real_password_is_refused() {
        let bytes = encrypted_pdf(&pdf(&[&["Secret itinerary"]]), "secret");
        assert_eq!(code(extract("locked.pdf", &bytes)), "encrypted_pdf");
    }

    #[test]
    fn a_pdf_encrypted_with_an_empty_user_password_is_read() {
        let bytes = encrypted_pdf(&pdf(&[&["Open itinerary"]]), "");
        let got = extract("restricted.pdf", &bytes).expect("decrypted transparently");
        assert_eq!(got.text, "Open itinerary");
    }

    #[test]
    fn a_truncated_pdf_is_corrupt() {
        let bytes = pdf(&[&["Hello world"]]);
        let cut = &bytes[..bytes.len() / 3];
        assert_eq!(code(extract("cut.pdf", cut)), "corrupt_file");
        assert_eq!(
            code(extract("junk.pdf", b"%PDF-1.7\n\xff\xfe garbage")),
            "corrupt_file"
        );
    }

    #[test]
    fn hostile_pdf_bytes_never_panic() {
        // Every prefix and a few byte flips of a real file: each must end in text or a
        // typed error, never a panic or a hang.
        let bytes = pdf(&[&["Hello world", "Second line"]]);
        for len in (5..bytes.len()).step_by(97) {
            let _ = extract("x.pdf", &bytes[..len]);
        }
        for i in (0..bytes.len()).step_by(53) {
            let mut flipped = bytes.clone();
            if let Some(b) = flipped.get_mut(i) {
                *b ^= 0x5a;
            }
            let _ = extract("x.pdf", &flipped);
        }
    }

    // ---- DOCX -----------------------------------------------------------------------------

    #[test]
    fn docx_paragraphs_become_blank_line_separated_blocks() {
        let body = format!(
            "{}{}<w:p><w:r><w:t xml:space=\"preserve\">Tea </w:t></w:r><w:r><w:t>&amp; cake</w:t><w:tab/><w:t>4&#8364;</w:t><w:br/><w:t>after break</w:t></w:r></w:p>",
            para("First paragraph."),
            para("Second one.")
        );
        let got = extract("a.docx", &docx(&body)).expect("docx");
        assert_eq!(got.file_type, FileType::Docx);
        assert_eq!(got.pages, None);
        assert_eq!(
            got.text,
            "First paragraph.\n\nSecond one.\n\nTea & cake\t4€\nafter break"
        );
    }

    #[test]
    fn docx_headings_become_markdown_headings() {
        let heading = |style: &str, text: &str| {
            format!(
                "<w:p><w:pPr><w:pStyle w:val=\"{style}\"/><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"
            )
        };
        let body = [
            heading("Title", "Safari guide"),
            heading("Heading2", "Cancellation policy"),
            para("Refunds within 30 days."),
            heading("Heading7", "Not a heading level"),
        ]
        .concat();
        let got = extract("a.docx", &docx(&body)).expect("docx");
        assert_eq!(
            got.text,
            "# Safari guide\n\n## Cancellation policy\n\nRefunds within 30 days.\n\nNot a heading level"
        );
    }

    #[test]
    fn docx_tables_become_one_line_per_row() {
        let cell = |text: &str| format!("<w:tc>{}</w:tc>", para(text));
        let two_paragraph_cell = format!("<w:tc>{}{}</w:tc>", para("120"), para("EUR"));
        let body = format!(
            "{}<w:tbl><w:tr>{}{}</w:tr><w:tr>{}{two_paragraph_cell}</w:tr></w:tbl>{}",
            para("Prices:"),
            cell("Room"),
            cell("Price"),
            cell("Double"),
            para("End.")
        );
        let got = extract("a.docx", &docx(&body)).expect("docx");
        assert_eq!(
            got.text,
            "Prices:\n\nRoom | Price\nDouble | 120 EUR\n\nEnd."
        );
    }

    #[test]
    fn docx_fallback_content_is_not_repeated() {
        let body = format!(
            "<w:p><w:r><mc:AlternateContent xmlns:mc=\"urn:mc\"><mc:Choice>{}</mc:Choice><mc:Fallback>{}</mc:Fallback></mc:AlternateContent></w:r></w:p>",
            para("Boxed"),
            para("Boxed")
        );
        let got = extract("a.docx", &docx(&body)).expect("docx");
        assert_eq!(got.text, "Boxed");
    }

    #[test]
    fn a_docx_without_paragraphs_has_no_text() {
        assert_eq!(code(extract("a.docx", &docx(""))), "no_text");
        assert_eq!(
            code(extract("a.docx", &docx("<w:p/><w:p></w:p>"))),
            "no_text"
        );
    }

    #[test]
    fn a_corrupt_zip_is_corrupt() {
        let bytes = docx(&para("Hello"));
        let cut = &bytes[..bytes.len() / 2];
        assert_eq!(code(extract("a.docx", cut)), "corrupt_file");
    }

    #[test]
    fn malformed_document_xml_is_corrupt() {
        let bytes = zip_with(&[("word/document.xml", "<w:document><w:body><w:p></w:body>")]);
        assert_eq!(code(extract("a.docx", &bytes)), "corrupt_file");
    }

    #[test]
    fn an_oversized_document_xml_is_too_large() {
        // Highly compressible, so the archive stays small while the body exceeds the cap.
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        writer
            .start_file(docx::DOCUMENT_XML, options)
            .expect("start entry");
        let block = vec![b' '; 1024 * 1024];
        for _ in 0..=(MAX_DOCX_XML_BYTES / (1024 * 1024)) {
            writer.write_all(&block).expect("write entry");
        }
        let bytes = writer.finish().expect("finish").into_inner();
        assert_eq!(code(extract("bomb.docx", &bytes)), "too_large");
    }
}
