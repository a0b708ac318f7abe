import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderWithBackend } from "../test/render";
import { chooseOption, linkedGroup } from "../test/xpm";
import { GroupXpmTab } from "./GroupXpmTab";
import { StructureRulesPage } from "./StructureRulesPage";

function itemAbout(text: string): HTMLElement {
  const item = screen
    .getAllByTestId("review-item")
    .find((i) => within(i).getByTestId("review-subject").textContent?.includes(text));
  if (!item) throw new Error(`no review item about ${text}`);
  return item;
}

describe("pulling a linked group", () => {
  it("shows the calls done, the time left, then the summary, the review and the run", async () => {
    const { backend, group } = await linkedGroup();
    const membersBefore = (await backend.listEntities(group.id)).length;
    const release = backend.holdPulls();
    renderWithBackend(<GroupXpmTab groupId={group.id} groupName={group.name} />, backend);
    await userEvent.click(await screen.findByTestId("pull-from-xpm"));

    // The mock's plan: the member list + four clients = 5 calls; it waits after the first.
    expect(await screen.findByTestId("pull-progress-text")).toHaveTextContent(
      "Reading the group's members: 1 of 5 XPM calls, about 4 s left.",
    );
    expect(screen.getByTestId("pull-cancel")).toBeInTheDocument();
    release();

    const summary = await screen.findByTestId("pull-summary");
    // Three clients map on their own; Ama waits for a type, so her relationship waits too.
    expect(summary).toHaveTextContent(
      "Entities: 3 created. Members: 3 added. Relationships: 2 created.",
    );
    expect(summary).toHaveTextContent("5 XPM calls: the member list (4 members)");
    expect(screen.queryByTestId("pull-progress")).not.toBeInTheDocument();
    expect(screen.queryByTestId("pull-cancel")).not.toBeInTheDocument();
    expect(await screen.findByTestId("review-counts")).toHaveTextContent(
      "1 ready to apply · 2 need your input · 0 waiting on other changes",
    );
    expect(screen.getAllByTestId("review-item")).toHaveLength(3);
    expect(await screen.findAllByTestId("sync-run")).toHaveLength(1);
    expect(screen.getByTestId("sync-runs")).toHaveTextContent("Succeeded");
    expect((await backend.listEntities(group.id)).length).toBe(membersBefore + 3);
    expect(screen.getByTestId("pull-from-xpm")).toHaveTextContent("Pull again to apply decisions");
  });

  it("cancels a running pull, saving nothing", async () => {
    const { backend, group } = await linkedGroup();
    const membersBefore = (await backend.listEntities(group.id)).length;
    const release = backend.holdPulls();
    renderWithBackend(<GroupXpmTab groupId={group.id} groupName={group.name} />, backend);
    await userEvent.click(await screen.findByTestId("pull-from-xpm"));
    await screen.findByTestId("pull-progress");
    await userEvent.click(screen.getByTestId("pull-cancel"));
    release();

    expect(await screen.findByTestId("pull-cancelled")).toHaveTextContent(
      "The pull was cancelled; nothing was changed.",
    );
    expect(screen.queryByTestId("integration-error")).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("sync-runs")).toHaveTextContent("Cancelled"));
    expect((await backend.listEntities(group.id)).length).toBe(membersBefore);
    expect(screen.queryByTestId("review-panel")).not.toBeInTheDocument();
  });

  it("decides a needs-input item, remembering the rule, and applies it on the next pull", async () => {
    const { backend, group } = await linkedGroup();
    renderWithBackend(<GroupXpmTab groupId={group.id} groupName={group.name} />, backend);
    await userEvent.click(await screen.findByTestId("pull-from-xpm"));
    await screen.findByTestId("pull-summary");

    const ama = itemAbout("Ama Osei");
    expect(within(ama).getByTestId("review-state")).toHaveTextContent("Needs your input");
    expect(ama).toHaveTextContent('"Sole Trader" is not a standard one');
    // A trust needs its trust type before the choice can be made.
    await chooseOption(within(ama).getByTestId("review-kind"), "Trust");
    expect(within(ama).getByTestId("review-apply")).toBeDisabled();
    await chooseOption(within(ama).getByTestId("review-kind"), "Individual");
    expect(within(ama).getByTestId("review-remember")).toBeChecked();
    await userEvent.click(within(ama).getByTestId("review-apply"));

    await waitFor(() =>
      expect(within(itemAbout("Ama Osei")).getByTestId("review-decision")).toHaveTextContent(
        "Create as Individual, remembered as a rule",
      ),
    );
    expect(within(itemAbout("Ama Osei")).getByTestId("review-state")).toHaveTextContent(
      "Ready to apply",
    );
    expect(screen.getByTestId("review-counts")).toHaveTextContent(
      "2 ready to apply · 1 need your input · 0 waiting on other changes",
    );
    expect((await backend.structureRulesList()).map((r) => [r.label, r.kind])).toEqual([
      ["Sole Trader", "individual"],
    ]);

    // Pull again, in full: Ama is created with her beneficiary relationship; her item is gone.
    await userEvent.click(screen.getByTestId("pull-full"));
    await userEvent.click(screen.getByTestId("pull-from-xpm"));
    await waitFor(() =>
      expect(screen.getByTestId("pull-summary")).toHaveTextContent(
        "Entities: 1 created. Members: 1 added. Relationships: 1 created.",
      ),
    );
    await waitFor(() =>
      expect(
        screen
          .getAllByTestId("review-subject")
          .map((s) => s.textContent)
          .some((t) => t?.includes("Ama Osei")),
      ).toBe(false),
    );
    expect(screen.getByTestId("pull-summary")).toHaveTextContent(
      "5 XPM calls: the member list (4 members), 4 clients read one by one",
    );
    expect(backend.calls.filter((c) => c.method === "xpmPull").map((c) => c.args)).toEqual([
      [group.id, false],
      [group.id, true],
    ]);
    const ama2 = (await backend.listEntities(group.id)).find((e) => e.name === "Ama Osei");
    expect(ama2?.kind).toBe("individual");
    expect(await screen.findAllByTestId("sync-run")).toHaveLength(2);
  });

  it("sets a shareholding's class at once", async () => {
    const { backend, group } = await linkedGroup();
    renderWithBackend(<GroupXpmTab groupId={group.id} groupName={group.name} />, backend);
    await userEvent.click(await screen.findByTestId("pull-from-xpm"));
    await screen.findByTestId("pull-summary");
    const holding = itemAbout("share class");
    await userEvent.type(within(holding).getByTestId("review-share-class"), "Ordinary");
    await userEvent.click(within(holding).getByTestId("review-set-class"));
    await waitFor(() => expect(screen.getAllByTestId("review-item")).toHaveLength(2));
    const rels = await backend.listRelationships(group.id);
    expect(rels.find((r) => r.kind === "shareholder")?.shareClass).toBe("Ordinary");
  });
});

describe("Structure rules", () => {
  it("lists the saved rules and deletes one after confirming", async () => {
    const { backend, group } = await linkedGroup();
    await backend.xpmPull(group.id, false, () => {});
    const { items } = await backend.reviewList(group.id);
    const ama = items.find((i) => i.kind === "entityType")!;
    await backend.reviewDecide(ama.id, {
      action: "setKind",
      kind: "trust",
      trustType: "unit",
      rememberAsRule: true,
    });
    renderWithBackend(<StructureRulesPage />, backend);
    const row = await screen.findByTestId("rule-row");
    expect(within(row).getByTestId("rule-label")).toHaveTextContent("Sole Trader");
    expect(row).toHaveTextContent("Trust (Unit)");

    await userEvent.click(within(row).getByRole("button", { name: /Delete the rule/ }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Later pulls will ask again");
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete rule" }));
    expect(await screen.findByTestId("rules-empty")).toBeInTheDocument();
    expect(await backend.structureRulesList()).toEqual([]);
  });
});
