//! Writing files staff hand on: CSV lists and the CRM activity write-back.

pub mod activities;
pub mod formula;
pub mod members;
pub mod pending_file;
