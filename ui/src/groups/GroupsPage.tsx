import {
  ActionIcon,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  Paper,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { useState } from "react";
import { navigate } from "../app/router";
import { ConfirmModal } from "../common/ConfirmModal";
import { ErrorState } from "../common/ErrorState";
import { notifySuccess } from "../common/notify";
import type { GroupSummary } from "../ipc/bindings/GroupSummary";
import { useCreateGroup, useDeleteGroup, useGroups, useRenameGroup } from "./api";
import { AssignEntitiesModal } from "./AssignEntitiesModal";
import { GroupNameModal } from "./GroupNameModal";

export function GroupsPage() {
  const groups = useGroups();
  const createGroup = useCreateGroup();
  const renameGroup = useRenameGroup();
  const deleteGroup = useDeleteGroup();
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<GroupSummary | null>(null);
  const [deleting, setDeleting] = useState<GroupSummary | null>(null);
  const [assigning, setAssigning] = useState<GroupSummary | null>(null);

  const closeDelete = () => {
    setDeleting(null);
    deleteGroup.reset();
  };

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Groups</Title>
        {groups.data && groups.data.length > 0 && (
          <Button onClick={() => setCreating(true)} data-testid="create-group">
            Create group
          </Button>
        )}
      </Group>

      {groups.isPending && (
        <Center p="xl">
          <Loader aria-label="Loading groups" />
        </Center>
      )}
      {groups.isError && (
        <ErrorState
          title="Could not load groups"
          error={groups.error}
          onRetry={() => void groups.refetch()}
        />
      )}

      {groups.data && groups.data.length === 0 && (
        <Paper withBorder p="xl" data-testid="groups-empty">
          <Stack align="center" gap="sm">
            <Title order={4}>No groups yet</Title>
            <Text c="dimmed" ta="center" maw={460}>
              A group holds one client's structure: the people, companies, trusts, partnerships and
              funds that belong together, and the diagram that shows how they relate.
            </Text>
            <Button size="md" onClick={() => setCreating(true)} data-testid="create-first-group">
              Create your first group
            </Button>
          </Stack>
        </Paper>
      )}

      {groups.data && groups.data.length > 0 && (
        <Paper withBorder>
          <Table highlightOnHover verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th w={110}>Entities</Table.Th>
                <Table.Th w={130}>Relationships</Table.Th>
                <Table.Th w={60} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {groups.data.map((g) => (
                <Table.Tr
                  key={g.id}
                  data-testid="group-row"
                  style={{ cursor: "pointer" }}
                  onClick={() => navigate({ page: "group", groupId: g.id })}
                >
                  <Table.Td>
                    <Text fw={500}>{g.name}</Text>
                  </Table.Td>
                  <Table.Td>{g.entityCount}</Table.Td>
                  <Table.Td>{g.relationshipCount}</Table.Td>
                  <Table.Td onClick={(e) => e.stopPropagation()}>
                    <Menu position="bottom-end" withinPortal>
                      <Menu.Target>
                        <ActionIcon
                          variant="subtle"
                          color="gray"
                          aria-label={`Actions for ${g.name}`}
                        >
                          ⋯
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item onClick={() => navigate({ page: "group", groupId: g.id })}>
                          Open
                        </Menu.Item>
                        <Menu.Item onClick={() => setAssigning(g)}>Assign entities…</Menu.Item>
                        <Menu.Item onClick={() => setRenaming(g)}>Rename…</Menu.Item>
                        <Menu.Item color="red" onClick={() => setDeleting(g)}>
                          Delete…
                        </Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}

      <GroupNameModal
        opened={creating}
        title="Create group"
        submitLabel="Create group"
        onClose={() => setCreating(false)}
        onSubmit={async (name) => {
          const g = await createGroup.mutateAsync(name);
          notifySuccess(`Created ${g.name}.`);
        }}
      />
      <GroupNameModal
        opened={renaming !== null}
        title="Rename group"
        submitLabel="Rename"
        initialName={renaming?.name}
        onClose={() => setRenaming(null)}
        onSubmit={(name) => renameGroup.mutateAsync({ id: renaming?.id ?? -1, name })}
      />
      <ConfirmModal
        opened={deleting !== null}
        title="Delete group"
        confirmLabel="Delete group"
        loading={deleteGroup.isPending}
        error={deleteGroup.error}
        onClose={closeDelete}
        onConfirm={() =>
          deleting &&
          deleteGroup.mutate(deleting.id, {
            onSuccess: () => {
              notifySuccess(`Deleted ${deleting.name}.`);
              closeDelete();
            },
          })
        }
      >
        Delete the group <b>{deleting?.name}</b>? Its {deleting?.entityCount ?? 0} entities and
        their relationships are kept; they just stop belonging to this group.
      </ConfirmModal>
      <AssignEntitiesModal group={assigning} onClose={() => setAssigning(null)} />
    </Stack>
  );
}
