//! Program specific information (ISO/IEC 13818-1 §2.4.4): the program association table,
//! the program map table and the CRC-32 that closes every section.

/// CRC-32/MPEG-2: polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final
/// XOR (ISO/IEC 13818-1 Annex A). The CRC of a whole section including its CRC field is 0.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 0x8000_0000 != 0 {
                    (crc << 1) ^ 0x04c1_1db7
                } else {
                    crc << 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    data.iter().fold(0xffff_ffff, |crc, &byte| {
        (crc << 8) ^ TABLE[usize::from(((crc >> 24) as u8) ^ byte)]
    })
}

/// One elementary stream entry of the PMT.
#[derive(Debug, Clone)]
pub struct PmtStream {
    pub stream_type: u8,
    pub pid: u16,
    /// Encoded descriptors (tag, length, body), concatenated.
    pub descriptors: Vec<u8>,
}

/// Wraps a long-form section body: table_id, section_syntax_indicator 1, section_length,
/// `id` (transport_stream_id or program_number), version 0, current_next 1, section 0 of 0,
/// then `body` and the CRC.
fn long_section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
    // 5 bytes after section_length up to last_section_number, body, 4 CRC bytes.
    let section_length = 5 + body.len() + 4;
    let mut section = Vec::with_capacity(3 + section_length);
    section.push(table_id);
    section.push(0xb0 | ((section_length >> 8) & 0x0f) as u8);
    section.push((section_length & 0xff) as u8);
    section.extend_from_slice(&id.to_be_bytes());
    section.push(0xc1); // reserved '11', version_number 0, current_next_indicator 1
    section.push(0); // section_number
    section.push(0); // last_section_number
    section.extend_from_slice(body);
    let crc = crc32_mpeg2(&section);
    section.extend_from_slice(&crc.to_be_bytes());
    section
}

/// The program association table with one program.
pub fn pat_section(transport_stream_id: u16, program_number: u16, pmt_pid: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(4);
    body.extend_from_slice(&program_number.to_be_bytes());
    body.extend_from_slice(&(0xe000 | (pmt_pid & 0x1fff)).to_be_bytes());
    long_section(0x00, transport_stream_id, &body)
}

/// The program map table of one program, without program descriptors.
pub fn pmt_section(program_number: u16, pcr_pid: u16, streams: &[PmtStream]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(0xe000 | (pcr_pid & 0x1fff)).to_be_bytes());
    body.extend_from_slice(&0xf000u16.to_be_bytes()); // program_info_length 0
    for stream in streams {
        body.push(stream.stream_type);
        body.extend_from_slice(&(0xe000 | (stream.pid & 0x1fff)).to_be_bytes());
        let info_len = (stream.descriptors.len() & 0x0fff) as u16;
        body.extend_from_slice(&(0xf000 | info_len).to_be_bytes());
        body.extend_from_slice(&stream.descriptors);
    }
    long_section(0x02, program_number, &body)
}

/// A registration descriptor (tag 5) carrying a format identifier such as `AC-3`.
pub fn registration_descriptor(format_identifier: &[u8; 4]) -> Vec<u8> {
    let mut descriptor = vec![0x05, 4];
    descriptor.extend_from_slice(format_identifier);
    descriptor
}

/// A registration descriptor (tag 5) with additional identification info after the format
/// identifier (SAMPLE-AES: `apad` and the audio setup information). `None` when the body does
/// not fit the 1-byte descriptor length.
pub fn registration_descriptor_with(
    format_identifier: &[u8; 4],
    additional: &[u8],
) -> Option<Vec<u8>> {
    let len = u8::try_from(4 + additional.len()).ok()?;
    let mut descriptor = vec![0x05, len];
    descriptor.extend_from_slice(format_identifier);
    descriptor.extend_from_slice(additional);
    Some(descriptor)
}

/// A private_data_indicator descriptor (tag 15, ISO/IEC 13818-1 §2.6.28), such as SAMPLE-AES's
/// `zavc` and `aacd`.
pub fn private_data_indicator_descriptor(indicator: &[u8; 4]) -> Vec<u8> {
    let mut descriptor = vec![0x0f, 4];
    descriptor.extend_from_slice(indicator);
    descriptor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        // The catalogued check value of CRC-32/MPEG-2 for "123456789".
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
        assert_eq!(crc32_mpeg2(&[]), 0xffff_ffff);
    }

    #[test]
    fn pat_known_bytes() {
        // The PAT ffmpeg and most muxers write for transport_stream_id 1, program 1 on PID
        // 0x1000, with its well-known CRC 2A B1 04 B2.
        assert_eq!(
            pat_section(1, 1, 0x1000),
            [
                0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1,
                0x04, 0xb2
            ]
        );
    }

    #[test]
    fn sections_check_to_zero() {
        let pmt = pmt_section(
            1,
            0x100,
            &[
                PmtStream {
                    stream_type: 0x1b,
                    pid: 0x100,
                    descriptors: Vec::new(),
                },
                PmtStream {
                    stream_type: 0x81,
                    pid: 0x101,
                    descriptors: registration_descriptor(b"AC-3"),
                },
            ],
        );
        assert_eq!(crc32_mpeg2(&pmt), 0);
        let section_length = (usize::from(pmt[1] & 0x0f) << 8) | usize::from(pmt[2]);
        assert_eq!(section_length + 3, pmt.len());
        assert_eq!(pmt[0], 0x02);
        // PCR PID
        assert_eq!(&pmt[8..10], &[0xe1, 0x00]);
        // First stream: type 0x1B on PID 0x100, no descriptors.
        assert_eq!(&pmt[12..17], &[0x1b, 0xe1, 0x00, 0xf0, 0x00]);
        assert_eq!(
            &pmt[17..28],
            &[0x81, 0xe1, 0x01, 0xf0, 0x06, 0x05, 0x04, b'A', b'C', b'-', b'3']
        );
        assert_eq!(crc32_mpeg2(&pat_section(7, 3, 0x20)), 0);
    }
}
