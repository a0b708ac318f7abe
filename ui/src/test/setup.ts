import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterAll, afterEach } from "vitest";

// jsdom lacks the layout APIs Mantine and React Flow use. These stand-ins follow React Flow's
// testing guide: a ResizeObserver that reports immediately, DOMMatrixReadOnly for the zoom
// scale, and element sizes taken from inline styles (React Flow nodes get explicit sizes).
class ResizeObserverStub {
  private readonly callback: ResizeObserverCallback;
  constructor(callback: ResizeObserverCallback) {
    this.callback = callback;
  }
  observe(target: Element) {
    this.callback([{ target } as ResizeObserverEntry], this as unknown as ResizeObserver);
  }
  unobserve() {}
  disconnect() {}
}

class DOMMatrixReadOnlyStub {
  m22: number;
  constructor(transform?: string) {
    const scale = transform?.match(/scale\(([\d.]+)\)/)?.[1];
    this.m22 = scale !== undefined ? Number(scale) : 1;
  }
}

const g = globalThis as unknown as Record<string, unknown>;
g.ResizeObserver = ResizeObserverStub;
g.DOMMatrixReadOnly = DOMMatrixReadOnlyStub;

Object.defineProperties(HTMLElement.prototype, {
  offsetHeight: {
    configurable: true,
    get(this: HTMLElement) {
      return parseFloat(this.style.height) || 1;
    },
  },
  offsetWidth: {
    configurable: true,
    get(this: HTMLElement) {
      return parseFloat(this.style.width) || 1;
    },
  },
});

(SVGElement.prototype as unknown as { getBBox: () => DOMRect }).getBBox = () =>
  ({ x: 0, y: 0, width: 0, height: 0 }) as DOMRect;

Object.defineProperty(window, "matchMedia", {
  configurable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => {},
    removeListener: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => false,
  }),
});
window.HTMLElement.prototype.scrollIntoView = () => {};

// Test files run in parallel on a 2-core machine; give async queries room.
configure({ asyncUtilTimeout: 10000 });

afterEach(() => {
  cleanup();
  window.location.hash = "";
});

// Mantine's transitions end on timers. Let the last ones run before jsdom is torn down, or their
// late state update finds no `window` and vitest reports an unhandled error after the file.
afterAll(() => new Promise((resolve) => setTimeout(resolve, 500)));
