import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { AssignEntitiesModal } from "./AssignEntitiesModal";

describe("Assign entities dialog", () => {
  it("starts from the current members, filters by search and saves the full member list", async () => {
    const backend = new MockBackend();
    const nguyen = (await backend.listGroups()).find((g) => g.name === "Nguyen Group");
    if (!nguyen) throw new Error("demo seed changed");
    let closed = false;
    renderWithBackend(
      <AssignEntitiesModal group={nguyen} onClose={() => (closed = true)} />,
      backend,
    );

    const dialog = await screen.findByRole("dialog", { name: "Assign entities to Nguyen Group" });
    await within(dialog).findByText("3 selected");
    expect(within(dialog).getByRole("checkbox", { name: "Linh Nguyen" })).toBeChecked();
    expect(within(dialog).getByRole("checkbox", { name: "John Smith" })).not.toBeChecked();
    // Each entity shows its kind.
    expect(within(dialog).getAllByText("Individual").length).toBeGreaterThan(0);

    await userEvent.type(within(dialog).getByTestId("assign-search"), "smith");
    expect(within(dialog).queryByRole("checkbox", { name: "Linh Nguyen" })).not.toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole("button", { name: "Select all" }));
    expect(within(dialog).getByText("12 selected")).toBeInTheDocument();
    await userEvent.clear(within(dialog).getByTestId("assign-search"));
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "Nguyen Hybrid Trust" }));
    expect(within(dialog).getByText("11 selected")).toBeInTheDocument();

    await userEvent.click(within(dialog).getByRole("button", { name: "Save members" }));
    await waitFor(() => expect(closed).toBe(true));
    const call = backend.calls.find((c) => c.method === "setGroupEntities");
    const names = new Map((await backend.listEntities(null)).map((e) => [e.id, e.name]));
    const saved = (call?.args[1] as number[]).map((id) => names.get(id));
    expect(saved).toHaveLength(11);
    expect(saved).toContain("Linh Nguyen");
    expect(saved).toContain("Smith Super Fund");
    expect(saved).not.toContain("Nguyen Hybrid Trust");
  });
});
