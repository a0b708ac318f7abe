import {
  Alert,
  Box,
  Button,
  Center,
  Group,
  Loader,
  Paper,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type DefaultEdgeOptions,
  type Node,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorState } from "../common/ErrorState";
import { todayIso } from "../common/labels";
import { notifyError, notifySuccess } from "../common/notify";
import { useBackend } from "../ipc/BackendProvider";
import type { Diagram } from "../ipc/bindings/Diagram";
import { useDiagram } from "./api";
import { parseAsAt } from "./asAt";
import "./diagram.css";
import { EntityDetailsPanel } from "./EntityDetailsPanel";
import { EntityNode } from "./EntityNode";
import { diagramBounds, exportFileName, renderDiagram, type ExportFormat } from "./exportImage";
import { LabelledEdge } from "./LabelledEdge";
import { layoutDiagram, type EntityFlowNode, type Layout } from "./layout";

// Module scope so React Flow never sees new type maps between renders.
const nodeTypes = { entity: EntityNode };
const edgeTypes = { labelled: LabelledEdge };
const defaultEdgeOptions: DefaultEdgeOptions = {
  markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: "#868e96" },
};
const proOptions = { hideAttribution: true };
/** Above this many nodes React Flow renders only what is on screen. */
const CULL_THRESHOLD = 120;
const MINIMAP_COLORS: Record<string, string> = {
  individual: "#0ca678",
  company: "#1c7ed6",
  trust: "#9c36b5",
  partnership: "#e8590c",
  smsf: "#1098ad",
};
const minimapColor = (n: Node) => MINIMAP_COLORS[(n as EntityFlowNode).data.kind] ?? "#868e96";

/** The as-at text the user typed and the last valid date applied to the diagram. */
export type AsAtState = { text: string; applied: string | null };

/**
 * Layouts by diagram object. TanStack Query keeps the same object while the data is unchanged
 * (structural sharing), so reopening the tab, or going back to a group, reuses the layout instead
 * of running elk again (seconds for a few hundred entities). A failed layout is forgotten so the
 * next visit tries again.
 */
const layouts = new WeakMap<Diagram, Promise<Layout>>();

function layoutOnce(diagram: Diagram): Promise<Layout> {
  let layout = layouts.get(diagram);
  if (!layout) {
    layout = layoutDiagram(diagram);
    layouts.set(diagram, layout);
    layout.catch(() => layouts.delete(diagram));
  }
  return layout;
}

/** Runs elk once per diagram object ({@link layoutOnce}). */
function useLayout(diagram: Diagram | undefined) {
  const [state, setState] = useState<{ source: Diagram; layout: Layout } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!diagram) return;
    let cancelled = false;
    layoutOnce(diagram).then(
      (layout) => {
        if (!cancelled) {
          setState({ source: diagram, layout });
          setError(null);
        }
      },
      (e: unknown) => {
        console.error("diagram layout failed", e);
        if (!cancelled) setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [diagram]);
  return {
    layout: state?.layout ?? null,
    current: state !== null && state.source === diagram,
    error,
  };
}

export function DiagramTab(props: {
  groupId: number;
  asAt: AsAtState;
  onAsAtChange: (s: AsAtState) => void;
}) {
  return (
    <ReactFlowProvider>
      <DiagramInner {...props} />
    </ReactFlowProvider>
  );
}

function DiagramInner({
  groupId,
  asAt,
  onAsAtChange,
}: {
  groupId: number;
  asAt: AsAtState;
  onAsAtChange: (s: AsAtState) => void;
}) {
  const backend = useBackend();
  const query = useDiagram(groupId, asAt.applied);
  const diagram = query.data;
  const { layout, current, error: layoutError } = useLayout(diagram);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const flowRef = useRef<HTMLDivElement>(null);
  const rf = useReactFlow();

  const parsed = parseAsAt(asAt.text);
  const setText = (text: string) => {
    const p = parseAsAt(text);
    onAsAtChange({
      text,
      applied: p.kind === "valid" ? p.date : p.kind === "empty" ? null : asAt.applied,
    });
  };

  const nodes = useMemo(
    () => (layout?.nodes ?? []).map((n) => (n.id === selectedId ? { ...n, selected: true } : n)),
    [layout, selectedId],
  );
  // Edges touching the selected node are highlighted.
  const edges = useMemo(
    () =>
      (layout?.edges ?? []).map((e) =>
        selectedId !== null && (e.source === selectedId || e.target === selectedId) && e.data
          ? { ...e, data: { ...e.data, highlighted: true }, zIndex: 1 }
          : e,
      ),
    [layout, selectedId],
  );

  // Fit the whole diagram after each new layout, and when the details panel opens or closes.
  // Deferred a frame so React Flow has taken in the new node positions first.
  const panelOpen = selectedId !== null;
  useEffect(() => {
    if (!layout || layout.nodes.length === 0) return;
    // Fit the nodes plus elk's edge routes and labels (fitView alone would only see the nodes).
    // The bottom fifth is left free for the Controls and the MiniMap, which sit in its corners.
    const b = diagramBounds(layout.nodes, layout.edges);
    const bounds = { ...b, height: b.height * 1.25 };
    const handle = window.setTimeout(
      () =>
        void rf.fitBounds(bounds, { padding: 0.06 }).then(() => {
          if (rf.getZoom() > 1.2) void rf.zoomTo(1.2);
        }),
      120,
    );
    return () => window.clearTimeout(handle);
  }, [layout, rf, panelOpen]);

  // "ready" (the end-to-end tests wait for it) means the current diagram's nodes are in the DOM:
  // after the layout is handed to React Flow, wait frame by frame until its node elements exist
  // (all of them, unless React Flow only renders the visible ones), then one more frame.
  const culling = (layout?.nodes.length ?? 0) > CULL_THRESHOLD;
  const [painted, setPainted] = useState<Layout | null>(null);
  useEffect(() => {
    if (!layout) return;
    const expected = culling ? Math.min(1, layout.nodes.length) : layout.nodes.length;
    let frame = 0;
    let tries = 0;
    const check = () => {
      const count = flowRef.current?.querySelectorAll(".react-flow__node").length ?? 0;
      tries++;
      // Give up waiting after ~2 s so a rendering quirk cannot leave the diagram "loading".
      if (count >= expected || tries > 120) {
        frame = requestAnimationFrame(() => setPainted(layout));
      } else {
        frame = requestAnimationFrame(check);
      }
    };
    frame = requestAnimationFrame(check);
    return () => cancelAnimationFrame(frame);
  }, [layout, culling]);
  const rendered = layout !== null && painted === layout;
  const ready = current && rendered && !query.isFetching && !query.isError;
  const state = query.isError && !diagram ? "error" : ready ? "ready" : "loading";
  const empty = diagram !== undefined && diagram.nodes.length === 0;

  const doExport = async (format: ExportFormat) => {
    const viewportEl = flowRef.current?.querySelector<HTMLElement>(".react-flow__viewport");
    if (!viewportEl || !diagram) return;
    setExporting(format);
    try {
      const base64 = await renderDiagram(viewportEl, rf.getNodes(), layout?.edges ?? [], format);
      const path = await backend.saveExport(
        exportFileName(diagram.groupName, diagram.asAt, format),
        base64,
      );
      notifySuccess(path, `${format.toUpperCase()} saved`);
    } catch (e) {
      notifyError(`Could not export the diagram as ${format.toUpperCase()}`, e);
    } finally {
      setExporting(null);
    }
  };

  const selectedNode = selectedId ? diagram?.nodes.find((n) => n.id === selectedId) : undefined;

  return (
    <Stack gap="xs" h="100%">
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <Group align="flex-start" gap="xs" wrap="nowrap">
          <TextInput
            label="As at"
            placeholder="YYYY-MM-DD"
            w={150}
            size="xs"
            value={asAt.text}
            onChange={(e) => setText(e.currentTarget.value)}
            error={parsed.kind === "invalid"}
            data-testid="as-at-input"
            aria-describedby="as-at-help"
          />
          <Button
            size="xs"
            variant="default"
            mt={22}
            onClick={() => setText(todayIso())}
            data-testid="as-at-today"
          >
            Today
          </Button>
          <Button
            size="xs"
            variant="default"
            mt={22}
            onClick={() => setText("")}
            disabled={asAt.text === ""}
            data-testid="as-at-clear"
          >
            Clear
          </Button>
          <Box mt={26}>
            {parsed.kind === "invalid" && (
              <Text size="xs" c="red.7" role="alert" data-testid="as-at-error">
                {parsed.message} The diagram still shows{" "}
                {asAt.applied ? `${asAt.applied}` : "all relationships"}.
              </Text>
            )}
            {parsed.kind !== "invalid" && diagram && diagram.hiddenRelationships > 0 ? (
              <Text size="xs" c="orange.8" data-testid="hidden-count">
                {diagram.hiddenRelationships}{" "}
                {diagram.hiddenRelationships === 1 ? "relationship" : "relationships"} hidden
                (outside their dates)
              </Text>
            ) : parsed.kind === "invalid" ? null : (
              <Text size="xs" c="dimmed" id="as-at-help">
                {asAt.applied
                  ? `Showing relationships in force on ${asAt.applied}`
                  : "Showing all relationships"}
              </Text>
            )}
          </Box>
        </Group>
        <Group gap="xs" mt={22} wrap="nowrap">
          {query.isFetching && diagram && <Loader size="xs" aria-label="Updating diagram" />}
          <Button
            size="xs"
            variant="light"
            onClick={() => void doExport("png")}
            loading={exporting === "png"}
            disabled={!ready || empty || exporting !== null}
            data-testid="export-png"
          >
            Export PNG
          </Button>
          <Button
            size="xs"
            variant="light"
            onClick={() => void doExport("svg")}
            loading={exporting === "svg"}
            disabled={!ready || empty || exporting !== null}
            data-testid="export-svg"
          >
            Export SVG
          </Button>
        </Group>
      </Group>

      {query.isError && diagram && (
        <Alert color="red" py={6} role="alert">
          Could not update the diagram: {query.error.message} Showing the last diagram; try again.
        </Alert>
      )}

      <Group align="stretch" gap="xs" wrap="nowrap" style={{ flex: 1, minHeight: 0 }}>
        <Paper
          withBorder
          ref={flowRef}
          data-testid="diagram"
          data-state={state}
          style={{ flex: 1, position: "relative", minHeight: 420, overflow: "hidden" }}
        >
          {query.isPending && (
            <Center h="100%">
              <Loader aria-label="Loading diagram" />
            </Center>
          )}
          {query.isError && !diagram && (
            <Box p="md">
              <ErrorState
                title="Could not load the diagram"
                error={query.error}
                onRetry={() => void query.refetch()}
              />
            </Box>
          )}
          {layoutError !== null && (
            <Box p="md">
              <ErrorState title="Could not lay out the diagram" error={layoutError} />
            </Box>
          )}
          {empty && (
            <Center h="100%" data-testid="diagram-empty">
              <Stack align="center" gap={4}>
                <Text fw={500}>Assign or create entities to see the diagram</Text>
                <Text size="sm" c="dimmed">
                  Use the Entities tab to create entities, or Assign entities on the Groups page.
                </Text>
              </Stack>
            </Center>
          )}
          {diagram && !empty && !layout && !layoutError && (
            <Center h="100%">
              <Loader aria-label="Laying out diagram" />
            </Center>
          )}
          {layout && !empty && (
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              defaultEdgeOptions={defaultEdgeOptions}
              proOptions={proOptions}
              fitView
              minZoom={0.02}
              maxZoom={2.5}
              nodesDraggable={false}
              nodesConnectable={false}
              edgesFocusable={false}
              onlyRenderVisibleElements={culling}
              onNodeClick={(_e, n) => setSelectedId(n.id)}
              onPaneClick={() => setSelectedId(null)}
            >
              <Background gap={24} color="#e9ecef" />
              <Controls showInteractive={false} />
              <MiniMap
                pannable
                zoomable
                nodeColor={minimapColor}
                nodeStrokeWidth={2}
                style={{ width: 150, height: 100 }}
              />
            </ReactFlow>
          )}
        </Paper>
        {selectedNode && (
          <EntityDetailsPanel
            groupId={groupId}
            entityId={selectedNode.entityId}
            fallbackLabel={selectedNode.label}
            links={(diagram?.edges ?? [])
              .filter((e) => e.source === selectedNode.id || e.target === selectedNode.id)
              .map((e) => {
                const outgoing = e.source === selectedNode.id;
                const other = diagram?.nodes.find((n) => n.id === (outgoing ? e.target : e.source));
                return { id: e.id, label: e.label, outgoing, other: other?.label ?? "?" };
              })}
            onClose={() => setSelectedId(null)}
          />
        )}
      </Group>
    </Stack>
  );
}
