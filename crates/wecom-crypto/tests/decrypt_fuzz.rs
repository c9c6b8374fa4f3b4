//! Property tests: whatever arrives where a ciphertext, a key or an envelope is expected, the
//! answer is a value (a message or a CryptError), never a panic. Each property runs CASES inputs
//! and prints how many ran.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use wecom_crypto::{CryptError, MsgCrypt};

const CASES: u32 = 20_000;
const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const CORPID: &str = "wx5823bf96d3bd56c7";
const TIMESTAMP: &str = "1409659813";
const NONCE: &str = "1372623149";

/// Runs `check` on CASES values of `strategy`; a panic inside fails the test with the shrunk input.
fn run<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let ran = std::cell::Cell::new(0u32);
    let outcome = runner.run(&strategy, |value| {
        ran.set(ran.get() + 1);
        check(value);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{name}: {failure}");
    }
    eprintln!("{name}: {} inputs ran, none panicked", ran.get());
    assert_eq!(ran.get(), CASES);
}

fn crypt() -> MsgCrypt {
    MsgCrypt::new(TOKEN, KEY, CORPID).unwrap()
}

/// What decrypting may answer: the message, or one of the decrypt path's codes.
fn decrypt_outcome(result: Result<String, CryptError>) {
    if let Err(e) = result {
        assert!(
            matches!(e, CryptError::DecodeBase64 | CryptError::DecryptAes | CryptError::IllegalBuffer | CryptError::ValidateCorpid),
            "unexpected {e:?}"
        );
    }
}

#[test]
fn arbitrary_strings() {
    let c = crypt();
    run("decrypt(arbitrary string)", any::<String>(), |s| decrypt_outcome(c.decrypt(&s)));
}

#[test]
fn arbitrary_whole_blocks() {
    // Base64 of 1..=24 AES blocks: every input reaches AES and the padding/length checks.
    let c = crypt();
    let blocks = (1usize..=24).prop_flat_map(|n| vec(any::<u8>(), n * 16));
    run("decrypt(random AES blocks)", blocks, |bytes| decrypt_outcome(c.decrypt(&STANDARD.encode(bytes))));
}

#[test]
fn mutated_ciphertexts() {
    // A real ciphertext with bytes flipped, then cut or extended.
    let c = crypt();
    let case = (".{0,300}", vec((any::<prop::sample::Index>(), 1u8..=255), 1..4), any::<prop::sample::Index>(), vec(any::<u8>(), 0..40));
    run("decrypt(mutated ciphertext)", case, |(msg, flips, cut, tail)| {
        let mut bytes = STANDARD.decode(c.encrypt(&msg).unwrap()).unwrap();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        bytes.extend(tail);
        decrypt_outcome(c.decrypt(&STANDARD.encode(bytes)));
    });
}

#[test]
fn arbitrary_envelopes() {
    // XML-shaped bodies built from the envelope's own element names and arbitrary text.
    let c = crypt();
    let part = prop_oneof![
        Just("<xml>".to_owned()),
        Just("</xml>".to_owned()),
        Just("<Encrypt>".to_owned()),
        Just("</Encrypt>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("]]>".to_owned()),
        Just("<MsgSignature>".to_owned()),
        Just("<TimeStamp>".to_owned()),
        Just("<Nonce>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#x1F600;".to_owned()),
        "[A-Za-z0-9+/=]{0,64}",
        any::<String>(),
    ];
    run("open_reply / decrypt_msg(arbitrary envelope)", vec(part, 0..16), |parts| {
        let body = parts.concat();
        let _ = c.open_reply(&body);
        let _ = c.decrypt_msg("477715d11cdb4164915debcba66cb864d751f3e6", TIMESTAMP, NONCE, &body);
    });
}

#[test]
fn arbitrary_keys_and_echostr() {
    let candidate = prop_oneof![any::<String>(), "[A-Za-z0-9+/]{42,44}", "[A-Za-z0-9+/=!_-]{43}"];
    run("MsgCrypt::new + verify_url(arbitrary)", (candidate, "[A-Za-z0-9+/]{43}", any::<String>()), |(candidate, key, echostr)| {
        // A key is exactly 43 characters of the base64 alphabet; anything else is -40004.
        let is_key = candidate.len() == 43 && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
        assert_eq!(MsgCrypt::new(TOKEN, &candidate, CORPID).map(drop), if is_key { Ok(()) } else { Err(CryptError::IllegalAesKey) });
        let c = MsgCrypt::new(TOKEN, &key, CORPID).unwrap();
        let signature = c.signature(TIMESTAMP, NONCE, &echostr);
        decrypt_outcome(c.verify_url(&signature, TIMESTAMP, NONCE, &echostr));
    });
}
