import { useEffect, useState } from "react";

export type Route = { page: "groups" } | { page: "group"; groupId: number } | { page: "entities" };

/** Hash routes work from the bundled files Tauri serves (base './'). */
export function parseHash(hash: string): Route {
  const m = /^#\/groups\/(\d+)/.exec(hash);
  if (m) return { page: "group", groupId: Number(m[1]) };
  if (hash.startsWith("#/entities")) return { page: "entities" };
  return { page: "groups" };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "groups":
      return "#/groups";
    case "group":
      return `#/groups/${route.groupId}`;
    case "entities":
      return "#/entities";
  }
}

export function navigate(route: Route) {
  window.location.hash = routeHref(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
