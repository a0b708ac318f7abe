import { useEffect, useState } from "react";

export type GroupTab = "diagram" | "entities" | "relationships" | "xpm";

export type Route =
  | { page: "groups" }
  | { page: "group"; groupId: number; tab?: GroupTab }
  | { page: "entities" }
  | { page: "security" }
  | { page: "integrations" }
  | { page: "structureRules" }
  | { page: "importGroups" };

/** Hash routes work from the bundled files Tauri serves (base './'). */
export function parseHash(hash: string): Route {
  const m = /^#\/groups\/(\d+)(?:\/(diagram|entities|relationships|xpm))?/.exec(hash);
  if (m)
    return {
      page: "group",
      groupId: Number(m[1]),
      tab: (m[2] as GroupTab | undefined) ?? "diagram",
    };
  if (hash.startsWith("#/entities")) return { page: "entities" };
  if (hash.startsWith("#/account/security")) return { page: "security" };
  if (hash.startsWith("#/account/integrations")) return { page: "integrations" };
  if (hash.startsWith("#/account/structure-rules")) return { page: "structureRules" };
  if (hash.startsWith("#/data/import-groups")) return { page: "importGroups" };
  return { page: "groups" };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "groups":
      return "#/groups";
    case "group":
      return `#/groups/${route.groupId}${route.tab && route.tab !== "diagram" ? `/${route.tab}` : ""}`;
    case "entities":
      return "#/entities";
    case "security":
      return "#/account/security";
    case "integrations":
      return "#/account/integrations";
    case "structureRules":
      return "#/account/structure-rules";
    case "importGroups":
      return "#/data/import-groups";
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
