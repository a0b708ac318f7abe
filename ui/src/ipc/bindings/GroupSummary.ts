export type GroupSummary = {
  id: number;
  name: string;
  entityCount: number;
  relationshipCount: number;
  /** RFC 3339 */
  updatedAt: string;
};
