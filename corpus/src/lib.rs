//! Corpus: scenarios (the documented incidents as small synthetic PKIs), their cases and
//! documented expectations, the limbo export, the differential runner and the reports.

pub mod report;
