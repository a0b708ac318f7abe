import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { EntityInput } from "../ipc/bindings/EntityInput";
import { IpcError } from "../ipc/IpcError";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { EntitiesTable } from "./EntitiesTable";

async function setup(backend = new MockBackend()) {
  const groups = await backend.listGroups();
  const smith = groups.find((g) => g.name === "Smith Family Group");
  if (!smith) throw new Error("demo seed changed");
  renderWithBackend(<EntitiesTable groupId={smith.id} />, backend);
  await screen.findAllByTestId("entity-row");
  return { backend, groupId: smith.id };
}

describe("Entity form", () => {
  it("shows the backend's validation message verbatim and keeps what was typed", async () => {
    const { backend } = await setup();
    await userEvent.click(screen.getByTestId("create-entity"));
    const dialog = await screen.findByRole("dialog", { name: "Create entity" });
    await userEvent.click(within(dialog).getByRole("radio", { name: "Company" }));
    await userEvent.type(within(dialog).getByTestId("entity-name"), "Acme Pty Ltd");
    await userEvent.type(within(dialog).getByTestId("entity-abn"), "123");
    await userEvent.type(within(dialog).getByTestId("entity-email"), "ops@acme.test");
    await userEvent.click(within(dialog).getByTestId("entity-submit"));

    expect(await within(dialog).findByTestId("entity-form-error")).toHaveTextContent(
      "ABN must be 11 digits.",
    );
    expect(within(dialog).getByTestId("entity-name")).toHaveValue("Acme Pty Ltd");
    expect(within(dialog).getByTestId("entity-abn")).toHaveValue("123");
    expect(within(dialog).getByTestId("entity-email")).toHaveValue("ops@acme.test");
    expect(screen.getByRole("dialog", { name: "Create entity" })).toBeInTheDocument();
    expect((await backend.listEntities(null)).some((e) => e.name === "Acme Pty Ltd")).toBe(false);

    // Fixing the field and saving again succeeds and closes the dialog.
    await userEvent.clear(within(dialog).getByTestId("entity-abn"));
    await userEvent.type(within(dialog).getByTestId("entity-abn"), "51824753556");
    await userEvent.click(within(dialog).getByTestId("entity-submit"));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(await screen.findByText("Acme Pty Ltd")).toBeInTheDocument();
  });

  it("shows any IpcError message from the backend exactly as sent", async () => {
    const backend = new MockBackend();
    const message =
      "Partner interests in Smith Partners would total 120%; they may not exceed 100%.";
    backend.createEntity = () => Promise.reject(new IpcError("validation", message));
    await setup(backend);
    await userEvent.click(screen.getByTestId("create-entity"));
    const dialog = await screen.findByRole("dialog", { name: "Create entity" });
    await userEvent.type(within(dialog).getByTestId("entity-firstName"), "Sam");
    await userEvent.type(within(dialog).getByTestId("entity-lastName"), "Lee");
    await userEvent.click(within(dialog).getByTestId("entity-submit"));
    const alert = await within(dialog).findByTestId("entity-form-error");
    expect(alert).toHaveTextContent(message);
    expect(within(dialog).getByTestId("entity-firstName")).toHaveValue("Sam");
  });

  it("requires a trust type, listed alphabetically with Unspecified last", async () => {
    const { backend } = await setup();
    await userEvent.click(screen.getByTestId("create-entity"));
    const dialog = await screen.findByRole("dialog", { name: "Create entity" });
    await userEvent.click(within(dialog).getByRole("radio", { name: "Trust" }));
    await userEvent.type(within(dialog).getByTestId("entity-name"), "Lee Family Trust");
    await userEvent.click(within(dialog).getByTestId("entity-submit"));
    expect(await within(dialog).findByText("Choose the trust type.")).toBeInTheDocument();
    expect(backend.calls.some((c) => c.method === "createEntity")).toBe(false);

    await userEvent.click(within(dialog).getByTestId("entity-trustType"));
    const listbox = (await screen.findAllByRole("listbox", { hidden: true })).find((l) =>
      l.textContent?.includes("Discretionary"),
    );
    if (!listbox) throw new Error("trust type options not shown");
    const options = within(listbox)
      .getAllByRole("option", { hidden: true })
      .map((o) => o.textContent);
    expect(options).toHaveLength(10);
    expect(options[options.length - 1]).toBe("Unspecified");
    const rest = options.slice(0, -1) as string[];
    expect(rest).toEqual([...rest].sort((a, b) => a.localeCompare(b)));
  });

  it("treats the TFN as write-only: empty keeps it (null), Clear TFN sends an empty string", async () => {
    const { backend } = await setup();
    const inputs = () =>
      backend.calls
        .filter((c) => c.method === "updateEntity")
        .map((c) => (c.args[1] as EntityInput).tfn);

    // Double-clicking a row edits it (the row's menu has the same Edit… action).
    const editJohn = async () => {
      const row = screen
        .getAllByTestId("entity-row")
        .find((r) => r.textContent?.includes("John Smith"));
      if (!row) throw new Error("John Smith row missing");
      await userEvent.dblClick(row);
      return screen.findByRole("dialog", { name: "Edit John Smith" });
    };

    let dialog = await editJohn();
    expect(within(dialog).getByTestId("entity-tfn")).toHaveValue("");
    expect(within(dialog).getByTestId("entity-tfn")).toHaveAttribute(
      "placeholder",
      expect.stringContaining("******789"),
    );
    await userEvent.click(within(dialog).getByTestId("entity-submit"));
    await waitFor(() => expect(inputs()).toEqual([null]));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());

    dialog = await editJohn();
    await userEvent.click(within(dialog).getByTestId("entity-clear-tfn"));
    await userEvent.click(within(dialog).getByTestId("entity-submit"));
    await waitFor(() => expect(inputs()).toEqual([null, ""]));
    const john = (await backend.listEntities(null)).find((e) => e.name === "John Smith");
    expect(john?.tfnMasked).toBeNull();
  });
});
