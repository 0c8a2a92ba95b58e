//! Fuzzes the LGWAN request decoding of kofu-server: the same bytes are offered as the
//! body of `POST /lgwan/v1/inquiries`, `/issuances` and `/outcomes`, through the very
//! functions the handlers call (`kofu_server::lgwan::decode_*`).
//!
//! Properties: decoding never panics; a refusal is a 4xx with a stable code
//! (`malformed_json`, or `invalid_request` naming the field); an accepted request holds
//! what the use cases rely on (canonical UUIDs, a hex card serial, 1..=10 copies, a
//! digest that is the same for the same body); a body without the JSON content type
//! is refused as `unsupported_media_type` before it is read.

#![no_main]

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use kofu_server::lgwan::{ApiError, decode_inquiry, decode_issuance, decode_outcome};
use libfuzzer_sys::fuzz_target;

fn headers(content_type: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h
}

/// A refusal of a JSON body: a client error with a stable code that says what is wrong.
fn check_refusal(e: &ApiError) {
    assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{e:?}");
    match e.code() {
        "malformed_json" => assert!(e.message().starts_with("JSON として読めません"), "{e:?}"),
        "invalid_request" => {
            let field = e
                .message()
                .strip_prefix("リクエストの項目 ")
                .and_then(|rest| rest.split(" が不正です").next());
            assert!(field.is_some_and(|f| !f.is_empty()), "no field named: {e:?}");
        }
        other => panic!("unexpected code {other}: {e:?}"),
    }
}

/// `8-4-4-4-12` lowercase hex, as the use cases store request and issuance IDs.
fn canonical_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn hex_serial(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn kiosk_ok(id: &str, chain: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.len() <= 64 && !s.chars().any(char::is_control);
    ok(id) && ok(chain)
}

fuzz_target!(|body: &[u8]| {
    let json = headers("application/json; charset=utf-8");

    match decode_inquiry(&json, body) {
        Ok(q) => {
            assert!(canonical_uuid(&q.request_id), "{q:?}");
            assert!(hex_serial(&q.card_serial), "{q:?}");
            assert!(kiosk_ok(&q.kiosk.id, &q.kiosk.chain), "{q:?}");
        }
        Err(e) => check_refusal(&e),
    }

    match decode_issuance(&json, body) {
        Ok(r) => {
            assert!(canonical_uuid(&r.request_id), "{r:?}");
            assert!(hex_serial(&r.card_serial), "{r:?}");
            assert!(kiosk_ok(&r.kiosk.id, &r.kiosk.chain), "{r:?}");
            assert!((1..=10).contains(&r.copies), "{r:?}");
            assert!(
                r.options
                    .tax_year
                    .is_none_or(|y| (1900..=2200).contains(&y)),
                "{r:?}"
            );
            assert_eq!(r.body_digest.len(), 64, "{r:?}");
            let again = decode_issuance(&json, body).map(|r| r.body_digest);
            assert_eq!(again.ok(), Some(r.body_digest), "digest not deterministic");
        }
        Err(e) => check_refusal(&e),
    }

    match decode_outcome(&json, body) {
        Ok(n) => {
            assert!(canonical_uuid(&n.request_id), "{n:?}");
            assert!(canonical_uuid(&n.issuance_id), "{n:?}");
        }
        Err(e) => check_refusal(&e),
    }

    let e = decode_inquiry(&headers("text/plain"), body).map(|_| ()).unwrap_err();
    assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(e.code(), "unsupported_media_type");
});
