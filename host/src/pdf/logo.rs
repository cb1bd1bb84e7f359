//! Reading a logo's format and pixel size from its header, before anything is decoded.
//!
//! Decoding allocates width × height × 4 bytes whatever the file size, so a small file
//! declaring a huge canvas could exhaust memory. The header tells the size for the price of
//! a few bytes, and also lets the error say "not a PNG or JPEG" rather than a decoder's
//! message about some other format.

/// Image formats the renderer accepts (printpdf is built with these two decoders only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
}

/// What the header of an image file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Neither the PNG nor the JPEG signature.
    UnknownFormat,
    /// The right signature but no readable size.
    Truncated(&'static str),
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let pair = bytes.get(at..at + 2)?;
    Some(u32::from(pair[0]) << 8 | u32::from(pair[1]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let quad: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(quad))
}

/// Format and size of a PNG or JPEG file.
pub fn read(bytes: &[u8]) -> Result<Header, HeaderError> {
    if bytes.starts_with(PNG_SIGNATURE) {
        // The IHDR chunk always comes first: length (4), type (4), width (4), height (4).
        if bytes.get(12..16) != Some(b"IHDR") {
            return Err(HeaderError::Truncated("PNG without an IHDR chunk"));
        }
        let (Some(width), Some(height)) = (be32(bytes, 16), be32(bytes, 20)) else {
            return Err(HeaderError::Truncated("PNG header cut short"));
        };
        return Ok(Header {
            format: Format::Png,
            width,
            height,
        });
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg(bytes);
    }
    Err(HeaderError::UnknownFormat)
}

/// Walks the JPEG marker segments up to the first start-of-frame, which holds the size.
fn jpeg(bytes: &[u8]) -> Result<Header, HeaderError> {
    const NO_FRAME: HeaderError = HeaderError::Truncated("JPEG without a frame header");
    let mut at = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return Err(NO_FRAME);
        }
        let marker = *bytes.get(at + 1).ok_or(NO_FRAME)?;
        match marker {
            // Start of frame (baseline, progressive, lossless…); C4, C8 and CC are other
            // segments that share the range.
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Length (2), precision (1), height (2), width (2).
                let height = be16(bytes, at + 5).ok_or(NO_FRAME)?;
                let width = be16(bytes, at + 7).ok_or(NO_FRAME)?;
                return Ok(Header {
                    format: Format::Jpeg,
                    width,
                    height,
                });
            }
            // Markers without a length field.
            0x01 | 0xD0..=0xD7 => at += 2,
            // End of image or start of scan before any frame: there is no size to find.
            0xD9 | 0xDA => return Err(NO_FRAME),
            _ => {
                let length = be16(bytes, at + 2).ok_or(NO_FRAME)?;
                at += 2 + length as usize;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_header_gives_its_size() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&300_u32.to_be_bytes());
        png.extend_from_slice(&120_u32.to_be_bytes());
        assert_eq!(
            read(&png),
            Ok(Header {
                format: Format::Png,
                width: 300,
                height: 120
            })
        );
        assert!(matches!(read(&png[..18]), Err(HeaderError::Truncated(_))));
    }

    #[test]
    fn a_jpeg_header_is_found_after_other_segments() {
        let jpeg = [
            0xFF, 0xD8, // start of image
            0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, // APP0 with two bytes of payload
            0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x01, 0x00, // SOF0: 256 × 64
        ];
        assert_eq!(
            read(&jpeg),
            Ok(Header {
                format: Format::Jpeg,
                width: 256,
                height: 64
            })
        );
        assert!(matches!(read(&jpeg[..10]), Err(HeaderError::Truncated(_))));
    }

    #[test]
    fn other_formats_are_refused() {
        assert_eq!(read(b"GIF89a...."), Err(HeaderError::UnknownFormat));
        assert_eq!(read(b""), Err(HeaderError::UnknownFormat));
    }
}
