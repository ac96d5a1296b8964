//! Exactly-once token and USD counting per assistant message.
//!
//! The unit of counting is the `step-finish` part (one model request), keyed
//! by part id, when a message has any; otherwise the latest message snapshot.
//! Each open message keeps what it currently contributes to the totals. Every
//! event recomputes that contribution from the message's record, and the
//! caller applies the difference. Replays, duplicates and stale snapshots
//! therefore change nothing. A message whose snapshot carries
//! `time.completed` is final: its record is dropped and only a 64-bit
//! fingerprint of its id is kept, so replays of it are still recognised.

use crate::events::usage::{Figures, MessageSnapshot, ModelRef, StepFinish, Tokens};
use crate::pricing::PricingTable;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Additive usage totals. All money is in micro-dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub tokens: Tokens,
    /// USD the events reported (non-zero `cost`).
    pub reported_micros: u64,
    /// USD estimated from the pricing table where the events reported none.
    pub estimated_micros: u64,
    /// Tokens of requests with no reported cost and no price in the table.
    pub unpriced_tokens: u64,
    /// Counted requests (steps, or snapshots of messages without steps).
    pub requests: u64,
    /// Reported USD of requests whose model is also in the table, and the
    /// table's estimate for the same requests; compared to find disagreements.
    pub checked_reported_micros: u64,
    pub checked_estimated_micros: u64,
}

impl Totals {
    /// Reported plus estimated USD.
    pub fn usd_micros(&self) -> u64 {
        self.reported_micros.saturating_add(self.estimated_micros)
    }

    /// Field-wise checked sum.
    pub fn checked_add(&self, other: &Totals) -> Option<Totals> {
        Some(Totals {
            tokens: self.tokens.checked_add(&other.tokens)?,
            reported_micros: self.reported_micros.checked_add(other.reported_micros)?,
            estimated_micros: self.estimated_micros.checked_add(other.estimated_micros)?,
            unpriced_tokens: self.unpriced_tokens.checked_add(other.unpriced_tokens)?,
            requests: self.requests.checked_add(other.requests)?,
            checked_reported_micros: self
                .checked_reported_micros
                .checked_add(other.checked_reported_micros)?,
            checked_estimated_micros: self
                .checked_estimated_micros
                .checked_add(other.checked_estimated_micros)?,
        })
    }

    /// Field-wise checked difference.
    pub fn checked_sub(&self, other: &Totals) -> Option<Totals> {
        Some(Totals {
            tokens: self.tokens.checked_sub(&other.tokens)?,
            reported_micros: self.reported_micros.checked_sub(other.reported_micros)?,
            estimated_micros: self.estimated_micros.checked_sub(other.estimated_micros)?,
            unpriced_tokens: self.unpriced_tokens.checked_sub(other.unpriced_tokens)?,
            requests: self.requests.checked_sub(other.requests)?,
            checked_reported_micros: self
                .checked_reported_micros
                .checked_sub(other.checked_reported_micros)?,
            checked_estimated_micros: self
                .checked_estimated_micros
                .checked_sub(other.checked_estimated_micros)?,
        })
    }

    /// Returns where the USD comes from.
    pub fn source(&self) -> CostSource {
        let priced = self.reported_micros > 0 || self.estimated_micros > 0;
        match (
            self.reported_micros > 0,
            self.estimated_micros > 0,
            self.unpriced_tokens > 0,
        ) {
            (_, _, true) if !priced => CostSource::Unpriced,
            (true, false, false) => CostSource::Reported,
            (false, true, false) => CostSource::Estimated,
            (false, false, false) => CostSource::Reported,
            _ => CostSource::Mixed,
        }
    }
}

/// The origin of a total's USD. `Mixed` includes totals where some tokens
/// are unpriced and others are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSource {
    Reported,
    Estimated,
    Mixed,
    Unpriced,
}

/// The amount one message adds to the totals, attributed to one model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contribution {
    pub model: Option<ModelRef>,
    pub totals: Totals,
}

/// The change one event made: subtract `before`, add `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub session_id: String,
    pub before: Contribution,
    pub after: Contribution,
    /// Event time in ms since the epoch, when the event carried one.
    pub at_ms: Option<u64>,
}

impl Change {
    /// Returns whether the event changed nothing (a duplicate, replay or stale update).
    pub fn is_empty(&self) -> bool {
        self.before == self.after
    }
}

/// A ledger operation that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerError {
    /// A sum left the range of `u64`.
    Overflow { message_id: String },
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::Overflow { message_id } => {
                write!(
                    f,
                    "usage of message \"{message_id}\" overflows the ledger's counters"
                )
            }
        }
    }
}

impl std::error::Error for LedgerError {}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OpenMessage {
    session_id: String,
    model: Option<ModelRef>,
    snapshot: Option<Figures>,
    steps: BTreeMap<String, Figures>,
    counted: Contribution,
}

/// Per-message records. Totals by session, job and plan live with the caller,
/// which applies each [`Change`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ledger {
    open: BTreeMap<String, OpenMessage>,
    /// Fingerprints (FNV-1a 64 of the message id) of completed messages.
    #[serde(with = "hex_set")]
    closed: BTreeSet<u64>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Messages still open (not yet seen with `time.completed`).
    pub fn open_messages(&self) -> usize {
        self.open.len()
    }

    /// Completed messages remembered by fingerprint.
    pub fn closed_messages(&self) -> usize {
        self.closed.len()
    }

    /// Returns whether the message was completed and compacted.
    pub fn is_closed(&self, message_id: &str) -> bool {
        self.closed.contains(&fingerprint(message_id))
    }

    /// Counts a message snapshot. `None` when the message is already final.
    pub fn record_message(
        &mut self,
        snapshot: &MessageSnapshot,
        pricing: &PricingTable,
    ) -> Result<Option<Change>, LedgerError> {
        if self.is_closed(&snapshot.message_id) {
            return Ok(None);
        }
        let entry = open_entry(&mut self.open, &snapshot.message_id, &snapshot.session_id)?;
        if entry.model.as_ref() != Some(&snapshot.model) {
            entry.model = Some(snapshot.model.clone());
        }
        let newer = entry
            .snapshot
            .is_none_or(|old| is_not_older(&snapshot.figures, &old));
        if newer || snapshot.completed_ms.is_some() {
            entry.snapshot = Some(snapshot.figures);
        }
        let at_ms = snapshot.completed_ms.or(snapshot.created_ms);
        let change = recount(&snapshot.message_id, entry, pricing, at_ms)?;
        if snapshot.completed_ms.is_some() {
            self.open.remove(&snapshot.message_id);
            self.closed.insert(fingerprint(&snapshot.message_id));
        }
        Ok(Some(change))
    }

    /// Counts a step-finish part. `None` when its message is already final.
    pub fn record_step(
        &mut self,
        step: &StepFinish,
        pricing: &PricingTable,
    ) -> Result<Option<Change>, LedgerError> {
        if self.is_closed(&step.message_id) {
            return Ok(None);
        }
        let entry = open_entry(&mut self.open, &step.message_id, &step.session_id)?;
        let keep = entry
            .steps
            .get(&step.part_id)
            .is_none_or(|old| is_not_older(&step.figures, old));
        if keep {
            entry.steps.insert(step.part_id.clone(), step.figures);
        }
        recount(&step.message_id, entry, pricing, step.at_ms).map(Some)
    }
}

/// Returns the open message's entry, creating it for a new message. The ids
/// are copied only then, not on every snapshot of a message already open.
fn open_entry<'m>(
    open: &'m mut BTreeMap<String, OpenMessage>,
    message_id: &str,
    session_id: &str,
) -> Result<&'m mut OpenMessage, LedgerError> {
    if !open.contains_key(message_id) {
        let entry = OpenMessage { session_id: session_id.to_string(), ..OpenMessage::default() };
        open.insert(message_id.to_string(), entry);
    }
    // Present, as inserted above; the error only satisfies the types.
    open.get_mut(message_id).ok_or_else(|| LedgerError::Overflow { message_id: message_id.to_string() })
}

/// Snapshots of one message only grow: a later one has at least the cost and
/// tokens of an earlier one. An update that shrinks is a stale, reordered one.
fn is_not_older(new: &Figures, old: &Figures) -> bool {
    let new_key = (new.cost_micros.unwrap_or(0), new.tokens.total());
    let old_key = (old.cost_micros.unwrap_or(0), old.tokens.total());
    new_key >= old_key
}

fn recount(
    message_id: &str,
    entry: &mut OpenMessage,
    pricing: &PricingTable,
    at_ms: Option<u64>,
) -> Result<Change, LedgerError> {
    let overflow = || LedgerError::Overflow {
        message_id: message_id.to_string(),
    };
    // The steps when the message has any, else its latest snapshot.
    let units = entry.steps.values().chain(entry.snapshot.iter().filter(|_| entry.steps.is_empty()));
    let mut totals = Totals::default();
    for figures in units {
        let unit = price_unit(figures, entry.model.as_ref(), pricing).ok_or_else(overflow)?;
        totals = totals.checked_add(&unit).ok_or_else(overflow)?;
    }
    let after = Contribution {
        model: entry.model.clone(),
        totals,
    };
    let before = std::mem::replace(&mut entry.counted, after.clone());
    Ok(Change {
        session_id: entry.session_id.clone(),
        before,
        after,
        at_ms,
    })
}

/// Totals of one request. A request with no tokens and no cost (the empty
/// snapshot sent when a message starts) counts as nothing.
fn price_unit(
    figures: &Figures,
    model: Option<&ModelRef>,
    pricing: &PricingTable,
) -> Option<Totals> {
    let reported = figures.cost_micros.filter(|&micros| micros > 0);
    if figures.tokens.total() == 0 && reported.is_none() {
        return Some(Totals::default());
    }
    let estimate = match model.and_then(|m| pricing.lookup(m)) {
        Some(price) => Some(price.estimate(&figures.tokens)?.micros),
        None => None,
    };
    let mut totals = Totals {
        tokens: figures.tokens,
        requests: 1,
        ..Totals::default()
    };
    match (reported, estimate) {
        (Some(reported), Some(estimated)) => {
            totals.reported_micros = reported;
            totals.checked_reported_micros = reported;
            totals.checked_estimated_micros = estimated;
        }
        (Some(reported), None) => totals.reported_micros = reported,
        (None, Some(estimated)) => totals.estimated_micros = estimated,
        (None, None) => totals.unpriced_tokens = figures.tokens.total(),
    }
    Some(totals)
}

/// FNV-1a, 64 bit: stable across runs and platforms, unlike `DefaultHasher`.
pub fn fingerprint(message_id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in message_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Fingerprints serialise as 16-digit hex strings: JSON numbers above 2^53
/// lose precision in JavaScript.
mod hex_set {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeSet;

    pub fn serialize<S: Serializer>(set: &BTreeSet<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(set.iter().map(|value| format!("{value:016x}")))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeSet<u64>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| {
                u64::from_str_radix(text, 16).map_err(|_| {
                    serde::de::Error::custom(format!("fingerprint \"{text}\" is not 16 hex digits"))
                })
            })
            .collect()
    }
}
