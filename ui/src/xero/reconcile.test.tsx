import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MOCK_USER } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { chooseOption, linkedGroup } from "../test/xpm";
import { ReconcileSection } from "./ReconcileSection";

function itemAbout(text: string): HTMLElement {
  const item = screen
    .getAllByTestId("reconcile-item")
    .find((i) => within(i).getByTestId("reconcile-item-subject").textContent?.includes(text));
  if (!item) throw new Error(`no difference about ${text}`);
  return item;
}

// The mock's preview of a linked group has three differences: its first member's ABN changed on
// both sides (needs input), its first relationship only here (create in XPM, recommended) and a
// client only in XPM, "Xavier Quill" (import, recommended).
describe("reconciling a linked group", () => {
  it("previews, waits for the field decision, applies, and the new preview is empty", async () => {
    const { backend, group } = await linkedGroup();
    renderWithBackend(<ReconcileSection groupId={group.id} />, backend);
    await userEvent.click(await screen.findByTestId("reconcile-preview"));

    expect(await screen.findByTestId("reconcile-counts")).toHaveTextContent(
      "3 differences: 2 ready to apply · 1 need your input · 0 waiting on other changes",
    );
    expect(screen.getByTestId("reconcile-by-type")).toHaveTextContent(
      "1 missing or new entities · 1 entity details · 0 membership · 1 relationships",
    );
    const apply = screen.getByTestId("reconcile-apply");
    expect(apply).toBeDisabled();
    expect(apply).toHaveTextContent("Decide every item to apply");

    // The ABN: take XPM's value. Now every item is ready.
    const field = within(screen.getByTestId("reconcile-fields")).getByText("XPM: 51 824 753 556");
    await userEvent.click(field);
    await waitFor(() =>
      expect(screen.getByTestId("reconcile-counts")).toHaveTextContent(
        "3 ready to apply · 0 need your input",
      ),
    );
    expect(screen.getByTestId("reconcile-apply")).toHaveTextContent("Apply 3 decisions");
    await userEvent.click(screen.getByTestId("reconcile-apply"));

    expect(await screen.findByTestId("reconcile-results-summary")).toHaveTextContent(
      "3 applied · 0 ignored · 0 deferred · 0 blocked · 0 failed.",
    );
    const first = (await backend.listEntities(group.id)).find((e) => e.abn === "51 824 753 556");
    expect(first).toBeDefined();
    // The applied differences are gone from the plan shown under the results.
    expect(await screen.findByTestId("reconcile-no-differences")).toBeInTheDocument();

    await userEvent.click(screen.getByTestId("reconcile-preview"));
    expect(await screen.findByTestId("reconcile-no-differences")).toHaveTextContent(
      "No differences",
    );
  });

  it("a deletion needs its own confirmation; until then it is ignored this round", async () => {
    const { backend, group } = await linkedGroup();
    renderWithBackend(<ReconcileSection groupId={group.id} />, backend);
    await userEvent.click(await screen.findByTestId("reconcile-preview"));
    await screen.findByTestId("reconcile-counts");

    const xavier = itemAbout("Xavier Quill");
    await chooseOption(within(xavier).getByTestId("reconcile-action"), "Delete in XPM");
    const confirm = await within(itemAbout("Xavier Quill")).findByTestId("reconcile-confirm");
    expect(confirm).toBeInTheDocument();
    // Nothing saved yet: the recommendation (import) still stands.
    expect(
      (await backend.xpmReconcileCurrent(group.id))?.items.find((i) => i.subject === "Xavier Quill")
        ?.effective,
    ).toBe("importToSg");

    await userEvent.click(confirm);
    await waitFor(() =>
      expect(screen.getByTestId("reconcile-caveat")).toHaveTextContent(
        "deletions are never automatic",
      ),
    );
    const saved = (await backend.xpmReconcileCurrent(group.id))?.items.find(
      (i) => i.subject === "Xavier Quill",
    );
    expect(saved?.decision).toMatchObject({ action: "deleteInXpm", confirmed: true });
    expect(saved?.effective).toBe("deleteInXpm");
  });

  it("keeps decisions when the section is opened again (the app was closed mid-review)", async () => {
    const { backend, group } = await linkedGroup();
    const first = renderWithBackend(<ReconcileSection groupId={group.id} />, backend);
    await userEvent.click(await screen.findByTestId("reconcile-preview"));
    await userEvent.click(await screen.findByTestId("reconcile-helper-preferXpm"));
    await waitFor(() =>
      expect(screen.getByTestId("reconcile-counts")).toHaveTextContent(
        "3 ready to apply · 0 need your input",
      ),
    );
    first.unmount();

    renderWithBackend(<ReconcileSection groupId={group.id} />, backend);
    expect(await screen.findByTestId("reconcile-counts")).toHaveTextContent(
      "3 ready to apply · 0 need your input",
    );
    // Prefer XPM: XPM's ABN, the XPM-only client imported, the relationship only here ignored.
    const rel = screen
      .getAllByTestId("reconcile-item")
      .find((i) => i.getAttribute("data-item-id")?.startsWith("rel-sg:"));
    expect(within(rel!).getByTestId("reconcile-action")).toHaveValue("Ignore this round");
    expect(screen.getByTestId("reconcile-apply")).toHaveTextContent("Apply 2 decisions");
  });

  it("asks for a code before the preview when the session is not verified", async () => {
    const { backend, group } = await linkedGroup();
    await backend.lock();
    await backend.signIn(MOCK_USER.username, MOCK_USER.password);
    renderWithBackend(<ReconcileSection groupId={group.id} />, backend);
    await userEvent.click(await screen.findByTestId("reconcile-preview"));
    expect(await screen.findByTestId("verify-code-input")).toBeInTheDocument();
  });
});
