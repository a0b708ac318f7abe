import {
  ActionIcon,
  Badge,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  Paper,
  ScrollArea,
  SegmentedControl,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useMemo, useState } from "react";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import {
  ENTITY_KIND_LABEL,
  ENTITY_KINDS,
  ENTITY_STATUS_LABEL,
  KIND_COLOR,
  TRUST_TYPE_LABEL,
} from "../common/labels";
import { notifySuccess } from "../common/notify";
import { useGroups } from "../groups/api";
import type { Entity } from "../ipc/bindings/Entity";
import { useDeleteEntity, useEntities } from "./api";
import { EntityFormModal } from "./EntityFormModal";

/** Entities of one group (groupId) or of the whole practice (null, with a Groups column). */
export function EntitiesTable({ groupId }: { groupId: number | null }) {
  const entities = useEntities(groupId);
  const groups = useGroups();
  const del = useDeleteEntity();
  const [kind, setKind] = useState<string>("all");
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState<Entity | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Entity | null>(null);

  const groupName = useMemo(
    () => new Map((groups.data ?? []).map((g) => [g.id, g.name])),
    [groups.data],
  );
  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (entities.data ?? []).filter(
      (e) => (kind === "all" || e.kind === kind) && (q === "" || e.name.toLowerCase().includes(q)),
    );
  }, [entities.data, kind, search]);

  const closeDelete = () => {
    setDeleting(null);
    del.reset();
  };

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <SegmentedControl
            size="xs"
            value={kind}
            onChange={setKind}
            data={[
              { value: "all", label: "All" },
              ...ENTITY_KINDS.map((k) => ({ value: k, label: ENTITY_KIND_LABEL[k] })),
            ]}
            data-testid="entity-kind-filter"
          />
          <TextInput
            size="xs"
            placeholder="Search by name"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
          />
        </Group>
        <Button onClick={() => setCreating(true)} data-testid="create-entity">
          Create entity
        </Button>
      </Group>

      {entities.isPending && (
        <Center p="xl">
          <Loader aria-label="Loading entities" />
        </Center>
      )}
      {entities.isError && (
        <ErrorState
          title="Could not load entities"
          error={entities.error}
          onRetry={() => void entities.refetch()}
        />
      )}
      {entities.data && entities.data.length === 0 && (
        <Paper withBorder p="xl">
          <Text ta="center" c="dimmed">
            {groupId === null
              ? "No entities yet. Create the first one with Create entity."
              : "This group has no entities. Create one here, or use Assign entities to add existing ones."}
          </Text>
        </Paper>
      )}
      {entities.data && entities.data.length > 0 && (
        <Paper withBorder>
          <ScrollArea>
            <Table highlightOnHover verticalSpacing="xs" data-testid="entities-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Kind</Table.Th>
                  <Table.Th>ABN / ACN</Table.Th>
                  <Table.Th>TFN</Table.Th>
                  <Table.Th>Status</Table.Th>
                  {groupId === null && <Table.Th>Groups</Table.Th>}
                  <Table.Th w={50} />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((e) => (
                  <Table.Tr key={e.id} data-testid="entity-row" onDoubleClick={() => setEditing(e)}>
                    <Table.Td>
                      <Text size="sm" fw={500} c={e.dateOfDeath ? "dimmed" : undefined}>
                        {e.name}
                        {e.dateOfDeath ? " †" : ""}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={KIND_COLOR[e.kind]} size="sm">
                        {ENTITY_KIND_LABEL[e.kind]}
                      </Badge>
                      {e.trustType && (
                        <Text span size="xs" c="dimmed" ml={6}>
                          {TRUST_TYPE_LABEL[e.trustType]}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">
                        {[e.abn && `ABN ${e.abn}`, e.acn && `ACN ${e.acn}`]
                          .filter(Boolean)
                          .join(" · ")}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace">
                        {e.tfnMasked ?? ""}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{ENTITY_STATUS_LABEL[e.status]}</Text>
                    </Table.Td>
                    {groupId === null && (
                      <Table.Td>
                        <Group gap={4}>
                          {e.groupIds.length === 0 && (
                            <Text size="xs" c="dimmed">
                              Ungrouped
                            </Text>
                          )}
                          {e.groupIds.map((id) => (
                            <Badge key={id} size="sm" variant="outline" color="gray">
                              {groupName.get(id) ?? `#${id}`}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                    )}
                    <Table.Td>
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon
                            variant="subtle"
                            color="gray"
                            aria-label={`Actions for ${e.name}`}
                          >
                            ⋯
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item onClick={() => setEditing(e)}>Edit…</Menu.Item>
                          <Menu.Item color="red" onClick={() => setDeleting(e)}>
                            Delete…
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                ))}
                {rows.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={7}>
                      <Text size="sm" c="dimmed" ta="center">
                        No entity matches the filter.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        </Paper>
      )}

      <EntityFormModal
        opened={creating || editing !== null}
        entity={editing}
        groupIds={groupId === null ? [] : [groupId]}
        onClose={() => {
          setCreating(false);
          setEditing(null);
        }}
      />
      <ConfirmModal
        opened={deleting !== null}
        title="Delete entity"
        confirmLabel="Delete entity"
        loading={del.isPending}
        error={del.error}
        onClose={closeDelete}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id, {
            onSuccess: () => {
              notifySuccess(`Deleted ${deleting.name}.`);
              closeDelete();
            },
          })
        }
      >
        Delete <b>{deleting?.name}</b> permanently? Its relationships are deleted too, and it is
        removed from every group.
      </ConfirmModal>
    </>
  );
}
