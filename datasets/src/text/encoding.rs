//! Reading text files: strict UTF-8 by default, legacy single-byte encodings on request.

use std::path::Path;

use crate::error::DataError;

/// How the bytes of a file are decoded.
///
/// Names: `utf8`, `latin1`, `windows-1252` (and `utf-8`, `iso-8859-1`, `cp1252`, …), parsed
/// with `str::parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[derive(strum::EnumString, strum::IntoStaticStr, strum::VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(ascii_case_insensitive)]
pub enum Encoding {
    /// UTF-8; invalid bytes are an error naming the line and byte offset. A leading BOM is
    /// dropped.
    #[default]
    #[strum(to_string = "utf8", serialize = "utf-8")]
    Utf8,
    /// ISO-8859-1: every byte is the code point of the same value.
    #[strum(to_string = "latin1", serialize = "latin-1", serialize = "iso-8859-1", serialize = "iso8859-1")]
    Latin1,
    /// Windows-1252: Latin-1 with printable characters (€, ‘ ’, “ ”, …) in 0x80–0x9F.
    #[strum(to_string = "windows-1252", serialize = "cp1252", serialize = "windows1252")]
    Windows1252,
}

/// The 0x80–0x9F range of Windows-1252 (undefined bytes map to the C1 control of that value).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Reads a whole file as text.
///
/// Errors name the file; for invalid UTF-8 also the line and the byte offset in the file, and
/// suggest `--encoding latin1`.
pub fn read_text(path: &Path, encoding: Encoding) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode(&bytes, encoding).map_err(|offset| {
        let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        DataError::line(
            path,
            line,
            format!(
                "invalid UTF-8 at byte offset {offset} (byte 0x{:02x}); if the file is in a legacy encoding, read it with --encoding latin1 or windows-1252",
                bytes[offset]
            ),
        )
    })
}

/// Decodes bytes; on invalid UTF-8 returns the byte offset of the first bad byte.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, usize> {
    match encoding {
        Encoding::Utf8 => {
            let text = std::str::from_utf8(bytes).map_err(|e| e.valid_up_to())?;
            Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_string())
        }
        Encoding::Latin1 => Ok(bytes.iter().map(|&b| b as char).collect()),
        Encoding::Windows1252 => Ok(bytes
            .iter()
            .map(|&b| if (0x80..0xa0).contains(&b) { CP1252_HIGH[(b - 0x80) as usize] } else { b as char })
            .collect()),
    }
}
