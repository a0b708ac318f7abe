export type EntityKind = "individual" | "company" | "trust" | "partnership" | "smsf";
