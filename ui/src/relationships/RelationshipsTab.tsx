export function RelationshipsTab({ groupId }: { groupId: number }) {
  return <div>Relationships of {groupId}</div>;
}
