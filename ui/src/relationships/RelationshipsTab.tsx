import {
  ActionIcon,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  Paper,
  ScrollArea,
  Table,
  Text,
} from "@mantine/core";
import { useMemo, useState } from "react";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import { RELATIONSHIP_KIND_LABEL } from "../common/labels";
import { notifySuccess } from "../common/notify";
import { useEntities } from "../entities/api";
import type { Relationship } from "../ipc/bindings/Relationship";
import { useDeleteRelationship, useRelationships } from "./api";
import { RelationshipFormModal } from "./RelationshipFormModal";

function holding(r: Relationship): string {
  const parts: string[] = [];
  if (r.shares !== null) parts.push(`${r.shares}${r.shareClass ? ` ${r.shareClass}` : ""}`);
  else if (r.shareClass) parts.push(r.shareClass);
  if (r.percentage !== null) parts.push(`${r.percentage}%`);
  return parts.join(" · ");
}

export function RelationshipsTab({ groupId }: { groupId: number }) {
  const rels = useRelationships(groupId);
  const groupEntities = useEntities(groupId);
  // Relationships may touch entities outside the group: name them from the full list.
  const allEntities = useEntities(null);
  const del = useDeleteRelationship();
  const [editing, setEditing] = useState<Relationship | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Relationship | null>(null);

  const names = useMemo(
    () =>
      new Map(
        [...(allEntities.data ?? []), ...(groupEntities.data ?? [])].map((e) => [e.id, e.name]),
      ),
    [allEntities.data, groupEntities.data],
  );
  const name = (id: number) => names.get(id) ?? `Entity #${id}`;
  const sorted = useMemo(
    () =>
      [...(rels.data ?? [])].sort(
        (a, b) =>
          (names.get(a.fromId) ?? "").localeCompare(names.get(b.fromId) ?? "") ||
          a.kind.localeCompare(b.kind),
      ),
    [rels.data, names],
  );
  const closeDelete = () => {
    setDeleting(null);
    del.reset();
  };

  return (
    <>
      <Group justify="flex-end" mb="sm">
        <Button
          onClick={() => setCreating(true)}
          disabled={!groupEntities.data || groupEntities.data.length < 2}
          title={
            groupEntities.data && groupEntities.data.length < 2
              ? "A relationship needs two entities in the group"
              : undefined
          }
          data-testid="create-relationship"
        >
          Create relationship
        </Button>
      </Group>
      {rels.isPending && (
        <Center p="xl">
          <Loader aria-label="Loading relationships" />
        </Center>
      )}
      {rels.isError && (
        <ErrorState
          title="Could not load relationships"
          error={rels.error}
          onRetry={() => void rels.refetch()}
        />
      )}
      {rels.data && rels.data.length === 0 && (
        <Paper withBorder p="xl">
          <Text ta="center" c="dimmed">
            No relationships yet. Use Create relationship to link two of the group's entities.
          </Text>
        </Paper>
      )}
      {rels.data && rels.data.length > 0 && (
        <Paper withBorder>
          <ScrollArea>
            <Table highlightOnHover verticalSpacing="xs" data-testid="relationships-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Relationship</Table.Th>
                  <Table.Th>To</Table.Th>
                  <Table.Th>Shares / class / %</Table.Th>
                  <Table.Th>Start</Table.Th>
                  <Table.Th>End</Table.Th>
                  <Table.Th w={50} />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {sorted.map((r) => (
                  <Table.Tr
                    key={r.id}
                    data-testid="relationship-row"
                    onDoubleClick={() => setEditing(r)}
                  >
                    <Table.Td>{name(r.fromId)}</Table.Td>
                    <Table.Td>
                      {r.kind === "custom"
                        ? (r.label ?? "Custom")
                        : RELATIONSHIP_KIND_LABEL[r.kind]}
                    </Table.Td>
                    <Table.Td>{name(r.toId)}</Table.Td>
                    <Table.Td>{holding(r)}</Table.Td>
                    <Table.Td>{r.startDate ?? ""}</Table.Td>
                    <Table.Td>{r.endDate ?? ""}</Table.Td>
                    <Table.Td>
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon
                            variant="subtle"
                            color="gray"
                            aria-label="Relationship actions"
                          >
                            ⋯
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item onClick={() => setEditing(r)}>Edit…</Menu.Item>
                          <Menu.Item color="red" onClick={() => setDeleting(r)}>
                            Delete…
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        </Paper>
      )}
      <RelationshipFormModal
        opened={creating || editing !== null}
        relationship={editing}
        entities={groupEntities.data ?? []}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
      />
      <ConfirmModal
        opened={deleting !== null}
        title="Delete relationship"
        confirmLabel="Delete relationship"
        loading={del.isPending}
        error={del.error}
        onClose={closeDelete}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id, {
            onSuccess: () => {
              notifySuccess("Relationship deleted.");
              closeDelete();
            },
          })
        }
      >
        {deleting && (
          <>
            Delete the relationship <b>{name(deleting.fromId)}</b> —{" "}
            {RELATIONSHIP_KIND_LABEL[deleting.kind].toLowerCase()} → <b>{name(deleting.toId)}</b>?
          </>
        )}
      </ConfirmModal>
    </>
  );
}
