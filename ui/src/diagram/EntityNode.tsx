import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { EntityFlowNode } from "./layout";

/** CSS class per kind / trust type: each gets a distinct shape and colour (diagram.css). */
export function shapeClass(data: EntityFlowNode["data"]): string {
  if (data.kind === "trust") return `sg-trust sg-trust-${data.trustType ?? "unspecified"}`;
  if (data.kind === "individual" && data.deceased) return "sg-individual sg-deceased";
  return `sg-${data.kind}`;
}

function EntityNodeImpl({ data, selected }: NodeProps<EntityFlowNode>) {
  return (
    <div
      className={`sg-node ${shapeClass(data)}${selected ? " sg-selected" : ""}`}
      style={{ width: data.width, height: data.height }}
      title={data.subtitle ? `${data.label}\n${data.subtitle}` : data.label}
    >
      <Handle type="target" position={Position.Top} className="sg-handle" isConnectable={false} />
      <div className="sg-shape-outer" />
      <div className="sg-shape-inner" />
      <div className="sg-node-text">
        {data.kind === "individual" && (
          <svg className="sg-person-icon" viewBox="0 0 16 16" aria-hidden>
            <circle cx="8" cy="4.5" r="3.2" fill="currentColor" />
            <path d="M1.5 15.5c0-3.9 2.9-6.2 6.5-6.2s6.5 2.3 6.5 6.2z" fill="currentColor" />
          </svg>
        )}
        <div className="sg-node-label" data-testid="diagram-node">
          {data.label}
        </div>
        {data.subtitle && <div className="sg-node-subtitle">{data.subtitle}</div>}
      </div>
      <Handle
        type="source"
        position={Position.Bottom}
        className="sg-handle"
        isConnectable={false}
      />
    </div>
  );
}

export const EntityNode = memo(EntityNodeImpl);
