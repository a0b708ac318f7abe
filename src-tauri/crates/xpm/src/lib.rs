//! The XPM 3.1 and Xero identity client (being written; see issue 4).
