export type EntityStatus =
  "active" | "passive" | "dormant" | "vested" | "dissolved" | "proposed" | "archived";
