import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { IpcError } from "../ipc/IpcError";
import { MOCK_TOTP_CODE, MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { linkedGroup } from "../test/xpm";
import { BulkSyncCard } from "./BulkSyncCard";

// The mock practice: three XPM groups, "Osei Holdings" linked to the demo's first group,
// "Nguyen Family Group" and "Papadopoulos Family" unlinked. The mock's plan is one shared list
// plus one call per group at 50 calls a minute; after the first group XPM's minute limit makes
// it wait 20 s; the Papadopoulos group fails.

describe("Sync the whole practice", () => {
  it("shows the plan, links the unlinked groups, waits calmly on XPM's limit and lists the failed group", async () => {
    const { backend } = await linkedGroup();
    const release = backend.holdBulk();
    renderWithBackend(<BulkSyncCard />, backend);

    expect(await screen.findByTestId("bulk-plan")).toHaveTextContent(
      "1 linked group: about 2 XPM calls, under a minute within XPM's limits.",
    );
    const link = screen.getByTestId("bulk-link-unlinked");
    expect(link.closest("div")?.parentElement).toHaveTextContent(
      "Also link the 2 unlinked XPM groups as new StructureGram groups",
    );
    await userEvent.click(link);
    // 3 groups: 1 list + 3 group calls + the catalog refresh = 5 calls, 6 s.
    expect(screen.getByTestId("bulk-plan")).toHaveTextContent(
      "Links 2 XPM groups as new StructureGram groups, then syncs 3 groups: about 5 XPM calls, under a minute",
    );
    await userEvent.click(screen.getByTestId("bulk-start"));

    // Held at the rate-limit pause after the first group: 2 groups left, 2 calls, 3 s.
    expect(await screen.findByTestId("bulk-waiting")).toHaveTextContent(
      /XPM's minute limit reached — carrying on at .+; nothing failed\./,
    );
    expect(screen.getByTestId("bulk-progress-text")).toHaveTextContent(
      "1 of 3 groups · about 3 s left",
    );
    expect(screen.getByTestId("bulk-stop")).toBeInTheDocument();
    expect(screen.queryByTestId("bulk-start")).not.toBeInTheDocument();
    release();

    const result = await screen.findByTestId("bulk-result");
    expect(result).toHaveTextContent(
      "Synced 2 groups; 1 group could not be synced (see each one's message): sync again after fixing it. 1 of them has pull items for you to review on its XPM tab.",
    );
    // The Nguyen group synced but its pull left decisions (the mock: 2 need input, 1 waits,
    // 1 ready).
    const toReview = within(result).getAllByTestId("bulk-to-review");
    expect(toReview).toHaveLength(1);
    expect(toReview[0]).toHaveTextContent(
      "Nguyen Family Group: 2 items need your input, 1 item waits on them, 1 is ready to apply",
    );
    const nguyen = (await backend.listGroups()).find((g) => g.name === "Nguyen Family Group")!;
    expect(within(toReview[0]!).getByRole("link", { name: "Nguyen Family Group" })).toHaveAttribute(
      "href",
      `#/groups/${nguyen.id}/xpm`,
    );
    const failures = within(result).getAllByTestId("bulk-failure");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toHaveTextContent(
      'Papadopoulos Family: XPM refused client "Papadopoulos Super Fund": its business structure is missing. Set it in XPM, then sync the group again.',
    );
    const papadopoulos = (await backend.listGroups()).find(
      (g) => g.name === "Papadopoulos Family",
    )!;
    expect(within(failures[0]!).getByRole("link", { name: "Papadopoulos Family" })).toHaveAttribute(
      "href",
      `#/groups/${papadopoulos.id}/xpm`,
    );
    expect(screen.queryByTestId("bulk-progress")).not.toBeInTheDocument();
    // Every XPM group is linked now; nothing is left to link.
    expect((await backend.xpmCatalog({ search: null, linked: false })).rows).toHaveLength(0);
    await waitFor(() => expect(screen.queryByTestId("bulk-link-unlinked")).not.toBeInTheDocument());
  });

  it("stops after the group in flight, keeps the rest queued and resumes them", async () => {
    const { backend } = await linkedGroup();
    const release = backend.holdBulk();
    renderWithBackend(<BulkSyncCard />, backend);
    await userEvent.click(await screen.findByTestId("bulk-link-unlinked"));
    await userEvent.click(screen.getByTestId("bulk-start"));
    await screen.findByTestId("bulk-waiting");
    await userEvent.click(screen.getByTestId("bulk-stop"));
    release();

    expect(await screen.findByTestId("bulk-result")).toHaveTextContent(
      "Stopped after 1 group; 2 groups stay queued. Sync again to carry on.",
    );
    expect((await backend.xpmBulkStatus())?.queue.queued).toBe(2);
    expect(await screen.findByTestId("bulk-plan")).toHaveTextContent(
      "2 remaining groups: about 3 XPM calls",
    );
    const resume = screen.getByTestId("bulk-start");
    expect(resume).toHaveTextContent("Resume");
    await userEvent.click(resume);

    expect(await screen.findByTestId("bulk-result")).toHaveTextContent(
      "Synced 1 group; 1 group could not be synced",
    );
    expect((await backend.xpmBulkStatus())?.queue.queued).toBe(0);
  });

  it("offers to resume a queue an interrupted run left", async () => {
    const { backend } = await linkedGroup();
    const nguyen = (await backend.xpmCatalog({ search: "Nguyen", linked: null })).rows[0]!;
    await backend.xpmLinkNew(nguyen.xpmUuid);
    backend.interruptBulk(2);
    renderWithBackend(<BulkSyncCard />, backend);

    expect(await screen.findByTestId("bulk-stopped")).toHaveTextContent(
      "A sync of 2 remaining groups was interrupted. Resume it to carry on where it stopped.",
    );
    await userEvent.click(screen.getByTestId("bulk-start"));
    expect(await screen.findByTestId("bulk-result")).toHaveTextContent(
      "Synced 2 groups with 3 XPM calls. 1 of them has pull items for you to review on its XPM tab.",
    );
    expect(screen.queryByTestId("bulk-failure")).not.toBeInTheDocument();
    await waitFor(() => expect(screen.queryByTestId("bulk-stopped")).not.toBeInTheDocument());
  });

  it("asks for a two-factor code before syncing, then syncs", async () => {
    const { backend } = await linkedGroup();
    await backend.lock();
    await backend.signIn("demo", "demo-password");
    renderWithBackend(<BulkSyncCard />, backend);
    await userEvent.click(await screen.findByTestId("bulk-start"));
    await userEvent.type(await screen.findByTestId("verify-code-input"), MOCK_TOTP_CODE);
    await userEvent.click(screen.getByTestId("verify-code-submit"));
    expect(await screen.findByTestId("bulk-result")).toHaveTextContent(
      "Synced 1 group with 2 XPM calls.",
    );
  });

  it("says Xero cannot be reached and keeps the card ready to start again", async () => {
    const { backend } = await linkedGroup();
    // What core's xero::UNREACHABLE_MESSAGE says when the computer is offline.
    const unreachable =
      "Can't reach Xero. Check your internet connection and try again; your StructureGram data is unaffected.";
    backend.xpmBulkStart = () => Promise.reject(new IpcError("xero", unreachable));
    renderWithBackend(<BulkSyncCard />, backend);
    await userEvent.click(await screen.findByTestId("bulk-start"));
    expect(await screen.findByTestId("integration-error")).toHaveTextContent(unreachable);
    expect(screen.queryByTestId("bulk-result")).not.toBeInTheDocument();
    expect(screen.getByTestId("bulk-start")).toHaveTextContent("Start");
    expect(screen.getByTestId("bulk-plan")).toHaveTextContent("1 linked group");
  });

  it("says when there is nothing to sync and nothing to link", async () => {
    const backend = new MockBackend({ mfaEnrolled: true });
    await backend.verifySession(MOCK_TOTP_CODE);
    await backend.xeroConnect();
    await backend.xeroWait();
    backend.setXpmGroups([]);
    renderWithBackend(<BulkSyncCard />, backend);
    expect(await screen.findByTestId("bulk-empty")).toHaveTextContent(
      "No linked groups and no XPM groups to link yet.",
    );
    expect(screen.queryByTestId("bulk-start")).not.toBeInTheDocument();
  });

  it("says it is not connected and links to Integrations", async () => {
    const backend = new MockBackend({ mfaEnrolled: true });
    renderWithBackend(<BulkSyncCard />, backend);
    const notConnected = await screen.findByTestId("bulk-not-connected");
    expect(notConnected).toHaveTextContent("Not connected to Xero XPM");
    expect(
      within(notConnected).getByRole("link", { name: "Open Account → Integrations" }),
    ).toBeInTheDocument();
    expect(screen.queryByTestId("bulk-start")).not.toBeInTheDocument();
  });
});
