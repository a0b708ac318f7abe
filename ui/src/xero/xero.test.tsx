import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { MOCK_TOTP_CODE, MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { chooseOption } from "../test/xpm";
import { GroupXpmTab } from "./GroupXpmTab";
import { ImportGroupsPage } from "./ImportGroupsPage";
import { PushSection } from "./PushSection";
import { XpmIntegrationCard } from "./XpmIntegrationCard";

/** The options a Mantine Select offers. */
async function optionsOf(input: HTMLElement): Promise<string[]> {
  fireEvent.click(input);
  await waitFor(() => expect(input).toHaveAttribute("aria-controls"));
  const listbox = document.getElementById(input.getAttribute("aria-controls") ?? "");
  if (!listbox) throw new Error("the select opened no listbox");
  const names = within(listbox)
    .getAllByRole("option", { hidden: true })
    .map((o) => o.textContent ?? "");
  fireEvent.click(input);
  return names;
}

/** A mock whose user has 2FA on, this session verified, and a connection with three groups. */
async function connectedBackend(): Promise<MockBackend> {
  const backend = new MockBackend({ mfaEnrolled: true });
  await backend.verifySession(MOCK_TOTP_CODE);
  await backend.xeroConnect();
  await backend.xeroWait();
  return backend;
}

describe("the Xero XPM card", () => {
  it("shows the practice, tests the API and disconnects after confirming", async () => {
    const backend = await connectedBackend();
    renderWithBackend(<XpmIntegrationCard />, backend);
    expect(await screen.findByTestId("xpm-status")).toHaveTextContent("Connected");
    expect(screen.getByTestId("xpm-tenant")).toHaveTextContent("Mock Practice (Simulated)");
    expect(screen.getByTestId("xpm-summary")).toHaveTextContent("Linked groups: 0.");

    await userEvent.click(screen.getByTestId("xpm-test"));
    expect(await screen.findByTestId("xpm-test-result")).toHaveTextContent(
      "Organisation API: Success",
    );

    await userEvent.click(screen.getByTestId("xpm-disconnect"));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("groups, entities, links to XPM groups");
    await userEvent.click(within(dialog).getByRole("button", { name: "Disconnect" }));
    await waitFor(() =>
      expect(screen.getByTestId("xpm-status")).toHaveTextContent("Not connected"),
    );
    expect(screen.getByTestId("connect-xpm")).toHaveTextContent("Connect to Xero XPM");
  });
});

describe("Import Groups", () => {
  it("lists the catalog, links one as new and one to an existing group, and filters", async () => {
    const backend = await connectedBackend();
    renderWithBackend(<ImportGroupsPage />, backend);
    const names = async () =>
      (await screen.findAllByTestId("catalog-name")).map((n) => n.textContent);
    expect(await names()).toEqual(["Nguyen Family Group", "Osei Holdings", "Papadopoulos Family"]);

    // Link as new: a group with the XPM name appears, linked.
    const rows = () => screen.getAllByTestId("catalog-row");
    await userEvent.click(within(rows()[1]!).getByTestId("catalog-link-new"));
    await waitFor(() =>
      expect(within(rows()[1]!).getByTestId("catalog-linked-to")).toHaveTextContent(
        "Osei Holdings",
      ),
    );
    expect((await backend.listGroups()).map((g) => g.name)).toContain("Osei Holdings");

    // Link to existing: the demo's Nguyen group; the new Osei group is not offered any more.
    const select = within(rows()[0]!).getByTestId("catalog-existing-select");
    const nguyen = (await backend.listGroups()).find((g) => g.name.startsWith("Nguyen"))!;
    const offered = await optionsOf(select);
    expect(offered).toContain(nguyen.name);
    expect(offered).not.toContain("Osei Holdings");
    await chooseOption(select, nguyen.name);
    await userEvent.click(within(rows()[0]!).getByTestId("catalog-link-existing"));
    await waitFor(() =>
      expect(within(rows()[0]!).getByTestId("catalog-linked-to")).toHaveTextContent(nguyen.name),
    );

    // Unlinked filter: only Papadopoulos is left.
    await userEvent.click(screen.getByText("Unlinked"));
    await waitFor(async () => expect(await names()).toEqual(["Papadopoulos Family"]));
  });

  it("estimates the calls of the selected groups under XPM's limits", async () => {
    const backend = await connectedBackend();
    renderWithBackend(<ImportGroupsPage />, backend);
    await userEvent.click(await screen.findByLabelText("Select Osei Holdings"));
    await userEvent.click(screen.getByLabelText("Select Papadopoulos Family"));
    // The mock's plan: each group costs one group read plus one read per member (6 assumed).
    expect(await screen.findByTestId("catalog-estimate")).toHaveTextContent(
      "2 groups selected: their first pull takes about 14 XPM calls, 1 minute",
    );
  });
});

describe("a group's XPM tab", () => {
  it("links the group to an XPM group, then unlinks it keeping the group", async () => {
    const backend = await connectedBackend();
    const group = (await backend.listGroups())[0]!;
    renderWithBackend(<GroupXpmTab groupId={group.id} groupName={group.name} />, backend);
    await chooseOption(await screen.findByTestId("group-xpm-select"), "Papadopoulos Family");
    await userEvent.click(screen.getByTestId("group-xpm-link"));
    expect(await screen.findByTestId("group-xpm-name")).toHaveTextContent("Papadopoulos Family");

    await userEvent.click(screen.getByTestId("group-xpm-unlink"));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Unlink" }));
    expect(await screen.findByTestId("group-xpm-unlinked")).toBeInTheDocument();
    expect((await backend.listGroups()).map((g) => g.id)).toContain(group.id);
  });
});

describe("pushing a linked group", () => {
  it("previews, pushes through the gate with a report, and then has nothing to push", async () => {
    const backend = await connectedBackend();
    const group = (await backend.listGroups()).find((g) => g.entityCount > 0)!;
    await backend.xpmLinkExisting("0000000a-0000-4000-8000-000000000002", group.id);
    renderWithBackend(<PushSection groupId={group.id} />, backend);

    await userEvent.click(screen.getByTestId("push-preview"));
    expect(await screen.findByTestId("push-plan-summary")).toHaveTextContent(
      `${group.entityCount} to create, 0 to update`,
    );
    expect(backend.calls.map((c) => c.method)).not.toContain("xpmPush");

    await userEvent.click(screen.getByTestId("push-run"));
    expect(await screen.findByTestId("push-report-summary")).toHaveTextContent(
      `${group.entityCount} clients created`,
    );

    await userEvent.click(screen.getByTestId("push-preview"));
    await waitFor(() =>
      expect(screen.getByTestId("push-run")).toHaveTextContent("Nothing to push"),
    );
    expect(screen.getByTestId("push-run")).toBeDisabled();
  });
});
