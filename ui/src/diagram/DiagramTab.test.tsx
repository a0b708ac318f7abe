import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { MockBackend } from "../ipc/mockBackend";
import { renderWithBackend } from "../test/render";
import { DiagramTab, type AsAtState } from "./DiagramTab";

// elk's layered layout runs fine in a browser but is slow and pointless in jsdom (there are no
// real sizes). This mock places the nodes on a simple grid and returns no edge routes, so edges
// fall back to React Flow's own paths; the component under test is otherwise unchanged.
const elk = vi.hoisted(() => ({ layouts: 0 }));
vi.mock("elkjs/lib/elk.bundled.js", () => ({
  default: class {
    layout(graph: { children?: { id: string; width?: number; height?: number }[] }) {
      elk.layouts++;
      return Promise.resolve({
        ...graph,
        children: (graph.children ?? []).map((c, i) => ({
          ...c,
          x: (i % 4) * 260,
          y: Math.floor(i / 4) * 160,
        })),
        edges: [],
      });
    }
  },
}));

function Harness({ groupId }: { groupId: number }) {
  const [asAt, setAsAt] = useState<AsAtState>({ text: "", applied: null });
  return <DiagramTab groupId={groupId} asAt={asAt} onAsAtChange={setAsAt} />;
}

async function smithGroupId(backend: MockBackend): Promise<number> {
  const groups = await backend.listGroups();
  const smith = groups.find((g) => g.name === "Smith Family Group");
  if (!smith) throw new Error("demo seed changed");
  backend.calls.length = 0;
  return smith.id;
}

const ready = () =>
  waitFor(() => expect(screen.getByTestId("diagram")).toHaveAttribute("data-state", "ready"));
const edgeLabels = () => screen.queryAllByTestId("edge-label").map((e) => e.textContent);
const diagramCalls = (b: MockBackend) =>
  b.calls.filter((c) => c.method === "getDiagram").map((c) => c.args[1]);

/** The diagram tab that can be closed and reopened, as the group page's tabs do. */
function Reopenable({ groupId }: { groupId: number }) {
  const [open, setOpen] = useState(true);
  return (
    <>
      <button onClick={() => setOpen((o) => !o)}>toggle</button>
      {open && <Harness groupId={groupId} />}
    </>
  );
}

describe("DiagramTab", () => {
  it("reopening the tab reuses the layout of unchanged data instead of laying out again", async () => {
    const backend = new MockBackend();
    const groupId = await smithGroupId(backend);
    renderWithBackend(<Reopenable groupId={groupId} />, backend);
    await ready();
    const before = elk.layouts;
    fireEvent.click(screen.getByText("toggle"));
    expect(screen.queryByTestId("diagram")).toBeNull();
    fireEvent.click(screen.getByText("toggle"));
    await ready();
    await waitFor(() => expect(diagramCalls(backend).length).toBeGreaterThanOrEqual(1));
    expect(elk.layouts).toBe(before);
    expect(screen.getAllByTestId("diagram-node").length).toBeGreaterThan(0);
  });

  it("renders node labels and edge labels once laid out", async () => {
    const backend = new MockBackend();
    const groupId = await smithGroupId(backend);
    renderWithBackend(<Harness groupId={groupId} />, backend);

    expect(screen.getByTestId("diagram")).toHaveAttribute("data-state", "loading");
    await ready();

    const nodes = screen.getAllByTestId("diagram-node").map((n) => n.textContent);
    expect(nodes).toEqual(
      expect.arrayContaining([
        "John Smith",
        "Jane Smith",
        "Smith Holdings Pty Ltd",
        "Smith Family Trust",
        "Smith Super Fund",
      ]),
    );
    expect(nodes).toHaveLength(9);
    await waitFor(() => expect(edgeLabels()).toHaveLength(17));
    expect(edgeLabels()).toEqual(
      expect.arrayContaining([
        "Shareholder · 50 Ordinary (50%)",
        "Director",
        "Partner 60%",
        "Trustee",
      ]),
    );
    expect(screen.queryByTestId("hidden-count")).not.toBeInTheDocument();
    expect(diagramCalls(backend)).toEqual([null]);
  });

  it("re-queries with the as-at date and reports hidden relationships; Clear removes the filter", async () => {
    const backend = new MockBackend();
    const groupId = await smithGroupId(backend);
    renderWithBackend(<Harness groupId={groupId} />, backend);
    await ready();
    await waitFor(() => expect(edgeLabels()).toHaveLength(17));

    fireEvent.change(screen.getByTestId("as-at-input"), { target: { value: "2020-01-01" } });
    await waitFor(() => expect(diagramCalls(backend)).toEqual([null, "2020-01-01"]));
    await ready();
    // Arthur Smith stopped being a director of Smith Holdings on 2015-06-30.
    await waitFor(() => expect(edgeLabels()).toHaveLength(16));
    expect(screen.getByTestId("hidden-count")).toHaveTextContent(
      "1 relationship hidden (outside their dates)",
    );
    expect(edgeLabels().filter((l) => l === "Director")).toHaveLength(3);

    fireEvent.change(screen.getByTestId("as-at-input"), { target: { value: "2010-01-01" } });
    await waitFor(() => expect(diagramCalls(backend)).toEqual([null, "2020-01-01", "2010-01-01"]));
    await ready();
    await waitFor(() => expect(edgeLabels()).toHaveLength(17));
    expect(screen.queryByTestId("hidden-count")).not.toBeInTheDocument();

    fireEvent.change(screen.getByTestId("as-at-input"), { target: { value: "2016-01-01" } });
    await waitFor(() => expect(screen.getByTestId("hidden-count")).toBeInTheDocument());

    fireEvent.click(screen.getByTestId("as-at-clear"));
    expect(screen.getByTestId("as-at-input")).toHaveValue("");
    await ready();
    await waitFor(() => expect(screen.queryByTestId("hidden-count")).not.toBeInTheDocument());
    // The unfiltered diagram is still cached from the first load, so it shows without a new call.
    await waitFor(() => expect(edgeLabels()).toHaveLength(17));
  });

  it("rejects 2024-13-40 with an inline error and keeps the last diagram", async () => {
    const backend = new MockBackend();
    const groupId = await smithGroupId(backend);
    renderWithBackend(<Harness groupId={groupId} />, backend);
    await ready();

    fireEvent.change(screen.getByTestId("as-at-input"), { target: { value: "2024-13-40" } });
    expect(await screen.findByTestId("as-at-error")).toHaveTextContent(
      "2024-13-40 is not a real date.",
    );
    expect(screen.getByTestId("as-at-input")).toHaveAttribute("aria-invalid", "true");
    // Give a (wrong) re-query the chance to happen, then check it did not.
    await act(() => new Promise((r) => setTimeout(r, 50)));
    expect(diagramCalls(backend)).toEqual([null]);
    expect(screen.getByTestId("diagram")).toHaveAttribute("data-state", "ready");
    expect(screen.getAllByTestId("diagram-node")).toHaveLength(9);

    fireEvent.change(screen.getByTestId("as-at-input"), { target: { value: "30/06/2024" } });
    expect(screen.getByTestId("as-at-error")).toHaveTextContent(/Enter the date as YYYY-MM-DD/);
    expect(diagramCalls(backend)).toEqual([null]);
  });

  it("shows the clicked entity's details and relationships in the side panel", async () => {
    const backend = new MockBackend();
    const groupId = await smithGroupId(backend);
    renderWithBackend(<Harness groupId={groupId} />, backend);
    await ready();
    const john = screen.getAllByTestId("diagram-node").find((n) => n.textContent === "John Smith");
    const nodeEl = john?.closest(".react-flow__node");
    if (!nodeEl) throw new Error("John Smith node missing");
    fireEvent.click(nodeEl);
    const panel = await screen.findByTestId("entity-panel");
    expect(panel).toHaveTextContent("John Smith");
    expect(await within(panel).findByText("1968-04-12")).toBeInTheDocument();
    expect(within(panel).getByText("******789")).toBeInTheDocument();
    expect(within(panel).getByTestId("entity-panel-links")).toHaveTextContent(
      "Director of Smith Holdings Pty Ltd",
    );
    fireEvent.click(within(panel).getByRole("button", { name: "Close details" }));
    expect(screen.queryByTestId("entity-panel")).not.toBeInTheDocument();
  });

  it("shows the empty state for a group without entities", async () => {
    const backend = new MockBackend();
    const group = await backend.createGroup("Empty Co");
    renderWithBackend(<Harness groupId={group.id} />, backend);
    expect(
      await screen.findByText("Assign or create entities to see the diagram"),
    ).toBeInTheDocument();
    expect(screen.queryAllByTestId("diagram-node")).toHaveLength(0);
    expect(screen.getByTestId("export-png")).toBeDisabled();
  });

  it("shows the backend's error when the diagram cannot be loaded", async () => {
    const backend = new MockBackend();
    renderWithBackend(<Harness groupId={999} />, backend);
    expect(await screen.findByText("Group 999 does not exist.")).toBeInTheDocument();
    expect(screen.getByTestId("diagram")).toHaveAttribute("data-state", "error");
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });
});
