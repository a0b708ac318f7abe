import type { ErrorCode } from "./ErrorCode";

/** Every rejected invoke rejects with this object. */
export type IpcError = { code: ErrorCode; message: string };
