import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { IpcError } from "../ipc/IpcError";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { AllEntitiesPage } from "./AllEntitiesPage";

describe("All Entities page", () => {
  it("lists every entity with its groups, and ungrouped ones as such", async () => {
    renderWithBackend(<AllEntitiesPage />, new MockBackend());
    const rows = await screen.findAllByTestId("entity-row");
    expect(rows).toHaveLength(13);
    const row = (name: string) => rows.find((r) => within(r).queryByText(name, { exact: false }));
    expect(
      await within(row("Linh Nguyen") as HTMLElement).findByText("Nguyen Group"),
    ).toBeInTheDocument();
    expect(
      within(row("Estate of M. Brown") as HTMLElement).getByText("Ungrouped"),
    ).toBeInTheDocument();
    expect(within(row("John Smith") as HTMLElement).getByText("******789")).toBeInTheDocument();
  });

  it("filters by kind", async () => {
    renderWithBackend(<AllEntitiesPage />, new MockBackend());
    await screen.findAllByTestId("entity-row");
    await userEvent.click(
      within(screen.getByTestId("entity-kind-filter")).getByRole("radio", { name: "Trust" }),
    );
    const names = screen
      .getAllByTestId("entity-row")
      .map((r) => within(r).getAllByRole("cell")[0]?.textContent);
    expect(names).toEqual([
      "Estate of M. Brown",
      "Nguyen Hybrid Trust",
      "Smith Family Trust",
      "Smith Property Unit Trust",
    ]);
  });

  it("shows a load error with its message, what to do next and Retry", async () => {
    const backend = new MockBackend();
    let fail = true;
    const real = backend.listEntities.bind(backend);
    backend.listEntities = (groupId) =>
      fail ? Promise.reject(new IpcError("internal", "The database is locked.")) : real(groupId);
    renderWithBackend(<AllEntitiesPage />, backend);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The database is locked.");
    expect(alert).toHaveTextContent("Try again; if it keeps happening, restart StructureGram.");
    fail = false;
    await userEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("entity-row")).toHaveLength(13);
  });
});
