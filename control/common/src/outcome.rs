//! What a create-or-replace (`PUT`) operation of a contract returns.

/// The stored value, and whether it is new (201) rather than replaced or unchanged (200).
#[derive(Debug, Clone, PartialEq)]
pub struct Put<T> {
    pub value: T,
    pub created: bool,
}
