import type { Edge, Node } from "@xyflow/react";
import ElkApi, { type ELK, type ElkNode } from "elkjs/lib/elk-api.js";
import elkWorkerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { Diagram } from "../ipc/bindings/Diagram";
import type { DiagramNode } from "../ipc/bindings/DiagramNode";
import type { RelationshipKind } from "../ipc/bindings/RelationshipKind";

export type EntityNodeData = DiagramNode & { width: number; height: number };
export type EntityFlowNode = Node<EntityNodeData, "entity">;

export type XY = { x: number; y: number };
export type LabelledEdgeData = {
  label: string;
  kind: RelationshipKind;
  /** Orthogonal route computed by elk (absolute coordinates); absent in the fallback layout. */
  points?: XY[];
  /** Where elk placed the label's centre. */
  labelCenter?: XY;
  /** Width elk reserved for the label. */
  labelWidth?: number;
  /** Set while one of the edge's nodes is selected. */
  highlighted?: boolean;
};
export type LabelledFlowEdge = Edge<LabelledEdgeData, "labelled">;

export type Layout = { nodes: EntityFlowNode[]; edges: LabelledFlowEdge[] };

/**
 * elk runs in a Web Worker so that laying out a large group never freezes the window. Where a
 * worker cannot start (jsdom in the tests, or a worker that fails to load) the same elk build runs
 * on the main thread instead, loaded on demand.
 */
type Engine = { elk: ELK; failed: Promise<never> | null };
let engine: Engine | null = null;

function workerEngine(): Engine | null {
  if (typeof Worker === "undefined") return null;
  try {
    let worker: Worker | null = null;
    let fail: (e: unknown) => void = () => {};
    const failed = new Promise<never>((_resolve, reject) => (fail = reject));
    failed.catch(() => {});
    const elk = new ElkApi({
      workerFactory: () => {
        worker = new Worker(elkWorkerUrl);
        worker.addEventListener("error", (e) =>
          fail(new Error(`layout worker failed: ${e.message}`)),
        );
        return worker;
      },
    });
    return { elk, failed };
  } catch (e) {
    console.warn("layout worker unavailable; laying out on the main thread", e);
    return null;
  }
}

async function mainThreadEngine(): Promise<Engine> {
  const { default: ElkBundled } = await import("elkjs/lib/elk.bundled.js");
  return { elk: new ElkBundled(), failed: null };
}

async function runLayout(graph: ElkNode): Promise<ElkNode> {
  engine ??= workerEngine() ?? (await mainThreadEngine());
  const current = engine;
  try {
    const layout = current.elk.layout(graph);
    return await (current.failed ? Promise.race([layout, current.failed]) : layout);
  } catch (e) {
    if (!current.failed) throw e;
    console.warn("layout worker failed; laying out on the main thread", e);
    current.elk.terminateWorker();
    engine = await mainThreadEngine();
    return engine.elk.layout(graph);
  }
}

/** Fixed node sizes per kind: the shapes are drawn to fit them. */
export function nodeSize(n: DiagramNode): { width: number; height: number } {
  if (n.kind === "trust" && (n.trustType === "discretionary" || n.trustType === "unit")) {
    return { width: 220, height: 78 };
  }
  if (n.kind === "trust" && n.trustType === "hybrid") return { width: 230, height: 84 };
  return { width: 200, height: 68 };
}

/** Rough width of a label in the 12px UI font; elk reserves room for it between layers. */
function labelWidth(text: string): number {
  return Math.min(260, Math.ceil(text.length * 6.6) + 16);
}

const LAYOUT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "DOWN",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.spacing.nodeNode": "48",
  "elk.spacing.edgeNode": "24",
  "elk.spacing.edgeEdge": "14",
  "elk.spacing.edgeLabel": "4",
  "elk.layered.spacing.nodeNodeBetweenLayers": "64",
  "elk.layered.spacing.edgeNodeBetweenLayers": "24",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.edgeLabels.placement": "CENTER",
};

/**
 * Above this many nodes, elk's crossing minimisation does one sweep instead of seven: measured on
 * a generated 300-entity, 390-relationship group (node, 2 cores) the layout took 6.5 s with the
 * default thoroughness and 2.8 s with one sweep, with the same layer assignment. Small groups keep
 * the more careful default.
 */
const LARGE_DIAGRAM_NODES = 100;

/** Lays the diagram out with elk (layered, DOWN). Pure: call it once per diagram. */
export async function layoutDiagram(diagram: Diagram): Promise<Layout> {
  const sizes = new Map(diagram.nodes.map((n) => [n.id, nodeSize(n)]));
  const nodeIds = new Set(diagram.nodes.map((n) => n.id));
  const edges = diagram.edges.filter((e) => nodeIds.has(e.source) && nodeIds.has(e.target));
  const graph: ElkNode = {
    id: "root",
    layoutOptions:
      diagram.nodes.length > LARGE_DIAGRAM_NODES
        ? { ...LAYOUT_OPTIONS, "elk.layered.thoroughness": "1" }
        : LAYOUT_OPTIONS,
    children: diagram.nodes.map((n) => ({ id: n.id, ...sizes.get(n.id) })),
    edges: edges.map((e) => ({
      id: e.id,
      sources: [e.source],
      targets: [e.target],
      labels: [{ id: `${e.id}-label`, text: e.label, width: labelWidth(e.label), height: 22 }],
    })),
  };

  const result = await runLayout(graph);
  const positions = new Map(
    (result.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0 }]),
  );
  const routes = new Map(
    (result.edges ?? []).map((e) => {
      const section = e.sections?.[0];
      const label = e.labels?.[0];
      const points = section
        ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]
        : undefined;
      const labelCenter =
        label && label.x !== undefined && label.y !== undefined
          ? { x: label.x + (label.width ?? 0) / 2, y: label.y + (label.height ?? 0) / 2 }
          : undefined;
      return [e.id, { points, labelCenter }] as const;
    }),
  );

  return {
    nodes: diagram.nodes.map((n, i) => {
      const size = sizes.get(n.id) ?? { width: 200, height: 68 };
      return {
        id: n.id,
        type: "entity",
        position: positions.get(n.id) ?? { x: (i % 6) * 260, y: Math.floor(i / 6) * 160 },
        data: { ...n, ...size },
        width: size.width,
        height: size.height,
        draggable: false,
        connectable: false,
      };
    }),
    edges: edges.map((e) => {
      const route = routes.get(e.id);
      return {
        id: e.id,
        type: "labelled",
        source: e.source,
        target: e.target,
        data: {
          label: e.label,
          kind: e.kind,
          points: route?.points,
          labelCenter: route?.labelCenter,
        },
        focusable: false,
      };
    }),
  };
}
