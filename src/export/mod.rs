//! Files rollcall hands on: CSV lists (call lists, mail-merges) and the CRM activity write-back.
//! Every CSV goes through [`csv_safe`] so no cell can run as a spreadsheet formula, and every
//! file is written through [`pending_file::PendingFile`]: owner-only, put in place whole, and
//! never over the database ([`destination`]).

pub mod activities;
pub mod csv_safe;
pub mod destination;
pub mod letters;
pub mod members;
pub mod pending_file;
pub mod subject_access;

pub use csv_safe::{SafeCsvWriter, neutralise};
