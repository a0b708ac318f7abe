import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Loader,
  Modal,
  ScrollArea,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useEffect, useMemo, useState } from "react";
import { ErrorState } from "../common/ErrorState";
import { ENTITY_KIND_LABEL, KIND_COLOR } from "../common/labels";
import { useEntities } from "../entities/api";
import type { GroupSummary } from "../ipc/bindings/GroupSummary";
import { errorHint, errorMessage } from "../ipc/IpcError";
import { useSetGroupEntities } from "./api";

/** Pick the full member list of a group from every entity in the practice. */
export function AssignEntitiesModal({
  group,
  onClose,
}: {
  group: GroupSummary | null;
  onClose: () => void;
}) {
  const all = useEntities(null);
  const setMembers = useSetGroupEntities();
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [search, setSearch] = useState("");

  const groupId = group?.id ?? null;
  const loaded = all.data;
  useEffect(() => {
    if (groupId !== null && loaded) {
      setSelected(new Set(loaded.filter((e) => e.groupIds.includes(groupId)).map((e) => e.id)));
      setSearch("");
      setMembers.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reset only when the dialog opens
  }, [groupId, loaded]);

  const visible = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (all.data ?? []).filter((e) => q === "" || e.name.toLowerCase().includes(q));
  }, [all.data, search]);

  const toggle = (id: number, on: boolean) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const save = () => {
    if (!group) return;
    setMembers.mutate({ groupId: group.id, entityIds: [...selected] }, { onSuccess: onClose });
  };

  return (
    <Modal
      opened={group !== null}
      onClose={onClose}
      title={group ? `Assign entities to ${group.name}` : ""}
      size="lg"
      centered
    >
      <Stack>
        {all.isPending && <Loader size="sm" />}
        {all.isError && <ErrorState error={all.error} onRetry={() => void all.refetch()} />}
        {all.data && (
          <>
            <TextInput
              placeholder="Search entities"
              value={search}
              onChange={(e) => setSearch(e.currentTarget.value)}
              data-testid="assign-search"
            />
            <Group gap="xs">
              <Button
                size="xs"
                variant="light"
                onClick={() =>
                  setSelected((prev) => new Set([...prev, ...visible.map((e) => e.id)]))
                }
              >
                Select all
              </Button>
              <Button
                size="xs"
                variant="light"
                onClick={() =>
                  setSelected((prev) => {
                    const next = new Set(prev);
                    for (const e of visible) next.delete(e.id);
                    return next;
                  })
                }
              >
                Select none
              </Button>
              <Text size="xs" c="dimmed">
                {selected.size} selected
              </Text>
            </Group>
            <ScrollArea.Autosize mah={360}>
              <Stack gap={6}>
                {visible.length === 0 && (
                  <Text size="sm" c="dimmed">
                    {all.data.length === 0
                      ? "There are no entities yet. Create them from a group's Entities tab or All Entities."
                      : "No entity matches the search."}
                  </Text>
                )}
                {visible.map((e) => (
                  <Group key={e.id} justify="space-between" wrap="nowrap">
                    <Checkbox
                      label={e.name}
                      checked={selected.has(e.id)}
                      onChange={(ev) => toggle(e.id, ev.currentTarget.checked)}
                    />
                    <Badge size="sm" variant="light" color={KIND_COLOR[e.kind]}>
                      {ENTITY_KIND_LABEL[e.kind]}
                    </Badge>
                  </Group>
                ))}
              </Stack>
            </ScrollArea.Autosize>
          </>
        )}
        {setMembers.isError && (
          <Alert color="red" role="alert">
            {errorMessage(setMembers.error)} {errorHint(setMembers.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={save} loading={setMembers.isPending} disabled={!all.data}>
            Save members
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
