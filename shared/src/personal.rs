//! Personal data: which members of an event type name a data subject and
//! which hold that person's data (`chronicle.define_personal_data`), and how
//! those members are stored sealed — encrypted with the subject's key — and
//! read back: opened with the key, or erased once the key is gone. No I/O:
//! the database keeps the keys and the nonces come from its random source.
//!
//! Pointers are relative to the event: `/email` is a member of its `data`,
//! `/metadata/ip` of its metadata; `/actor`, `/correlation_id` and
//! `/causation_id` name those members of the envelope (a subject only: they
//! are not encrypted); `/data/...` reaches a data member with one of those
//! names. The other envelope members (`/stream_id`, `/version`, ...) are what
//! Chronicle sequences and finds events by: never personal.
//!
//! A sealed member holds `{"$sealed": "<base64 of nonce and ciphertext>"}`:
//! XChaCha20-Poly1305 (RustCrypto) of the member's canonical JSON text, with
//! the event id and the member's pointer as associated data, so that a
//! sealed value read anywhere else does not open. An erased member reads as
//! `{"erased": true}`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::{json, Map, Value};

use crate::canonical;
use crate::error::{require, Error, Result};
use crate::identifier::validate_type_name;
use crate::pointer;

/// A subject's key: 256 bits.
pub type Key = [u8; 32];
/// A nonce: 192 bits, random for every member sealed.
pub type Nonce = [u8; 24];

/// The member a sealed value is stored in.
pub const SEALED: &str = "$sealed";

/// What an erased member reads as.
pub fn erased() -> Value {
    json!({"erased": true})
}

/// The envelope members a subject may be read from (they stay plaintext).
const SUBJECT_MEMBERS: [&str; 3] = ["actor", "correlation_id", "causation_id"];

/// The envelope members that are never personal.
const STRUCTURAL: [&str; 10] = [
    "stream_id",
    "stream_type",
    "event_type",
    "version",
    "event_id",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "global_position",
    "tenant",
];

/// Where in an event a pointer leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Data,
    Metadata,
    /// A member of the envelope (`actor`, `correlation_id`, `causation_id`).
    Envelope(&'static str),
}

/// A checked pointer into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub part: Part,
    /// The decoded tokens within the part.
    pub tokens: Vec<String>,
    /// The pointer as written.
    pub pointer: String,
}

impl Place {
    /// The place named by `pointer` (`field`: the argument it came in).
    pub fn parse(field: &str, pointer_text: &str) -> Result<Place> {
        let Some(tokens) = pointer::tokens(pointer_text) else {
            pointer::check_argument(field, pointer_text)?;
            unreachable!("check_argument refuses what tokens cannot read");
        };
        let whole = |what: &str| {
            Error::invalid(
                field,
                format!("names the whole {what}, not a member of it"),
                "Name a member, e.g. \"/email\" (a member of data) or \"/metadata/ip\".",
            )
        };
        let Some(first) = tokens.first() else {
            return Err(whole("event"));
        };
        let (part, rest) = match first.as_str() {
            "data" => (Part::Data, &tokens[1..]),
            "metadata" => (Part::Metadata, &tokens[1..]),
            name if SUBJECT_MEMBERS.contains(&name) => {
                let name = SUBJECT_MEMBERS
                    .into_iter()
                    .find(|m| *m == name)
                    .expect("contained");
                if tokens.len() > 1 {
                    return Err(Error::invalid(
                        field,
                        format!("reaches into the envelope member {name}, which is text"),
                        format!(
                            "Name the member itself (\"/{name}\"), or a data member with \
                             \"/data/{name}/...\"."
                        ),
                    ));
                }
                (Part::Envelope(name), &tokens[1..])
            }
            name if STRUCTURAL.contains(&name) => {
                return Err(Error::invalid(
                    field,
                    format!(
                        "names the envelope member {name}, which Chronicle sequences and finds \
                         events by: it is never personal data"
                    ),
                    format!(
                        "Personal members are in data or metadata; for a data member named \
                         {name}, write \"/data/{name}\"."
                    ),
                ));
            }
            _ => (Part::Data, &tokens[..]),
        };
        if rest.is_empty() && !matches!(part, Part::Envelope(_)) {
            return Err(whole(if part == Part::Data {
                "data"
            } else {
                "metadata"
            }));
        }
        Ok(Place {
            part,
            tokens: rest.to_vec(),
            pointer: pointer_text.to_string(),
        })
    }

    /// The member's name in errors: `data.customer.email`, `actor`.
    pub fn field(&self) -> String {
        let head = match self.part {
            Part::Data => "data",
            Part::Metadata => "metadata",
            Part::Envelope(name) => name,
        };
        std::iter::once(head)
            .chain(self.tokens.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Whether `other` is this place or lies inside it.
    fn contains(&self, other: &Place) -> bool {
        self.part == other.part && other.tokens.starts_with(&self.tokens)
    }

    /// The member in an event's envelope, if it is there.
    pub fn get<'a>(&self, envelope: &'a Value) -> Option<&'a Value> {
        let mut here = match self.part {
            Part::Data => envelope.get("data")?,
            Part::Metadata => envelope.get("metadata")?,
            Part::Envelope(name) => envelope.get(name)?,
        };
        for token in &self.tokens {
            here = match here {
                Value::Object(map) => map.get(token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(here)
    }

    fn get_mut<'a>(&self, envelope: &'a mut Value) -> Option<&'a mut Value> {
        let mut here = match self.part {
            Part::Data => envelope.get_mut("data")?,
            Part::Metadata => envelope.get_mut("metadata")?,
            Part::Envelope(name) => envelope.get_mut(name)?,
        };
        for token in &self.tokens {
            here = match here {
                Value::Object(map) => map.get_mut(token)?,
                Value::Array(items) => items.get_mut(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(here)
    }
}

/// The personal data of an event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub event_type: String,
    /// Where the data subject's id is (stored as written: it finds the key).
    pub subject: Place,
    /// The members stored sealed.
    pub paths: Vec<Place>,
}

/// Checks the arguments of `chronicle.define_personal_data`.
pub fn check_definition(
    event_type: Option<&str>,
    subject: Option<&str>,
    paths: Option<&[Option<String>]>,
) -> Result<Definition> {
    let event_type = require(event_type, "event_type")?;
    validate_type_name("event_type", event_type)?;
    let subject = Place::parse("subject", require(subject, "subject")?)?;
    let paths = require(paths, "paths")?;
    if paths.is_empty() {
        return Err(Error::invalid(
            "paths",
            "is empty: an event type with personal data has at least one personal member",
            "List the personal members, e.g. '{/email,/address}'.",
        ));
    }
    let mut places: Vec<Place> = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let field = format!("paths[{i}]");
        let path = require(path.as_deref(), &field)?;
        let place = Place::parse(&field, path)?;
        if let Part::Envelope(name) = place.part {
            return Err(Error::invalid(
                &field,
                format!("names the envelope member {name}, which is not encrypted"),
                format!(
                    "Personal members are in data or metadata; for a data member named {name}, \
                     write \"/data/{name}\". (An envelope member can name the subject.)"
                ),
            ));
        }
        if let Some((j, _)) = places
            .iter()
            .enumerate()
            .find(|(_, p)| p.contains(&place) || place.contains(p))
        {
            return Err(Error::invalid(
                &field,
                format!("overlaps paths[{j}]: one member would be sealed twice"),
                "Name each personal member once (a member holds everything inside it).",
            ));
        }
        if place.contains(&subject) {
            return Err(Error::invalid(
                "subject",
                format!("lies inside paths[{i}]: the subject's id must stay readable"),
                "The subject's id is stored as written (it finds the key); use an opaque id, \
                 not personal data, and leave it out of paths.",
            ));
        }
        places.push(place);
    }
    Ok(Definition {
        event_type: event_type.to_string(),
        subject,
        paths: places,
    })
}

impl Definition {
    /// The data subject an event names (its envelope: `data`, `metadata`,
    /// `actor`, ...): a non-empty string. `prefix` goes before the field in
    /// errors (`events[2].` in a batch).
    pub fn subject_of(&self, prefix: &str, envelope: &Value) -> Result<String> {
        let field = format!("{prefix}{}", self.subject.field());
        let hint = || {
            format!(
                "Events of type {} name their data subject at {} (chronicle.define_personal_data): \
                 include the subject's id there, as a string.",
                self.event_type, self.subject.pointer
            )
        };
        match self.subject.get(envelope) {
            None | Some(Value::Null) => Err(Error::invalid(
                &field,
                "is missing: it names the data subject of this event's personal data",
                hint(),
            )),
            Some(Value::String(s)) if s.chars().count() > crate::limits::MAX_ID_CHARS => {
                Err(Error::TooLong {
                    field,
                    actual: s.chars().count(),
                    max: crate::limits::MAX_ID_CHARS,
                })
            }
            Some(Value::String(s)) if s.is_empty() => Err(Error::invalid(
                &field,
                "is empty: it names the data subject of this event's personal data",
                hint(),
            )),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(Error::invalid(
                &field,
                format!(
                    "is {}, not a string: it names the data subject of this event's personal data",
                    crate::json::type_name(other)
                ),
                hint(),
            )),
        }
    }

    /// Seals the personal members present in an event's envelope with the
    /// subject's key (a member that is absent is not sealed); `nonce` gives
    /// a fresh random nonce per member. Returns the pointers sealed.
    pub fn seal(
        &self,
        envelope: &mut Value,
        key: &Key,
        event_id: &[u8; 16],
        mut nonce: impl FnMut() -> Nonce,
    ) -> Vec<String> {
        let cipher = XChaCha20Poly1305::new(key.into());
        let mut sealed = Vec::new();
        for place in &self.paths {
            let Some(member) = place.get_mut(envelope) else {
                continue;
            };
            let text = seal_text(
                &cipher,
                member,
                &nonce(),
                &associated(event_id, &place.pointer),
            );
            *member = Value::Object(Map::from_iter([(SEALED.to_string(), Value::String(text))]));
            sealed.push(place.pointer.clone());
        }
        sealed
    }
}

/// An event as the definitions read it: `data`, `metadata` and the
/// envelope members given (moved in, not copied).
pub fn envelope(data: Value, metadata: Value, members: [(&str, Option<&str>); 3]) -> Value {
    let mut map = Map::from_iter([
        ("data".to_string(), data),
        ("metadata".to_string(), metadata),
    ]);
    for (name, value) in members {
        if let Some(v) = value {
            map.insert(name.to_string(), Value::String(v.to_string()));
        }
    }
    Value::Object(map)
}

/// An event's data and metadata as stored: its personal members sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedEvent {
    pub data: Value,
    pub metadata: Value,
    /// The pointers of the members sealed (`personal_paths`); empty when
    /// the event has none of the personal members.
    pub paths: Vec<String>,
    /// Whether any of them is in metadata (else metadata is as given).
    pub in_metadata: bool,
}

impl Definition {
    /// Seals the personal members of an event's `data` and `metadata` (see
    /// [`Definition::seal`]); `envelope` is the event (an object with
    /// `data`, `metadata` and the envelope members its subject may be in,
    /// see [`envelope`]).
    pub fn seal_event(
        &self,
        mut envelope: Value,
        key: &Key,
        event_id: &[u8; 16],
        nonce: impl FnMut() -> Nonce,
    ) -> SealedEvent {
        let paths = self.seal(&mut envelope, key, event_id, nonce);
        let in_metadata = self
            .paths
            .iter()
            .any(|p| p.part == Part::Metadata && paths.contains(&p.pointer));
        SealedEvent {
            data: envelope["data"].take(),
            metadata: envelope["metadata"].take(),
            paths,
            in_metadata,
        }
    }
}

/// A folded state that holds personal members of several subjects (a
/// truncated stream's base), sealed with a key derived from all their keys
/// (SHA-256 of them, in the order given): it opens while every one of them
/// exists, and never once any is destroyed. `place` binds it to where it is
/// stored (the stream and version), so that it opens nowhere else.
pub fn seal_state(state: &Value, keys: &[Key], place: &str, nonce: Nonce) -> String {
    let cipher = XChaCha20Poly1305::new((&state_key(keys)).into());
    seal_text(&cipher, state, &nonce, place.as_bytes())
}

/// Opens a state [`seal_state`] sealed with these keys at this place; None
/// if it does not open (a key is another, or it was changed or moved).
pub fn open_state(sealed: &str, keys: &[Key], place: &str) -> Option<Value> {
    let cipher = XChaCha20Poly1305::new((&state_key(keys)).into());
    open_text(&cipher, sealed, place.as_bytes())
}

/// `value`'s canonical JSON text encrypted under `nonce` with the associated
/// data `aad`, as a sealed member or state holds it: the base64 of the
/// nonce and the ciphertext.
fn seal_text(cipher: &XChaCha20Poly1305, value: &Value, nonce: &Nonce, aad: &[u8]) -> String {
    let text = canonical::to_string(value);
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: text.as_bytes(),
                aad,
            },
        )
        .expect("sealing in memory does not fail");
    let mut bytes = Vec::with_capacity(nonce.len() + ciphertext.len());
    bytes.extend_from_slice(nonce);
    bytes.extend_from_slice(&ciphertext);
    BASE64.encode(bytes)
}

/// The value [`seal_text`] sealed with this cipher and `aad`; None if it
/// does not open (another key, another place, or changed).
fn open_text(cipher: &XChaCha20Poly1305, sealed: &str, aad: &[u8]) -> Option<Value> {
    let bytes = BASE64.decode(sealed).ok().filter(|b| b.len() > 24)?;
    let (nonce, ciphertext) = bytes.split_at(24);
    let text = cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()?;
    serde_json::from_slice(&text).ok()
}

fn state_key(keys: &[Key]) -> Key {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(b"chronicle state key");
    for key in keys {
        hash.update(key);
    }
    hash.finalize().into()
}

/// The error for importing an export that carries a base state into a
/// database that keeps personal data sealed: a base is a fold, which can
/// neither be sealed member by member nor told whose data it holds.
pub fn base_refused() -> Error {
    Error::invalid(
        "lines",
        "carries a base state (the stream's first events were removed), which may hold personal \
         data this database keeps sealed (chronicle.personal_data)",
        "Import an export taken before the stream was truncated, or into a database without \
         personal data definitions.",
    )
}

/// A random stream for nonces and ids: ChaCha20's keystream under a key
/// and nonce from the database's strong random source (`seed`), so that a
/// backend asks that source once instead of once per member sealed. Its
/// output is unpredictable without the seed and does not repeat; it is
/// reseeded (by the caller) after [`Stream::RESEED_AFTER`] bytes, well
/// before ChaCha20's 256 GiB keystream ends.
pub struct Stream {
    cipher: chacha20::ChaCha20,
    used: u64,
}

impl Stream {
    pub const RESEED_AFTER: u64 = 1 << 32;

    /// A stream keyed by `seed` (32 bytes of key, 12 of nonce).
    pub fn new(seed: &[u8; 44]) -> Stream {
        use chacha20::cipher::KeyIvInit;
        let (key, nonce) = seed.split_at(32);
        Stream {
            cipher: chacha20::ChaCha20::new(key.into(), nonce.into()),
            used: 0,
        }
    }

    /// Whether the stream has given what it should before a new seed.
    pub fn spent(&self) -> bool {
        self.used >= Self::RESEED_AFTER
    }

    /// Fills `bytes` with the stream's next bytes.
    pub fn fill(&mut self, bytes: &mut [u8]) {
        use chacha20::cipher::StreamCipher;
        bytes.fill(0);
        self.cipher.apply_keystream(bytes);
        self.used += bytes.len() as u64;
    }
}

/// The associated data of a sealed member: its event and its place.
fn associated(event_id: &[u8; 16], pointer: &str) -> Vec<u8> {
    let mut aad = event_id.to_vec();
    aad.extend_from_slice(pointer.as_bytes());
    aad
}

/// A sealed member that does not open: changed, moved to another event or
/// place, or sealed with another key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unopenable {
    /// The member's pointer.
    pub pointer: String,
}

impl Unopenable {
    /// The error a read reports (XX001), naming the member and its event.
    pub fn into_error(self, event_id: &str) -> Error {
        let field = Place::parse("sealed", &self.pointer)
            .map(|p| p.field())
            .unwrap_or(self.pointer);
        Error::SealBroken {
            event_id: event_id.to_string(),
            field,
        }
    }
}

/// Opens the sealed members `sealed` (pointers, as [`Definition::seal`]
/// returned them) of an event's envelope with the subject's key, or, when
/// the key is gone (`None`: the subject was forgotten), erases them.
pub fn open(
    envelope: &mut Value,
    sealed: &[String],
    key: Option<&Key>,
    event_id: &[u8; 16],
) -> std::result::Result<(), Unopenable> {
    let cipher = key.map(|k| XChaCha20Poly1305::new(k.into()));
    for pointer_text in sealed {
        open_at(envelope, pointer_text, cipher.as_ref(), event_id)?;
    }
    Ok(())
}

/// [`open`] for one part of an event, `data` or `metadata` (`part`, the
/// member as stored): what a read of that column shows. The sealed members
/// of the other part are left alone.
pub fn open_part(
    part: Part,
    member: &mut Value,
    sealed: &[String],
    key: Option<&Key>,
    event_id: &[u8; 16],
) -> std::result::Result<(), Unopenable> {
    let name = match part {
        Part::Data => "data",
        Part::Metadata => "metadata",
        Part::Envelope(name) => name,
    };
    let cipher = key.map(|k| XChaCha20Poly1305::new(k.into()));
    let mut envelope = Value::Object(Map::from_iter([(name.to_string(), std::mem::take(member))]));
    let mut result = Ok(());
    for pointer_text in sealed {
        let in_part = Place::parse("sealed", pointer_text).map_or(true, |p| p.part == part);
        if in_part {
            result = open_at(&mut envelope, pointer_text, cipher.as_ref(), event_id);
            if result.is_err() {
                break;
            }
        }
    }
    *member = envelope[name].take();
    result
}

/// Opens (or, without a cipher, erases) the sealed member at `pointer_text`.
fn open_at(
    envelope: &mut Value,
    pointer_text: &str,
    cipher: Option<&XChaCha20Poly1305>,
    event_id: &[u8; 16],
) -> std::result::Result<(), Unopenable> {
    let broken = || Unopenable {
        pointer: pointer_text.to_string(),
    };
    let place = Place::parse("sealed", pointer_text).map_err(|_| broken())?;
    let member = place.get_mut(envelope).ok_or_else(broken)?;
    let Some(cipher) = cipher else {
        *member = erased();
        return Ok(());
    };
    *member = member
        .get(SEALED)
        .and_then(Value::as_str)
        .and_then(|text| open_text(cipher, text, &associated(event_id, pointer_text)))
        .ok_or_else(broken)?;
    Ok(())
}

/// The event as a reader sees it once its subject is forgotten: each of
/// its personal members (`paths`, present ones) replaced by `{"erased":
/// true}`, the rest untouched. What a replay of a forgotten subject's events
/// folds.
pub fn erase(envelope: &mut Value, paths: &[Place]) {
    for place in paths {
        if let Some(member) = place.get_mut(envelope) {
            *member = erased();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> Definition {
        let paths = [Some("/email".to_string()), Some("/address".to_string())];
        check_definition(
            Some("CustomerRegistered"),
            Some("/customer_id"),
            Some(&paths),
        )
        .unwrap()
    }

    fn event() -> Value {
        // Parsed from text: numbers exactly as written (1.50, not 1.5).
        serde_json::from_str(
            r#"{"event_type": "CustomerRegistered", "actor": "clerk-7",
                "data": {"customer_id": "c-42", "email": "ada@example.org",
                         "address": {"city": "London", "zip": "N1 9GU", "owed": 12.50},
                         "tier": 2, "credit": 1.50},
                "metadata": {"ip": "192.0.2.1"}}"#,
        )
        .unwrap()
    }

    const EVENT_ID: [u8; 16] = [7; 16];

    fn counter_nonces() -> impl FnMut() -> Nonce {
        let mut n = 0u8;
        move || {
            n += 1;
            [n; 24]
        }
    }

    #[test]
    fn a_sealed_event_holds_no_plaintext_and_opens_exactly() {
        let def = definition();
        let mut e = event();
        assert_eq!(def.subject_of("", &e).unwrap(), "c-42");
        let key = [9u8; 32];
        let sealed = def.seal(&mut e, &key, &EVENT_ID, counter_nonces());
        assert_eq!(sealed, ["/email", "/address"]);
        let text = e.to_string();
        for plain in ["ada@example.org", "London", "N1 9GU"] {
            assert!(!text.contains(plain), "{plain} in {text}");
        }
        assert!(e["data"]["email"][SEALED].is_string());
        // Everything else is as written.
        assert_eq!(e["data"]["customer_id"], "c-42");
        assert_eq!(e["data"]["credit"].to_string(), "1.50");
        let mut opened = e.clone();
        open(&mut opened, &sealed, Some(&key), &EVENT_ID).unwrap();
        assert_eq!(opened, event());
        assert_eq!(opened["data"]["address"]["owed"].to_string(), "12.50");
    }

    #[test]
    fn without_the_key_the_members_read_as_erased() {
        let def = definition();
        let mut e = event();
        let sealed = def.seal(&mut e, &[9; 32], &EVENT_ID, counter_nonces());
        open(&mut e, &sealed, None, &EVENT_ID).unwrap();
        let mut want = event();
        erase(&mut want, &def.paths);
        assert_eq!(e, want);
        assert_eq!(e["data"]["email"], json!({"erased": true}));
        assert_eq!(e["data"]["tier"], 2);
    }

    #[test]
    fn a_sealed_member_opens_only_with_its_key_event_and_place() {
        let def = definition();
        let mut e = event();
        let sealed = def.seal(&mut e, &[9; 32], &EVENT_ID, counter_nonces());
        let broken = |r: std::result::Result<(), Unopenable>| r.unwrap_err().pointer;
        // Another key (a new key for a reused subject id).
        assert_eq!(
            broken(open(&mut e.clone(), &sealed, Some(&[8; 32]), &EVENT_ID)),
            "/email"
        );
        // Another event.
        assert_eq!(
            broken(open(&mut e.clone(), &sealed, Some(&[9; 32]), &[1; 16])),
            "/email"
        );
        // Moved to another member.
        let mut moved = e.clone();
        moved["data"]["address"] = moved["data"]["email"].clone();
        assert_eq!(
            broken(open(&mut moved, &sealed, Some(&[9; 32]), &EVENT_ID)),
            "/address"
        );
        // Changed.
        let mut changed = e.clone();
        let text = changed["data"]["email"][SEALED]
            .as_str()
            .unwrap()
            .to_string();
        let flipped = if text.starts_with('A') { "B" } else { "A" };
        changed["data"]["email"][SEALED] = Value::from(format!("{flipped}{}", &text[1..]));
        assert_eq!(
            broken(open(&mut changed, &sealed, Some(&[9; 32]), &EVENT_ID)),
            "/email"
        );
    }

    #[test]
    fn each_part_opens_on_its_own_as_a_column_read_does() {
        let paths = [Some("/email".to_string()), Some("/metadata/ip".to_string())];
        let def = check_definition(Some("T"), Some("/customer_id"), Some(&paths)).unwrap();
        let e = event();
        let sealed = def.seal_event(
            envelope(
                e["data"].clone(),
                e["metadata"].clone(),
                [("actor", None); 3],
            ),
            &[3; 32],
            &EVENT_ID,
            counter_nonces(),
        );
        assert_eq!(sealed.paths, ["/email", "/metadata/ip"]);
        assert!(sealed.in_metadata);
        assert!(!sealed.metadata.to_string().contains("192.0.2.1"));
        let (mut data, mut metadata) = (sealed.data.clone(), sealed.metadata.clone());
        open_part(
            Part::Data,
            &mut data,
            &sealed.paths,
            Some(&[3; 32]),
            &EVENT_ID,
        )
        .unwrap();
        assert_eq!(data, e["data"]);
        open_part(
            Part::Metadata,
            &mut metadata,
            &sealed.paths,
            Some(&[3; 32]),
            &EVENT_ID,
        )
        .unwrap();
        assert_eq!(metadata, e["metadata"]);
        let mut metadata = sealed.metadata.clone();
        open_part(
            Part::Metadata,
            &mut metadata,
            &sealed.paths,
            None,
            &EVENT_ID,
        )
        .unwrap();
        assert_eq!(metadata, json!({"ip": {"erased": true}}));
        // A broken member is reported with its event (XX001).
        let mut data = sealed.data;
        data["email"] = json!({SEALED: "AAAA"});
        let err = open_part(
            Part::Data,
            &mut data,
            &sealed.paths,
            Some(&[3; 32]),
            &EVENT_ID,
        )
        .unwrap_err()
        .into_error("e-1");
        assert_eq!((err.sqlstate(), err.field()), ("XX001", "data.email"));
    }

    #[test]
    fn a_sealed_state_opens_only_with_all_its_keys_at_its_place() {
        let state =
            serde_json::from_str::<Value>(r#"{"email": "a@example.org", "n": 1.50}"#).unwrap();
        let keys = [[1u8; 32], [2u8; 32]];
        let sealed = seal_state(&state, &keys, "s-1@3", [5; 24]);
        assert!(!sealed.contains("example"));
        assert_eq!(open_state(&sealed, &keys, "s-1@3").unwrap(), state);
        assert_eq!(
            open_state(&sealed, &keys, "s-1@3").unwrap()["n"].to_string(),
            "1.50"
        );
        assert!(open_state(&sealed, &keys[..1], "s-1@3").is_none());
        assert!(open_state(&sealed, &[keys[1], keys[0]], "s-1@3").is_none());
        assert!(open_state(&sealed, &keys, "s-2@3").is_none());
        assert!(open_state("AAAA", &keys, "s-1@3").is_none());
    }

    #[test]
    fn the_random_stream_does_not_repeat_and_depends_on_its_seed() {
        let mut a = Stream::new(&[1; 44]);
        let (mut x, mut y) = ([0u8; 24], [0u8; 24]);
        a.fill(&mut x);
        a.fill(&mut y);
        assert_ne!(x, y);
        let mut b = Stream::new(&[2; 44]);
        let mut z = [0u8; 24];
        b.fill(&mut z);
        assert_ne!(x, z);
        assert!(!a.spent());
    }

    #[test]
    fn absent_members_are_not_sealed_and_nonces_differ() {
        let def = definition();
        let mut e = json!({"data": {"customer_id": "c-1", "email": "x@example.org"}});
        let mut again = e.clone();
        assert_eq!(
            def.seal(&mut e, &[1; 32], &EVENT_ID, counter_nonces()),
            ["/email"]
        );
        let mut other = counter_nonces();
        other();
        assert_eq!(def.seal(&mut again, &[1; 32], &EVENT_ID, other), ["/email"]);
        assert_ne!(e, again, "a fresh nonce: the same value seals differently");
    }

    #[test]
    fn pointers_name_data_metadata_or_the_envelope() {
        let p = |s: &str| Place::parse("paths[0]", s).map(|p| (p.part, p.tokens));
        assert_eq!(p("/email").unwrap(), (Part::Data, vec!["email".into()]));
        assert_eq!(
            p("/data/actor").unwrap(),
            (Part::Data, vec!["actor".into()])
        );
        assert_eq!(
            p("/metadata/ip").unwrap(),
            (Part::Metadata, vec!["ip".into()])
        );
        assert_eq!(p("/actor").unwrap(), (Part::Envelope("actor"), vec![]));
        assert_eq!(
            p("/a~1b/0").unwrap(),
            (Part::Data, vec!["a/b".into(), "0".into()])
        );
        for bad in [
            "",
            "/data",
            "/metadata",
            "email",
            "/version",
            "/stream_id",
            "/actor/x",
        ] {
            let e = p(bad).unwrap_err();
            assert_eq!((e.sqlstate(), e.field()), ("22023", "paths[0]"), "{bad}");
            assert!(!e.hint().is_empty());
        }
        assert_eq!(
            Place::parse("subject", "/customer/id").unwrap().field(),
            "data.customer.id"
        );
    }

    #[test]
    fn bad_definitions_are_refused_naming_the_field() {
        let paths = |ps: &[&str]| ps.iter().map(|p| Some(p.to_string())).collect::<Vec<_>>();
        let check = |t: Option<&str>, s: Option<&str>, ps: Option<&[Option<String>]>| {
            let e = check_definition(t, s, ps).unwrap_err();
            (e.sqlstate(), e.field().to_string())
        };
        let ok = paths(&["/email"]);
        assert_eq!(
            check(None, Some("/id"), Some(&ok)),
            ("22004", "event_type".into())
        );
        assert_eq!(
            check(Some("T"), None, Some(&ok)),
            ("22004", "subject".into())
        );
        assert_eq!(
            check(Some("T"), Some("/id"), None),
            ("22004", "paths".into())
        );
        assert_eq!(
            check(Some("T"), Some("/id"), Some(&[])),
            ("22023", "paths".into())
        );
        assert_eq!(
            check(Some("T"), Some("/id"), Some(&[None])),
            ("22004", "paths[0]".into())
        );
        assert_eq!(
            check(Some("T"), Some("/id"), Some(&paths(&["/email", "/actor"]))),
            ("22023", "paths[1]".into())
        );
        assert_eq!(
            check(
                Some("T"),
                Some("/id"),
                Some(&paths(&["/address", "/address/city"]))
            ),
            ("22023", "paths[1]".into())
        );
        assert_eq!(
            check(Some("T"), Some("/person/id"), Some(&paths(&["/person"]))),
            ("22023", "subject".into())
        );
        assert_eq!(
            check(Some("T"), Some("/version"), Some(&ok)),
            ("22023", "subject".into())
        );
        assert_eq!(check(Some(""), Some("/id"), Some(&ok)).0, "22023");
        // The subject may be an envelope member; metadata members may be personal.
        let d =
            check_definition(Some("T"), Some("/actor"), Some(&paths(&["/metadata/ip"]))).unwrap();
        assert_eq!(d.subject_of("", &event()).unwrap(), "clerk-7");
    }

    #[test]
    fn a_subject_that_is_missing_empty_or_not_text_is_refused() {
        let def = definition();
        for data in [
            json!({}),
            json!({"customer_id": ""}),
            json!({"customer_id": 42}),
            json!({"customer_id": null}),
        ] {
            let e = def.subject_of("", &json!({"data": data})).unwrap_err();
            assert_eq!(
                (e.sqlstate(), e.field()),
                ("22023", "data.customer_id"),
                "{data}"
            );
            assert!(e.hint().contains("/customer_id"));
        }
    }
}
