import { EntitiesTable } from "./EntitiesTable";
export function AllEntitiesPage() {
  return <EntitiesTable groupId={null} />;
}
