//! Import: reading CRM exports (formats, encodings, dates) and syncing them into the store.
