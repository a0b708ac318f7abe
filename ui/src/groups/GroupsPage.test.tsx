import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { GroupsPage } from "./GroupsPage";

const emptySeed = { groups: [], entities: [], relationships: [] };

describe("GroupsPage", () => {
  it("lists groups with their entity and relationship counts", async () => {
    renderWithBackend(<GroupsPage />, new MockBackend());
    const rows = await screen.findAllByTestId("group-row");
    expect(rows.map((r) => within(r).getAllByRole("cell")[0]?.textContent)).toEqual([
      "Nguyen Group",
      "Smith Family Group",
    ]);
    const smith = rows[1];
    expect(smith).toBeDefined();
    const cells = within(smith as HTMLElement).getAllByRole("cell");
    expect(cells[1]).toHaveTextContent("9");
    expect(cells[2]).toHaveTextContent("17");
  });

  it("opens a group when its row is clicked", async () => {
    const backend = new MockBackend();
    renderWithBackend(<GroupsPage />, backend);
    const groups = await backend.listGroups();
    const rows = await screen.findAllByTestId("group-row");
    await userEvent.click(within(rows[0] as HTMLElement).getByText("Nguyen Group"));
    expect(window.location.hash).toBe(`#/groups/${groups[0]?.id}`);
  });

  it("shows the empty state and creates the first group from it", async () => {
    const backend = new MockBackend({ seed: emptySeed });
    renderWithBackend(<GroupsPage />, backend);
    expect(await screen.findByTestId("groups-empty")).toHaveTextContent("No groups yet");
    expect(screen.queryAllByTestId("group-row")).toHaveLength(0);

    await userEvent.click(screen.getByRole("button", { name: "Create your first group" }));
    await userEvent.type(await screen.findByTestId("group-name-input"), "Jones Family");
    await userEvent.click(screen.getByTestId("group-name-submit"));

    const row = await screen.findByTestId("group-row");
    expect(row).toHaveTextContent("Jones Family");
    expect(screen.queryByTestId("groups-empty")).not.toBeInTheDocument();
    expect(backend.calls.filter((c) => c.method === "createGroup")).toEqual([
      { method: "createGroup", args: ["Jones Family"] },
    ]);
  });

  it("shows the backend's duplicate-name error and keeps the typed name", async () => {
    renderWithBackend(<GroupsPage />, new MockBackend());
    await screen.findAllByTestId("group-row");
    await userEvent.click(screen.getByTestId("create-group"));
    const input = await screen.findByTestId("group-name-input");
    await userEvent.type(input, "Nguyen Group");
    await userEvent.click(screen.getByTestId("group-name-submit"));
    expect(
      await screen.findByText('A group named "Nguyen Group" already exists.'),
    ).toBeInTheDocument();
    expect(input).toHaveValue("Nguyen Group");
    expect(screen.getAllByTestId("group-row")).toHaveLength(2);
  });

  it("asks for confirmation before deleting, naming the group and keeping its entities", async () => {
    const backend = new MockBackend();
    renderWithBackend(<GroupsPage />, backend);
    await screen.findAllByTestId("group-row");

    await userEvent.click(screen.getByRole("button", { name: "Actions for Nguyen Group" }));
    await userEvent.click(await screen.findByRole("menuitem", { name: "Delete…" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete group" });
    expect(dialog).toHaveTextContent("Nguyen Group");
    expect(dialog).toHaveTextContent(/entities and their relationships are kept/);
    expect(backend.calls.some((c) => c.method === "deleteGroup")).toBe(false);

    await userEvent.click(within(dialog).getByRole("button", { name: "Delete group" }));

    await waitFor(() => expect(screen.getAllByTestId("group-row")).toHaveLength(1));
    expect(screen.getByTestId("group-row")).toHaveTextContent("Smith Family Group");
    const all = await backend.listEntities(null);
    expect(all.map((e) => e.name)).toContain("Linh Nguyen");
  });

  it("deletes nothing when the confirmation is cancelled", async () => {
    const backend = new MockBackend();
    renderWithBackend(<GroupsPage />, backend);
    await screen.findAllByTestId("group-row");
    await userEvent.click(screen.getByRole("button", { name: "Actions for Smith Family Group" }));
    await userEvent.click(await screen.findByRole("menuitem", { name: "Delete…" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete group" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(screen.getAllByTestId("group-row")).toHaveLength(2);
    expect(backend.calls.some((c) => c.method === "deleteGroup")).toBe(false);
  });
});
