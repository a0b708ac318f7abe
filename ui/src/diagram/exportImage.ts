import { getNodesBounds, getViewportForBounds, type Node, type Rect } from "@xyflow/react";
import type { LabelledFlowEdge } from "./layout";
import { toPng, toSvg } from "html-to-image";

export type ExportFormat = "png" | "svg";

const PADDING = 40;
const MAX_SIDE = 8000;

/**
 * Renders the whole diagram (not just what is on screen) to PNG or SVG, as in the React Flow
 * docs' download-image example: size the image to the nodes' bounds and transform the viewport
 * element to fit them. Returns base64 of the file contents.
 */
export async function renderDiagram(
  viewportEl: HTMLElement,
  nodes: Node[],
  edges: LabelledFlowEdge[],
  format: ExportFormat,
): Promise<string> {
  const bounds = diagramBounds(nodes, edges);
  const scale = Math.min(
    1,
    MAX_SIDE / Math.max(bounds.width + PADDING * 2, bounds.height + PADDING * 2),
  );
  const width = Math.ceil((bounds.width + PADDING * 2) * scale);
  const height = Math.ceil((bounds.height + PADDING * 2) * scale);
  const viewport = getViewportForBounds(bounds, width, height, 0.01, scale, 0);
  const options = {
    backgroundColor: "#ffffff",
    width,
    height,
    style: {
      width: `${width}px`,
      height: `${height}px`,
      transform: `translate(${viewport.x}px, ${viewport.y}px) scale(${viewport.zoom})`,
    },
  };
  if (format === "png") {
    // WebKit (Tauri's webview on Linux and macOS) can paint an incomplete first frame of the
    // foreignObject snapshot; html-to-image's known workaround is to render twice.
    if (isWebKit()) await toPng(viewportEl, { ...options, pixelRatio: 1 });
    const dataUrl = await toPng(viewportEl, { ...options, pixelRatio: 2 });
    return dataUrl.slice(dataUrl.indexOf(",") + 1);
  }
  const dataUrl = await toSvg(viewportEl, options);
  const svg = decodeURIComponent(dataUrl.slice(dataUrl.indexOf(",") + 1));
  return utf8ToBase64(svg);
}

function isWebKit(): boolean {
  const ua = navigator.userAgent;
  return /AppleWebKit/.test(ua) && !/Chrome|Chromium|Edg\//.test(ua);
}

/** The nodes' bounds grown to take in elk's edge routes and edge labels, which can lie outside. */
export function diagramBounds(nodes: Node[], edges: LabelledFlowEdge[]): Rect {
  const b = getNodesBounds(nodes);
  let [x0, y0, x1, y1] = [b.x, b.y, b.x + b.width, b.y + b.height];
  for (const e of edges) {
    for (const p of e.data?.points ?? []) {
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
    const c = e.data?.labelCenter;
    if (c) {
      const half = (e.data?.labelWidth ?? 120) / 2;
      x0 = Math.min(x0, c.x - half);
      x1 = Math.max(x1, c.x + half);
      y0 = Math.min(y0, c.y - 12);
      y1 = Math.max(y1, c.y + 12);
    }
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function exportFileName(
  groupName: string,
  asAt: string | null,
  format: ExportFormat,
): string {
  const safe = groupName.replace(/[^\w .-]+/g, "").trim() || "structure";
  return `${safe} structure${asAt ? ` as at ${asAt}` : ""}.${format}`;
}
