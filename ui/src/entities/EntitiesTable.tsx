export function EntitiesTable({ groupId }: { groupId: number | null }) {
  return <div>Entities of {groupId}</div>;
}
