//! Writing files staff hand on: CSV lists and the CRM activity write-back.
