//! What a documented field is: its kind, whether it is needed, and the shorthands the tables are
//! written in. A file of its own: the tables, the check and the send form all read it.

/// What a field holds: how the form edits it and what the check demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any string.
    Text,
    /// Any string; these values are known and offered. Not enforced: Hermod's full list is not public.
    Suggest(&'static [&'static str]),
    /// A string, one of these: the documentation gives the whole list.
    Choice(&'static [&'static str]),
    /// A JSON whole number of seconds, more than zero.
    Seconds,
    /// Decimal digits in a string (`"2048"`).
    Digits,
    /// Base64 (standard alphabet, padded) in a string.
    Base64,
    /// Base64 of the DER of what PEM blocks with this label hold (`CERTIFICATE`, `CERTIFICATE
    /// REQUEST`); PEM is taken too, and the console sends it as base64 DER once it has parsed it.
    Der(&'static str),
    /// Exactly this many hex digits in a string.
    Hex(usize),
    /// A JSON boolean.
    Flag,
    /// A data item's payload: base64 when the item's `content_encoding` is `base64`.
    Data,
    /// A list of strings; these values are known and offered.
    Strings(&'static [&'static str]),
    /// An object with these fields.
    Object(&'static [Field]),
    /// A list of objects with these fields.
    List(&'static [Field]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Optional,
    /// Present and not null; a list also not empty.
    Required,
    /// At least one of the object's `Either` fields is present.
    Either,
    /// Optional: its name or shape is a guess (docs/hermod.md marks it [I]), so the form marks it as
    /// such and nothing requires it. What it holds, when it is there, is still checked.
    Inferred,
}

/// One documented field. `key` is a plain JSON key (no `/` or `~`), so pointers are built by joining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub need: Need,
    /// What it is for, in the documentation's words, for the operator.
    pub hint: &'static str,
}

pub(super) const fn opt(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Optional,
        hint,
    }
}

pub(super) const fn req(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Required,
        hint,
    }
}

pub(super) const fn either(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Either,
        hint,
    }
}

pub(super) const fn guess(key: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        kind,
        need: Need::Inferred,
        hint,
    }
}
