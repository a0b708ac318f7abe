import { beforeEach, describe, expect, it, vi } from "vitest";
import { IpcError } from "./IpcError";

// A plain recording stub (not vi.fn, whose result tracking reports the rejected promise as
// an unhandled error even though the code under test handles it).
const calls: unknown[][] = [];
let reply: () => Promise<unknown> = () => Promise.resolve(null);
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (...args: unknown[]) => {
    calls.push(args);
    return reply();
  },
}));

const { createTauriBackend } = await import("./tauriBackend");

describe("IpcError", () => {
  it("is built from the rejected { code, message } object without parsing strings", () => {
    const e = IpcError.from({ code: "conflict", message: 'A group named "X" already exists.' });
    expect(e).toBeInstanceOf(IpcError);
    expect(e.code).toBe("conflict");
    expect(e.message).toBe('A group named "X" already exists.');
  });

  it("treats unknown shapes as internal errors", () => {
    expect(IpcError.from("boom").code).toBe("internal");
    expect(IpcError.from({ code: "weird", message: "x" }).code).toBe("internal");
    expect(IpcError.from(new Error("bad")).message).toBe("bad");
  });
});

describe("tauriBackend", () => {
  beforeEach(() => {
    calls.length = 0;
    reply = () => Promise.resolve(null);
  });

  it("calls the contract's command names with camelCase arguments", async () => {
    const b = createTauriBackend();
    await b.setGroupEntities(3, [1, 2]);
    await b.getDiagram(3, "2024-06-30");
    await b.listEntities(null);
    await b.saveExport("a.png", "QUJD");
    expect(calls).toEqual([
      ["set_group_entities", { groupId: 3, entityIds: [1, 2] }],
      ["get_diagram", { groupId: 3, asAt: "2024-06-30" }],
      ["list_entities", { groupId: null }],
      ["save_export", { fileName: "a.png", contentsBase64: "QUJD" }],
    ]);
  });

  it("rejects with an IpcError built from the rejected object", async () => {
    reply = () => Promise.reject({ code: "validation", message: "ABN must be 11 digits." });
    let error: unknown = null;
    try {
      await createTauriBackend().createGroup("x");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IpcError);
    expect((error as IpcError).code).toBe("validation");
    expect((error as IpcError).message).toBe("ABN must be 11 digits.");
  });
});
