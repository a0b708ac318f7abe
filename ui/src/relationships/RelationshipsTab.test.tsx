import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { RelationshipsTab } from "./RelationshipsTab";

async function setup() {
  const backend = new MockBackend();
  const smith = (await backend.listGroups()).find((g) => g.name === "Smith Family Group");
  if (!smith) throw new Error("demo seed changed");
  renderWithBackend(<RelationshipsTab groupId={smith.id} />, backend);
  await screen.findAllByTestId("relationship-row");
  return backend;
}

/** Picks an option of a Mantine Select (options render in a portal listbox). */
async function choose(dialog: HTMLElement, testId: string, option: string) {
  const input = within(dialog).getByTestId(testId);
  fireEvent.click(input);
  // The open Select points at its own listbox; From and To offer the same names.
  await waitFor(() => expect(input).toHaveAttribute("aria-controls"));
  const listbox = document.getElementById(input.getAttribute("aria-controls") ?? "");
  if (!listbox) throw new Error(`no listbox for ${testId}`);
  fireEvent.click(within(listbox).getByRole("option", { name: option, hidden: true }));
  await waitFor(() => expect(input).toHaveValue(option));
}

describe("Relationships tab", () => {
  it("lists the group's relationships with holdings and dates", async () => {
    await setup();
    const rows = screen.getAllByTestId("relationship-row");
    expect(rows).toHaveLength(17);
    const arthur = rows.find(
      (r) => r.textContent?.includes("Arthur Smith") && r.textContent.includes("Director"),
    );
    expect(arthur).toHaveTextContent("Smith Holdings Pty Ltd");
    expect(arthur).toHaveTextContent("2015-06-30");
    const share = rows.find((r) => r.textContent?.includes("Shareholder"));
    expect(share).toHaveTextContent("50 Ordinary · 50%");
  });

  it("shows share fields only for holdings, and the backend's partner-total error verbatim", async () => {
    const backend = await setup();
    await userEvent.click(screen.getByTestId("create-relationship"));
    const dialog = await screen.findByRole("dialog", { name: "Create relationship" });
    expect(within(dialog).queryByTestId("rel-shares")).not.toBeInTheDocument();
    expect(within(dialog).queryByTestId("rel-percentage")).not.toBeInTheDocument();

    await choose(dialog, "rel-kind", "Shareholder");
    expect(within(dialog).getByTestId("rel-shares")).toBeInTheDocument();
    expect(within(dialog).getByTestId("rel-share-class")).toBeInTheDocument();

    await choose(dialog, "rel-kind", "Partner");
    expect(within(dialog).queryByTestId("rel-shares")).not.toBeInTheDocument();
    expect(within(dialog).getByTestId("rel-percentage")).toBeInTheDocument();

    await choose(dialog, "rel-from", "Arthur Smith");
    await choose(dialog, "rel-to", "Smith Partners");
    await userEvent.type(within(dialog).getByTestId("rel-percentage"), "20");
    await userEvent.click(within(dialog).getByTestId("relationship-submit"));

    expect(await within(dialog).findByTestId("relationship-form-error")).toHaveTextContent(
      "Partner interests in Smith Partners would total 120%; they may not exceed 100%.",
    );
    // Nothing typed is lost, and nothing was created.
    expect(within(dialog).getByTestId("rel-percentage")).toHaveValue("20%");
    expect(within(dialog).getByTestId("rel-from")).toHaveValue("Arthur Smith");
    expect(screen.getAllByTestId("relationship-row")).toHaveLength(17);
    const created = backend.calls.filter((c) => c.method === "createRelationship");
    expect(created).toHaveLength(1);
    expect(created[0]?.args[0]).toMatchObject({
      kind: "partner",
      percentage: 20,
      shares: null,
      label: null,
    });
  });

  it("creates a dated relationship and lists it", async () => {
    await setup();
    await userEvent.click(screen.getByTestId("create-relationship"));
    const dialog = await screen.findByRole("dialog", { name: "Create relationship" });
    await choose(dialog, "rel-kind", "Secretary");
    await choose(dialog, "rel-from", "Jane Smith");
    await choose(dialog, "rel-to", "Smith Nominees Pty Ltd");
    await userEvent.type(within(dialog).getByTestId("rel-start"), "2019-07-01");
    await userEvent.click(within(dialog).getByTestId("relationship-submit"));
    await waitFor(() => expect(screen.getAllByTestId("relationship-row")).toHaveLength(18));
    const row = screen
      .getAllByTestId("relationship-row")
      .find((r) => r.textContent?.includes("Secretary"));
    expect(row).toHaveTextContent("Jane Smith");
    expect(row).toHaveTextContent("Smith Nominees Pty Ltd");
    expect(row).toHaveTextContent("2019-07-01");
  });
});
