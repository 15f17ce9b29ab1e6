//! Search: the in-memory index over members and the matcher that ranks them as you type.
