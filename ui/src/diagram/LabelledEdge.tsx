import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import type { LabelledFlowEdge } from "./layout";

const SOLID_STYLE = { stroke: "#868e96", strokeWidth: 1.4 };
const DASHED_STYLE = { ...SOLID_STYLE, strokeDasharray: "5 4" };
const HIGHLIGHT_STYLE = { stroke: "#3b5bdb", strokeWidth: 2.4 };
const HIGHLIGHT_DASHED_STYLE = { ...HIGHLIGHT_STYLE, strokeDasharray: "5 4" };
/** Personal relationships are drawn dashed. */
const DASHED = new Set<string>(["spouse", "parent", "child", "associate"]);

function polyline(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"} ${p.x} ${p.y}`).join(" ");
}

/** An edge drawn along elk's orthogonal route, with its label as an HTML element. */
function LabelledEdgeImpl(props: EdgeProps<LabelledFlowEdge>) {
  const { data, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, markerEnd } =
    props;
  let path: string;
  let labelX: number;
  let labelY: number;
  if (data?.points && data.points.length >= 2) {
    path = polyline(data.points);
    const mid = data.labelCenter ??
      data.points[Math.floor(data.points.length / 2)] ?? { x: 0, y: 0 };
    labelX = mid.x;
    labelY = mid.y;
  } else {
    [path, labelX, labelY] = getSmoothStepPath({
      sourceX,
      sourceY,
      targetX,
      targetY,
      sourcePosition,
      targetPosition,
    });
  }
  return (
    <>
      <BaseEdge
        id={props.id}
        path={path}
        markerEnd={markerEnd}
        className={`sg-edge sg-edge-${data?.kind ?? "custom"}`}
        // Inline (not only CSS) so html-to-image keeps the stroke in PNG/SVG exports.
        style={
          DASHED.has(data?.kind ?? "custom")
            ? data?.highlighted
              ? HIGHLIGHT_DASHED_STYLE
              : DASHED_STYLE
            : data?.highlighted
              ? HIGHLIGHT_STYLE
              : SOLID_STYLE
        }
      />
      <EdgeLabelRenderer>
        <div
          className={`sg-edge-label nodrag nopan${data?.highlighted ? " sg-edge-label-highlighted" : ""}`}
          data-testid="edge-label"
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
        >
          {data?.label}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

export const LabelledEdge = memo(LabelledEdgeImpl);
