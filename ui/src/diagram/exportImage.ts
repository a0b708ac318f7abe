import { getNodesBounds, getViewportForBounds, type Node } from "@xyflow/react";
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
  format: ExportFormat,
): Promise<string> {
  const bounds = getNodesBounds(nodes);
  const scale = Math.min(
    1,
    MAX_SIDE / Math.max(bounds.width + PADDING * 2, bounds.height + PADDING * 2),
  );
  const width = Math.ceil((bounds.width + PADDING * 2) * scale);
  const height = Math.ceil((bounds.height + PADDING * 2) * scale);
  const viewport = getViewportForBounds(bounds, width, height, 0.05, 2, 0);
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
    const dataUrl = await toPng(viewportEl, { ...options, pixelRatio: 2 });
    return dataUrl.slice(dataUrl.indexOf(",") + 1);
  }
  const dataUrl = await toSvg(viewportEl, options);
  const svg = decodeURIComponent(dataUrl.slice(dataUrl.indexOf(",") + 1));
  return utf8ToBase64(svg);
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
