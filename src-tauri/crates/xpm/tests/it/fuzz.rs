//! Property test: the XML reader never panics, whatever bytes arrive, and mutated real-shape
//! responses either parse or fail with an error.

use proptest::prelude::*;

const DETAILED: &str = include_str!("../../fixtures/client_list_detailed.xml");
const GET: &str = include_str!("../../fixtures/client_get.xml");

fn read_all(bytes: &[u8]) {
    let _ = xpm::__private::read_client_list(bytes, |_| {});
    let _ = xpm::__private::read_client_detail(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_all(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..16),
    ) {
        let mut doc = if which == 0 { DETAILED } else { GET }.as_bytes().to_vec();
        for (idx, byte, op) in edits {
            if doc.is_empty() { break; }
            let i = idx.index(doc.len());
            match op {
                0 => doc[i] = byte,
                1 => { doc.remove(i); }
                _ => doc.insert(i, byte),
            }
        }
        read_all(&doc);
    }

    #[test]
    fn xml_like_soup_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("<Response>"), Just("</Response>"), Just("<Status>OK</Status>"), Just("<Clients>"),
            Just("</Clients>"), Just("<Client>"), Just("</Client>"), Just("<UUID>"), Just("</UUID>"),
            Just("00000000-aaaa-4bbb-8ccc-000000000001"), Just("<DateOfBirth>"), Just("</DateOfBirth>"),
            Just("1970-11-26T00:00:00"), Just("&amp;"), Just("&#0;"), Just("&bogus;"), Just("<![CDATA[x]]>"),
            Just("<Relationships><Relationship>"), Just("</Relationship></Relationships>"), Just("<X/>"),
            Just("<NumberOfShares>9e999</NumberOfShares>"), Just("<IsArchived>maybe</IsArchived>"),
        ],
        0..64,
    )) {
        read_all(parts.concat().as_bytes());
    }
}
