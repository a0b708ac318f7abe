export type ErrorCode = "validation" | "notFound" | "conflict" | "internal";
