import type { ErrorCode } from "./bindings/ErrorCode";
import type { IpcError as IpcErrorShape } from "./bindings/IpcError";

const CODES: readonly ErrorCode[] = [
  "validation",
  "notFound",
  "conflict",
  "mfaRequired",
  "mfaCodeRequired",
  "signedOut",
  "xero",
  "reconnectRequired",
  "internal",
];

function isIpcErrorShape(value: unknown): value is IpcErrorShape {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.message === "string" &&
    typeof v.code === "string" &&
    (CODES as readonly string[]).includes(v.code)
  );
}

/**
 * The error every Backend method rejects with. Built from the structured object the Rust side
 * rejects with ({ code, message }); the message is shown verbatim, never parsed.
 */
export class IpcError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "IpcError";
    this.code = code;
  }

  /** Wraps whatever an invoke rejected with. Unknown shapes become "internal". */
  static from(reason: unknown): IpcError {
    if (reason instanceof IpcError) return reason;
    if (isIpcErrorShape(reason)) return new IpcError(reason.code, reason.message);
    if (reason instanceof Error) return new IpcError("internal", reason.message);
    if (typeof reason === "string") return new IpcError("internal", reason);
    return new IpcError("internal", "The app's backend reported an unexpected error.");
  }

  get isValidation(): boolean {
    return this.code === "validation";
  }
}

/** Message to show for any thrown value (IpcError or otherwise). */
export function errorMessage(error: unknown): string {
  return IpcError.from(error).message;
}

/** A short "what to do next" hint per error code. */
export function errorHint(error: unknown): string {
  switch (IpcError.from(error).code) {
    case "validation":
      return "Correct the details and try again.";
    case "conflict":
      return "Choose a different value and try again.";
    case "notFound":
      return "It may have been deleted elsewhere; refresh the list and try again.";
    case "mfaRequired":
      return "Open Account → Security and enable two-factor authentication first.";
    case "mfaCodeRequired":
      return "Enter a code from your authenticator app to continue.";
    case "signedOut":
      return "Sign in again to continue.";
    case "xero":
      return "Nothing was changed here. Follow the message above, then try again.";
    case "reconnectRequired":
      return "Open Account → Integrations and reconnect to Xero XPM; your groups and links are kept.";
    case "internal":
      return "Try again; if it keeps happening, restart StructureGram.";
  }
}
