//! A stand-in for Xero identity and XPM 3.1 (being written; see issue 3).
